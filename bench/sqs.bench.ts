/**
 * Figure 7 — push throughput: records per second the real consumer (`QueueConsumer` with the
 * real SDK client and a real SQLite store on disk) takes off an SQS emulator, end to end:
 * long-poll receive (10 messages) → parse the EventBridge event → normalise → commit →
 * DeleteMessageBatch. fauxqs runs in its own process (its own core, as a deployed emulator
 * would), loaded beforehand with a seeded workload's records, one EventBridge event per
 * message, exactly as the rule sends them.
 *
 * The ceiling, measured in the same run on an identical queue: the same SDK client doing only
 * receive → DeleteMessageBatch, with no parsing and no store. The ratio says how much of the
 * emulator's round-trip rate the consumer's own work costs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { generateRecords } from '../test/support/workload.js';
import { freePort } from '../test/support/slack-requests.js';
import { eventBridgeEvent } from '../test/support/sqs-emulator.js';
import { QueueConsumer } from '../src/sources/sqs/queue-consumer.js';
import { createSqsQueue } from '../src/sources/sqs/sqs-queue.js';
import { Store } from '../src/store/store.js';
import { systemClock } from '../src/util/clock.js';
import { silentLogger } from '../src/util/logger.js';
import { n0, rmDb, ROOT, secs, waitFor, WORK, type Figure, type FigureResult } from './lib.js';

/** What one account-region can read by polling: 2 LookupEvents requests/s × 50 records. */
const LOOKUP_CEILING_PER_SECOND = 100;

async function startEmulator(): Promise<{ child: ChildProcess; endpoint: string }> {
  const port = await freePort();
  const script = `import { startFauxqs } from 'fauxqs'; await startFauxqs({ port: ${port}, logger: false }); console.log('ready');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await waitFor(() => out.includes('ready'), 20_000, 20, 'fauxqs to start');
  return { child, endpoint: `http://127.0.0.1:${port}` };
}

export const sqsFigure: Figure = {
  name: 'sqs',
  async run(ctx): Promise<FigureResult> {
    const n = ctx.quick ? 3_000 : 20_000;
    const { child, endpoint } = await startEmulator();
    const saved = { endpoint: process.env.AWS_ENDPOINT_URL_SQS, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: endpoint, AWS_ACCESS_KEY_ID: 'AKIDFAKE', AWS_SECRET_ACCESS_KEY: 'fake' });
    const sqs = new SQSClient({ region: 'us-east-1', endpoint, useQueueUrlAsEndpoint: false });
    const db = path.join(WORK, 'store-sqs.sqlite');
    rmDb(db);
    const store = Store.open(db);
    try {
      const bodies = [...generateRecords({ records: n, seed: 12 })].map((r) => eventBridgeEvent(r));
      const queue = async (name: string) => (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }))).QueueUrl!;
      const ceilingUrl = await queue('bench-ceiling');
      const pushUrl = await queue('bench-push');
      ctx.log(`loading ${n0(n)} EventBridge events into two queues …`);
      for (const url of [ceilingUrl, pushUrl]) {
        const batches: string[][] = [];
        for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
        for (let i = 0; i < batches.length; i += 20) {
          await Promise.all(
            batches.slice(i, i + 20).map((b, j) => sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: b.map((body, k) => ({ Id: `e${j}-${k}`, MessageBody: body })) }))),
          );
        }
      }
      const depth = async (url: string) =>
        Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages);
      if ((await depth(pushUrl)) !== n || (await depth(ceilingUrl)) !== n) throw new Error('the queues were not loaded');

      // Ceiling: receive → delete, nothing else, one loop like the consumer's.
      ctx.log('ceiling: bare receive → DeleteMessageBatch …');
      let taken = 0;
      const c0 = performance.now();
      while (taken < n) {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: ceilingUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        const msgs = out.Messages ?? [];
        if (msgs.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: ceilingUrl, Entries: msgs.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
        taken += msgs.length;
      }
      const ceilingMs = performance.now() - c0;

      ctx.log('consumer: receive → parse → commit → delete …');
      const consumer = new QueueConsumer({
        queue: createSqsQueue({ queueUrl: pushUrl, fallbackRegion: 'us-east-1', logger: silentLogger, endpointOverridden: true }),
        store,
        clock: systemClock,
        logger: silentLogger,
        unhealthyAfterMs: 180_000,
      });
      const t0 = performance.now();
      consumer.start();
      await waitFor(() => consumer.status().deleted >= n, 600_000, 5, 'the consumer to drain the queue');
      const consumerMs = performance.now() - t0;
      await consumer.close();
      const status = consumer.status();
      const stored = store.recordCount();
      if (status.failed || status.junk) throw new Error(`consumer failed ${status.failed}, junk ${status.junk}`);

      const perSecond = (n / consumerMs) * 1000;
      const ceilingPerSecond = (n / ceilingMs) * 1000;
      return {
        rows: [
          {
            figure: `SQS push: records/s consumed from fauxqs, end to end (receive → parse → commit → delete), ${n0(n)} records, one consumer`,
            value: `**${n0(perSecond)} records/s** (${secs(consumerMs)})`,
            target: `≥ ${LOOKUP_CEILING_PER_SECOND} (LookupEvents: 2 req/s × 50)`,
            ok: perSecond >= LOOKUP_CEILING_PER_SECOND,
          },
          { figure: '… ceiling: the same SDK loop doing only receive → delete (same run, same emulator)', value: `${n0(ceilingPerSecond)} messages/s (${secs(ceilingMs)})`, target: '—', ok: null },
          { figure: '… consumer ÷ ceiling', value: `${((perSecond / ceilingPerSecond) * 100).toFixed(0)}%`, target: '—', ok: null },
        ],
        raw: { records: n, consumerMs, ceilingMs, perSecond, ceilingPerSecond, stored, status },
        notes: [
          `a receive + delete pair of 10 messages took ${((ceilingMs / n) * 10).toFixed(1)} ms on loopback (the ceiling); against real SQS each is a network round trip, so one consumer's rate is bounded by that latency more than by its own work`,
        ],
      };
    } finally {
      store.close();
      sqs.destroy();
      child.kill();
      for (const [k, v] of [['AWS_ENDPOINT_URL_SQS', saved.endpoint], ['AWS_ACCESS_KEY_ID', saved.key], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  },
};
