import { EXECUTOR_PREFIX } from '../../records/athena-events.js';
import type { Store } from '../../store/store.js';
import { DAY, HOUR, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { CloudTrailSource, LookupQuery } from './lookup-client.js';
import { storePage, type PollResult } from './poll.js';
import { targetFields, type AwsTarget } from '../accounts/targets.js';

export interface FindSessionDeps {
  store: Store;
  source: CloudTrailSource;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Most LookupEvents calls per account and region for one look-up (2 per second: 12 calls ≈ 6 s). */
  maxCalls?: number;
}

/**
 * Looks a session up in CloudTrail when the store has never seen it (SPEC §5): calls made
 * inside the session carry the caller `AthenaExecutor-<id>`; `ResourceName` may find others
 * (undocumented for Athena, so only a bonus); StartSession names the id only in its
 * response, so recent StartSession records are read and matched. Every watched account and
 * region is searched at once (each has its own rate limit); one that fails does not stop the
 * others, and only matters when the session is found in none. Everything found is stored.
 */
export async function findSessionInCloudTrail(sessionId: string, targets: readonly AwsTarget[], deps: FindSessionDeps, signal?: AbortSignal): Promise<boolean> {
  const id = sessionId.toLowerCase();
  const now = deps.clock.now();
  const searched = await Promise.allSettled(
    targets.map(async (target) => {
      const { account, region } = target;
      const result: PollResult = { account, region, windowStart: now - 90 * DAY, windowEnd: now, strategy: 'event-names', backfill: false, calls: 0, fetched: 0, inserted: 0, rejected: 0, ignored: 0 };
      let calls = 0;
      const budget = deps.maxCalls ?? 12;
      const read = async (q: Omit<LookupQuery, 'region'>, maxPages: number) => {
        let token: string | undefined;
        let earliest = Infinity;
        let pages = 0;
        do {
          if (calls >= budget || pages >= maxPages) break;
          const page = await deps.source.lookup({ ...q, account, region, nextToken: token }, signal);
          calls++;
          pages++;
          const events = storePage(page.events, deps, result, target);
          for (const e of events) if (e.sessionId === id) earliest = Math.min(earliest, e.eventTime);
          token = page.nextToken;
        } while (token);
        return earliest;
      };
      const windowStart = now - 90 * DAY;
      const byExecutor = await read({ attribute: { key: 'Username', value: `${EXECUTOR_PREFIX}${id}` }, startMs: windowStart, endMs: now }, 4);
      const byResource = await read({ attribute: { key: 'ResourceName', value: id }, startMs: windowStart, endMs: now }, 2);
      const first = Math.min(byExecutor, byResource);
      // The StartSession record precedes the first call inside the session.
      const startWindow = Number.isFinite(first) ? { startMs: first - 6 * HOUR, endMs: first } : { startMs: now - 7 * DAY, endMs: now };
      await read({ attribute: { key: 'EventName', value: 'StartSession' }, ...startWindow }, budget);
      if (Number.isFinite(first)) await read({ attribute: { key: 'EventName', value: 'TerminateSession' }, startMs: first, endMs: now }, budget);
      deps.logger.info({ ...targetFields(target), sessionId: id, calls, found: result.inserted }, 'live CloudTrail look-up');
    }),
  );
  if (deps.store.sessionKnown(id)) return true;
  // Not found, and an account could not be searched (its role refused, its CloudTrail down): it may be there.
  const failed = searched.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return false;
}
