/**
 * Many accounts end to end (issue 12): the built CLI and the `start` process with
 * AWS_ROLE_ARNS, assuming each role through the AWS fake's STS with the real SDK credential
 * provider; one account's role is refused.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, awsEnvFor, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { runCli, startDaemon } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { ACCOUNT_ID, call, fakeUuid, startCalculation, startSession, terminateSession, type Actor } from '../support/cloudtrail-records.js';
import { freePort, SIGNING_SECRET, until } from '../support/slack-requests.js';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const EXTERNAL_ID = 'athena-session-bot-7f3a';
const TOKEN = 'xoxb-accounts-token';
const roleOf = (account: string) => `arn:aws:iam::${account}:role/athena-session-bot-reader`;
const person = (sessionName: string, account: string): Actor => ({ kind: 'assumed-role', role: 'DataScientist', sessionName, account });
const executorIn = (sessionId: string, account: string): Actor => ({ kind: 'executor', sessionId, account });
/** The prefix of every session token the fake's STS hands out: never to be printed. */
const SESSION_TOKEN_PREFIX = 'FwoGZXIvYXdzE';

let aws: AwsFake;
let slack: SlackFake;
let dir: string;

beforeAll(async () => {
  aws = await startAwsFake();
  slack = await startSlackFake({ token: TOKEN, channels: ['C0ALERTS'] });
  dir = tempDir('asb-accounts-');
  for (const a of [A, B]) aws.addRole(roleOf(a), { externalId: EXTERNAL_ID, trustedAccounts: [ACCOUNT_ID] });
  // C's role trusts another account only: AssumeRole is AccessDenied.
  aws.addRole(roleOf(C), { externalId: EXTERNAL_ID, trustedAccounts: ['999999999999'] });
});
afterAll(async () => {
  await slack.close();
  await aws.close();
});

const rolesEnv = (db: string) => ({
  ...awsEnvFor(aws),
  AWS_REGIONS: 'us-east-1',
  AWS_ROLE_ARNS: [A, B, C].map(roleOf).join(','),
  AWS_ROLE_EXTERNAL_ID: EXTERNAL_ID,
  DATABASE_PATH: db,
  BACKFILL_HOURS: '3',
});

describe('many accounts (AWS_ROLE_ARNS)', () => {
  it('poll --once polls each account with its role, names them, and exits 1 with one line for the refused account', async () => {
    const now = Date.now();
    const [sa, sb, sc] = [fakeUuid(), fakeUuid(), fakeUuid()];
    aws.addEvents([startSession({ sessionId: sa, eventTime: now - 90 * 60_000, actor: person('alice', A), maxConcurrentDpus: 10 }), terminateSession({ sessionId: sa, eventTime: now - 30 * 60_000, actor: person('alice', A) })]);
    aws.addEvents([startSession({ sessionId: sb, eventTime: now - 80 * 60_000, actor: person('bob', B) }), startCalculation({ sessionId: sb, calculationId: fakeUuid(), eventTime: now - 70 * 60_000, actor: executorIn(sb, B) })]);
    aws.addEvents([startSession({ sessionId: sc, eventTime: now - 60 * 60_000, actor: person('carol', C) })]);
    aws.setSession('us-east-1', athenaSession({ SessionId: sb, Status: { State: 'IDLE', StartDateTime: now - 80 * 60_000 } }), { account: B });
    const db = path.join(dir, 'poll.sqlite');

    const r = await runCli(['poll', '--once'], rolesEnv(db));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${A} us-east-1: backfilled .* 2 new`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${B} us-east-1: backfilled .* 2 new`, 'm'));
    expect(r.stdout).not.toContain(C);
    const plain = r.stderr.split('\n').filter((l) => l.startsWith('athena-session-bot: '));
    expect(plain).toEqual([expect.stringMatching(new RegExp(`^athena-session-bot: account ${C}: not polled \\(us-east-1\\): cannot assume ${roleOf(C)} \\(account ${C}\\): AccessDenied: `))]);
    expect(r.stderr).not.toContain(SESSION_TOKEN_PREFIX);

    // Every answer names its account: the session report, and the digest's per-account totals.
    const session = await runCli(['session', sb, '--json'], rolesEnv(db));
    expect(session.code).toBe(0);
    expect(JSON.parse(session.stdout)).toMatchObject({ sessionId: sb, account: B, owner: 'bob', state: 'IDLE', stateSource: 'athena' });
    const date = new Date(now - 90 * 60_000).toISOString().slice(0, 10);
    const digest = await runCli(['digest', '--date', date, '--json'], rolesEnv(db));
    expect(digest.code).toBe(0);
    const d = JSON.parse(digest.stdout);
    if (new Date(now - 80 * 60_000).toISOString().slice(0, 10) === date) {
      expect(d.byAccount[A]).toMatchObject({ sessionsStarted: 1, dpuHours: 10 });
      expect(d.byAccount[B]).toMatchObject({ sessionsStarted: 1, calculationsStarted: 1 });
    } else {
      // Run just after midnight UTC: the two sessions fall on different days.
      expect(d.byAccount[A]).toMatchObject({ sessionsStarted: 1 });
    }
    expect(d.byAccount[C]).toBeUndefined();

    // A second run reads on from each account's cursor.
    const again = await runCli(['poll', '--once'], rolesEnv(db));
    expect(again.stdout).toMatch(new RegExp(`^${A} us-east-1: read .* 0 new`, 'm'));
  }, 60_000);

  it('start: alerts name the account and are confirmed in it; /healthz shows each account, degraded while one role is refused', async () => {
    const sid = fakeUuid();
    const cid = fakeUuid();
    const now = Date.now();
    aws.addEvents([
      startSession({ sessionId: sid, eventTime: now - 50 * 60_000, actor: person('heidi', B), workGroup: 'prod-notebooks', maxConcurrentDpus: 40 }),
      startCalculation({ sessionId: sid, calculationId: cid, eventTime: now - 45 * 60_000, actor: executorIn(sid, B) }),
      call('GetCalculationExecutionStatus', { actor: executorIn(sid, B), eventTime: now - 30_000, params: { calculationExecutionId: cid } }),
    ]);
    aws.setSession('us-east-1', athenaSession({ SessionId: sid, WorkGroup: 'prod-notebooks', Status: { State: 'BUSY', StartDateTime: now - 50 * 60_000 } }), { account: B });
    aws.setCalculation('us-east-1', athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: now - 45 * 60_000 } }), { account: B });
    const port = await freePort();
    const d = startDaemon({
      ...rolesEnv(path.join(dir, 'start.sqlite')),
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      POLL_INTERVAL_SECONDS: '1',
      ALERT_CHANNEL: 'C0ALERTS',
      LOG_LEVEL: 'info',
    });
    try {
      const alert = await until(() => slack.messages('C0ALERTS').find((m) => !m.thread_ts && m.text?.includes(cid)), 30_000);
      expect(alert.text).not.toContain('unconfirmed');
      expect(JSON.stringify(alert.blocks)).toContain(`${B} / us-east-1`);
      // Confirmed where the session lives: account B, through B's role.
      expect(aws.athenaCalls('ListCalculationExecutions').some((q) => q.account === B && q.body.SessionId === sid)).toBe(true);
      expect(aws.athenaCalls().every((q) => q.account === A || q.account === B)).toBe(true);

      const health = await until(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        const body = (await res.json()) as Record<string, any>;
        return body.status === 'degraded' ? { code: res.status, body } : undefined;
      }, 20_000, 250);
      expect(health.code).toBe(200);
      expect(health.body.accounts[C].assumeRole).toMatchObject({ state: 'failing', lastError: expect.stringContaining('AccessDenied') });
      expect(health.body.accounts[C].regions['us-east-1'].failingSince).not.toBeNull();
      for (const a of [A, B]) {
        expect(health.body.accounts[a].assumeRole.state).toBe('ok');
        expect(health.body.accounts[a].regions['us-east-1'].lastSuccessfulPoll).not.toBeNull();
      }
      // The bot learned its principal in each account it can reach.
      const identities = d
        .stderr()
        .split('\n')
        .filter((l) => l.includes('running as this AWS principal'))
        .map((l) => JSON.parse(l).account)
        .sort();
      expect(identities).toEqual([A, B]);
    } finally {
      const exit = await d.stop('SIGTERM');
      expect(exit.code).toBe(0);
      expect(d.stderr()).not.toContain(SESSION_TOKEN_PREFIX);
      expect(d.stderr()).not.toContain(TOKEN);
      // The refusal is logged once, not every second.
      expect(d.stderr().split('\n').filter((l) => l.includes('cannot assume the role of a watched account'))).toHaveLength(1);
    }
  }, 60_000);
});
