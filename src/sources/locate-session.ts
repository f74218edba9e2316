import type { Metrics } from '../observability/metrics.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { withDeadline } from '../util/deadline.js';
import type { Logger } from '../util/logger.js';
import type { Enricher } from './athena/enrich.js';
import type { CloudTrailSource } from './cloudtrail/lookup-client.js';
import type { AwsTarget } from './accounts/targets.js';

export interface LocateDeps {
  store: Store;
  cloudTrail: CloudTrailSource | undefined;
  enricher: Enricher | undefined;
  /** The watched accounts × regions a live look-up searches. */
  targets: readonly AwsTarget[];
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

export interface Located {
  known: boolean;
  /** Athena answered about it (facts or not-found). */
  athenaReachable: boolean;
  /** How far the search went: the store only, CloudTrail too, or CloudTrail was tried and failed (why). */
  searched: 'store' | 'cloudtrail' | { cloudTrailFailed: string };
}

/**
 * Finds a session in the store or, failing that, in CloudTrail, and asks Athena for its
 * current state. Shared by the CLI and Slack.
 */
export async function locateSession(d: LocateDeps, sessionId: string, signal?: AbortSignal): Promise<Located> {
  const id = sessionId.toLowerCase();
  let known = d.store.sessionKnown(id);
  let searched: Located['searched'] = 'store';
  if (!known && d.cloudTrail) {
    try {
      // Loaded only for a session the store lacks: with it come the record parsers.
      const { findSessionInCloudTrail } = await import('./cloudtrail/find-session.js');
      known = await findSessionInCloudTrail(id, d.targets, { store: d.store, source: d.cloudTrail, clock: d.clock, logger: d.logger, metrics: d.metrics }, signal);
      searched = 'cloudtrail';
    } catch (err) {
      const reason = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 200);
      d.logger.warn({ sessionId: id, error: reason }, 'live CloudTrail look-up failed');
      searched = { cloudTrailFailed: reason };
    }
  }
  let athenaReachable = false;
  if (known && d.enricher) {
    // Asked where it lives: its records' region and account (the enricher picks that account's role).
    const first = d.store.eventsForSession(id)[0];
    const ref = { sessionId: id, region: first?.region ?? d.targets[0]?.region ?? 'unknown', account: first?.account ?? d.store.accountOfSession(id) ?? null };
    athenaReachable = await withDeadline(d.enricher.enrichSessionNow(ref, signal).catch(() => false), 8000, false);
  }
  return { known, athenaReachable, searched };
}

/** "Not found" that says exactly how far the search went. */
export function notFoundMessage(sessionId: string, l: Located): string {
  const id = sessionId.toLowerCase();
  if (l.searched === 'cloudtrail') return `session ${id} not found in the store nor in CloudTrail (last 90 days)`;
  if (l.searched === 'store') return `session ${id} not found in the store (set AWS_REGIONS to search CloudTrail too)`;
  return `session ${id} not found in the store, and the CloudTrail look-up failed (${l.searched.cloudTrailFailed}), so it may exist`;
}
