import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics (served at /metrics). One registry per app so tests stay isolated. */
export class Metrics {
  readonly registry = new Registry();
  readonly pollCycles = new Counter({ name: 'athena_bot_poll_cycles_total', help: 'Poll cycles by account, region and outcome (account empty: the default credentials)', labelNames: ['account', 'region', 'outcome'], registers: [this.registry] });
  readonly lookupCalls = new Counter({ name: 'athena_bot_lookup_events_calls_total', help: 'CloudTrail LookupEvents requests sent (every attempt), by account and region', labelNames: ['account', 'region'], registers: [this.registry] });
  readonly throttles = new Counter({ name: 'athena_bot_lookup_events_throttles_total', help: 'LookupEvents requests answered with ThrottlingException, by account and region', labelNames: ['account', 'region'], registers: [this.registry] });
  readonly athenaCalls = new Counter({ name: 'athena_bot_athena_calls_total', help: 'Athena API calls by operation and outcome', labelNames: ['operation', 'outcome'], registers: [this.registry] });
  readonly recordsIngested = new Counter({ name: 'athena_bot_records_ingested_total', help: 'New records stored', labelNames: ['source'], registers: [this.registry] });
  readonly recordsRejected = new Counter({ name: 'athena_bot_records_rejected_total', help: 'Records skipped as malformed', labelNames: ['source'], registers: [this.registry] });
  readonly slackPosts = new Counter({ name: 'athena_bot_slack_posts_total', help: 'Slack messages delivered', labelNames: ['kind'], registers: [this.registry] });
  readonly slackErrors = new Counter({ name: 'athena_bot_slack_errors_total', help: 'Slack API errors by code', labelNames: ['error'], registers: [this.registry] });
  readonly sqsMessages = new Counter({
    name: 'athena_bot_sqs_messages_total',
    help: 'SQS messages by outcome: received, deleted, junk (not an Athena CloudTrail event: logged and deleted), failed (left for redelivery), delete_failed',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly sqsReceiveErrors = new Counter({ name: 'athena_bot_sqs_receive_errors_total', help: 'SQS ReceiveMessage requests that failed (after the SDK retries)', registers: [this.registry] });
  readonly sqsBacklog = new Gauge({ name: 'athena_bot_sqs_backlog_messages', help: 'Messages in the queue (GetQueueAttributes): visible or in flight', labelNames: ['state'], registers: [this.registry] });
  readonly sqsLastReceive = new Gauge({ name: 'athena_bot_sqs_last_receive_timestamp_seconds', help: 'When the last ReceiveMessage succeeded (empty or not), Unix seconds', registers: [this.registry] });
  readonly commandLatency = new Histogram({
    name: 'athena_bot_command_ack_seconds',
    help: 'Time from receiving a slash command to acknowledging it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly actionLatency = new Histogram({
    name: 'athena_bot_action_ack_seconds',
    help: 'Time from receiving a button press to acknowledging it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
