import type { CalculationView, ModelOptions, SessionView } from '../model/types.js';
import { dayBounds, localDate } from '../model/zoned-day.js';
import type { Store } from '../store/store.js';
import { activeSessions, type ActiveSession } from './active-sessions.js';
import { storedEnrichment } from './enrichment-lookup.js';
import { foldStoredSession } from './stored-session.js';

export interface HomeOptions extends ModelOptions {
  timezone: string;
}

export interface Spender {
  owner: string;
  ownerType: string | null;
  sessions: number;
  dpuHours: number;
  estimatedCostUsd: number;
}

/** What the App Home shows (SPEC §5): now, and today so far. */
export interface HomeReport {
  now: number;
  /** Today in DIGEST_TIMEZONE. */
  date: string;
  active: ActiveSession[];
  /** Open calculations past the threshold, longest first. */
  longRunning: Array<{ session: SessionView; calculation: CalculationView }>;
  today: {
    sessionsStarted: number;
    calculationsStarted: number;
    dpuHours: number;
    /** Some sessions' DPU-hours are upper bounds (max DPUs × duration), not Athena's measure. */
    dpuHoursIsUpperBound: boolean;
    estimatedCostUsd: number;
  };
  /** Owners of today's sessions by DPU-hours, most first. */
  topSpenders: Spender[];
}

const TOP_SPENDERS = 5;

/**
 * The App Home's figures, from the store alone (no AWS call: Athena's answers are those the
 * poll cycles stored). A session belongs to the day it started, as in the digest.
 */
export function buildHomeReport(store: Store, o: HomeOptions): HomeReport {
  const model: ModelOptions = { now: o.now, longRunningMinutes: o.longRunningMinutes, dpuHourPriceUsd: o.dpuHourPriceUsd };
  const lookup = storedEnrichment(store);
  const active = activeSessions(store, model);
  const longRunning = active
    .flatMap((a) => a.view.calculations.filter((c) => c.endedAt === null && c.longRunning).map((calculation) => ({ session: a.view, calculation })))
    .sort((a, b) => b.calculation.runMs - a.calculation.runMs);

  const date = localDate(o.now, o.timezone);
  const { start } = dayBounds(date, o.timezone);
  const known = new Map(active.map((a) => [a.view.sessionId, a.view]));
  const today: HomeReport['today'] = { sessionsStarted: 0, calculationsStarted: 0, dpuHours: 0, dpuHoursIsUpperBound: false, estimatedCostUsd: 0 };
  const spenders = new Map<string, Spender>();
  for (const s of store.sessionsStartedBetween(start, o.now + 1)) {
    const view = known.get(s.sessionId) ?? foldStoredSession(store, s.sessionId, model, lookup);
    if (!view) continue;
    today.sessionsStarted++;
    today.calculationsStarted += view.calculations.length;
    const hours = view.dpuHours ?? 0;
    today.dpuHours += hours;
    today.estimatedCostUsd += view.estimatedCostUsd ?? 0;
    if (view.dpuHoursKind !== 'measured') today.dpuHoursIsUpperBound = true;
    const owner = view.owner ?? 'unknown';
    const spender = spenders.get(owner) ?? { owner, ownerType: view.ownerType, sessions: 0, dpuHours: 0, estimatedCostUsd: 0 };
    spender.sessions++;
    spender.dpuHours += hours;
    spender.estimatedCostUsd += view.estimatedCostUsd ?? 0;
    spenders.set(owner, spender);
  }
  const topSpenders = [...spenders.values()].sort((a, b) => b.dpuHours - a.dpuHours || a.owner.localeCompare(b.owner)).slice(0, TOP_SPENDERS);
  return { now: o.now, date, active, longRunning, today, topSpenders };
}
