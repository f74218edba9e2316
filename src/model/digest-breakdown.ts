import type { PeriodBucket } from './period.js';
import type { SessionView } from './types.js';

/** Where the money went for one user, workgroup or tag value. */
export interface Spend {
  sessionsStarted: number;
  dpuHours: number;
  estimatedCostUsd: number;
}

/** DPU-hours and cost per value of one session tag key (DIGEST_GROUP_TAGS). */
export interface TagBreakdown {
  /** Tag value → spend; sessions without the key are under UNTAGGED. Biggest spender first. */
  data: Record<string, Spend>;
  /** Sessions started in the period that carry the key. */
  tagged: number;
  /** Keys seen on the period's sessions that differ from this one only in case (tag keys are case-sensitive). */
  similarKeys: string[];
}

/** One bar of the chart: per workgroup, sessions started and their DPU-hours; long-running calculations started. */
export interface BucketFigures extends PeriodBucket {
  sessionsStarted: Record<string, number>;
  dpuHours: Record<string, number>;
  longRunning: number;
}

export interface DigestBreakdown {
  byTag: Record<string, TagBreakdown>;
  buckets: BucketFigures[];
  /** Workgroups of the period's sessions, most DPU-hours first (the chart's colour order). */
  workgroups: string[];
}

export const UNTAGGED = '(untagged)';
const UNKNOWN_WORKGROUP = 'unknown';

export interface BreakdownInput {
  start: number;
  end: number;
  buckets: readonly PeriodBucket[];
  /** Folded views of the sessions the digest read (repeats allowed). */
  sessions: readonly SessionView[];
  /** Ids of the calculations the digest counts as long-running. */
  longRunning: ReadonlySet<string>;
  groupTags: readonly string[];
  dpuHourPriceUsd: number;
}

const spend = (): Spend => ({ sessionsStarted: 0, dpuHours: 0, estimatedCostUsd: 0 });

/** Index of the bucket holding `t`, or -1 (buckets are consecutive and sorted). */
function bucketOf(buckets: readonly PeriodBucket[], t: number): number {
  let lo = 0;
  let hi = buckets.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = buckets[mid]!;
    if (t < b.start) hi = mid - 1;
    else if (t >= b.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * The digest's "where the money went" and chart figures, by the digest's rule: a session
 * (and its DPU-hours) counts in the bucket it started in, a calculation in the bucket it
 * started in. Pure; repeats of a session count once.
 */
export function digestBreakdown(input: BreakdownInput): DigestBreakdown {
  const sessions = new Map<string, SessionView>();
  for (const s of input.sessions) if (!sessions.has(s.sessionId)) sessions.set(s.sessionId, s);
  const inPeriod = (t: number | null): t is number => t !== null && t >= input.start && t < input.end;

  const buckets: BucketFigures[] = input.buckets.map((b) => ({ ...b, sessionsStarted: {}, dpuHours: {}, longRunning: 0 }));
  const byTag = new Map<string, { data: Map<string, Spend>; tagged: number; seen: Set<string> }>();
  for (const k of input.groupTags) byTag.set(k, { data: new Map(), tagged: 0, seen: new Set() });
  const workgroupDpu = new Map<string, number>();

  for (const s of sessions.values()) {
    for (const c of s.calculations) {
      if (!input.longRunning.has(c.calculationId) || !inPeriod(c.startedAt)) continue;
      const i = bucketOf(buckets, c.startedAt);
      if (i >= 0) buckets[i]!.longRunning++;
    }
    if (!inPeriod(s.startedAt)) continue;
    const wg = s.workgroup ?? UNKNOWN_WORKGROUP;
    const dpu = s.dpuHours ?? 0;
    workgroupDpu.set(wg, (workgroupDpu.get(wg) ?? 0) + dpu);
    const i = bucketOf(buckets, s.startedAt);
    if (i >= 0) {
      const b = buckets[i]!;
      b.sessionsStarted[wg] = (b.sessionsStarted[wg] ?? 0) + 1;
      b.dpuHours[wg] = (b.dpuHours[wg] ?? 0) + dpu;
    }
    for (const [key, t] of byTag) {
      for (const k of Object.keys(s.tags)) if (k !== key && k.toLowerCase() === key.toLowerCase()) t.seen.add(k);
      const value = Object.hasOwn(s.tags, key) ? s.tags[key]! : UNTAGGED;
      if (value !== UNTAGGED) t.tagged++;
      let v = t.data.get(value);
      if (!v) t.data.set(value, (v = spend()));
      v.sessionsStarted++;
      v.dpuHours += dpu;
      v.estimatedCostUsd += dpu * input.dpuHourPriceUsd;
    }
  }

  return {
    byTag: Object.fromEntries(
      [...byTag].map(([key, t]) => [key, { data: Object.fromEntries(biggestFirst(t.data)), tagged: t.tagged, similarKeys: [...t.seen].sort() }]),
    ),
    buckets,
    workgroups: biggestFirst(workgroupDpu, (n) => n).map(([wg]) => wg),
  };
}

/** Entries by DPU-hours, biggest first, then by name: the same order for the same facts. */
function biggestFirst<T>(m: Map<string, T>, dpu: (v: T) => number = (v) => (v as Spend).dpuHours): Array<[string, T]> {
  return [...m].sort(([a, x], [b, y]) => dpu(y) - dpu(x) || (a < b ? -1 : a > b ? 1 : 0));
}
