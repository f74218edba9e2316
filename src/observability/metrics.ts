import { createRequire } from 'node:module';

type PromClient = typeof import('prom-client');

function build(client: PromClient, defaultMetrics: boolean) {
  const registry = new client.Registry();
  const registers = [registry];
  if (defaultMetrics) client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    pollCycles: new client.Counter({ name: 'athena_bot_poll_cycles_total', help: 'Poll cycles by account, region and outcome (account empty: the default credentials)', labelNames: ['account', 'region', 'outcome'], registers }),
    lookupCalls: new client.Counter({ name: 'athena_bot_lookup_events_calls_total', help: 'CloudTrail LookupEvents requests sent (every attempt), by account and region', labelNames: ['account', 'region'], registers }),
    throttles: new client.Counter({ name: 'athena_bot_lookup_events_throttles_total', help: 'LookupEvents requests answered with ThrottlingException, by account and region', labelNames: ['account', 'region'], registers }),
    athenaCalls: new client.Counter({ name: 'athena_bot_athena_calls_total', help: 'Athena API calls by operation and outcome', labelNames: ['operation', 'outcome'], registers }),
    recordsIngested: new client.Counter({ name: 'athena_bot_records_ingested_total', help: 'New records stored', labelNames: ['source'], registers }),
    recordsRejected: new client.Counter({ name: 'athena_bot_records_rejected_total', help: 'Records skipped as malformed', labelNames: ['source'], registers }),
    slackPosts: new client.Counter({ name: 'athena_bot_slack_posts_total', help: 'Slack messages delivered', labelNames: ['kind'], registers }),
    slackErrors: new client.Counter({ name: 'athena_bot_slack_errors_total', help: 'Slack API errors by code', labelNames: ['error'], registers }),
    sqsMessages: new client.Counter({
      name: 'athena_bot_sqs_messages_total',
      help: 'SQS messages by outcome: received, deleted, junk (not an Athena CloudTrail event: logged and deleted), failed (left for redelivery), delete_failed',
      labelNames: ['outcome'],
      registers,
    }),
    sqsReceiveErrors: new client.Counter({ name: 'athena_bot_sqs_receive_errors_total', help: 'SQS ReceiveMessage requests that failed (after the SDK retries)', registers }),
    sqsBacklog: new client.Gauge({ name: 'athena_bot_sqs_backlog_messages', help: 'Messages in the queue (GetQueueAttributes): visible or in flight', labelNames: ['state'], registers }),
    sqsLastReceive: new client.Gauge({ name: 'athena_bot_sqs_last_receive_timestamp_seconds', help: 'When the last ReceiveMessage succeeded (empty or not), Unix seconds', registers }),
    commandLatency: new client.Histogram({
      name: 'athena_bot_command_ack_seconds',
      help: 'Time from receiving a slash command to acknowledging it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    actionLatency: new client.Histogram({
      name: 'athena_bot_action_ack_seconds',
      help: 'Time from receiving a button press to acknowledging it',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}

/**
 * Prometheus metrics (served at /metrics). One registry per app so tests stay isolated.
 * prom-client is loaded when a metric is first touched: a CLI command that records nothing
 * does not pay its ~30 ms of loading (measured).
 */
export class Metrics {
  #built: ReturnType<typeof build> | undefined;
  readonly #defaultMetrics: boolean;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.#defaultMetrics = opts.defaultMetrics ?? false;
  }

  private get built(): ReturnType<typeof build> {
    return (this.#built ??= build(createRequire(import.meta.url)('prom-client') as PromClient, this.#defaultMetrics));
  }

  get registry() {
    return this.built.registry;
  }
  get pollCycles() {
    return this.built.pollCycles;
  }
  get lookupCalls() {
    return this.built.lookupCalls;
  }
  get throttles() {
    return this.built.throttles;
  }
  get athenaCalls() {
    return this.built.athenaCalls;
  }
  get recordsIngested() {
    return this.built.recordsIngested;
  }
  get recordsRejected() {
    return this.built.recordsRejected;
  }
  get slackPosts() {
    return this.built.slackPosts;
  }
  get slackErrors() {
    return this.built.slackErrors;
  }
  get sqsMessages() {
    return this.built.sqsMessages;
  }
  get sqsReceiveErrors() {
    return this.built.sqsReceiveErrors;
  }
  get sqsBacklog() {
    return this.built.sqsBacklog;
  }
  get sqsLastReceive() {
    return this.built.sqsLastReceive;
  }
  get commandLatency() {
    return this.built.commandLatency;
  }
  get actionLatency() {
    return this.built.actionLatency;
  }
}
