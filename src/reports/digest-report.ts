import { buildDigest, type Digest } from '../model/digest.js';
import { foldSession } from '../model/session.js';
import type { EnrichmentLookup, SessionView } from '../model/types.js';
import type { NotebookEvent } from '../records/types.js';
import { dayBounds } from '../model/zoned-day.js';
import type { Store } from '../store/store.js';
import { DAY } from '../util/clock.js';
import { storedEnrichment } from './enrichment-lookup.js';

export interface DigestOptions {
  date: string;
  timezone: string;
  now: number;
  longRunningMinutes: number;
  dpuHourPriceUsd: number;
}

/**
 * The digest of one day from the store. Candidate sessions are those with any record (or a
 * routine read) from a day before the day to its end, so sessions that started earlier and
 * ended (or timed out) in the day are counted as ended. The window's notable records, up to a
 * day past the end (or now, if sooner), are read in one pass; each candidate's records outside
 * it and its reads (summarised per calculation, never row by row) are added after.
 */
export function buildDigestReport(store: Store, opts: DigestOptions, enrichment: EnrichmentLookup = storedEnrichment(store)): Digest {
  const { start, end, now, dayEvents, sessions } = digestSessions(store, opts, enrichment);
  return buildDigest({ date: opts.date, timezone: opts.timezone, start, end, now, dayEvents, sessions, dpuHourPriceUsd: opts.dpuHourPriceUsd, setApart: store.setApartSummary(start, end) });
}

/**
 * The sessions a day's digest is made of, folded, and the day's records. Also what is asked of
 * Athena before a digest: every one of these not yet confirmed.
 */
export function digestSessions(store: Store, opts: DigestOptions, enrichment: EnrichmentLookup = storedEnrichment(store)): { start: number; end: number; now: number; dayEvents: NotebookEvent[]; sessions: SessionView[] } {
  const { start, end } = dayBounds(opts.date, opts.timezone);
  const now = Math.max(opts.now, 0);
  const model = { now, longRunningMinutes: opts.longRunningMinutes, dpuHourPriceUsd: opts.dpuHourPriceUsd };
  const windowStart = start - DAY;
  const windowEnd = Math.max(end, Math.min(now, end + DAY));

  const bySession = new Map<string, NotebookEvent[]>();
  const touched = new Set<string>();
  const calculationOnly: NotebookEvent[] = [];
  const dayEvents: NotebookEvent[] = [];
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
  }
  // Calls that name only a calculation (a person's StopCalculationExecution) join its session.
  const calcOwner = new Map<string, string>();
  for (const [id, list] of bySession) for (const e of list) if (e.eventName === 'StartCalculationExecution' && e.calculationId) calcOwner.set(e.calculationId, id);
  for (const e of calculationOnly) {
    const owner = calcOwner.get(e.calculationId!) ?? store.sessionOfCalculation(e.calculationId!);
    if (owner) bySession.get(owner)?.push(e);
  }

  for (const id of store.sessionsReadBetween(windowStart, end)) touched.add(id);

  const sessions: SessionView[] = [];
  for (const id of touched) {
    const events = bySession.get(id) ?? [];
    for (const extra of store.sessionEventsOutside(id, windowStart, windowEnd)) events.push(extra);
    const calcs = events.filter((e) => e.eventName === 'StartCalculationExecution' && e.calculationId).map((e) => e.calculationId!);
    const view = foldSession(id, events, enrichment, model, store.readsForSession(id, [...new Set(calcs)]));
    if (view) sessions.push(view);
  }
  return { start, end, now, dayEvents, sessions };
}

/** The `digest --json` document (SPEC §4 keys, plus details). */
export function digestJson(d: Digest): Record<string, unknown> {
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
    byUser: roundTallies(d.byUser),
    byWorkgroup: roundTallies(d.byWorkgroup),
    byAccount: roundTallies(d.byAccount),
    sessionHours: round(d.sessionHours, 3),
    setApartCalls: d.setApartCalls,
    advice: d.advice,
    notebookImportDetails: d.notebookImports.map((n) => ({ ...n, at: new Date(n.at).toISOString() })),
    generatedAt: new Date(d.generatedAt).toISOString(),
  };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function roundTallies(r: Digest['byUser']): Digest['byUser'] {
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { ...t, dpuHours: round(t.dpuHours, 3) }]));
}
