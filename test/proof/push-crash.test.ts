/**
 * Proof: the SQS consumer survives a crash between committing a batch and deleting its
 * messages. The real built `start` runs against the SQS emulator (fauxqs) and the fakes and
 * kills itself with SIGKILL at the `sqs.before-delete` failpoint — its records committed, its
 * messages still on the queue — over several trials with new (and repeated) records arriving
 * between them. A last clean run then drains the queue: the messages of every killed batch
 * come back after their visibility timeout, and every record is stored exactly once.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnvFor, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { startDaemon } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { fakeUuid, human, startCalculation, startSession, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { freePort, SIGNING_SECRET, until } from '../support/slack-requests.js';
import { eventBridgeEvent, startSqsEmulator, type SqsEmulator } from '../support/sqs-emulator.js';

const TOKEN = 'xoxb-push-crash-token';
const TRIALS = 4;
const VISIBILITY_SECONDS = 2;
let aws: AwsFake;
let slack: SlackFake;
let sqs: SqsEmulator;
let dir: string;

beforeAll(async () => {
  aws = await startAwsFake();
  slack = await startSlackFake({ token: TOKEN, channels: [] });
  sqs = await startSqsEmulator();
  dir = tempDir('asb-push-crash-');
});
afterAll(async () => {
  await sqs.close();
  await slack.close();
  await aws.close();
});

const storedIds = (db: string): string[] => {
  const d = new Database(db, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    return (d.prepare('SELECT event_id FROM all_records').all() as Array<{ event_id: string }>).map((r) => r.event_id);
  } finally {
    d.close();
  }
};

function someSessions(n: number): CloudTrailRecord[] {
  const now = Date.now();
  return Array.from({ length: n }, () => {
    const sid = fakeUuid();
    return [
      startSession({ sessionId: sid, eventTime: now - 5 * 60_000, actor: human('kim') }),
      startCalculation({ sessionId: sid, calculationId: fakeUuid(), eventTime: now - 4 * 60_000 }),
      terminateSession({ sessionId: sid, eventTime: now - 60_000 }),
    ];
  }).flat();
}

describe('crash test: SIGKILL between committing pushed records and deleting their messages', () => {
  it(`redelivers every killed batch after its visibility timeout and stores each record once (${TRIALS} kills)`, async () => {
    const db = path.join(dir, 'push-crash.sqlite');
    // A redrive limit above the number of kills: a message killed in every trial must not reach the DLQ.
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: VISIBILITY_SECONDS, maxReceiveCount: TRIALS + 3 });
    const env = async (extra: Record<string, string> = {}) => ({
      ...awsEnvFor(aws),
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      SQS_QUEUE_URL: pair.queueUrl,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(await freePort()),
      DATABASE_PATH: db,
      POLL_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'info',
      ...extra,
    });

    const sent: CloudTrailRecord[] = [];
    let bodies = 0;
    for (let trial = 1; trial <= TRIALS; trial++) {
      const batch = someSessions(3);
      sent.push(...batch);
      // New records, and one already sent before (delivered again, at least once).
      const redelivered = trial > 1 ? [eventBridgeEvent(sent[0]!)] : [];
      await sqs.send(pair.queueUrl, [...batch.map((r) => eventBridgeEvent(r)), ...redelivered]);
      bodies += batch.length + redelivered.length;

      const d = startDaemon(await env({ ATHENA_BOT_FAILPOINTS: 'sqs.before-delete:1' }));
      const exit = await Promise.race([d.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]);
      if (!exit) d.child.kill('SIGKILL');
      expect(exit?.signal, `trial ${trial}: stderr\n${d.stderr().slice(-2000)}`).toBe('SIGKILL');
      expect(d.stderr()).toContain('failpoint sqs.before-delete:1 reached');
      // The batch it took is committed, and its messages are still on the queue.
      const stored = new Set(storedIds(db));
      expect(stored.size).toBeGreaterThan(0);
      expect(sqs.depth(pair.queueName).total).toBe(bodies);
    }

    // A clean run: the killed batches come back after their visibility timeout and are deleted.
    const d = startDaemon(await env());
    try {
      await until(() => sqs.depth(pair.queueName).total === 0, 60_000, 100);
    } finally {
      expect((await d.stop('SIGTERM')).code).toBe(0);
    }
    const stored = storedIds(db);
    expect(stored.length).toBe(new Set(stored).size);
    expect([...new Set(sent.map((r) => r.eventID))].sort()).toEqual([...stored].sort());
    expect(sqs.depth(pair.dlqName).total).toBe(0);
    // Redeliveries were recognised: the store had them already.
    const inserted = d
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"SQS messages stored"'))
      .map((l) => JSON.parse(l) as { inserted: number; messages: number });
    const received = inserted.reduce((n, l) => n + l.messages, 0);
    expect(received).toBeGreaterThanOrEqual(bodies);
  }, 240_000);
});
