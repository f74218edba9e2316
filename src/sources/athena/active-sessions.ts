import type { ActiveListing, AthenaSessionFacts } from '../../model/types.js';
import type { Store } from '../../store/store.js';
import { HOUR, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { AthenaOperation } from '../../model/advice.js';
import type { AthenaSource, WorkGroupSummary } from './athena-source.js';
import { targetFields, targetKey, type AwsTarget } from '../accounts/targets.js';

export interface ActiveSessionsDeps {
  store: Store;
  athena: AthenaSource;
  /** Told of refusals, so the operator hears once which permission is missing. */
  enricher?: { noteRefusal(target: AwsTarget, op: AthenaOperation, now: number): void; isBackedOff(target: AwsTarget, op: AthenaOperation, now: number): boolean };
  clock: Clock;
  logger: Logger;
  /** The watched accounts × regions. */
  targets: readonly AwsTarget[];
}

/** Work groups change rarely: listed again after an hour. */
const WORKGROUPS_TTL_MS = HOUR;

/** Work groups that run Spark sessions (not SQL ones): their engine is PySpark or Apache Spark. */
export const isSparkWorkGroup = (w: WorkGroupSummary): boolean => (w.state ?? 'ENABLED') === 'ENABLED' && /spark/i.test(w.engineVersion ?? '');

/**
 * Asks Athena which sessions exist now (SPEC §1: ListWorkGroups, then ListSessions of each Spark
 * work group), in every watched account and region, and stores each listing (under its target
 * key: the region alone for the default credentials' account) and each session's facts. A
 * session Athena lists before CloudTrail has delivered its StartSession is known from here on.
 * Returns whether every account and region answered.
 */
export async function refreshActiveSessions(d: ActiveSessionsDeps, signal?: AbortSignal): Promise<boolean> {
  const results = await Promise.all(d.targets.map((target) => refreshTarget(d, target, signal)));
  return results.every(Boolean);
}

async function refreshTarget(d: ActiveSessionsDeps, target: AwsTarget, signal?: AbortSignal): Promise<boolean> {
  const { store, athena, clock } = d;
  const { region } = target;
  const key = targetKey(target);
  const now = clock.now();
  // Refused within the hour: asking again every cycle would only be refused again.
  if (d.enricher?.isBackedOff(target, 'ListWorkGroups', now) || d.enricher?.isBackedOff(target, 'ListSessions', now)) return false;
  const cached = store.getEnrichment('workgroups', key);
  let workgroups: WorkGroupSummary[];
  if (cached?.status === 'ok' && now - cached.fetchedAt < WORKGROUPS_TTL_MS) {
    workgroups = cached.payload as WorkGroupSummary[];
  } else {
    const listed = await athena.listWorkGroups(target, signal);
    if (listed.status !== 'ok') return refused(d, target, 'ListWorkGroups', listed, now);
    workgroups = listed.facts;
    store.putEnrichment({ kind: 'workgroups', id: key, region, status: 'ok', terminal: false, payload: workgroups, fetchedAt: now });
  }
  const spark = workgroups.filter(isSparkWorkGroup).map((w) => w.name);
  const listing: ActiveListing = { workgroups: [], sessions: [] };
  for (const wg of spark) {
    const sessions = await athena.listSessions(target, wg, signal);
    if (sessions.status !== 'ok') {
      if (sessions.status === 'denied') return refused(d, target, 'ListSessions', sessions, now);
      continue;
    }
    listing.workgroups.push(wg);
    for (const s of sessions.facts) listing.sessions.push({ sessionId: s.sessionId, workgroup: wg });
    store.write(() => {
      for (const s of sessions.facts) mergeSessionFacts(store, region, s.sessionId, s.facts, now);
    });
  }
  store.putEnrichment({ kind: 'active', id: key, region, status: 'ok', terminal: false, payload: listing, fetchedAt: now });
  return listing.workgroups.length === spark.length;
}

/** ListSessions says less than GetSession (no DPU statistics): what GetSession said before is kept. */
function mergeSessionFacts(store: Store, region: string, sessionId: string, listed: AthenaSessionFacts, now: number): void {
  const existing = store.getEnrichment('session', sessionId);
  if (existing?.terminal) return;
  const before = existing?.status === 'ok' ? (existing.payload as AthenaSessionFacts) : undefined;
  store.putEnrichment({ kind: 'session', id: sessionId, region, status: 'ok', terminal: false, payload: { ...before, ...listed }, fetchedAt: now });
}

function refused(d: ActiveSessionsDeps, target: AwsTarget, op: 'ListWorkGroups' | 'ListSessions', answer: { status: string; message: string; assumeRole?: boolean }, now: number): false {
  if (answer.status === 'denied') d.enricher?.noteRefusal(target, op, now);
  // A role that cannot be assumed is logged once by the accounts.
  else if (!answer.assumeRole) d.logger.warn({ ...targetFields(target), operation: op, error: answer.message }, 'Athena could not list the active sessions; CloudTrail alone says which are active');
  return false;
}
