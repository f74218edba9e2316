/**
 * `start` in push mode, end to end: the built bot as a child process, SQS_QUEUE_URL pointing at
 * the SQS emulator (fauxqs, started here), CloudTrail/Athena and Slack at their fakes — all
 * through configuration.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, awsEnvFor, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { startDaemon, type Daemon } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { call, executor, fakeUuid, human, startCalculation, startSession, stopCalculation, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { freePort, SIGNING_SECRET, until } from '../support/slack-requests.js';
import { eventBridgeEvent, startSqsEmulator, type QueuePair, type SqsEmulator } from '../support/sqs-emulator.js';

const TOKEN = 'xoxb-push-e2e-token';
const REGION = 'us-east-1';
const MIN = 60_000;
let aws: AwsFake;
let slack: SlackFake;
let sqs: SqsEmulator;
let dir: string;

beforeAll(async () => {
  aws = await startAwsFake();
  slack = await startSlackFake({ token: TOKEN, channels: ['C0ALERTS'] });
  sqs = await startSqsEmulator();
  dir = tempDir('asb-push-');
});
afterAll(async () => {
  await sqs.close();
  await slack.close();
  await aws.close();
});

async function pushEnv(db: string, pair: QueuePair, extra: Record<string, string> = {}) {
  const port = await freePort();
  return {
    env: {
      ...awsEnvFor(aws, REGION),
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      SQS_QUEUE_URL: pair.queueUrl,
      SWEEP_MINUTES: '15',
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      DATABASE_PATH: db,
      POLL_INTERVAL_SECONDS: '2',
      LONG_RUNNING_MINUTES: '30',
      ALERT_CHANNEL: 'C0ALERTS',
      LOG_LEVEL: 'info',
      ...extra,
    },
    url: `http://127.0.0.1:${port}`,
  };
}

/** A calculation running for 45 minutes, seen by CloudTrail, with Athena saying RUNNING. */
function longRunning(now: number) {
  const sid = fakeUuid();
  const cid = fakeUuid();
  aws.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: now - 50 * MIN } }));
  aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: now - 45 * MIN } }));
  const records = [
    startSession({ sessionId: sid, eventTime: now - 50 * MIN, actor: human('heidi'), workGroup: 'prod-notebooks' }),
    startCalculation({ sessionId: sid, calculationId: cid, eventTime: now - 45 * MIN }),
    call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: now - 30_000, params: { calculationExecutionId: cid } }),
  ];
  return { sid, cid, records };
}

const sweeps = (d: Daemon) => d.stderr().split('\n').filter((l) => l.includes('"msg":"poll cycle done"')).length;

function readDb<T>(file: string, fn: (d: Database.Database) => T): T {
  const d = new Database(file, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    return fn(d);
  } finally {
    d.close();
  }
}

/** Every line on standard error is one of the program's JSON log lines. */
function expectOwnLinesOnly(d: Daemon): void {
  const foreign = d.stderr().split('\n').filter((l) => l.trim() && !l.startsWith('{"level":'));
  expect(foreign).toEqual([]);
}

describe('athena-session-bot start with SQS_QUEUE_URL', () => {
  it('alerts on a long-running calculation that arrives by push within an interval, without waiting for the sweep; /healthz and /metrics show the consumer', async () => {
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 5 });
    const { env, url } = await pushEnv(path.join(dir, 'alert.sqlite'), pair);
    const d = startDaemon(env);
    try {
      await until(() => sweeps(d) >= 1, 30_000);
      const lookups = aws.lookupCount(REGION);

      // Pushed only: CloudTrail's LookupEvents has not delivered these yet.
      const { cid, records } = longRunning(Date.now());
      const sentAt = Date.now();
      await sqs.sendRecords(pair.queueUrl, records);
      const alert = await until(() => slack.messages('C0ALERTS').find((m) => !m.thread_ts && m.text?.includes(cid)), 30_000);
      const latencyMs = Date.now() - sentAt;
      expect(alert.text).toContain('heidi');
      expect(alert.text).not.toContain('unconfirmed');
      // It came by push: no sweep ran meanwhile.
      expect(aws.lookupCount(REGION)).toBe(lookups);
      expect(sweeps(d)).toBe(1);
      console.log(`pushed long-running calculation → alert in ${latencyMs} ms (POLL_INTERVAL_SECONDS=2)`);

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as { status: string; sqs: Record<string, any> };
      expect(body.status).toBe('ok');
      expect(body.sqs).toMatchObject({ queue: pair.queueName, failingSince: null, lastError: null, messages: { received: 3, deleted: 3, junk: 0, failed: 0 } });
      expect(body.sqs.lastReceive).toMatch(/^\d{4}-\d\d-\d\dT/);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/athena_bot_sqs_messages_total\{outcome="deleted"\} 3/);
      expect(metrics).toMatch(/athena_bot_records_ingested_total\{source="sqs"\} [1-3]/);
      expect(metrics).toMatch(/athena_bot_sqs_last_receive_timestamp_seconds \d/);
      expect(sqs.depth(pair.queueName).total).toBe(0);
    } finally {
      const exit = await d.stop('SIGTERM');
      expect(exit.code).toBe(0);
      expect(d.stderr()).toContain('"msg":"stopped"');
      expectOwnLinesOnly(d);
    }
  }, 90_000);

  it('turns /healthz to 503 when the queue has failed for more than three intervals, and recovers when it is back', async () => {
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 5 });
    const { env, url } = await pushEnv(path.join(dir, 'health.sqlite'), pair, { POLL_INTERVAL_SECONDS: '1' });
    const d = startDaemon(env);
    const health = async () => {
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      return res && { status: res.status, body: (await res.json()) as { status: string; sqs?: { state: string; lastError: string | null } } };
    };
    try {
      await until(async () => (await health())?.status === 200 && sweeps(d) >= 1, 30_000, 100);
      sqs.server.deleteQueue(pair.queueName);
      const failing = await until(async () => {
        const h = await health();
        return h?.status === 503 && h;
      }, 30_000, 250);
      expect(failing.body.status).toBe('failing');
      expect(failing.body.sqs?.lastError).toMatch(/QueueDoesNotExist/);
      expect(d.stderr()).toContain('"msg":"SQS consumer backing off"');

      sqs.server.createQueue(pair.queueName, { attributes: { VisibilityTimeout: '5' } });
      await sqs.sendRecords(pair.queueUrl, [startSession({ sessionId: fakeUuid(), eventTime: Date.now() })]);
      await until(async () => (await health())?.status === 200, 60_000, 250);
    } finally {
      expect((await d.stop('SIGTERM')).code).toBe(0);
      expectOwnLinesOnly(d);
    }
  }, 120_000);

  it('survives an hour down: messages wait in the queue, everything arrives after the restart, each record once, the alert once', async () => {
    const db = path.join(dir, 'down.sqlite');
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 5 });
    const { env } = await pushEnv(db, pair);
    let d = startDaemon(env);
    await until(() => sweeps(d) >= 1, 30_000);
    expect((await d.stop('SIGTERM')).code).toBe(0);

    // An hour of activity while the bot is down. EventBridge delivers it all (some twice, out of
    // order); CloudTrail's LookupEvents has two thirds of it, the rest is still on its way.
    const now = Date.now();
    const all: CloudTrailRecord[] = [];
    for (let i = 0; i < 12; i++) {
      const sid = fakeUuid();
      const cid = fakeUuid();
      const t = now - 60 * MIN + i * 4 * MIN;
      all.push(
        startSession({ sessionId: sid, eventTime: t, actor: human(['ana', 'bo', 'cy'][i % 3]!) }),
        startCalculation({ sessionId: sid, calculationId: cid, eventTime: t + MIN }),
        stopCalculation({ calculationId: cid, sessionId: sid, eventTime: t + 2 * MIN }),
        terminateSession({ sessionId: sid, eventTime: t + 3 * MIN }),
      );
    }
    const running = longRunning(now);
    all.push(...running.records);
    aws.addEvents(all.filter((_, i) => i % 3 !== 0));
    aws.addEvents(all.filter((_, i) => i % 3 === 0), { delayMs: 60 * MIN });
    const bodies = all.map((r) => eventBridgeEvent(r));
    const duplicates = bodies.filter((_, i) => i % 5 === 0);
    await sqs.send(pair.queueUrl, [...bodies, ...duplicates].reverse());
    // (A long poll the stopped bot had open may still take a batch: it comes back after its visibility timeout.)
    expect(sqs.depth(pair.queueName).total).toBe(bodies.length + duplicates.length);
    // The hour passes for the store too: its last sweep was an hour ago.
    const w = new Database(db);
    w.prepare('UPDATE poll_cursors SET cursor_ms = cursor_ms - ?, updated_at = updated_at - ?').run(60 * MIN, 60 * MIN);
    w.close();

    d = startDaemon(env);
    try {
      await until(() => sqs.depth(pair.queueName).total === 0 && sweeps(d) >= 1, 60_000);
      await until(() => slack.messages('C0ALERTS').some((m) => !m.thread_ts && m.text?.includes(running.cid)), 30_000);
      await new Promise((r) => setTimeout(r, 4500)); // two more intervals: nothing is posted twice
    } finally {
      expect((await d.stop('SIGTERM')).code).toBe(0);
    }
    const stored = readDb(db, (x) => x.prepare('SELECT event_id FROM all_records').all() as Array<{ event_id: string }>).map((r) => r.event_id);
    expect(new Set(stored).size).toBe(stored.length);
    // Everything that is not a routine read is in the records table (routine reads may be kept elsewhere).
    const notable = all.filter((r) => r.eventName !== 'GetCalculationExecutionStatus').map((r) => r.eventID);
    expect(notable.filter((id) => !stored.includes(id))).toEqual([]);
    expect(slack.messages('C0ALERTS').filter((m) => m.text?.includes(running.cid))).toHaveLength(1);
    expect(sqs.depth(pair.dlqName).total).toBe(0);
    expectOwnLinesOnly(d);
  }, 150_000);
});
