import type { ActiveListing, AthenaSessionFacts } from '../../model/types.js';
import type { Store } from '../../store/store.js';
import { HOUR, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { AthenaOperation } from '../../model/advice.js';
import type { AthenaSource, WorkGroupSummary } from './athena-source.js';

export interface ActiveSessionsDeps {
  store: Store;
  athena: AthenaSource;
  /** Told of refusals, so the operator hears once which permission is missing. */
  enricher?: { noteRefusal(region: string, op: AthenaOperation, now: number): void; isBackedOff(region: string, op: AthenaOperation, now: number): boolean };
  clock: Clock;
  logger: Logger;
  regions: readonly string[];
}

/** Work groups change rarely: listed again after an hour. */
const WORKGROUPS_TTL_MS = HOUR;

/** Work groups that run Spark sessions (not SQL ones): their engine is PySpark or Apache Spark. */
export const isSparkWorkGroup = (w: WorkGroupSummary): boolean => (w.state ?? 'ENABLED') === 'ENABLED' && /spark/i.test(w.engineVersion ?? '');

/**
 * Asks Athena which sessions exist now (SPEC §1: ListWorkGroups, then ListSessions of each Spark
 * work group), in every region, and stores the listing and each session's facts. A session
 * Athena lists before CloudTrail has delivered its StartSession is known from here on. Returns
 * whether every region answered.
 */
export async function refreshActiveSessions(d: ActiveSessionsDeps, signal?: AbortSignal): Promise<boolean> {
  const results = await Promise.all(d.regions.map((region) => refreshRegion(d, region, signal)));
  return results.every(Boolean);
}

async function refreshRegion(d: ActiveSessionsDeps, region: string, signal?: AbortSignal): Promise<boolean> {
  const { store, athena, clock } = d;
  const now = clock.now();
  // Refused within the hour: asking again every cycle would only be refused again.
  if (d.enricher?.isBackedOff(region, 'ListWorkGroups', now) || d.enricher?.isBackedOff(region, 'ListSessions', now)) return false;
  const cached = store.getEnrichment('workgroups', region);
  let workgroups: WorkGroupSummary[];
  if (cached?.status === 'ok' && now - cached.fetchedAt < WORKGROUPS_TTL_MS) {
    workgroups = cached.payload as WorkGroupSummary[];
  } else {
    const listed = await athena.listWorkGroups(region, signal);
    if (listed.status !== 'ok') return refused(d, region, 'ListWorkGroups', listed.status, listed.message, now);
    workgroups = listed.facts;
    store.putEnrichment({ kind: 'workgroups', id: region, region, status: 'ok', terminal: false, payload: workgroups, fetchedAt: now });
  }
  const spark = workgroups.filter(isSparkWorkGroup).map((w) => w.name);
  const listing: ActiveListing = { workgroups: [], sessions: [] };
  for (const wg of spark) {
    const sessions = await athena.listSessions(region, wg, signal);
    if (sessions.status !== 'ok') {
      if (sessions.status === 'denied') return refused(d, region, 'ListSessions', sessions.status, sessions.message, now);
      continue;
    }
    listing.workgroups.push(wg);
    for (const s of sessions.facts) listing.sessions.push({ sessionId: s.sessionId, workgroup: wg });
    store.write(() => {
      for (const s of sessions.facts) mergeSessionFacts(store, region, s.sessionId, s.facts, now);
    });
  }
  store.putEnrichment({ kind: 'active', id: region, region, status: 'ok', terminal: false, payload: listing, fetchedAt: now });
  return listing.workgroups.length === spark.length;
}

/** ListSessions says less than GetSession (no DPU statistics): what GetSession said before is kept. */
function mergeSessionFacts(store: Store, region: string, sessionId: string, listed: AthenaSessionFacts, now: number): void {
  const existing = store.getEnrichment('session', sessionId);
  if (existing?.terminal) return;
  const before = existing?.status === 'ok' ? (existing.payload as AthenaSessionFacts) : undefined;
  store.putEnrichment({ kind: 'session', id: sessionId, region, status: 'ok', terminal: false, payload: { ...before, ...listed }, fetchedAt: now });
}

function refused(d: ActiveSessionsDeps, region: string, op: 'ListWorkGroups' | 'ListSessions', status: string, message: string, now: number): false {
  if (status === 'denied') d.enricher?.noteRefusal(region, op, now);
  else d.logger.warn({ region, operation: op, error: message }, 'Athena could not list the active sessions; CloudTrail alone says which are active');
  return false;
}
