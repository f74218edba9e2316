import { normaliseRecord } from '../../records/normalise.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Rejection, Store } from '../../store/store.js';
import { sleep, type Clock } from '../../util/clock.js';
import { failpoint } from '../../util/failpoints.js';
import type { Logger } from '../../util/logger.js';
import { backoffDelay } from '../../util/retry.js';
import { sinkRecords, type SinkItem, type SinkOrigin } from '../record-sink.js';
import { parseEventBridgeMessage } from './eventbridge-message.js';
import type { QueueBacklog, QueueMessage, SqsQueue } from './sqs-queue.js';

export interface QueueConsumerOptions {
  queue: SqsQueue;
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
  /** Failing for longer than this turns `healthy()` false (three poll intervals, as for polling). */
  unhealthyAfterMs: number;
  /** The backlog (GetQueueAttributes) is asked for at most this often; 0 = never. */
  backlogEveryMs?: number;
  /** Waits after failed receives and failed batches: exponential from `baseMs`, jittered, at most `maxMs`. */
  backoff?: { baseMs: number; maxMs: number };
}

export type ConsumerState = 'starting' | 'receiving' | 'backing-off' | 'stopped';

/** What /healthz shows of the consumer. Times are epoch milliseconds. */
export interface ConsumerStatus {
  queue: string;
  state: ConsumerState;
  /** The last ReceiveMessage that succeeded, empty or not. */
  lastReceiveAt: number | null;
  failingSince: number | null;
  lastError: string | null;
  received: number;
  deleted: number;
  junk: number;
  failed: number;
  backlog: (QueueBacklog & { at: number }) | null;
}

/** The outcome of one received batch. */
export interface BatchReport {
  received: number;
  /** Messages deleted: their records committed, or junk that was logged. */
  deleted: number;
  junk: number;
  /** Messages the store refused: left on the queue for redelivery. */
  failed: number;
  /** Messages whose delete SQS refused (harmless: a redelivery is deduplicated on eventID). */
  deleteFailed: number;
  inserted: number;
  rejected: number;
}

/** A received message and what it holds. */
interface Unpacked {
  message: QueueMessage;
  items: SinkItem[];
  junk?: string;
}

const DEFAULT_BACKOFF = { baseMs: 1000, maxMs: 60_000 };

/**
 * Consumes the EventBridge → SQS queue (SPEC §6): long polls (20 s, 10 messages), stores each
 * batch's records through the same sink as the poller (deduplicated on eventID), and deletes
 * a message only once its records are committed. A message that is not an Athena CloudTrail
 * event is kept as a rejection, logged once and deleted; one the store refuses stays on the
 * queue, to be redelivered after its visibility timeout and, after the queue's
 * maxReceiveCount, moved to its dead-letter queue. SQS errors and a failing store are waited
 * out with exponential backoff. Stopping interrupts a long poll but never a batch: the batch
 * in hand is committed and deleted, or (if the process dies first) redelivered.
 */
export class QueueConsumer {
  private readonly stop = new AbortController();
  private running: Promise<void> | undefined;
  private readonly origin: SinkOrigin;
  private readonly s: ConsumerStatus;
  private backlogAskedAt = -Infinity;

  constructor(private readonly o: QueueConsumerOptions) {
    this.origin = { source: 'sqs', label: `SQS ${o.queue.name}`, logFields: { queue: o.queue.name } };
    this.s = { queue: o.queue.name, state: 'starting', lastReceiveAt: null, failingSince: null, lastError: null, received: 0, deleted: 0, junk: 0, failed: 0, backlog: null };
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops receiving; resolves once the batch in hand (if any) is committed and deleted. */
  async close(): Promise<void> {
    this.stop.abort();
    await this.running;
    this.s.state = 'stopped';
  }

  status(): ConsumerStatus {
    return { ...this.s, backlog: this.s.backlog && { ...this.s.backlog } };
  }

  /** False once receiving or storing has failed for longer than `unhealthyAfterMs` (SPEC §5 /healthz). */
  healthy(): boolean {
    return this.s.failingSince === null || this.o.clock.now() - this.s.failingSince <= this.o.unhealthyAfterMs;
  }

  /**
   * Stores one received batch and deletes what it may: messages whose records are committed,
   * and junk. Records of the whole batch go in together; if the store refuses them, each
   * message is tried alone, so one message the store cannot take (a poison message) does not
   * hold back the others.
   */
  async processBatch(messages: readonly QueueMessage[]): Promise<BatchReport> {
    const report: BatchReport = { received: messages.length, deleted: 0, junk: 0, failed: 0, deleteFailed: 0, inserted: 0, rejected: 0 };
    const unpacked = messages.map((m) => this.unpack(m));
    const committed: Unpacked[] = [];
    const failed: Array<{ u: Unpacked; error: string }> = [];
    try {
      this.commit(unpacked, report);
      committed.push(...unpacked);
    } catch (batchError) {
      if (unpacked.length === 1) failed.push({ u: unpacked[0]!, error: errorText(batchError) });
      else {
        for (const u of unpacked) {
          try {
            this.commit([u], report);
            committed.push(u);
          } catch (err) {
            failed.push({ u, error: errorText(err) });
          }
        }
      }
    }
    for (const { u, error } of failed) {
      this.o.logger.error(
        { queue: this.o.queue.name, messageId: u.message.messageId, receiveCount: u.message.receiveCount, error },
        'could not store an SQS message; it stays on the queue for redelivery (and goes to its dead-letter queue after maxReceiveCount)',
      );
    }
    report.failed = failed.length;
    report.junk = committed.filter((u) => u.junk !== undefined).length;

    failpoint('sqs.before-delete');
    if (committed.length) {
      try {
        const { failed: refused } = await this.o.queue.delete(committed.map((u) => u.message));
        report.deleteFailed = refused.length;
        if (refused.length) this.o.logger.warn({ queue: this.o.queue.name, refused }, 'SQS did not delete some stored messages; their redelivery is stored once');
      } catch (err) {
        report.deleteFailed = committed.length;
        this.o.logger.warn({ queue: this.o.queue.name, messages: committed.length, error: errorText(err) }, 'deleting stored SQS messages failed; their redelivery is stored once');
      }
      report.deleted = committed.length - report.deleteFailed;
    }
    this.count(report);
    this.o.logger.info(
      { queue: this.o.queue.name, messages: report.received, inserted: report.inserted, junk: report.junk, failed: report.failed, deleted: report.deleted },
      'SQS messages stored',
    );
    return report;
  }

  private unpack(message: QueueMessage): Unpacked {
    const parsed = parseEventBridgeMessage(message.body);
    if (parsed.kind === 'junk') return { message, items: [], junk: parsed.reason };
    return { message, items: [{ normalised: normaliseRecord(parsed.record), raw: parsed.record }] };
  }

  /** Stores the records and junk of some messages; throws (StoreError) if the store refuses. */
  private commit(batch: readonly Unpacked[], report: BatchReport): void {
    const sunk = sinkRecords(
      batch.flatMap((u) => u.items),
      this.o,
      this.origin,
    );
    const junk: Array<Rejection & { messageId: string }> = batch.flatMap((u) =>
      u.junk === undefined ? [] : [{ reason: `not an Athena CloudTrail event: ${u.junk}`, source: this.origin.label, raw: u.message.body ?? '', messageId: u.message.messageId }],
    );
    // A junk message that comes back (its delete failed) is logged once: the store remembers it.
    for (const j of this.o.store.recordRejections(junk, this.o.clock.now())) {
      this.o.logger.warn({ queue: this.o.queue.name, messageId: j.messageId, reason: j.reason }, 'deleting an SQS message that is not an Athena CloudTrail event');
    }
    report.inserted += sunk.inserted;
    report.rejected += sunk.rejected;
  }

  private count(r: BatchReport): void {
    this.s.received += r.received;
    this.s.deleted += r.deleted;
    this.s.junk += r.junk;
    this.s.failed += r.failed;
    const m = this.o.metrics?.sqsMessages;
    m?.inc({ outcome: 'received' }, r.received);
    m?.inc({ outcome: 'deleted' }, r.deleted);
    m?.inc({ outcome: 'junk' }, r.junk);
    m?.inc({ outcome: 'failed' }, r.failed);
    m?.inc({ outcome: 'delete_failed' }, r.deleteFailed);
  }

  private async loop(): Promise<void> {
    const signal = this.stop.signal;
    const backoff = this.o.backoff ?? DEFAULT_BACKOFF;
    let setbacks = 0;
    while (!signal.aborted) {
      const ok = await this.round(signal);
      if (signal.aborted) break;
      if (ok) {
        setbacks = 0;
        continue;
      }
      // A failing queue or store: waiting also keeps receive counts (and so early trips to the DLQ) down.
      setbacks++;
      const delayMs = backoffDelay(setbacks, backoff.baseMs, backoff.maxMs);
      this.s.state = 'backing-off';
      this.o.logger.warn({ queue: this.o.queue.name, attempt: setbacks, retryInMs: delayMs, error: this.s.lastError }, 'SQS consumer backing off');
      await sleep(delayMs, signal);
    }
  }

  /** One receive and its batch; false if the receive failed or no message of the batch could be stored. */
  private async round(signal: AbortSignal): Promise<boolean> {
    this.s.state = 'receiving';
    let messages: QueueMessage[];
    try {
      messages = await this.o.queue.receive(signal);
    } catch (err) {
      // Messages an interrupted long poll had taken reappear after their visibility timeout.
      if (signal.aborted) return true;
      this.o.metrics?.sqsReceiveErrors.inc();
      this.failing(errorText(err));
      return false;
    }
    const now = this.o.clock.now();
    this.s.lastReceiveAt = now;
    this.o.metrics?.sqsLastReceive.set(now / 1000);
    const report = messages.length ? await this.processBatch(messages) : undefined;
    if (!signal.aborted) await this.refreshBacklog();
    if (report && report.failed === report.received) {
      this.failing(`storing ${report.failed} message${report.failed === 1 ? '' : 's'} failed`);
      return false;
    }
    this.s.failingSince = null;
    this.s.lastError = null;
    return true;
  }

  private failing(error: string): void {
    this.s.failingSince ??= this.o.clock.now();
    this.s.lastError = error.slice(0, 300);
  }

  private async refreshBacklog(): Promise<void> {
    const every = this.o.backlogEveryMs ?? 0;
    const now = this.o.clock.now();
    if (every <= 0 || now - this.backlogAskedAt < every) return;
    this.backlogAskedAt = now;
    try {
      const backlog = await this.o.queue.backlog();
      this.s.backlog = { ...backlog, at: now };
      this.o.metrics?.sqsBacklog.set({ state: 'visible' }, backlog.visible);
      this.o.metrics?.sqsBacklog.set({ state: 'in_flight' }, backlog.inFlight);
    } catch (err) {
      // Informational only: without sqs:GetQueueAttributes the consumer works all the same.
      this.o.logger.debug({ queue: this.o.queue.name, error: errorText(err) }, 'could not read the SQS backlog');
    }
  }
}

function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(err)}`.slice(0, 300);
}
