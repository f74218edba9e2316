/**
 * The watchers of a runtime: the poll loop and the SQS consumer. Apart from the runtime so
 * that one-shot commands (session, digest) do not load them, nor the record parsing they bring.
 */
import { PollLoop } from '../schedule/poll-loop.js';
import { QueueConsumer } from '../sources/sqs/queue-consumer.js';
import { createSqsQueue } from '../sources/sqs/sqs-queue.js';
import type { Runtime, RuntimeContext } from './runtime.js';

/** The poll loop of a runtime: every watched account × region (needs AWS regions configured: `needs: ['regions']`). */
export function createPollLoop(rt: Runtime, io: Pick<RuntimeContext, 'clock'>): PollLoop {
  return new PollLoop({
    store: rt.store,
    source: rt.cloudTrail!,
    enricher: rt.enricher,
    clock: io.clock,
    logger: rt.logger,
    metrics: rt.metrics,
    targets: rt.targets,
    intervalSeconds: rt.config.pollIntervalSeconds,
    sweepMinutes: rt.config.sqs.queueUrl ? rt.config.sqs.sweepMinutes : undefined,
    lookbackMinutes: rt.config.lookbackMinutes,
    backfillHours: rt.config.backfillHours,
    retentionDays: rt.config.retentionDays,
    health: rt.health,
  });
}

/** The EventBridge → SQS consumer of a runtime (SPEC §6), or undefined when SQS_QUEUE_URL is not set. */
export function createQueueConsumer(rt: Runtime, io: RuntimeContext): QueueConsumer | undefined {
  const queueUrl = rt.config.sqs.queueUrl;
  if (!queueUrl) return undefined;
  const intervalMs = rt.config.pollIntervalSeconds * 1000;
  const queue = createSqsQueue({
    queueUrl,
    fallbackRegion: rt.config.regions[0] ?? 'us-east-1',
    logger: rt.logger,
    endpointOverridden: Boolean(io.env.AWS_ENDPOINT_URL_SQS || io.env.AWS_ENDPOINT_URL),
  });
  return new QueueConsumer({ queue, store: rt.store, clock: io.clock, logger: rt.logger, metrics: rt.metrics, unhealthyAfterMs: 3 * intervalMs, backlogEveryMs: intervalMs });
}
