import type { Logger } from '../../util/logger.js';

/** One received message: what the consumer needs of it. */
export interface QueueMessage {
  messageId: string;
  receiptHandle: string;
  body: string | undefined;
  /** How many times SQS has handed this message out, this time included. */
  receiveCount: number;
}

export interface DeleteOutcome {
  /** Messages SQS refused to delete (they come back after their visibility timeout). */
  failed: Array<{ messageId: string; code: string }>;
}

export interface QueueBacklog {
  /** Waiting to be received. */
  visible: number;
  /** Received, not yet deleted (in flight). */
  inFlight: number;
}

/** The queue as the consumer sees it; the real one is SQS through the AWS SDK. */
export interface SqsQueue {
  readonly url: string;
  readonly name: string;
  readonly region: string;
  /** One long poll: resolves with up to `maxMessages` messages, or none after the wait. */
  receive(signal?: AbortSignal): Promise<QueueMessage[]>;
  /** Deletes received messages in one DeleteMessageBatch request (at most 10). */
  delete(messages: readonly QueueMessage[]): Promise<DeleteOutcome>;
  backlog(): Promise<QueueBacklog>;
}

export interface SqsQueueOptions {
  queueUrl: string;
  /** Used when the queue URL does not name its region (a local emulator's URL, say). */
  fallbackRegion: string;
  logger: Logger;
  /**
   * AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL) is set: send every request there. Otherwise the
   * SDK sends requests to the queue URL's host, which is what a real queue URL wants.
   */
  endpointOverridden: boolean;
  /** Long-poll wait (SQS maximum and our default: 20 s). */
  waitTimeSeconds?: number;
  /** Messages per receive (SQS maximum and our default: 10). */
  maxMessages?: number;
}

/** SQS's own limits: one receive returns at most 10 messages and waits at most 20 s. */
export const SQS_MAX_MESSAGES = 10;
export const SQS_MAX_WAIT_SECONDS = 20;

/**
 * The region a queue lives in, from its URL: `https://sqs.eu-west-1.amazonaws.com/…`, the
 * legacy `https://eu-west-1.queue.amazonaws.com/…`, or an emulator's `sqs.<region>.<host>`.
 */
export function queueRegion(queueUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(queueUrl).hostname;
  } catch {
    return undefined;
  }
  const region = /^sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)\./.exec(host) ?? /^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\.amazonaws\.com/.exec(host);
  return region?.[1];
}

/** The queue's name: the last segment of its URL's path. */
export function queueName(queueUrl: string): string {
  try {
    return new URL(queueUrl).pathname.split('/').filter(Boolean).pop() ?? queueUrl;
  } catch {
    return queueUrl;
  }
}

/**
 * SQS through the AWS SDK v3 (JSON protocol). The SDK's own retries stay on (three attempts
 * for throttling, 5xx and network errors): SQS has no rate limit the bot could run into, and
 * the consumer backs off on top of them when SQS stays unreachable.
 */
export function createSqsQueue(o: SqsQueueOptions): SqsQueue {
  const waitTimeSeconds = Math.min(o.waitTimeSeconds ?? SQS_MAX_WAIT_SECONDS, SQS_MAX_WAIT_SECONDS);
  const maxMessages = Math.min(o.maxMessages ?? SQS_MAX_MESSAGES, SQS_MAX_MESSAGES);
  const region = queueRegion(o.queueUrl) ?? o.fallbackRegion;
  // The SDK loads on first use, like the other AWS clients.
  let sdk: Promise<typeof import('@aws-sdk/client-sqs')> | undefined;
  const loadSdk = () => (sdk ??= import('@aws-sdk/client-sqs'));
  let client: Promise<import('@aws-sdk/client-sqs').SQSClient> | undefined;
  const getClient = () =>
    (client ??= loadSdk().then(
      ({ SQSClient }) =>
        new SQSClient({
          region,
          useQueueUrlAsEndpoint: !o.endpointOverridden,
          // Longer than the long poll, so a receive is never cut off while it is waiting legitimately.
          requestHandler: { connectionTimeout: 5000, requestTimeout: (waitTimeSeconds + 10) * 1000 },
          // Without a logger the SDK writes its warnings to the console; standard error carries our lines only.
          logger: { debug: () => undefined, info: () => undefined, warn: (...a: unknown[]) => o.logger.warn({ sdk: 'sqs' }, a.map(String).join(' ')), error: (...a: unknown[]) => o.logger.warn({ sdk: 'sqs' }, a.map(String).join(' ')) },
        }),
    ));
  return {
    url: o.queueUrl,
    name: queueName(o.queueUrl),
    region,
    async receive(signal) {
      const { ReceiveMessageCommand } = await loadSdk();
      const out = await (await getClient()).send(
        new ReceiveMessageCommand({
          QueueUrl: o.queueUrl,
          WaitTimeSeconds: waitTimeSeconds,
          MaxNumberOfMessages: maxMessages,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        { abortSignal: signal },
      );
      return (out.Messages ?? []).flatMap((m) =>
        m.MessageId && m.ReceiptHandle
          ? [{ messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body, receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1) || 1 }]
          : [],
      );
    },
    async delete(messages) {
      if (messages.length === 0) return { failed: [] };
      const { DeleteMessageBatchCommand } = await loadSdk();
      // Batch entry ids only need to be unique within the request; message ids can be longer than SQS allows for them.
      const out = await (await getClient()).send(
        new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.receiptHandle })) }),
      );
      return {
        failed: (out.Failed ?? []).map((f) => ({ messageId: messages[Number(f.Id?.slice(1))]?.messageId ?? String(f.Id), code: f.Code ?? 'unknown' })),
      };
    },
    async backlog() {
      const { GetQueueAttributesCommand } = await loadSdk();
      const out = await (await getClient()).send(
        new GetQueueAttributesCommand({ QueueUrl: o.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return { visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
    },
  };
}
