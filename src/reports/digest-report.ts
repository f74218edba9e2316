import { buildDigest, type Digest } from '../model/digest.js';
import { digestBreakdown, type DigestBreakdown } from '../model/digest-breakdown.js';
import { datesEnding, dayPeriod, weekPeriod, type DigestPeriod } from '../model/period.js';
import { foldSession } from '../model/session.js';
import { dailyTrend, headlineOf, weeklyTrend, type HistoryDay, type Trend } from '../model/trend.js';
import type { EnrichmentLookup, SessionView } from '../model/types.js';
import { dayBounds, nextDate, previousDate } from '../model/zoned-day.js';
import type { NotebookEvent } from '../records/types.js';
import { DigestHistory } from '../store/digest-history.js';
import type { Store } from '../store/store.js';
import { DAY, MINUTE } from '../util/clock.js';
import { MAX_IDLE_TIMEOUT_MINUTES } from '../model/session.js';
import { storedEnrichment } from './enrichment-lookup.js';

export interface DigestOptions {
  /** The day, or with `period: 'week'` the last day of the 7. */
  date: string;
  timezone: string;
  now: number;
  longRunningMinutes: number;
  dpuHourPriceUsd: number;
  period?: 'day' | 'week';
  /** DIGEST_GROUP_TAGS: session tag keys to break DPU-hours and cost down by. */
  groupTags?: readonly string[];
  /** Compare the headline with the previous days (default true). */
  trend?: boolean;
}

/** How much of the period the store has records for: `none` before the store began. */
export interface Coverage {
  recordsBeginAt: number | null;
  state: 'full' | 'partial' | 'none';
}

/** The digest with what people look at first: the chart figures, where the money went, the trend. */
export interface DigestReport extends Digest {
  period: DigestPeriod;
  breakdown: DigestBreakdown;
  trend: Trend | null;
  coverage: Coverage;
  dpuHourPriceUsd: number;
}

/**
 * The digest of one day (or week) from the store, with its chart figures, its breakdown by
 * user, workgroup and tag, and its trend against the days before. Previous days' headline
 * figures are remembered once their day is finished, so the trend costs a count per day.
 */
export function buildDigestReport(store: Store, opts: DigestOptions, enrichment: EnrichmentLookup = storedEnrichment(store)): DigestReport {
  const period = opts.period === 'week' ? weekPeriod(opts.date, opts.timezone) : dayPeriod(opts.date, opts.timezone);
  const { digest, sessions } = digestOfPeriod(store, period, opts, enrichment);
  const breakdown = digestBreakdown({
    start: period.start,
    end: period.end,
    buckets: period.buckets,
    sessions,
    longRunning: new Set(digest.longRunningCalculations.map((c) => c.calculationId)),
    groupTags: opts.groupTags ?? [],
    dpuHourPriceUsd: opts.dpuHourPriceUsd,
  });
  const history = new DigestHistory(store);
  const recordsBeginAt = history.firstRecordAt();
  const coverage: Coverage = {
    recordsBeginAt,
    state: recordsBeginAt === null || recordsBeginAt >= period.end ? 'none' : recordsBeginAt > period.start ? 'partial' : 'full',
  };
  let trend: Trend | null = null;
  if (opts.trend !== false) {
    const days = trendDays(store, history, recordsBeginAt, opts, enrichment);
    const before = historyDates(period).map((date) => days(date));
    trend = period.kind === 'week' ? weeklyTrend(headlineOf(digest), before) : dailyTrend(headlineOf(digest), before);
  }
  return { ...digest, period, breakdown, trend, coverage, dpuHourPriceUsd: opts.dpuHourPriceUsd };
}

/** The 7 days a period's trend compares with: the 7 before it. */
const historyDates = (period: Pick<DigestPeriod, 'from'>) => datesEnding(previousDate(period.from), 7);

/**
 * Makes (and remembers) the previous days' headline figures a digest's trend needs, one day
 * per turn of the event loop: a running bot keeps answering Slack while a first digest on a
 * busy store works through a week of history. `buildDigestReport` then finds them remembered.
 */
export async function prepareDigestHistory(store: Store, opts: DigestOptions, enrichment: EnrichmentLookup = storedEnrichment(store)): Promise<void> {
  const history = new DigestHistory(store);
  const days = trendDays(store, history, history.firstRecordAt(), opts, enrichment);
  const period = opts.period === 'week' ? weekPeriod(opts.date, opts.timezone) : { from: opts.date };
  for (const date of historyDates(period)) {
    days(date);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The history days of one trend, sharing one record count per day (a day's count serves it and the day before it). */
function trendDays(store: Store, history: DigestHistory, recordsBeginAt: number | null, opts: DigestOptions, enrichment: EnrichmentLookup): (date: string) => HistoryDay {
  const counts = new Map<string, number>();
  const countDay = (date: string) => {
    let n = counts.get(date);
    if (n === undefined) {
      const { start, end } = dayBounds(date, opts.timezone);
      counts.set(date, (n = history.countRecords(start, end)));
    }
    return n;
  };
  return (date) => historyDay(store, history, recordsBeginAt, date, opts, enrichment, countDay);
}

/**
 * A previous day's headline: remembered, or computed (and remembered once the day and the
 * day after it are over, when late records and run-overs have mostly arrived). A day that
 * starts before the store's first record has no history: it is not a day of zeros.
 */
function historyDay(
  store: Store,
  history: DigestHistory,
  recordsBeginAt: number | null,
  date: string,
  opts: DigestOptions,
  enrichment: EnrichmentLookup,
  countDay: (date: string) => number,
): HistoryDay {
  const bounds = dayBounds(date, opts.timezone);
  if (recordsBeginAt === null || recordsBeginAt > bounds.start) return { date, headline: null };
  // A day's headline depends on its own records and the next day's (ends of what it started).
  const records = countDay(date) + countDay(nextDate(date));
  const params = `${opts.longRunningMinutes}:${opts.dpuHourPriceUsd}`;
  const remembered = history.get(opts.timezone, date, params);
  if (remembered?.records === records) return { date, headline: remembered.headline };
  const headline = headlineOf(digestOfPeriod(store, { ...bounds, to: date, timezone: opts.timezone }, opts, enrichment).digest);
  if (opts.now >= bounds.end + DAY) history.remember(opts.timezone, date, params, { headline, records }, opts.now);
  return { date, headline };
}

/**
 * The sessions a digest is made of, folded: also what is asked of Athena before a digest (every
 * one of these not yet confirmed).
 */
export function digestSessions(store: Store, opts: DigestOptions, enrichment: EnrichmentLookup = storedEnrichment(store)): SessionView[] {
  const period = opts.period === 'week' ? weekPeriod(opts.date, opts.timezone) : dayPeriod(opts.date, opts.timezone);
  return digestOfPeriod(store, period, opts, enrichment).sessions;
}

/**
 * Candidate sessions are those with any record (or a routine read) in the period or in the
 * longest idle timeout before it, so sessions that started earlier and ended (or timed out) in
 * it are counted as ended. The window's notable records are read in one pass; each
 * candidate's records outside it (by its session, and the calls naming only one of its
 * calculations) and its reads (summarised per calculation, never row by row) are added after.
 */
function digestOfPeriod(
  store: Store,
  period: Pick<DigestPeriod, 'start' | 'end' | 'to' | 'timezone'>,
  opts: DigestOptions,
  enrichment: EnrichmentLookup,
): { digest: Digest; sessions: SessionView[] } {
  const { start, end } = period;
  const now = Math.max(opts.now, 0);
  const model = { now, longRunningMinutes: opts.longRunningMinutes, dpuHourPriceUsd: opts.dpuHourPriceUsd };
  // A session with no record since longer than Athena's longest idle timeout ended before the period.
  const windowStart = start - MAX_IDLE_TIMEOUT_MINUTES * MINUTE;
  const windowEnd = end;

  const bySession = new Map<string, NotebookEvent[]>();
  const touched = new Set<string>();
  const calculationOnly: NotebookEvent[] = [];
  // What the period's lists use (failures, imports, creations); routine reads are stored apart.
  const dayEvents: NotebookEvent[] = [];
  const calcOwner = new Map<string, string>();
  for (const e of store.eventsBetweenForDigest(windowStart, windowEnd)) {
    if (e.eventTime >= start && e.eventTime < end) dayEvents.push(e);
    if (e.sessionId === null) {
      if (e.calculationId) calculationOnly.push(e);
      continue;
    }
    let list = bySession.get(e.sessionId);
    if (!list) bySession.set(e.sessionId, (list = []));
    list.push(e);
    if (e.eventTime < end) touched.add(e.sessionId);
    if (e.eventName === 'StartCalculationExecution' && e.calculationId) calcOwner.set(e.calculationId, e.sessionId);
  }
  // Calls that name only a calculation (a person's StopCalculationExecution) join its session.
  for (const e of calculationOnly) {
    const owner = calcOwner.get(e.calculationId!) ?? store.sessionOfCalculation(e.calculationId!);
    if (owner) bySession.get(owner)?.push(e);
  }

  for (const id of store.sessionsReadBetween(windowStart, end)) touched.add(id);

  // What lies outside the window, for every candidate at once: a few statements, not a few per session.
  const ids = [...touched];
  const outside = store.sessionEventsOutside(ids, windowStart, windowEnd);
  const calcsOf = new Map<string, string[]>();
  for (const id of ids) {
    const events = bySession.get(id) ?? [];
    for (const extra of outside.get(id) ?? []) events.push(extra);
    bySession.set(id, events);
    calcsOf.set(id, [...new Set(events.filter((e) => e.eventName === 'StartCalculationExecution' && e.calculationId).map((e) => e.calculationId!))]);
  }
  const calculationOnlyOutside = store.calculationOnlyEventsOutside([...calcsOf.values()].flat(), windowStart, windowEnd);
  const reads = store.readsForSessions(calcsOf);

  const sessions: SessionView[] = [];
  for (const id of ids) {
    const events = bySession.get(id)!;
    for (const calc of calcsOf.get(id)!) for (const extra of calculationOnlyOutside.get(calc) ?? []) events.push(extra);
    const view = foldSession(id, events, enrichment, model, reads.get(id)!);
    if (view) sessions.push(view);
  }
  const digest = buildDigest({
    date: period.to,
    timezone: period.timezone,
    start,
    end,
    now,
    dayEvents,
    sessions,
    dpuHourPriceUsd: opts.dpuHourPriceUsd,
    setApart: store.setApartSummary(start, end),
  });
  return { digest, sessions };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const iso = (t: number) => new Date(t).toISOString();

/** The `digest --json` document (SPEC §4 keys, plus details). */
export function digestJson(d: DigestReport): Record<string, unknown> {
  const price = d.dpuHourPriceUsd;
  const tallies = (r: Digest['byUser']) =>
    Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { ...t, dpuHours: round(t.dpuHours, 3), estimatedCostUsd: round(t.dpuHours * price, 2) }]));
  const roundNumbers = (r: Record<string, number>, digits: number) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, round(v, digits)]));
  return {
    date: d.date,
    timezone: d.timezone,
    sessionsStarted: d.sessionsStarted,
    sessionsEnded: d.sessionsEnded,
    notebookImports: d.notebookImports.length,
    notebooksCreated: d.notebooksCreated,
    calculationsStarted: d.calculationsStarted,
    longRunningCalculations: d.longRunningCalculations.map((c) => ({
      calculationId: c.calculationId,
      sessionId: c.sessionId,
      minutes: c.minutes,
      confirmed: c.confirmed,
      open: c.open,
    })),
    possiblyLongRunningCalculations: d.possiblyLongRunning.map((c) => ({ calculationId: c.calculationId, sessionId: c.sessionId, atMostMinutes: c.minutes })),
    failedCalls: d.failedCalls,
    failedCallsByCode: d.failedCallsByCode,
    dpuHours: round(d.dpuHours, 3),
    dpuHoursIsUpperBound: d.dpuHoursIsUpperBound,
    estimatedCostUsd: round(d.estimatedCostUsd, 2),
    byUser: tallies(d.byUser),
    byWorkgroup: tallies(d.byWorkgroup),
    byAccount: tallies(d.byAccount),
    sessionHours: round(d.sessionHours, 3),
    setApartCalls: d.setApartCalls,
    advice: d.advice,
    notebookImportDetails: d.notebookImports.map((n) => ({ ...n, at: iso(n.at) })),
    generatedAt: iso(d.generatedAt),
    period: d.period.kind,
    from: d.period.from,
    to: d.period.to,
    periodNote: d.period.note,
    coverage: { state: d.coverage.state, recordsBeginAt: d.coverage.recordsBeginAt === null ? null : iso(d.coverage.recordsBeginAt) },
    trend: d.trend && {
      ...d.trend,
      figures:
        d.trend.figures &&
        Object.fromEntries(
          Object.entries(d.trend.figures).map(([k, f]) => [
            k,
            { current: round(f.current, 3), baseline: round(f.baseline, 3), change: round(f.change, 3), changePercent: f.changePercent === null ? null : round(f.changePercent, 1) },
          ]),
        ),
    },
    byTag: Object.fromEntries(
      Object.entries(d.breakdown.byTag).map(([key, t]) => [
        key,
        { ...t, data: Object.fromEntries(Object.entries(t.data).map(([v, s]) => [v, { ...s, dpuHours: round(s.dpuHours, 3), estimatedCostUsd: round(s.estimatedCostUsd, 2) }])) },
      ]),
    ),
    chart: {
      workgroups: d.breakdown.workgroups,
      buckets: d.breakdown.buckets.map((b) => ({
        label: b.label,
        start: iso(b.start),
        end: iso(b.end),
        sessionsStarted: b.sessionsStarted,
        dpuHours: roundNumbers(b.dpuHours, 3),
        longRunning: b.longRunning,
      })),
    },
  };
}
