import { ATHENA_EVENT_SOURCE, SPARK_EVENT_NAMES } from '../../records/athena-events.js';
import { normaliseLookupEvent } from '../../records/normalise.js';
import type { NotebookEvent } from '../../records/types.js';
import type { PollStrategy, Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { HOUR, MINUTE } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { CloudTrailSource, LookupQuery } from './lookup-client.js';
import { failpoint } from '../../util/failpoints.js';
import { sinkRecords } from '../record-sink.js';
import { DEFAULT_ACCOUNT, targetFields, targetKey, type AwsTarget } from '../accounts/targets.js';

export interface PollDeps {
  store: Store;
  source: CloudTrailSource;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  lookbackMinutes: number;
  backfillHours: number;
  /** Called after each stored page; the crash tests kill the process around these points. */
  onPageStored?: (target: string, page: number) => void;
}

export interface PollResult {
  /** The watched account (DEFAULT_ACCOUNT: the default credentials'). */
  account: string;
  region: string;
  windowStart: number;
  windowEnd: number;
  strategy: PollStrategy;
  switchedFrom?: PollStrategy;
  backfill: boolean;
  calls: number;
  fetched: number;
  inserted: number;
  rejected: number;
  ignored: number;
}

/** Cycles to stay on per-event-name queries before probing the cheaper single query again. */
export const STRATEGY_HOLD_CYCLES = 30;

/** One poll cycle of the default credentials' account in one region. */
export function pollRegion(region: string, deps: PollDeps, signal?: AbortSignal): Promise<PollResult> {
  return pollTarget({ account: DEFAULT_ACCOUNT, region }, deps, signal);
}

/**
 * One poll cycle for one account × region (SPEC §1, issue #2), with its own cursor:
 * - reads from `cursor − LOOKBACK_MINUTES` to now (first cycle: `BACKFILL_HOURS`), so
 *   records that CloudTrail delivers late are picked up by a later cycle;
 * - stores each page as it arrives (idempotent on eventID) and moves the cursor only in
 *   the final transaction, so a crash at any point means the window is simply read again;
 * - picks the query strategy with the fewest calls: one `EventSource` query when Athena
 *   traffic is light, one query per Spark event name when heavy SQL traffic would make
 *   the single query page through thousands of irrelevant records. The single query is
 *   abandoned as soon as it has cost as much as the per-name queries would.
 */
export async function pollTarget(target: AwsTarget, deps: PollDeps, signal?: AbortSignal): Promise<PollResult> {
  const { store, clock } = deps;
  const { account, region } = target;
  const cursor = store.getCursor(region, account);
  const windowEnd = clock.now();
  const backfill = !cursor;
  const windowStart = cursor ? Math.max(0, cursor.cursorMs - deps.lookbackMinutes * MINUTE) : windowEnd - deps.backfillHours * HOUR;
  let strategy: PollStrategy = cursor?.strategy ?? 'event-source';
  let hold = cursor?.strategyCycles ?? 0;
  const result: PollResult = { account, region, windowStart, windowEnd, strategy, backfill, calls: 0, fetched: 0, inserted: 0, rejected: 0, ignored: 0 };

  const namesCost = SPARK_EVENT_NAMES.length;
  if (strategy === 'event-names' && hold <= 0) strategy = 'event-source';

  if (strategy === 'event-source') {
    const complete = await readAll(
      { account, region, attribute: { key: 'EventSource', value: ATHENA_EVENT_SOURCE }, startMs: windowStart, endMs: windowEnd },
      deps,
      result,
      namesCost,
      signal,
    );
    if (!complete) {
      result.switchedFrom = 'event-source';
      strategy = 'event-names';
      hold = STRATEGY_HOLD_CYCLES;
      deps.logger.info({ ...targetFields(target), calls: result.calls }, 'busy Athena account: switching to one LookupEvents query per Spark event name');
    }
  } else {
    hold--;
  }
  if (strategy === 'event-names') {
    for (const name of SPARK_EVENT_NAMES) {
      await readAll({ account, region, attribute: { key: 'EventName', value: name }, startMs: windowStart, endMs: windowEnd }, deps, result, Infinity, signal);
    }
  }
  result.strategy = strategy;
  failpoint('poll.before-cursor');
  store.commitPoll({ account, region, cursorMs: windowEnd, strategy, strategyCycles: Math.max(0, hold) }, [], clock.now());
  deps.metrics?.pollCycles.inc({ account, region, outcome: 'ok' });
  return result;
}

/**
 * Pages through one query; returns false if it gave up with pages left: after `maxCalls`
 * pages, and only while most of what it reads is not Spark/notebook records. A long window
 * full of Spark records (a backfill on a quiet account) is cheapest read this way whatever
 * its length; a window full of SQL traffic is cheaper by event name.
 */
async function readAll(query: LookupQuery, deps: PollDeps, result: PollResult, maxCalls: number, signal?: AbortSignal): Promise<boolean> {
  let nextToken: string | undefined;
  let calls = 0;
  const fetchedBefore = result.fetched;
  const ignoredBefore = result.ignored;
  do {
    const fetched = result.fetched - fetchedBefore;
    const noise = result.ignored - ignoredBefore;
    if (calls >= maxCalls && noise * 2 > fetched) return false;
    signal?.throwIfAborted();
    const page = await deps.source.lookup({ ...query, nextToken }, signal);
    calls++;
    result.calls++;
    storePage(page.events, deps, result, { account: query.account ?? DEFAULT_ACCOUNT, region: query.region });
    nextToken = page.nextToken;
  } while (nextToken);
  return true;
}

/** Normalises and stores one page of LookupEvents items read from `target`; returns the events stored. */
export function storePage(items: readonly unknown[], deps: Pick<PollDeps, 'store' | 'clock' | 'logger' | 'metrics' | 'onPageStored'>, result: PollResult, target: AwsTarget): NotebookEvent[] {
  const sunk = sinkRecords(
    items.map((item) => ({ normalised: normaliseLookupEvent(item), raw: item })),
    deps,
    { source: 'cloudtrail', label: `LookupEvents ${targetKey(target)}`, logFields: targetFields(target) },
  );
  result.fetched += items.length;
  result.inserted += sunk.inserted;
  result.rejected += sunk.rejected;
  result.ignored += sunk.ignored;
  failpoint('poll.page-stored');
  deps.onPageStored?.(targetKey(target), result.calls);
  return sunk.events;
}
