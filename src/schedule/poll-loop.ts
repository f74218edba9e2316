import { pollTarget, type PollResult } from '../sources/cloudtrail/poll.js';
import { defaultTargets, targetFields, targetKey, type AwsTarget } from '../sources/accounts/targets.js';
import { AssumeRoleError } from '../util/errors.js';
import type { CloudTrailSource } from '../sources/cloudtrail/lookup-client.js';
import type { Enricher, EnrichResult, SessionRef } from '../sources/athena/enrich.js';
import type { Store } from '../store/store.js';
import { DAY, MINUTE, sleep, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { PollHealth, type TargetHealth } from './poll-health.js';

export interface PollLoopOptions {
  store: Store;
  source: CloudTrailSource;
  enricher?: Enricher;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Every account × region to poll (AWS_ROLE_ARNS × AWS_REGIONS). */
  targets?: readonly AwsTarget[];
  /** Shorthand for `targets`: these regions of the default credentials' account. */
  regions?: readonly string[];
  intervalSeconds: number;
  /**
   * Push mode (SQS_QUEUE_URL): LookupEvents becomes a sweep, run for a target only once its
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
  onPageStored?: (target: string, page: number) => void;
}

/** A target whose cycle failed, and why. */
export interface PollFailure {
  account: string;
  region: string;
  error: string;
  /** Its account's role could not be assumed (logged once by the accounts, not every cycle). */
  assumeRole: boolean;
}

export interface CycleReport {
  results: PollResult[];
  failures: PollFailure[];
  enrichment: EnrichResult | undefined;
}

/**
 * Runs poll cycles every interval until stopped. Targets (account × region) poll concurrently,
 * each with its own CloudTrail rate limit; a failed target keeps its cursor and is retried next
 * cycle while the others go on. In push mode a cycle reads LookupEvents only for the targets
 * whose sweep is due. Stopping waits for the write in flight: the stop signal is checked only
 * between pages.
 */
export class PollLoop {
  readonly health: PollHealth;
  /** Every account × region polled. */
  readonly targets: readonly AwsTarget[];
  private running: Promise<void> | undefined;
  private readonly stop = new AbortController();
  private lastPrune = 0;
  private extraSessions: () => SessionRef[] = () => [];
  /** Targets failing now, by key: a failure is logged when it starts (or its error changes), not every cycle. */
  private readonly failing = new Map<string, { error: string; cycles: number }>();

  constructor(private readonly o: PollLoopOptions) {
    this.targets = o.targets ?? defaultTargets(o.regions ?? []);
    this.health = o.health ?? new PollHealth(this.targets);
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

  /** One cycle: LookupEvents for `targets` (default: every target), then enrichment and the after-cycle hook. */
  async cycle(signal?: AbortSignal, targets: readonly AwsTarget[] = this.targets): Promise<CycleReport> {
    const { o } = this;
    const settled = await Promise.allSettled(
      targets.map((target) =>
        pollTarget(
          target,
          { store: o.store, source: o.source, clock: o.clock, logger: o.logger, metrics: o.metrics, lookbackMinutes: o.lookbackMinutes, backfillHours: o.backfillHours, onPageStored: o.onPageStored },
          signal,
        ),
      ),
    );
    const results: PollResult[] = [];
    const failures: CycleReport['failures'] = [];
    settled.forEach((s, i) => {
      const target = targets[i]!;
      const fields = targetFields(target);
      const key = targetKey(target);
      if (s.status === 'fulfilled') {
        results.push(s.value);
        this.health.success(target);
        const streak = this.failing.get(key);
        if (streak) {
          this.failing.delete(key);
          o.logger.info({ ...fields, failedCycles: streak.cycles }, 'polling works again');
        }
        o.logger.info(
          { ...fields, calls: s.value.calls, fetched: s.value.fetched, inserted: s.value.inserted, rejected: s.value.rejected, strategy: s.value.strategy, ...(o.sweepMinutes ? { sweep: true } : {}) },
          'poll cycle done',
        );
      } else {
        const error = (s.reason as Error)?.message ?? String(s.reason);
        if (signal?.aborted) {
          o.logger.info(fields, 'poll cycle interrupted by shutdown; the window is read again on start');
          return;
        }
        const assumeRole = s.reason instanceof AssumeRoleError;
        failures.push({ account: target.account, region: target.region, error, assumeRole });
        this.health.failure(target, error);
        o.metrics?.pollCycles.inc({ account: target.account, region: target.region, outcome: 'failed' });
        // Logged once when a target starts failing, and again only if the error changes: one
        // account throttled for an hour is one line, not sixty. A role that cannot be assumed
        // was logged by the accounts, with its account.
        const streak = this.failing.get(key);
        this.failing.set(key, { error, cycles: (streak?.cycles ?? 0) + 1 });
        if (assumeRole) o.logger.debug({ ...fields, error }, 'poll cycle skipped: the account\'s role cannot be assumed');
        else if (streak?.error === error) o.logger.debug({ ...fields, error, failedCycles: streak.cycles + 1 }, 'poll cycle failed again');
        else o.logger.error({ ...fields, error }, 'poll cycle failed; the cursor stays where it was');
      }
    });
    let enrichment: EnrichResult | undefined;
    if (o.enricher && !signal?.aborted) {
      try {
        enrichment = await o.enricher.enrichOpenWork(this.extraSessions(), signal, this.targets);
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

  /**
   * False when polling has failed for longer than three intervals — three sweeps in push mode
   * (SPEC §5 /healthz) — in every watched account (with one account: in any of its regions).
   */
  healthy(): boolean {
    return this.health.healthy(this.unhealthyAfterMs());
  }

  /** Targets failing for longer than three intervals: /healthz is `degraded` while other accounts still work. */
  failingTargets(): TargetHealth[] {
    return this.health.failingLongerThan(this.unhealthyAfterMs());
  }

  private unhealthyAfterMs(): number {
    return 3 * Math.max(this.o.intervalSeconds * 1000, (this.o.sweepMinutes ?? 0) * MINUTE);
  }

  /** The targets whose LookupEvents read is due: all of them, or in push mode those whose last sweep is old enough. */
  targetsDue(): AwsTarget[] {
    const { o } = this;
    if (!o.sweepMinutes) return [...this.targets];
    const now = o.clock.now();
    // The cursor's commit time is the last sweep: it survives restarts, and a failed sweep (no commit) is due again next interval.
    return this.targets.filter((t) => {
      const cursor = o.store.getCursor(t.region, t.account);
      return !cursor || now - cursor.updatedAt >= o.sweepMinutes! * MINUTE;
    });
  }

  private async loop(): Promise<void> {
    const signal = this.stop.signal;
    while (!signal.aborted) {
      const began = this.o.clock.now();
      const cycle = async () => this.cycle(signal, this.targetsDue());
      await cycle().catch((err: Error) => this.o.logger.error({ error: err.message }, 'poll cycle crashed'));
      const wait = this.o.intervalSeconds * 1000 - (this.o.clock.now() - began);
      await sleep(Math.max(wait, 0), signal);
    }
  }
}
