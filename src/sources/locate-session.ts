import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { withDeadline } from '../util/deadline.js';
import type { Logger } from '../util/logger.js';
import type { Enricher } from './athena/enrich.js';
import { findSessionInCloudTrail } from './cloudtrail/find-session.js';
import type { CloudTrailSource } from './cloudtrail/lookup-client.js';

export interface LocateDeps {
  store: Store;
  cloudTrail: CloudTrailSource | undefined;
  enricher: Enricher | undefined;
  regions: readonly string[];
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Finds a session in the store or, failing that, in CloudTrail, and asks Athena for its
 * current state. Shared by the CLI and Slack. Returns whether Athena could be asked.
 */
export async function locateSession(d: LocateDeps, sessionId: string, signal?: AbortSignal): Promise<{ known: boolean; athenaReachable: boolean }> {
  const id = sessionId.toLowerCase();
  let known = d.store.sessionKnown(id);
  if (!known && d.cloudTrail) {
    known = await findSessionInCloudTrail(id, d.regions, { store: d.store, source: d.cloudTrail, clock: d.clock, logger: d.logger, metrics: d.metrics }, signal).catch(
      (err: Error) => {
        d.logger.warn({ sessionId: id, error: err.message }, 'live CloudTrail look-up failed');
        return false;
      },
    );
  }
  let athenaReachable = false;
  if (known && d.enricher) {
    const region = d.store.eventsForSession(id)[0]?.region ?? d.regions[0]!;
    athenaReachable = await withDeadline(d.enricher.enrichSessionNow(region, id, signal).catch(() => false), 8000, false);
  }
  return { known, athenaReachable };
}
