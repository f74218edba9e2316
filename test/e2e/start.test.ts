import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, awsEnvFor, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { startDaemon } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { call, executor, fakeUuid, human, importNotebook, startCalculation, startSession, stopCalculation } from '../support/cloudtrail-records.js';
import { freePort, SIGNING_SECRET, until } from '../support/slack-requests.js';

const TOKEN = 'xoxb-e2e-token';
let aws: AwsFake;
let slack: SlackFake;
let dir: string;

beforeAll(async () => {
  aws = await startAwsFake();
  slack = await startSlackFake({ token: TOKEN, channels: ['C0DIGEST', 'C0ALERTS'] });
  dir = tempDir('asb-start-');
});
afterAll(async () => {
  await slack.close();
  await aws.close();
});

async function baseEnv(db: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  return {
    env: {
      ...awsEnvFor(aws),
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      DATABASE_PATH: db,
      POLL_INTERVAL_SECONDS: '1',
      LONG_RUNNING_MINUTES: '30',
      ALERT_CHANNEL: 'C0ALERTS',
      LOG_LEVEL: 'info',
      ...extra,
    },
    url: `http://127.0.0.1:${port}`,
  };
}

describe('athena-session-bot start', () => {
  it('alerts on a confirmed long-running calculation, follows up in its thread, and stops cleanly on SIGTERM', async () => {
    const sid = fakeUuid();
    const cid = fakeUuid();
    const now = Date.now();
    aws.addEvents([
      startSession({ sessionId: sid, eventTime: now - 50 * 60_000, actor: human('heidi'), workGroup: 'prod-notebooks', maxConcurrentDpus: 40 }),
      startCalculation({ sessionId: sid, calculationId: cid, eventTime: now - 45 * 60_000 }),
      call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: now - 30_000, params: { calculationExecutionId: cid } }),
    ]);
    aws.setSession('us-east-1', athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: now - 50 * 60_000 } }));
    aws.setCalculation('us-east-1', athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: now - 45 * 60_000 } }));
    const { env, url } = await baseEnv(path.join(dir, 'alerts.sqlite'));
    const d = startDaemon(env);
    try {
      const alert = await until(() => slack.messages('C0ALERTS').find((m) => !m.thread_ts && m.text?.includes(cid)), 20_000);
      expect(alert.text).toContain('heidi');
      expect(alert.text).not.toContain('unconfirmed');
      expect(alert.metadata?.event_payload.key).toBe(`alert:${cid}`);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);

      aws.addEvents([stopCalculation({ calculationId: cid, sessionId: sid, eventTime: Date.now() })]);
      aws.updateCalculation('us-east-1', cid, { Status: { State: 'CANCELED', SubmissionDateTime: now - 45 * 60_000, CompletionDateTime: Date.now() } });
      const followUp = await until(() => slack.messages('C0ALERTS').find((m) => m.thread_ts === alert.ts), 20_000);
      expect(followUp.text).toMatch(/stopped at .* after 4\dm/);
      await new Promise((r) => setTimeout(r, 2500));
      expect(slack.messages('C0ALERTS').filter((m) => m.text?.includes(cid))).toHaveLength(2);
    } finally {
      const exit = await d.stop('SIGTERM');
      expect(exit.code).toBe(0);
      expect(d.stderr()).toContain('"msg":"stopped"');
      expect(d.stderr()).not.toContain(TOKEN);
      expect(d.stderr()).not.toContain(SIGNING_SECRET);
      expect(d.stderr()).not.toContain('NodeVersionSupportWarning');
    }
  }, 60_000);

  it('posts the digest once per day across a restart, with its chart and long lists in its thread', async () => {
    const db = path.join(dir, 'digest.sqlite');
    const yesterday = new Date(Date.now() - 86_400_000);
    const dayStart = Date.UTC(yesterday.getUTCFullYear(), yesterday.getUTCMonth(), yesterday.getUTCDate(), 10);
    aws.addEvents([
      importNotebook({ notebookId: fakeUuid(), eventTime: dayStart, actor: human('ivan'), workGroup: 'prod-notebooks', name: 'q4-forecast' }),
      startSession({ sessionId: fakeUuid(), eventTime: dayStart + 60_000, actor: human('ivan') }),
    ]);
    const { env } = await baseEnv(db, { DIGEST_CHANNEL: 'C0DIGEST', DIGEST_CRON: '* * * * *', BACKFILL_HOURS: '48' });
    // The store must exist before the schedule fires for a missed digest to be owed; fire each minute.
    let d = startDaemon(env);
    const digest = await until(() => slack.messages('C0DIGEST').find((m) => !m.thread_ts && m.metadata?.event_payload.key === `digest:${yesterday.toISOString().slice(0, 10)}`), 75_000);
    expect(digest.text).toMatch(/^Athena Spark digest for/);
    const reply = await until(() => slack.messages('C0DIGEST').find((m) => m.thread_ts === digest.ts && !m.files), 10_000);
    expect(JSON.stringify(reply.blocks)).toContain('q4-forecast');
    // The chart, uploaded into the same thread.
    const chart = slack.messages('C0DIGEST').find((m) => m.thread_ts === digest.ts && m.files);
    expect(chart?.files?.[0]?.name).toBe(`athena-spark-digest-${yesterday.toISOString().slice(0, 10)}.png`);
    expect((await d.stop()).code).toBe(0);
    d = startDaemon(env);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await d.stop()).code).toBe(0);
    const summaries = slack.messages('C0DIGEST').filter((m) => !m.thread_ts);
    expect(summaries).toHaveLength(1);
    expect(slack.messages('C0DIGEST').filter((m) => m.files)).toHaveLength(1);
  }, 120_000);

  it('turns /healthz to 503 when CloudTrail fails for more than three intervals, and recovers', async () => {
    const { env, url } = await baseEnv(path.join(dir, 'health.sqlite'), { ALERT_CHANNEL: '' });
    aws.setDown(true);
    const d = startDaemon(env);
    const status = async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status;
    const waitFor = async (code: number) => {
      for (let i = 0; i < 120; i++) {
        if ((await status()) === code) return true;
        await new Promise((r) => setTimeout(r, 250));
      }
      return false;
    };
    try {
      const seen503 = await waitFor(503);
      expect(seen503).toBe(true);
      aws.setDown(false);
      expect(await waitFor(200)).toBe(true);
    } finally {
      aws.setDown(false);
      expect((await d.stop()).code).toBe(0);
    }
  }, 90_000);
});
