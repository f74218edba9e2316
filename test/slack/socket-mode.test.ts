import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { startSocketFake, type Refusal, type SocketFake } from '../fakes/slack-socket-fake.js';
import { tempDir } from '../support/harness.js';
import { fakeUuid, human, startSession } from '../support/cloudtrail-records.js';
import { commandBody, freePort, mentionBody, until } from '../support/slack-requests.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { createApp, type SlackBot } from '../../src/slack/app.js';
import { Outbox } from '../../src/store/outbox.js';
import { normaliseRecord } from '../../src/records/normalise.js';

const TOKEN = 'xoxb-test-token';
const APP_TOKEN = 'xapp-1-A0APP-1234567890-abcdef0123456789';
const known = fakeUuid();

let slack: SlackFake;
let socket: SocketFake;

interface Running {
  rt: Runtime;
  bot: SlackBot;
  base: string;
}

/** A runtime and a Socket Mode app (not started) on a fresh PORT and database, with `known` in the store. */
async function buildBot(): Promise<Running> {
  const port = await freePort();
  const dir = tempDir('asb-socket-');
  const env: Record<string, string | undefined> = {
    ...process.env,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_SIGNING_SECRET: undefined,
    SLACK_API_URL: socket.apiUrl,
    PORT: String(port),
    DATABASE_PATH: path.join(dir, 'app.sqlite'),
    ALLOWED_USER_IDS: 'U0ALICE,U0BOB',
    AWS_REGIONS: '',
    AWS_REGION: '',
    LOG_LEVEL: 'silent',
  };
  const rt = createRuntime({ clock: { now: () => Date.now() }, env }, { needs: ['slack-http-or-socket'] });
  const now = Date.now();
  const n = normaliseRecord(startSession({ sessionId: known, eventTime: now - 3_600_000, actor: human('alice'), workGroup: 'analytics' }));
  if (n.kind !== 'event') throw new Error('fixture did not normalise');
  rt.store.insertEvents([n.event], now);
  const bot = createApp({ runtime: rt, outbox: new Outbox(rt.store), clock: { now: () => Date.now() } });
  return { rt, bot, base: `http://127.0.0.1:${port}` };
}

async function shutDown(r: Running | undefined): Promise<void> {
  if (!r) return;
  await r.bot.stop();
  r.rt.close();
}

/** The slash command payload Slack puts in a `slash_commands` envelope: the HTTP form's fields. */
const commandPayload = (text: string, responseUrl: string, userId?: string) =>
  Object.fromEntries(new URLSearchParams(commandBody({ text, responseUrl, ...(userId ? { userId } : {}) })));

beforeAll(async () => {
  slack = await startSlackFake({ token: TOKEN, channels: ['C0GENERAL', 'C0ONCALL'] });
  socket = await startSocketFake({ webApiUrl: slack.apiUrl, appToken: APP_TOKEN });
});

afterAll(async () => {
  await socket?.close();
  await slack?.close();
});

describe('Slack app over Socket Mode', () => {
  let r: Running;

  beforeAll(async () => {
    r = await buildBot();
    await r.bot.start();
    await until(() => socket.connections() === 1, 5000);
    await until(() => r.bot.identity(), 5000);
  });

  afterAll(async () => {
    await shutDown(r);
  });

  it('connects through apps.connections.open and serves /healthz and /metrics on PORT', async () => {
    expect(socket.opens()).toBe(1);
    // Bot-token calls reach the Web API fake through the same SLACK_API_URL.
    const authTest = slack.calls.find((c) => c.method === 'auth.test');
    expect(authTest?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(slack.calls.some((c) => c.method === 'apps.connections.open')).toBe(false);

    const h = await fetch(`${r.base}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok', slack: 'connected', socket: 'connected' });
    const m = await fetch(`${r.base}/metrics`);
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toContain('text/plain');
    expect(await m.text()).toContain('athena_bot_command_ack_seconds');
    expect((await fetch(`${r.base}/slack/events`, { method: 'POST' })).status).toBe(404);
  });

  it('acknowledges a slash command for a known session at once and answers through response_url', async () => {
    const url = slack.responseUrl('sm-known');
    const started = performance.now();
    const ack = await socket.sendEnvelope('slash_commands', commandPayload(known, url), true);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(ack).toEqual({});
    const answer = await until(() => slack.responses('sm-known')[0], 5000);
    expect(answer.body.response_type).toBe('ephemeral');
    expect(answer.body.text).toContain(known);
    expect(JSON.stringify(answer.body.blocks)).toContain('alice');
    expect(socket.unmatched()).toEqual([]);
  });

  it('puts an immediate answer in the acknowledgement payload', async () => {
    const url = slack.responseUrl('sm-garbage');
    const ack = await socket.sendEnvelope('slash_commands', commandPayload('two words here', url), true);
    expect(ack.response_type).toBe('ephemeral');
    expect(String(ack.text)).toMatch(/^That is not a session id/);
    const refused = await socket.sendEnvelope('slash_commands', commandPayload(known, slack.responseUrl('sm-refused'), 'U0MALLORY'), true);
    expect(String(refused.text)).toMatch(/^Sorry, this command is not available to you/);
    await new Promise((res) => setTimeout(res, 200));
    expect(slack.responses('sm-garbage')).toHaveLength(0);
    expect(slack.responses('sm-refused')).toHaveLength(0);
  });

  it('acknowledges an app_mention and replies in its thread via chat.postMessage', async () => {
    const parent = slack.injectMessage({ channel: 'C0ONCALL', text: 'what is this session doing?', user: 'U0BOB' });
    const mentionTs = `${Math.floor(Date.now() / 1000)}.000888`;
    const payload = JSON.parse(mentionBody({ text: `<@U0BOT> look at ${known}`, channel: 'C0ONCALL', ts: mentionTs, threadTs: parent.ts, user: 'U0BOB' })) as Record<string, unknown>;
    const started = performance.now();
    const ack = await socket.sendEnvelope('events_api', payload, false);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(ack).toEqual({});
    const reply = await until(() => slack.messages('C0ONCALL').find((msg) => msg.thread_ts === parent.ts && msg.bot_id), 5000);
    expect(reply.text).toContain(known);
    const post = slack.calls.find((c) => c.method === 'chat.postMessage' && c.body.thread_ts === parent.ts);
    expect(post).toMatchObject({ ok: true, body: { channel: 'C0ONCALL' } });
    expect(post?.headers.authorization).toBe(`Bearer ${TOKEN}`);

    // Slack redelivers when an ack is late: the retry is acknowledged and answered no second time.
    await socket.sendEnvelope('events_api', payload, false, { retryAttempt: 1, retryReason: 'timeout' });
    await new Promise((res) => setTimeout(res, 300));
    expect(slack.messages('C0ONCALL').filter((msg) => msg.thread_ts === parent.ts && msg.bot_id)).toHaveLength(1);
  });

  it('closes its connection normally on stop()', async () => {
    const stopping = r;
    r = undefined as unknown as Running;
    await shutDown(stopping);
    await until(() => socket.connections() === 0, 5000);
    // The fake counts a connection gone at the close frame and records its code at the close event, a moment later.
    await until(() => socket.connectionLog().at(-1)?.closeCode !== undefined, 5000);
    expect(socket.connectionLog().at(-1)?.closeCode).toBe(1000);
  });
});

describe('Socket Mode start-up while Slack refuses connections', () => {
  const refusals: Array<[string, Refusal]> = [
    ['ok:false service_unavailable', { error: 'service_unavailable' }],
    ['HTTP 503', { status: 503 }],
  ];

  for (const [name, how] of refusals) {
    it(`keeps serving /healthz and connects once Slack accepts again (${name})`, async () => {
      let r: Running | undefined;
      try {
        expect(socket.connections()).toBe(0);
        socket.setRefusing(true, how);
        const opensBefore = socket.opens();
        r = await buildBot();
        const started = performance.now();
        await expect(r.bot.start()).resolves.toBeUndefined();
        expect(performance.now() - started).toBeLessThan(1000);

        await until(() => socket.opens() > opensBefore, 3000);
        const h = await fetch(`${r.base}/healthz`);
        expect(h.status).toBe(200);
        // CloudTrail polling is what makes the bot healthy; the body says Slack cannot reach it yet.
        expect(((await h.json()) as { socket?: string }).socket).not.toBe('connected');
        expect((await fetch(`${r.base}/metrics`)).status).toBe(200);
        await new Promise((res) => setTimeout(res, 500));
        expect(socket.connections()).toBe(0);

        socket.setRefusing(false);
        await until(() => socket.connections() === 1, 12_000, 50);
        await until(async () => ((await (await fetch(`${r!.base}/healthz`)).json()) as { socket?: string }).socket === 'connected', 5000);
        const ack = await socket.sendEnvelope('slash_commands', commandPayload('', slack.responseUrl(`sm-after-${'status' in how ? how.status : how.error}`)), true);
        expect(ack).toEqual({});
      } finally {
        socket.setRefusing(false);
        await shutDown(r);
        await until(() => socket.connections() === 0, 5000);
      }
    });
  }

  it('/healthz says when the socket is lost and Slack refuses a new one, and when it is back', async () => {
    let r: Running | undefined;
    const socketState = async () => ((await (await fetch(`${r!.base}/healthz`)).json()) as { socket?: string }).socket;
    try {
      r = await buildBot();
      await r.bot.start();
      await until(async () => (await socketState()) === 'connected', 5000);
      socket.setRefusing(true);
      socket.requestDisconnect('refresh_requested');
      await until(() => socket.connections() === 0, 5000);
      await until(async () => ['reconnecting', 'connecting', 'disconnected'].includes((await socketState()) ?? ''), 5000);
      expect((await fetch(`${r.base}/healthz`)).status).toBe(200); // polling still works: not a restart case
      socket.setRefusing(false);
      // The client retries on its own schedule (about 10 s here).
      await until(async () => (await socketState()) === 'connected', 30_000, 50);
      expect(socket.connections()).toBe(1);
    } finally {
      socket.setRefusing(false);
      await shutDown(r);
      await until(() => socket.connections() === 0, 5000);
    }
  }, 60_000);

  it('retries start-up itself when the Socket Mode client gives up (invalid_auth), and connects', async () => {
    let r: Running | undefined;
    try {
      socket.setRefusing(true, { error: 'invalid_auth' });
      const opensBefore = socket.opens();
      r = await buildBot();
      await r.bot.start();
      await until(() => socket.opens() > opensBefore, 3000);
      socket.setRefusing(false);
      // The app's own backoff starts at 2 s.
      await until(() => socket.connections() === 1, 6000, 50);
      expect((await fetch(`${r.base}/healthz`)).status).toBe(200);
    } finally {
      socket.setRefusing(false);
      await shutDown(r);
      await until(() => socket.connections() === 0, 5000);
    }
  });

  const stopWithin = (bot: SlackBot, ms: number) =>
    Promise.race([bot.stop().then(() => true), new Promise<false>((res) => setTimeout(() => res(false), ms))]);

  it('stops promptly while apps.connections.open answers service_unavailable', async () => {
    socket.setRefusing(true);
    const opensBefore = socket.opens();
    const r = await buildBot();
    try {
      await r.bot.start();
      await until(() => socket.opens() > opensBefore, 3000);
      expect(await stopWithin(r.bot, 3000), 'bot.stop() settled within 3 s').toBe(true);
      const opensAtStop = socket.opens();
      const connectionsAtStop = socket.connectionLog().length;
      socket.setRefusing(false);
      await new Promise((res) => setTimeout(res, 1000));
      expect(socket.opens()).toBe(opensAtStop);
      expect(socket.connectionLog()).toHaveLength(connectionsAtStop);
    } finally {
      socket.setRefusing(false);
      r.rt.close();
    }
  });

  it('stops promptly while apps.connections.open answers HTTP 503, and keeps no connection opened after the stop', async () => {
    socket.setRefusing(true, { status: 503 });
    const opensBefore = socket.opens();
    const r = await buildBot();
    try {
      await r.bot.start();
      await until(() => socket.opens() > opensBefore, 3000);
      expect(await stopWithin(r.bot, 3000), 'bot.stop() settled within 3 s').toBe(true);
      const connectionsAtStop = socket.connectionLog().length;
      // The Socket Mode client's Web API client keeps retrying the 503 on its own; when it gets
      // through after the stop, the connection it opens is closed again at once.
      socket.setRefusing(false);
      await until(() => socket.connectionLog().length > connectionsAtStop, 5000, 50);
      await until(() => socket.connections() === 0, 3000);
      expect(socket.connectionLog().at(-1)?.closeCode).toBe(1000);
    } finally {
      socket.setRefusing(false);
      r.rt.close();
    }
  });
});
