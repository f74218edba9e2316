import { pollRegion, type PollResult } from '../sources/cloudtrail/poll.js';
import type { CloudTrailSource } from '../sources/cloudtrail/lookup-client.js';
import type { Enricher, EnrichResult, SessionRef } from '../sources/athena/enrich.js';
import type { Store } from '../store/store.js';
import { DAY, MINUTE, sleep, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { PollHealth } from './poll-health.js';

export interface PollLoopOptions {
  store: Store;
  source: CloudTrailSource;
  enricher?: Enricher;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  regions: readonly string[];
  intervalSeconds: number;
  /**
   * Push mode (SQS_QUEUE_URL): LookupEvents becomes a sweep, run for a region only once its
   * last one is this many minutes old, to catch what the best-effort bus missed. Enrichment
   * and the after-cycle work still run every interval, for the records the queue brings.
   */
  sweepMinutes?: number;
  lookbackMinutes: number;
  backfillHours: number;
  retentionDays: number;
  /** Shared with the CloudTrail source, which reports every attempt; made here if not given. */
  health?: PollHealth;
  /** Runs after every cycle with the re-folded open sessions (alerts hook in here). */
  afterCycle?: (cycle: CycleReport) => Promise<void>;
  onPageStored?: (region: string, page: number) => void;
}

export interface CycleReport {
  results: PollResult[];
  failures: Array<{ region: string; error: string }>;
  enrichment: EnrichResult | undefined;
}

/**
 * Runs poll cycles every interval until stopped. Regions poll concurrently (each has its
 * own CloudTrail rate limit); a failed region keeps its cursor and is retried next cycle.
 * In push mode a cycle reads LookupEvents only for the regions whose sweep is due.
 * Stopping waits for the write in flight: the stop signal is checked only between pages.
 */
export class PollLoop {
  readonly health: PollHealth;
  private running: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private lastPrune = 0;
  private extraSessions: () => SessionRef[] = () => [];

  constructor(private readonly o: PollLoopOptions) {
    this.health = o.health ?? new PollHealth(o.regions);
  }

  /** Work to run after every cycle (alerts), set once the Slack side exists. */
  setAfterCycle(fn: NonNullable<PollLoopOptions['afterCycle']>): void {
    this.o.afterCycle = fn;
  }

  /** Sessions whose calculations the enricher should keep refreshing (e.g. alerted ones awaiting follow-up). */
  watchSessions(fn: () => SessionRef[]): void {
    this.extraSessions = fn;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
  }

  /** One cycle: LookupEvents for `regions` (default: every region), then enrichment and the after-cycle hook. */
  async cycle(signal?: AbortSignal, regions: readonly string[] = this.o.regions): Promise<CycleReport> {
    const { o } = this;
    const settled = await Promise.allSettled(
      regions.map((region) =>
        pollRegion(
          region,
          { store: o.store, source: o.source, clock: o.clock, logger: o.logger, metrics: o.metrics, lookbackMinutes: o.lookbackMinutes, backfillHours: o.backfillHours, onPageStored: o.onPageStored },
          signal,
        ),
      ),
    );
    const results: PollResult[] = [];
    const failures: CycleReport['failures'] = [];
    settled.forEach((s, i) => {
      const region = regions[i]!;
      if (s.status === 'fulfilled') {
        results.push(s.value);
        this.health.success(region);
        o.logger.info(
          { region, calls: s.value.calls, fetched: s.value.fetched, inserted: s.value.inserted, rejected: s.value.rejected, strategy: s.value.strategy, ...(o.sweepMinutes ? { sweep: true } : {}) },
          'poll cycle done',
        );
      } else {
        const error = (s.reason as Error)?.message ?? String(s.reason);
        if (signal?.aborted) {
          o.logger.info({ region }, 'poll cycle interrupted by shutdown; the window is read again on start');
          return;
        }
        failures.push({ region, error });
        this.health.failure(region, error);
        o.metrics?.pollCycles.inc({ region, outcome: 'failed' });
        o.logger.error({ region, error }, 'poll cycle failed; the cursor stays where it was');
      }
    });
    let enrichment: EnrichResult | undefined;
    if (o.enricher && !signal?.aborted) {
      try {
        enrichment = await o.enricher.enrichOpenWork(this.extraSessions(), signal, o.regions);
      } catch (err) {
        o.logger.error({ error: (err as Error).message }, 'enrichment failed');
      }
    }
    const report = { results, failures, enrichment };
    if (o.afterCycle && !signal?.aborted) {
      try {
        await o.afterCycle(report);
      } catch (err) {
        o.logger.error({ error: (err as Error).message }, 'after-cycle work failed');
      }
    }
    if (o.clock.now() - this.lastPrune > DAY) {
      this.lastPrune = o.clock.now();
      const pruned = o.store.prune(o.clock.now(), o.retentionDays);
      if (pruned.records) o.logger.info({ records: pruned.records }, 'pruned records past retention');
    }
    return report;
  }

  /** False when polling has failed for longer than three intervals — three sweeps in push mode (SPEC §5 /healthz). */
  healthy(): boolean {
    const every = Math.max(this.o.intervalSeconds * 1000, (this.o.sweepMinutes ?? 0) * MINUTE);
    return this.health.healthy(3 * every);
  }

  /** The regions whose LookupEvents read is due: all of them, or in push mode those whose last sweep is old enough. */
  regionsDue(): string[] {
    const { o } = this;
    if (!o.sweepMinutes) return [...o.regions];
    const now = o.clock.now();
    // The cursor's commit time is the last sweep: it survives restarts, and a failed sweep (no commit) is due again next interval.
    return o.regions.filter((region) => {
      const cursor = o.store.getCursor(region);
      return !cursor || now - cursor.updatedAt >= o.sweepMinutes! * MINUTE;
    });
  }

  private async loop(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      const began = this.o.clock.now();
      const cycle = async () => this.cycle(signal, this.regionsDue());
      await cycle().catch((err: Error) => this.o.logger.error({ error: err.message }, 'poll cycle crashed'));
      const wait = this.o.intervalSeconds * 1000 - (this.o.clock.now() - began);
      await sleep(Math.max(wait, 0), signal);
    }
  }
}
