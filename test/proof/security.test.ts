/**
 * Proof: security checks (issue "Proof", item 4).
 *
 * The real daemon runs with recognisable secrets through a session with activity, an
 * alert and its follow-up, the daily digest, slash commands (good, bad, public, unknown,
 * badly signed) and a mention, at LOG_LEVEL=debug. Then everything captured — the daemon's
 * standard output and error, every call the Slack fake received, every response_url body,
 * every request the AWS fake received, /healthz and /metrics — is scanned: no secret
 * appears. Source IPs and access-key ids appear in no Slack message by default; with
 * SHOW_CALLER_DETAILS=true they do appear in the session report's timeline. A newly
 * created store is owner-only (file 0600, directory 0700). A bad-config start exits 2
 * without printing the bad value.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, awsEnvFor, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { runCli, startDaemon, type Daemon } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import {
  call,
  EXAMPLE_IP,
  EXAMPLE_KEY_ID,
  executor,
  fakeUuid,
  human,
  importNotebook,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
} from '../support/cloudtrail-records.js';
import { freePort, mentionBody, postCommand, postEvent, signedHeaders, until } from '../support/slack-requests.js';
import { normaliseRecord } from '../../src/records/normalise.js';
import { Store } from '../../src/store/store.js';

const BOT_TOKEN = 'xoxb-SECRET-TOKEN-123';
const SIGNING = 'SIGNINGSECRET0123456789';
const AWS_SECRET = 'AWS-SECRET-XYZ';
const SECRETS = [BOT_TOKEN, SIGNING, AWS_SECRET, 'SECRET-TOKEN-123'];
const MIN = 60_000;
const REGION = 'us-east-1';

let aws: AwsFake;
let slack: SlackFake;
const sid = fakeUuid();
const cid = fakeUuid();
const sid2 = fakeUuid();

beforeAll(async () => {
  aws = await startAwsFake();
  slack = await startSlackFake({ token: BOT_TOKEN, channels: ['C0DIGEST', 'C0ALERTS', 'C0GENERAL'] });
  const T0 = Date.now();
  const y = new Date(T0 - 86_400_000);
  const yNoon = Date.UTC(y.getUTCFullYear(), y.getUTCMonth(), y.getUTCDate(), 12);
  const ys = fakeUuid();
  aws.addEvents([
    importNotebook({ notebookId: fakeUuid(), eventTime: yNoon, actor: human('kim'), name: 'churn-model' }),
    startSession({ sessionId: ys, eventTime: yNoon + MIN, actor: human('kim') }),
    startCalculation({ sessionId: ys, calculationId: fakeUuid(), eventTime: yNoon + 2 * MIN }),
    terminateSession({ sessionId: ys, eventTime: yNoon + 30 * MIN }),
    startSession({ sessionId: sid, eventTime: T0 - 50 * MIN, actor: human('heidi'), workGroup: 'prod-notebooks' }),
    startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 - 45 * MIN }),
    ...Array.from({ length: 20 }, (_, i) => call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 - 40 * MIN + i * 2 * MIN, params: { calculationExecutionId: cid } })),
    startSession({ sessionId: sid2, eventTime: T0 - 5 * MIN, actor: human('ivan') }),
    call('GetSessionEndpoint', { actor: human('ivan'), eventTime: T0 - 4 * MIN, params: { sessionId: sid2 }, errorCode: 'AccessDeniedException' }),
  ]);
  aws.setSession(REGION, athenaSession({ SessionId: sid, WorkGroup: 'prod-notebooks', Status: { State: 'BUSY', StartDateTime: T0 - 50 * MIN } }));
  aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MIN } }));
});
afterAll(async () => {
  await slack.close();
  await aws.close();
});

async function daemonEnv(db: string, extra: Record<string, string> = {}) {
  const port = await freePort();
  return {
    base: `http://127.0.0.1:${port}`,
    env: {
      ...awsEnvFor(aws, REGION),
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      DATABASE_PATH: db,
      POLL_INTERVAL_SECONDS: '1',
      LONG_RUNNING_MINUTES: '30',
      BACKFILL_HOURS: '48',
      ALERT_CHANNEL: 'C0ALERTS',
      DIGEST_CHANNEL: 'C0DIGEST',
      DIGEST_CRON: '* * * * *',
      LOG_LEVEL: 'debug',
      ...extra,
    },
  };
}

/** Everything the outside world saw from the bot, as text. */
function slackSurface(): string {
  return JSON.stringify({ messages: slack.messages(), ephemerals: slack.ephemerals(), responses: slack.responses() });
}

function expectNoSecret(where: string, text: string): void {
  for (const s of SECRETS) expect(text.includes(s), `${s} found in ${where}`).toBe(false);
}

describe('security', () => {
  it('no secret anywhere in what the daemon writes or sends, through alerts, a digest, slash commands and a mention', async () => {
    const dir = tempDir('asb-sec-');
    const db = path.join(dir, 'store.sqlite');
    // A store that has existed since before yesterday's digest was due (an existing
    // deployment), so the digest is owed at start-up rather than at the next cron fire.
    const pre = Store.open(db);
    pre.db.prepare(`UPDATE meta SET value = ? WHERE key = 'created_at'`).run(String(Date.now() - 2 * 86_400_000));
    pre.close();

    const { env, base } = await daemonEnv(db);
    const d: Daemon = startDaemon(env);
    const surfaces: string[] = [];
    try {
      const alert = await until(() => slack.messages('C0ALERTS').find((m) => !m.thread_ts && m.text?.includes(cid)), 30_000);
      const digest = await until(() => slack.messages('C0DIGEST').find((m) => !m.thread_ts && String(m.metadata?.event_payload.key).startsWith('digest:')), 30_000);
      expect(digest.text).toMatch(/^Athena Spark digest for/);

      // Slash commands: a report, the active list, a public report, garbage, help, an unknown id.
      const texts = [sid, '', `${sid2} public`, 'DROP TABLE records', 'help', fakeUuid()];
      const ids: string[] = [];
      for (const [i, text] of texts.entries()) {
        const id = `sec${i}`;
        ids.push(id);
        const r = await postCommand(base, { text, responseUrl: slack.responseUrl(id) }, { secret: SIGNING });
        expect(r.status).toBe(200);
        if (r.text) surfaces.push(r.text);
      }
      // A forged request (wrong secret) is refused, and nothing of it is echoed.
      const forged = await postCommand(base, { text: sid, responseUrl: slack.responseUrl('forged') }, { secret: 'WRONGSECRET0123456789' });
      expect(forged.status).toBe(401);
      surfaces.push(forged.text);
      // A mention in a channel thread.
      const parent = slack.injectMessage({ channel: 'C0GENERAL', text: `<@U0BOT> what is ${sid} doing?`, user: 'U0ALICE' });
      const event = mentionBody({ text: parent.text!, channel: 'C0GENERAL', ts: parent.ts });
      const forgedEvent = await postEvent(base, event); // signed with another secret
      expect(forgedEvent.status).toBe(401);
      surfaces.push(forgedEvent.text);
      const okMention = await fetch(`${base}/slack/events`, { method: 'POST', headers: signedHeaders(event, 'application/json', { secret: SIGNING }), body: event });
      expect(okMention.status).toBe(200);
      await until(() => slack.messages('C0GENERAL').find((m) => m.thread_ts === parent.ts && m.bot_id), 20_000);
      for (const id of [ids[0]!, ids[1]!, ids[2]!, ids[5]!]) await until(() => slack.responses(id)[0], 20_000);
      expect(slack.responses(ids[0]!)[0]!.body.text).toContain(sid);
      expect(slack.responses(ids[2]!)[0]!.body.response_type).toBe('in_channel');

      // The calculation ends: the follow-up lands in the alert's thread.
      aws.updateCalculation(REGION, cid, { Status: { State: 'CANCELED', CompletionDateTime: Date.now() } });
      aws.addEvents([stopCalculation({ calculationId: cid, sessionId: sid, eventTime: Date.now() })]);
      await until(() => slack.messages('C0ALERTS').find((m) => m.thread_ts === alert.ts), 20_000);

      surfaces.push(await (await fetch(`${base}/healthz`)).text());
      surfaces.push(await (await fetch(`${base}/metrics`)).text());
    } finally {
      const exit = await d.stop('SIGTERM');
      expect(exit.code).toBe(0);
    }

    const logs = d.stdout() + d.stderr();
    // The daemon did log at debug level, a lot: the scan is not of an empty capture.
    expect(logs.split('\n').filter((l) => l.includes('"level":20')).length).toBeGreaterThan(5);
    expectNoSecret('daemon stdout/stderr', logs);
    for (const c of slack.calls) {
      expectNoSecret(`Slack ${c.method} body`, c.rawBody);
      expectNoSecret(`Slack ${c.method} parsed body`, JSON.stringify(c.body));
      const { authorization: _auth, ...headers } = c.headers;
      expectNoSecret(`Slack ${c.method} headers`, JSON.stringify(headers));
    }
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage').length).toBeGreaterThanOrEqual(4);
    expectNoSecret('response_url bodies', JSON.stringify(slack.responses()));
    expectNoSecret('Slack messages', slackSurface());
    expectNoSecret('AWS requests', JSON.stringify(aws.requests));
    expectNoSecret('HTTP answers, /healthz and /metrics', surfaces.join('\n'));

    // Caller details are off by default: no source IP, no access-key id, in anything sent to Slack.
    const surface = slackSurface();
    expect(surface).not.toContain(EXAMPLE_IP);
    expect(surface).not.toContain(EXAMPLE_KEY_ID);
    for (const c of slack.calls) {
      expect(c.rawBody).not.toContain(EXAMPLE_IP);
      expect(c.rawBody).not.toContain(EXAMPLE_KEY_ID);
    }
    // …and the records did carry them (so the check above means something).
    const n = normaliseRecord(startSession({ sessionId: sid, eventTime: Date.now() }));
    expect(n.kind === 'event' && n.event.detail).toMatchObject({ sourceIp: EXAMPLE_IP, accessKeyId: EXAMPLE_KEY_ID });
  }, 120_000);

  it('SHOW_CALLER_DETAILS=true puts them in the session report timeline; a new store is created owner-only', async () => {
    const parent = tempDir('asb-sec2-');
    const dataDir = path.join(parent, 'new', 'data');
    const db = path.join(dataDir, 'store.sqlite');
    expect(fs.existsSync(path.join(parent, 'new'))).toBe(false);
    const { env, base } = await daemonEnv(db, { SHOW_CALLER_DETAILS: 'true', ALERT_CHANNEL: '', DIGEST_CHANNEL: '' });
    const d = startDaemon(env);
    try {
      await until(() => fs.existsSync(db), 15_000);
      const resp = slack.responseUrl('details');
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await postCommand(base, { text: sid, responseUrl: resp }, { secret: SIGNING }).catch(() => ({ status: 0 }))).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      const answer = await until(() => slack.responses('details')[0], 30_000);
      const text = JSON.stringify(answer.body);
      expect(text).toContain(EXAMPLE_IP);
      expect(text).toContain(EXAMPLE_KEY_ID);

      // Owner-only from the start: the directories it made, the database and its WAL files.
      const mode = (p: string) => fs.statSync(p).mode & 0o777;
      expect(mode(dataDir)).toBe(0o700);
      expect(mode(path.join(parent, 'new'))).toBe(0o700);
      expect(mode(db)).toBe(0o600);
      for (const suffix of ['-wal', '-shm']) if (fs.existsSync(db + suffix)) expect({ file: suffix, mode: mode(db + suffix) }).toEqual({ file: suffix, mode: 0o600 });
    } finally {
      expect((await d.stop('SIGTERM')).code).toBe(0);
    }
    expectNoSecret('daemon output with caller details on', d.stdout() + d.stderr());
  }, 90_000);

  it('a bad configuration exits 2 and names the variable without printing its value', async () => {
    const db = path.join(tempDir('asb-sec3-'), 'store.sqlite');
    const r = await runCli(['start'], { ...awsEnvFor(aws, REGION), AWS_SECRET_ACCESS_KEY: AWS_SECRET, SLACK_BOT_TOKEN: 'SECRET-not-xoxb', SLACK_SIGNING_SECRET: SIGNING, DATABASE_PATH: db, LOG_LEVEL: 'debug' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SLACK_BOT_TOKEN: must be a bot token starting with xoxb-/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    for (const s of ['SECRET-not-xoxb', 'not-xoxb', SIGNING, AWS_SECRET]) {
      expect(r.stderr).not.toContain(s);
      expect(r.stdout).not.toContain(s);
    }
    // A bad signing secret likewise.
    const r2 = await runCli(['start'], { ...awsEnvFor(aws, REGION), SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: 'short-$ecret!', DATABASE_PATH: db });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^athena-session-bot: SLACK_SIGNING_SECRET: /);
    expect(r2.stderr + r2.stdout).not.toContain('short-$ecret!');
    expect(r2.stderr + r2.stdout).not.toContain(BOT_TOKEN);
  });
});
