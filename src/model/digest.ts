import type { NotebookEvent } from '../records/types.js';
import { isRefusal, permissionAdvice } from './advice.js';
import type { CalculationView, SessionView } from './types.js';

export interface DigestInput {
  date: string;
  timezone: string;
  start: number;
  end: number;
  /** When the digest is made: open calculations run up to here. */
  now: number;
  /** Every record with start <= eventTime < end. */
  dayEvents: readonly NotebookEvent[];
  /** Folded views of every session that may have started or ended in the day. */
  sessions: readonly SessionView[];
  dpuHourPriceUsd: number;
  /** Calls of the day set apart (the bot's own, ignored principals'), grouped: counted, never folded in. */
  setApart?: ReadonlyArray<{ reason: 'bot' | 'ignored'; eventName: string; errorCode: string | null; count: number }>;
}

export interface Tally {
  sessionsStarted: number;
  calculationsStarted: number;
  dpuHours: number;
  failedCalls: number;
}

export interface NotebookImport {
  notebookId: string | null;
  name: string | null;
  workgroup: string | null;
  principal: string;
  at: number;
}

export interface LongRunning {
  calculationId: string;
  sessionId: string;
  minutes: number;
  confirmed: boolean;
  open: boolean;
  owner: string | null;
  workgroup: string | null;
}

export interface Digest {
  date: string;
  timezone: string;
  sessionsStarted: number;
  sessionsEnded: number;
  sessionHours: number;
  notebookImports: NotebookImport[];
  notebooksCreated: number;
  calculationsStarted: number;
  longRunningCalculations: LongRunning[];
  /** Calculations whose run time is only bounded by their session's end, at or past the threshold: maybe long-running. */
  possiblyLongRunning: LongRunning[];
  failedCalls: number;
  failedCallsByCode: Record<string, number>;
  dpuHours: number;
  dpuHoursIsUpperBound: boolean;
  estimatedCostUsd: number;
  byUser: Record<string, Tally>;
  byWorkgroup: Record<string, Tally>;
  /** Per AWS account (the account the session's records name; `unknown` when none does). */
  byAccount: Record<string, Tally>;
  /** Calls of the day that are not the sessions' history, counted apart. */
  setApartCalls: { bot: number; ignored: number };
  /** Missing permissions the bot's refused calls show, one line each. */
  advice: string[];
  generatedAt: number;
}

const inDay = (t: number | null, d: DigestInput) => t !== null && t >= d.start && t < d.end;

function tally(map: Record<string, Tally>, key: string): Tally {
  return (map[key] ??= { sessionsStarted: 0, calculationsStarted: 0, dpuHours: 0, failedCalls: 0 });
}

/**
 * The digest of one day (SPEC §2, §4). A session and a calculation belong to the day they
 * started; DPU use is that of the sessions started that day, measured where Athena gave it
 * and otherwise an upper bound, which the digest says.
 */
export function buildDigest(d: DigestInput): Digest {
  const byUser: Record<string, Tally> = {};
  const byWorkgroup: Record<string, Tally> = {};
  const byAccount: Record<string, Tally> = {};
  const seen = new Set<string>();
  let sessionsStarted = 0;
  let sessionsEnded = 0;
  let sessionMs = 0;
  let dpuHours = 0;
  let upperBound = false;
  let calculationsStarted = 0;
  const longRunning: LongRunning[] = [];
  const possiblyLongRunning: LongRunning[] = [];

  for (const s of [...d.sessions].sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0))) {
    if (seen.has(s.sessionId)) continue;
    seen.add(s.sessionId);
    if (inDay(s.endedAt, d)) sessionsEnded++;
    const user = s.owner ?? 'unknown';
    const wg = s.workgroup ?? 'unknown';
    const account = s.account ?? 'unknown';
    if (inDay(s.startedAt, d)) {
      sessionsStarted++;
      sessionMs += Math.max(0, Math.min(s.endedAt ?? d.now, d.now) - s.startedAt!);
      tally(byUser, user).sessionsStarted++;
      tally(byWorkgroup, wg).sessionsStarted++;
      tally(byAccount, account).sessionsStarted++;
      if (s.dpuHours !== null) {
        dpuHours += s.dpuHours;
        tally(byUser, user).dpuHours += s.dpuHours;
        tally(byWorkgroup, wg).dpuHours += s.dpuHours;
        tally(byAccount, account).dpuHours += s.dpuHours;
        if (s.dpuHoursKind === 'upper-bound') upperBound = true;
      }
    }
    for (const c of s.calculations) {
      if (!inDay(c.startedAt, d)) continue;
      calculationsStarted++;
      tally(byUser, user).calculationsStarted++;
      tally(byWorkgroup, wg).calculationsStarted++;
      tally(byAccount, account).calculationsStarted++;
      const minutes = runMinutesAt(c, d.now);
      if (c.longRunning || c.possiblyLongRunning) {
        (c.longRunning ? longRunning : possiblyLongRunning).push({
          calculationId: c.calculationId,
          sessionId: s.sessionId,
          minutes,
          confirmed: c.confirmed,
          open: c.endedAt === null,
          owner: s.owner,
          workgroup: s.workgroup,
        });
      }
    }
  }

  const notebookImports: NotebookImport[] = [];
  let notebooksCreated = 0;
  let failedCalls = 0;
  const failedCallsByCode: Record<string, number> = {};
  const owners = new Map(d.sessions.map((s) => [s.sessionId, s] as const));
  const seenEvents = new Set<string>();
  for (const e of d.dayEvents) {
    if (seenEvents.has(e.eventId)) continue;
    seenEvents.add(e.eventId);
    if (e.errorCode !== null) {
      failedCalls++;
      failedCallsByCode[e.errorCode] = (failedCallsByCode[e.errorCode] ?? 0) + 1;
      const session = e.sessionId ? owners.get(e.sessionId) : undefined;
      tally(byUser, session?.owner ?? e.principal).failedCalls++;
      tally(byWorkgroup, e.workgroup ?? session?.workgroup ?? 'unknown').failedCalls++;
      tally(byAccount, e.account ?? session?.account ?? 'unknown').failedCalls++;
      continue;
    }
    if (e.eventName === 'ImportNotebook') {
      notebookImports.push({ notebookId: e.notebookId, name: e.detail.notebookName ?? null, workgroup: e.workgroup, principal: e.principal, at: e.eventTime });
    } else if (e.eventName === 'CreateNotebook') {
      notebooksCreated++;
    }
  }

  const byMinutes = (a: LongRunning, b: LongRunning) => b.minutes - a.minutes || a.calculationId.localeCompare(b.calculationId);
  longRunning.sort(byMinutes);
  possiblyLongRunning.sort(byMinutes);
  notebookImports.sort((a, b) => a.at - b.at || (a.notebookId ?? '').localeCompare(b.notebookId ?? '') || a.principal.localeCompare(b.principal));
  return {
    date: d.date,
    timezone: d.timezone,
    sessionsStarted,
    sessionsEnded,
    sessionHours: sessionMs / 3_600_000,
    notebookImports,
    notebooksCreated,
    calculationsStarted,
    longRunningCalculations: longRunning,
    possiblyLongRunning,
    failedCalls,
    failedCallsByCode: sortedRecord(failedCallsByCode),
    dpuHours,
    dpuHoursIsUpperBound: upperBound,
    estimatedCostUsd: dpuHours * d.dpuHourPriceUsd,
    byUser: sortedRecord(byUser),
    byWorkgroup: sortedRecord(byWorkgroup),
    byAccount: sortedRecord(byAccount),
    setApartCalls: {
      bot: (d.setApart ?? []).filter((r) => r.reason === 'bot').reduce((n, r) => n + r.count, 0),
      ignored: (d.setApart ?? []).filter((r) => r.reason === 'ignored').reduce((n, r) => n + r.count, 0),
    },
    advice: permissionAdvice((d.setApart ?? []).filter((r) => r.reason === 'bot' && isRefusal(r.errorCode)).map((r) => ({ operation: r.eventName, count: r.count }))),
    generatedAt: d.now,
  };
}

function runMinutesAt(c: CalculationView, now: number): number {
  return Math.round(Math.max(0, (c.endedAt ?? now) - c.startedAt) / 60_000);
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
}
