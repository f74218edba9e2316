import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { captureLogger, tempDir, useAwsFakeEnv } from '../support/harness.js';
import { call, executor, fakeUuid, human, startCalculation, startSession } from '../support/cloudtrail-records.js';
import { freePort, mentionBody, postCommand, postEvent, SIGNING_SECRET, until } from '../support/slack-requests.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { createApp, type SlackBot } from '../../src/slack/app.js';
import { Outbox } from '../../src/store/outbox.js';
import { toEvents as events } from '../support/events.js';

const TOKEN = 'xoxb-test-token';
let aws: AwsFake;
let slack: SlackFake;
let restoreEnv: () => void;
let rt: Runtime;
let bot: SlackBot;
let base: string;
const known = fakeUuid();
const active = fakeUuid();


beforeAll(async () => {
  aws = await startAwsFake();
  aws.setRatePerSecond(Infinity);
  restoreEnv = useAwsFakeEnv(aws);
  slack = await startSlackFake({ token: TOKEN, channels: ['C0GENERAL', 'C0ONCALL', 'C0DIGEST', 'C0ALERTS', 'C0OTHER'] });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const dir = tempDir('asb-app-');
  rt = createRuntime(
    {
      clock: { now: () => Date.now() },
      env: {
        ...process.env,
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        PORT: String(port),
        DATABASE_PATH: path.join(dir, 'app.sqlite'),
        ALLOWED_USER_IDS: 'U0ALICE,U0BOB',
        LOG_LEVEL: 'silent',
      },
    },
    { quickAws: true },
  );
  const now = Date.now();
  rt.store.insertEvents(events([startSession({ sessionId: known, eventTime: now - 3_600_000, actor: human('alice'), workGroup: 'analytics' })]), now);
  rt.store.insertEvents(
    events([
      startSession({ sessionId: active, eventTime: now - 600_000, actor: human('bob'), workGroup: 'ml-team' }),
      startCalculation({ sessionId: active, calculationId: fakeUuid(), eventTime: now - 500_000 }),
      call('GetSessionStatus', { actor: executor(active), eventTime: now - 60_000, params: { sessionId: active } }),
    ]),
    now,
  );
  bot = createApp({ runtime: rt, outbox: new Outbox(rt.store), clock: { now: () => Date.now() } });
  await bot.start();
  await until(() => bot.identity());
});

afterAll(async () => {
  await bot.stop();
  rt.close();
  restoreEnv();
  await slack.close();
  await aws.close();
});

const respondedTo = (id: string) => until(() => slack.responses(id)[0]);

describe('Slack app over signed HTTP', () => {
  it('answers a known session: acknowledged at once, report through response_url, ephemeral', async () => {
    const url = slack.responseUrl('known');
    const r = await postCommand(base, { text: known, responseUrl: url });
    expect(r.status).toBe(200);
    const answer = await respondedTo('known');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(answer.body.text).toContain(known);
    expect(JSON.stringify(answer.body.blocks)).toContain('alice');
    expect(JSON.stringify(answer.body.blocks)).not.toContain('203.0.113.10');
  });

  it('posts in the channel with "public"', async () => {
    const url = slack.responseUrl('public');
    await postCommand(base, { text: `${known} public`, responseUrl: url });
    expect((await respondedTo('public')).body.response_type).toBe('in_channel');
  });

  it('answers a slash command that is not ours at once, ephemerally, instead of timing out', async () => {
    const url = slack.responseUrl('not-ours');
    const r = await postCommand(base, { command: '/something-else', text: known, responseUrl: url });
    expect(r.status).toBe(200);
    expect(r.ms).toBeLessThan(1000);
    expect(JSON.parse(r.text)).toEqual({ response_type: 'ephemeral', text: 'This app answers `/athena-session` only; `/something-else` is not one of its commands.' });
    // Ours is still answered by its own listener only (one ack, no 'not ours' text).
    const ours = await postCommand(base, { text: 'help', responseUrl: slack.responseUrl('ours') });
    expect(ours.status).toBe(200);
    expect(ours.text).not.toContain('not one of its commands');
    expect(ours.text).toContain('/athena-session');
  });

  it('rejects a bad signature and a stale timestamp with 401', async () => {
    const url = slack.responseUrl('bad');
    expect((await postCommand(base, { text: known, responseUrl: url }, { secret: 'wrong-secret-0000000000' })).status).toBe(401);
    expect((await postCommand(base, { text: known, responseUrl: url }, { timestamp: Math.floor(Date.now() / 1000) - 10 * 60 })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.responses('bad')).toHaveLength(0);
  });

  it('answers garbage text with a usage line, in the acknowledgement', async () => {
    for (const text of ['DROP TABLE sessions; --', '<script>alert(1)</script>', 'a'.repeat(5000), '12345678-1234-1234-1234-12345678901z', 'two words here']) {
      const r = await postCommand(base, { text, responseUrl: slack.responseUrl() });
      expect(r.status).toBe(200);
      const body = JSON.parse(r.text);
      expect(body.response_type).toBe('ephemeral');
      expect(body.text).toMatch(/^That is not a session id/);
      expect(body.text).toContain('Usage: `/athena-session <session-id>`');
      expect(body.text.length).toBeLessThan(600);
    }
  });

  it('refuses a user outside ALLOWED_USER_IDS politely', async () => {
    const url = slack.responseUrl('refused');
    const r = await postCommand(base, { text: known, userId: 'U0MALLORY', responseUrl: url });
    expect(JSON.parse(r.text).text).toMatch(/^Sorry, this command is not available to you/);
    await new Promise((r) => setTimeout(r, 200));
    expect(slack.responses('refused')).toHaveLength(0);
  });

  it('looks an unknown well-formed id up in CloudTrail and answers through respond()', async () => {
    const sid = fakeUuid();
    const now = Date.now();
    aws.addEvents([startSession({ sessionId: sid, eventTime: now - 7_200_000, actor: human('grace') }), call('GetSessionStatus', { actor: executor(sid), eventTime: now - 7_100_000, params: { sessionId: sid } })]);
    const url = slack.responseUrl('live');
    const r = await postCommand(base, { text: sid, responseUrl: url });
    expect(JSON.parse(r.text).text).toMatch(/Looking .* up in CloudTrail/);
    const answer = await respondedTo('live');
    expect(JSON.stringify(answer.body.blocks)).toContain('grace');
    const lookups = aws.requests.filter((q) => q.service === 'cloudtrail' && JSON.stringify(q.body).includes(`AthenaExecutor-${sid}`));
    expect(lookups.length).toBeGreaterThan(0);

    const missing = fakeUuid();
    const url2 = slack.responseUrl('missing');
    await postCommand(base, { text: missing, responseUrl: url2 });
    expect((await respondedTo('missing')).body.text).toBe(`Session ${missing} not found in the store nor in CloudTrail (last 90 days).`);
  });

  it('lists the sessions active now when given no id', async () => {
    const url = slack.responseUrl('active');
    await postCommand(base, { text: '', responseUrl: url });
    const answer = await respondedTo('active');
    const blocks = JSON.stringify(answer.body.blocks);
    expect(blocks).toContain(active);
    expect(blocks).not.toContain(known);
  });

  it('answers a mention in the thread it came from, once even when Slack retries the event', async () => {
    const parent = slack.injectMessage({ channel: 'C0ONCALL', text: 'session a2c1… is burning DPUs', user: 'U0BOB' });
    const mentionTs = `${Math.floor(Date.now() / 1000)}.000777`;
    const body = mentionBody({ text: `<@U0BOT> what is ${known.toUpperCase()} doing?`, channel: 'C0ONCALL', ts: mentionTs, threadTs: parent.ts, user: 'U0BOB' });
    expect((await postEvent(base, body)).status).toBe(200);
    expect((await postEvent(base, body, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' })).status).toBe(200);
    const reply = await until(() => slack.messages('C0ONCALL').find((m) => m.thread_ts === parent.ts && m.bot_id));
    expect(reply.text).toContain(known);
    await new Promise((r) => setTimeout(r, 1500));
    expect(slack.messages('C0ONCALL').filter((m) => m.thread_ts === parent.ts && m.bot_id)).toHaveLength(1);
  });

  it('serves /healthz and Prometheus /metrics', async () => {
    const h = await fetch(`${base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', slack: 'connected' });
    const m = await fetch(`${base}/metrics`);
    const text = await m.text();
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('athena_bot_command_ack_seconds_count');
    expect(text).toContain('athena_bot_slack_posts_total');
  });
});
