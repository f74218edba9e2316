import { buildDigest, type Digest } from '../model/digest.js';
import { foldSession } from '../model/session.js';
import type { EnrichmentLookup, SessionView } from '../model/types.js';
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
 * The digest of one day from the store. Candidate sessions are those with any record from a
 * day before the day to its end, so sessions that started earlier and ended (or timed out)
 * in the day are counted as ended.
 */
export function buildDigestReport(store: Store, opts: DigestOptions, enrichment: EnrichmentLookup = storedEnrichment(store)): Digest {
  const { start, end } = dayBounds(opts.date, opts.timezone);
  const now = Math.max(opts.now, 0);
  const model = { now, longRunningMinutes: opts.longRunningMinutes, dpuHourPriceUsd: opts.dpuHourPriceUsd };
  const sessions: SessionView[] = [];
  const dayEvents = store.eventsWithoutSessionBetween(start, end);
  for (const [id, events] of store.sessionsTouchedWithEvents(start - DAY, end)) {
    const view = foldSession(id, events, enrichment, model);
    if (view) sessions.push(view);
    for (const e of events) if (e.eventTime >= start && e.eventTime < end && e.sessionId === id) dayEvents.push(e);
  }
  return buildDigest({
    date: opts.date,
    timezone: opts.timezone,
    start,
    end,
    now,
    dayEvents,
    sessions,
    dpuHourPriceUsd: opts.dpuHourPriceUsd,
  });
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
    failedCalls: d.failedCalls,
    failedCallsByCode: d.failedCallsByCode,
    dpuHours: round(d.dpuHours, 3),
    dpuHoursIsUpperBound: d.dpuHoursIsUpperBound,
    estimatedCostUsd: round(d.estimatedCostUsd, 2),
    byUser: roundTallies(d.byUser),
    byWorkgroup: roundTallies(d.byWorkgroup),
    sessionHours: round(d.sessionHours, 3),
    notebookImportDetails: d.notebookImports.map((n) => ({ ...n, at: new Date(n.at).toISOString() })),
    generatedAt: new Date(d.generatedAt).toISOString(),
  };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

function roundTallies(r: Digest['byUser']): Digest['byUser'] {
  return Object.fromEntries(Object.entries(r).map(([k, t]) => [k, { ...t, dpuHours: round(t.dpuHours, 3) }]));
}
