/**
 * SQS for the tests: fauxqs (a maintained SQS/S3 emulator speaking the JSON protocol the
 * SDK v3 uses, with long polling, visibility timeouts and redrive) started in-process on a
 * loopback port, a queue with a dead-letter queue and a redrive policy, and messages sent the
 * way the EventBridge rule sends them: the whole event, CloudTrail record in `detail`.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { ACCOUNT_ID, type CloudTrailRecord } from './cloudtrail-records.js';

/** The EventBridge event of a CloudTrail record, as the rule's target receives it. */
export function eventBridgeEvent(record: CloudTrailRecord, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.athena',
    account: (record.recipientAccountId as string | undefined) ?? ACCOUNT_ID,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
    ...over,
  });
}

export interface QueuePair {
  queueUrl: string;
  queueName: string;
  dlqUrl: string;
  dlqName: string;
}

export interface SqsEmulator {
  server: FauxqsServer;
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL_SQS points at. */
  endpoint: string;
  /** A new queue and its DLQ (redrive after `maxReceiveCount` receives). */
  createQueuePair(o?: { name?: string; visibilityTimeoutSeconds?: number; maxReceiveCount?: number }): QueuePair;
  /** Sends message bodies with SendMessageBatch (10 at a time), as a producer would. */
  send(queueUrl: string, bodies: readonly string[]): Promise<void>;
  /** Sends each record as its EventBridge event. */
  sendRecords(queueUrl: string, records: readonly CloudTrailRecord[]): Promise<void>;
  /** Messages in a queue by state (from the emulator's inspection API; changes nothing). */
  depth(queueName: string): { ready: number; inFlight: number; delayed: number; total: number };
  /** The environment that points the SDK (and the bot) at the emulator. */
  env(region?: string): Record<string, string>;
  close(): Promise<void>;
}

let pairs = 0;

export async function startSqsEmulator(): Promise<SqsEmulator> {
  const server = await startFauxqs({ port: 0, logger: false });
  const endpoint = server.address;
  const producer = new SQSClient({ region: 'us-east-1', endpoint, useQueueUrlAsEndpoint: false, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' } });
  const emulator: SqsEmulator = {
    server,
    endpoint,
    createQueuePair(o = {}) {
      const base = o.name ?? `athena-events-${++pairs}`;
      const dlq = server.createQueue(`${base}-dlq`, { attributes: { MessageRetentionPeriod: '1209600' } });
      const queue = server.createQueue(base, {
        attributes: {
          VisibilityTimeout: String(o.visibilityTimeoutSeconds ?? 30),
          MessageRetentionPeriod: '1209600',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(o.maxReceiveCount ?? 5) }),
        },
      });
      return { queueUrl: queue.queueUrl, queueName: queue.queueName, dlqUrl: dlq.queueUrl, dlqName: dlq.queueName };
    },
    async send(queueUrl, bodies) {
      for (let i = 0; i < bodies.length; i += 10) {
        const entries = bodies.slice(i, i + 10).map((body, j) => ({ Id: `e${i + j}`, MessageBody: body }));
        const out = await producer.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
      }
    },
    sendRecords(queueUrl, records) {
      return emulator.send(queueUrl, records.map((r) => eventBridgeEvent(r)));
    },
    depth(queueName) {
      const q = server.inspectQueue(queueName);
      if (!q) return { ready: 0, inFlight: 0, delayed: 0, total: 0 };
      const { ready, inflight, delayed } = q.messages;
      return { ready: ready.length, inFlight: inflight.length, delayed: delayed.length, total: ready.length + inflight.length + delayed.length };
    },
    env(region = 'us-east-1') {
      return { AWS_ENDPOINT_URL_SQS: endpoint, AWS_REGION: region, AWS_ACCESS_KEY_ID: 'AKIDFAKE', AWS_SECRET_ACCESS_KEY: 'fake' };
    },
    async close() {
      producer.destroy();
      await server.stop();
    },
  };
  return emulator;
}

/** Sets environment variables for the SDK clients of this process; returns a restorer. */
export function useEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
