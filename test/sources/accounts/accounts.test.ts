/**
 * Many accounts (issue 12): each watched account's role is assumed through STS by the real
 * `fromTemporaryCredentials` provider, and every account × region is polled and asked by the
 * real SDK clients, against the AWS fake (per-account trails and Athena state, STS AssumeRole
 * with trust, external id and expiring credentials).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, startAwsFake, type AwsFake } from '../../fakes/aws-fake.js';
import { captureLogger, tempStore, TestClock, useAwsFakeEnv } from '../../support/harness.js';
import { ACCOUNT_ID, call, fakeUuid, startCalculation, startSession, type Actor } from '../../support/cloudtrail-records.js';
import { createAccounts, type Accounts } from '../../../src/sources/accounts/accounts.js';
import { ROLE_SESSION_NAME } from '../../../src/sources/accounts/role-credentials.js';
import { createAthenaSource } from '../../../src/sources/athena/athena-source.js';
import { Enricher } from '../../../src/sources/athena/enrich.js';
import { createCloudTrailSource } from '../../../src/sources/cloudtrail/lookup-client.js';
import { pollTarget } from '../../../src/sources/cloudtrail/poll.js';
import { learnBotIdentities } from '../../../src/sources/aws-identity.js';
import { PollHealth, pollHealthJson } from '../../../src/schedule/poll-health.js';
import { PollLoop } from '../../../src/schedule/poll-loop.js';
import { foldStoredSession } from '../../../src/reports/stored-session.js';
import type { Store } from '../../../src/store/store.js';
import { HOUR, MINUTE } from '../../../src/util/clock.js';
import { toEvents } from '../../support/events.js';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const EXTERNAL_ID = 'athena-session-bot-7f3a';
const roleOf = (account: string) => `arn:aws:iam::${account}:role/athena-session-bot-reader`;
const person = (sessionName: string, account: string): Actor => ({ kind: 'assumed-role', role: 'DataScientist', sessionName, account });
const executorIn = (sessionId: string, account: string): Actor => ({ kind: 'executor', sessionId, account });
const MODEL = { longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };

let fake: AwsFake;
let restoreEnv: () => void;
let clock: TestClock;
let store: Store;

beforeAll(async () => {
  clock = new TestClock(Date.now());
  fake = await startAwsFake({ now: () => clock.now(), ratePerSecond: Infinity });
  restoreEnv = useAwsFakeEnv(fake, 'us-east-1');
});
afterAll(async () => {
  restoreEnv();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setRatePerSecond(Infinity);
  clock.t = Date.now();
  store = tempStore().store;
});
afterEach(() => store.close());

/** What the runtime wires for AWS_ROLE_ARNS: the accounts, the sources and the enricher, and a poll loop over every target. */
function wire(o: { roleArns: string[]; regions?: string[]; now?: () => number; intervalSeconds?: number }) {
  const log = captureLogger('debug');
  const accounts = createAccounts({ regions: o.regions ?? ['us-east-1'], roleArns: o.roleArns, externalId: EXTERNAL_ID, logger: log.logger, now: o.now });
  const health = new PollHealth(accounts.targets, () => clock.now());
  const source = createCloudTrailSource({ logger: log.logger, ratePerSecond: 1000, attempts: 3, accounts, onAttempt: (t, err) => (err ? health.failure(t, String(err)) : health.success(t)) });
  const athena = createAthenaSource({ logger: log.logger, ratePerSecond: 1000, accounts });
  const enricher = new Enricher({ store, athena, accounts, clock, logger: log.logger, ...MODEL, refreshMs: 60_000 });
  const loop = new PollLoop({
    store,
    source,
    enricher,
    clock,
    logger: log.logger,
    targets: accounts.targets,
    intervalSeconds: o.intervalSeconds ?? 60,
    lookbackMinutes: 20,
    backfillHours: 2,
    retentionDays: 90,
    health,
  });
  return { accounts, source, athena, enricher, loop, health, log };
}

const assumeRoleCalls = (account: string) => fake.stsCalls('AssumeRole').filter((r) => String(r.body.RoleArn).includes(`::${account}:`));

describe('many accounts through AssumeRole', () => {
  it('polls every account × region with its own role and cursor; a refused role is reported once and the others go on', async () => {
    const now = clock.now();
    for (const a of [A, B]) fake.addRole(roleOf(a), { externalId: EXTERNAL_ID, trustedAccounts: [ACCOUNT_ID] });
    // C's trust policy names another account: IAM answers AccessDenied.
    fake.addRole(roleOf(C), { externalId: EXTERNAL_ID, trustedAccounts: ['999999999999'] });
    const [sa, sb, sbEu, sc] = [fakeUuid(), fakeUuid(), fakeUuid(), fakeUuid()];
    fake.addEvents([startSession({ sessionId: sa, eventTime: now - 30 * MINUTE, actor: person('alice', A) })], { visibleAt: 0 });
    fake.addEvents([startSession({ sessionId: sb, eventTime: now - 20 * MINUTE, actor: person('bob', B) })], { visibleAt: 0 });
    fake.addEvents([startSession({ sessionId: sbEu, eventTime: now - 10 * MINUTE, actor: person('bob', B), region: 'eu-west-1' })], { visibleAt: 0 });
    fake.addEvents([startSession({ sessionId: sc, eventTime: now - 10 * MINUTE, actor: person('carol', C) })], { visibleAt: 0 });
    fake.setSession('us-east-1', athenaSession({ SessionId: sa, Status: { State: 'BUSY', StartDateTime: now - 30 * MINUTE } }), { account: A });
    fake.setSession('us-east-1', athenaSession({ SessionId: sb, Status: { State: 'IDLE', StartDateTime: now - 20 * MINUTE } }), { account: B });
    fake.setSession('eu-west-1', athenaSession({ SessionId: sbEu, Status: { State: 'IDLE', StartDateTime: now - 10 * MINUTE } }), { account: B });

    const { loop, log } = wire({ roleArns: [roleOf(A), roleOf(B), roleOf(C)], regions: ['us-east-1', 'eu-west-1'] });
    expect(loop.targets.map((t) => `${t.account}/${t.region}`)).toEqual([A, A, B, B, C, C].map((a, i) => `${a}/${i % 2 ? 'eu-west-1' : 'us-east-1'}`));
    const first = await loop.cycle();

    expect(first.results.map((r) => `${r.account}/${r.region}`).sort()).toEqual([`${A}/eu-west-1`, `${A}/us-east-1`, `${B}/eu-west-1`, `${B}/us-east-1`]);
    expect(first.failures.map((f) => [f.account, f.region, f.assumeRole])).toEqual([
      [C, 'us-east-1', true],
      [C, 'eu-west-1', true],
    ]);
    expect(first.failures[0]!.error).toMatch(new RegExp(`cannot assume ${roleOf(C)} \\(account ${C}\\): AccessDenied`));
    // Each session is known with its account; C's is not (its trail could not be read).
    expect([sa, sb, sbEu].map((s) => store.accountOfSession(s))).toEqual([A, B, B]);
    expect(store.sessionKnown(sc)).toBe(false);
    // Every target has its own cursor; C's stays where it was (none yet).
    for (const a of [A, B]) for (const r of ['us-east-1', 'eu-west-1']) expect(store.getCursor(r, a)?.cursorMs).toBe(now);
    expect(store.getCursor('us-east-1', C)).toBeUndefined();
    expect(store.getCursor('us-east-1')).toBeUndefined();

    // Every AssumeRole carries the external id and the bot's fixed session name; one per account, shared by its regions.
    expect(fake.stsCalls('AssumeRole').every((r) => r.body.ExternalId === EXTERNAL_ID && r.body.RoleSessionName === ROLE_SESSION_NAME)).toBe(true);
    expect([A, B, C].map((a) => assumeRoleCalls(a).length)).toEqual([1, 1, 1]);
    // LookupEvents went to each account as that account's role.
    for (const a of [A, B]) {
      const lookups = fake.requests.filter((r) => r.operation === 'LookupEvents' && r.account === a);
      expect(lookups.length).toBeGreaterThan(0);
      expect(lookups.every((r) => r.principal?.arn === `arn:aws:sts::${a}:assumed-role/athena-session-bot-reader/${ROLE_SESSION_NAME}`)).toBe(true);
    }

    // Athena was asked about each session in the account its records name, with that account's role.
    const asked = fake.athenaCalls('GetSession').map((r) => [r.body.SessionId, r.account, r.region]);
    expect(asked.sort()).toEqual([
      [sa, A, 'us-east-1'],
      [sb, B, 'us-east-1'],
      [sbEu, B, 'eu-west-1'],
    ].sort());
    const views = [sa, sb, sbEu].map((s) => foldStoredSession(store, s, { now: clock.now(), ...MODEL })!);
    expect(views.map((v) => [v.account, v.state, v.stateSource])).toEqual([
      [A, 'BUSY', 'athena'],
      [B, 'IDLE', 'athena'],
      [B, 'IDLE', 'athena'],
    ]);

    // More cycles: the refusal is logged once, not every cycle, and not per region; the others keep polling.
    for (let i = 0; i < 2; i++) {
      clock.advance(MINUTE);
      const r = await loop.cycle();
      expect(r.results).toHaveLength(4);
      expect(r.failures).toHaveLength(2);
    }
    const errors = log.lines().filter((l) => (l.level as number) >= 50);
    expect(errors.map((l) => [l.msg, l.account])).toEqual([['cannot assume the role of a watched account: it is not polled nor asked until it can be; the other accounts go on', C]]);
    // Within REFUSED_RETRY_MS the refusal is not asked again.
    expect(assumeRoleCalls(C)).toHaveLength(1);

    // /healthz: one account failing among three is degraded, not unhealthy.
    clock.advance(4 * MINUTE);
    expect(loop.healthy()).toBe(true);
    expect(loop.failingTargets().map((h) => `${h.target.account}/${h.target.region}`)).toEqual([`${C}/us-east-1`, `${C}/eu-west-1`]);
    expect(pollHealthJson(loop.health, [])).toMatchObject({ regions: {} });
  });

  it("one account's CloudTrail throttled (another tool spends its budget): reported once, the others go on, it catches up", async () => {
    for (const a of [A, B]) fake.addRole(roleOf(a), { externalId: EXTERNAL_ID });
    const now = clock.now();
    const [sa, sb] = [fakeUuid(), fakeUuid()];
    fake.addEvents([startSession({ sessionId: sa, eventTime: now - 10 * MINUTE, actor: person('alice', A) })], { visibleAt: 0 });
    fake.addEvents([startSession({ sessionId: sb, eventTime: now - 10 * MINUTE, actor: person('bob', B) })], { visibleAt: 0 });
    fake.throttleRatio(1, 1, { account: B });
    const { loop, log } = wire({ roleArns: [roleOf(A), roleOf(B)], intervalSeconds: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await loop.cycle();
      expect(r.results.map((x) => x.account)).toEqual([A]);
      expect(r.failures.map((f) => [f.account, f.assumeRole, f.error])).toEqual([[B, false, 'Rate exceeded']]);
      clock.advance(2000);
    }
    expect(store.accountOfSession(sa)).toBe(A);
    expect(store.sessionKnown(sb)).toBe(false);
    // Failing for longer than three intervals: B is reported, the bot is not unhealthy.
    expect(loop.failingTargets().map((h) => h.target.account)).toEqual([B]);
    expect(loop.healthy()).toBe(true);
    // One line for three failed cycles.
    expect(log.lines().filter((l) => (l.level as number) >= 50).map((l) => [l.msg, l.account, l.error])).toEqual([['poll cycle failed; the cursor stays where it was', B, 'Rate exceeded']]);
    // The other tool stops: B catches up from where its cursor stood, and says so once.
    fake.throttleRatio(0, 1, { account: B });
    const r = await loop.cycle();
    expect(r.failures).toEqual([]);
    expect(store.accountOfSession(sb)).toBe(B);
    expect(log.lines().filter((l) => l.msg === 'polling works again').map((l) => [l.account, l.failedCycles])).toEqual([[B, 3]]);
    expect(loop.failingTargets()).toEqual([]);
  }, 30_000);

  it('polls an account again once its role may be assumed, without a restart', async () => {
    fake.addRole(roleOf(A), { externalId: EXTERNAL_ID });
    fake.addRole(roleOf(C), { externalId: 'another-id' });
    const sc = fakeUuid();
    fake.addEvents([startSession({ sessionId: sc, eventTime: clock.now() - 5 * MINUTE, actor: person('carol', C) })], { visibleAt: 0 });
    let skew = 0;
    const { loop, accounts, log } = wire({ roleArns: [roleOf(A), roleOf(C)], now: () => Date.now() + skew });
    expect((await loop.cycle()).failures.map((f) => f.account)).toEqual([C]);
    expect(accounts.status().map((s) => [s.account, s.state])).toEqual([
      [A, 'ok'],
      [C, 'failing'],
    ]);
    // The role's trust is fixed; a minute later (REFUSED_RETRY_MS) the bot asks again.
    fake.addRole(roleOf(C), { externalId: EXTERNAL_ID });
    skew += 61_000;
    clock.advance(MINUTE);
    const again = await loop.cycle();
    expect(again.failures).toEqual([]);
    expect(store.accountOfSession(sc)).toBe(C);
    expect(accounts.status().find((s) => s.account === C)).toMatchObject({ state: 'ok', failingSince: null, lastError: null });
    expect(log.lines().filter((l) => l.account === C && l.roleArn).map((l) => l.msg)).toEqual([
      'cannot assume the role of a watched account: it is not polled nor asked until it can be; the other accounts go on',
      'assumed the role of a watched account again; its regions are polled again',
    ]);
  });

  it('refreshes credentials before they expire: no request is ever refused as expired', async () => {
    // The SDK decides on refresh by the real clock: the fake's runs on real time plus a skew the test moves.
    let skew = 0;
    const realFake = await startAwsFake({ now: () => Date.now() + skew, ratePerSecond: Infinity, credentialLifetimeMs: 5 * MINUTE + 1500 });
    const restore = useAwsFakeEnv(realFake, 'us-east-1');
    try {
      realFake.addRole(roleOf(A), { externalId: EXTERNAL_ID });
      const log = captureLogger('silent');
      const accounts = createAccounts({ regions: ['us-east-1'], roleArns: [roleOf(A)], externalId: EXTERNAL_ID, logger: log.logger });
      const source = createCloudTrailSource({ logger: log.logger, ratePerSecond: 1000, accounts });
      const deps = { store, source, clock: { now: () => Date.now() + skew }, logger: log.logger, lookbackMinutes: 20, backfillHours: 1 };
      const target = { account: A, region: 'us-east-1' };
      await pollTarget(target, deps);
      expect(realFake.stsCalls('AssumeRole')).toHaveLength(1);
      // 1.5 s later the credentials have less than five minutes left: the next call gets new ones first.
      await new Promise((r) => setTimeout(r, 1700));
      // And by the fake's clock the first ones have now expired: using them would be refused.
      skew += 5 * MINUTE + 2000;
      await pollTarget(target, deps);
      expect(realFake.stsCalls('AssumeRole')).toHaveLength(2);
      const lookups = realFake.requests.filter((r) => r.operation === 'LookupEvents');
      expect(lookups.length).toBe(2);
      expect(lookups.map((r) => r.status)).toEqual([200, 200]);
      expect(lookups[0]!.accessKeyId).not.toBe(lookups[1]!.accessKeyId);
      expect(accounts.status()[0]).toMatchObject({ state: 'ok' });
    } finally {
      restore();
      await realFake.close();
    }
  });

  it('a refresh STS fails keeps the credentials in hand while they last, and is tried again a little later', async () => {
    const realFake = await startAwsFake({ now: () => Date.now(), ratePerSecond: Infinity, credentialLifetimeMs: 5 * MINUTE + 1500 });
    const restore = useAwsFakeEnv(realFake, 'us-east-1');
    try {
      realFake.addRole(roleOf(A), { externalId: EXTERNAL_ID });
      const log = captureLogger('debug');
      const accounts = createAccounts({ regions: ['us-east-1'], roleArns: [roleOf(A)], externalId: EXTERNAL_ID, logger: log.logger, refreshRetryMs: 1000 });
      const source = createCloudTrailSource({ logger: log.logger, ratePerSecond: 1000, attempts: 1, accounts });
      const deps = { store, source, clock: { now: () => Date.now() }, logger: log.logger, lookbackMinutes: 20, backfillHours: 1 };
      const target = { account: A, region: 'us-east-1' };
      const lookups = () => realFake.requests.filter((r) => r.operation === 'LookupEvents');
      await pollTarget(target, deps);
      // 1.5 s on, the credentials are due for a refresh, and STS fails it.
      await new Promise((r) => setTimeout(r, 1700));
      realFake.failNext(1, 503, 'sts');
      await pollTarget(target, deps);
      // The poll still went through, with the credentials it had; STS was asked once, not again at every request.
      expect(realFake.stsCalls('AssumeRole').map((r) => r.status)).toEqual([200, 503]);
      expect(lookups().map((r) => [r.status, r.accessKeyId])).toEqual([
        [200, lookups()[0]!.accessKeyId],
        [200, lookups()[0]!.accessKeyId],
      ]);
      expect(accounts.status()[0]).toMatchObject({ state: 'ok', lastError: expect.stringContaining('InternalFailure') });
      expect(log.lines().filter((l) => (l.level as number) >= 40).map((l) => l.msg)).toEqual(["could not refresh a watched account's credentials; the current ones are used until they expire"]);
      // A little later (refreshRetryMs) STS is asked again, and answers.
      await new Promise((r) => setTimeout(r, 1100));
      await pollTarget(target, deps);
      expect(realFake.stsCalls('AssumeRole').map((r) => r.status)).toEqual([200, 503, 200]);
      expect(lookups().map((r) => r.status)).toEqual([200, 200, 200]);
      expect(lookups()[2]!.accessKeyId).not.toBe(lookups()[0]!.accessKeyId);
      expect(accounts.status()[0]).toMatchObject({ state: 'ok', lastError: null });
    } finally {
      restore();
      await realFake.close();
    }
  });

  it('a live look-up searches every account: found in one while another\'s role is refused; "may exist" when found in none', async () => {
    fake.addRole(roleOf(B), { externalId: EXTERNAL_ID });
    fake.addRole(roleOf(C), { externalId: 'wrong' });
    const sid = fakeUuid();
    fake.addEvents([startSession({ sessionId: sid, eventTime: clock.now() - 3 * HOUR, actor: person('bob', B) })], { visibleAt: 0 });
    fake.addEvents([call('GetSessionStatus', { actor: executorIn(sid, B), eventTime: clock.now() - 2 * HOUR, params: { sessionId: sid } })], { visibleAt: 0 });
    fake.setSession('us-east-1', athenaSession({ SessionId: sid, Status: { State: 'TERMINATED', StartDateTime: clock.now() - 3 * HOUR, EndDateTime: clock.now() - HOUR } }), { account: B });
    const { accounts, source, enricher, log } = wire({ roleArns: [roleOf(C), roleOf(B)] });
    const { locateSession } = await import('../../../src/sources/locate-session.js');
    const d = { store, cloudTrail: source, enricher, targets: accounts.targets, clock, logger: log.logger };
    const found = await locateSession(d, sid);
    expect(found).toMatchObject({ known: true, athenaReachable: true, searched: 'cloudtrail' });
    expect(store.accountOfSession(sid)).toBe(B);
    expect(fake.athenaCalls('GetSession').map((r) => r.account)).toEqual([B]);
    const missing = await locateSession(d, fakeUuid());
    expect(missing.known).toBe(false);
    expect(missing.searched).toEqual({ cloudTrailFailed: expect.stringContaining(`cannot assume ${roleOf(C)}`) });
  });

  it('credentials AWS calls expired mid-run (the clocks disagree) are replaced and the call retried', async () => {
    fake.addRole(roleOf(A), { externalId: EXTERNAL_ID });
    const sid = fakeUuid();
    const cid = fakeUuid();
    const { loop } = wire({ roleArns: [roleOf(A)] });
    await loop.cycle();
    // The fake's clock jumps two hours: the hour-long credentials are expired there, not here.
    clock.advance(2 * HOUR);
    fake.addEvents(
      [startSession({ sessionId: sid, eventTime: clock.now() - 40 * MINUTE, actor: person('alice', A) }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: clock.now() - 35 * MINUTE, actor: executorIn(sid, A) })],
      { visibleAt: 0 },
    );
    fake.setSession('us-east-1', athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: clock.now() - 40 * MINUTE } }), { account: A });
    fake.setCalculation('us-east-1', athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: clock.now() - 35 * MINUTE } }), { account: A });
    const r = await loop.cycle();
    expect(r.failures).toEqual([]);
    expect(r.results[0]!.inserted).toBe(2);
    expect(fake.requests.filter((q) => q.errorType === 'ExpiredTokenException').map((q) => q.service)).toEqual(['cloudtrail', 'athena']);
    expect(fake.stsCalls('AssumeRole')).toHaveLength(2);
    // Athena confirmed the long calculation in account A after its credentials were replaced.
    const view = foldStoredSession(store, sid, { now: clock.now(), ...MODEL })!;
    expect(view.calculations[0]).toMatchObject({ state: 'RUNNING', confirmed: true });
  });

  it('each account × region has its own 2 requests/s LookupEvents budget', async () => {
    fake.setRatePerSecond(2);
    for (const a of [A, B]) fake.addRole(roleOf(a), { externalId: EXTERNAL_ID });
    const now = clock.now();
    // Six pages in each account: a busy hour of status polls.
    for (const a of [A, B]) {
      const sid = fakeUuid();
      const recs = [startSession({ sessionId: sid, eventTime: now - 50 * MINUTE, actor: person('p', a) })];
      for (let i = 0; i < 280; i++) recs.push(call('GetSessionStatus', { actor: executorIn(sid, a), eventTime: now - 45 * MINUTE + i * 5000, params: { sessionId: sid } }));
      fake.addEvents(recs, { visibleAt: 0 });
    }
    const log = captureLogger('silent');
    const accounts = createAccounts({ regions: ['us-east-1'], roleArns: [roleOf(A), roleOf(B)], externalId: EXTERNAL_ID, logger: log.logger });
    // The production limiter: 2 per second per account-region.
    const source = createCloudTrailSource({ logger: log.logger, accounts });
    const deps = { store, source, clock, logger: log.logger, lookbackMinutes: 20, backfillHours: 1 };
    const results = await Promise.all([A, B].map((account) => pollTarget({ account, region: 'us-east-1' }, deps)));
    expect(results.map((r) => r.calls)).toEqual([6, 6]);
    expect(results.map((r) => r.inserted)).toEqual([281, 281]);
    expect(fake.requests.filter((r) => r.errorType === 'ThrottlingException')).toEqual([]);
    // Never more than two in any second within an account-region…
    expect(fake.maxRequestsInAnyWindow('us-east-1', 1000, A)).toBeLessThanOrEqual(2);
    expect(fake.maxRequestsInAnyWindow('us-east-1', 1000, B)).toBeLessThanOrEqual(2);
    // …but the accounts do not share one budget: together they sent more than two in some second.
    expect(fake.maxRequestsInAnyWindow('us-east-1', 1000)).toBeGreaterThan(2);
  }, 30_000);

  it("asks no account about another account's session: a session of an account without a role stays unconfirmed, said once", async () => {
    fake.addRole(roleOf(A), { externalId: EXTERNAL_ID });
    const stranger = '444444444444';
    const s1 = fakeUuid();
    const c1 = fakeUuid();
    const now = clock.now();
    // Records of an account the bot has no role for (an organization's trail pushed through SQS, files).
    store.insertEvents(toEvents([startSession({ sessionId: s1, eventTime: now - 50 * MINUTE, actor: person('dave', stranger), idleTimeoutMinutes: 120 }), startCalculation({ sessionId: s1, calculationId: c1, eventTime: now - 45 * MINUTE, actor: executorIn(s1, stranger) })]), now);
    const { enricher, log } = wire({ roleArns: [roleOf(A)] });
    await enricher.enrichOpenWork();
    await enricher.enrichOpenWork();
    expect(fake.athenaCalls()).toEqual([]);
    expect(store.getEnrichment('session', s1)).toMatchObject({ status: 'denied' });
    expect(store.getEnrichment('listing', s1)).toMatchObject({ status: 'denied' });
    expect(log.lines().filter((l) => l.account === stranger).map((l) => l.msg)).toEqual([
      "a session's records name an account the bot has no role for: its sessions stay unconfirmed (add the account's role to AWS_ROLE_ARNS)",
    ]);
    const view = foldStoredSession(store, s1, { now, ...MODEL })!;
    expect(view.calculations[0]).toMatchObject({ confirmed: false, longRunning: true });
  });

  it("confirming a day's sessions goes on past an account whose role is refused", async () => {
    fake.addRole(roleOf(A), { externalId: EXTERNAL_ID });
    fake.addRole(roleOf(C), { externalId: 'wrong' });
    const now = clock.now();
    const inC = [fakeUuid(), fakeUuid(), fakeUuid(), fakeUuid()];
    const sa = fakeUuid();
    store.insertEvents(toEvents([...inC.map((sid) => startSession({ sessionId: sid, eventTime: now - HOUR, actor: person('carol', C) })), startSession({ sessionId: sa, eventTime: now - HOUR, actor: person('alice', A) })]), now);
    fake.setSession('us-east-1', athenaSession({ SessionId: sa, Status: { State: 'TERMINATED', StartDateTime: now - HOUR, EndDateTime: now - 30 * MINUTE } }), { account: A });
    const { enricher } = wire({ roleArns: [roleOf(A), roleOf(C)] });
    const r = await enricher.confirmSessions([...inC, sa].map((sessionId) => ({ sessionId, region: 'us-east-1' })));
    expect(r.reachable).toBe(false);
    // C's four sessions could not be asked; A's, after them, was.
    expect(fake.athenaCalls('GetSession').map((q) => [q.body.SessionId, q.account])).toEqual([[sa, A]]);
    expect(foldStoredSession(store, sa, { now, ...MODEL })).toMatchObject({ state: 'TERMINATED', stateSource: 'athena' });
  });

  it("learns the bot's principal in every account with each role's credentials, so each trail sets its calls apart", async () => {
    for (const a of [A, B]) fake.addRole(roleOf(a), { externalId: EXTERNAL_ID });
    fake.addRole(roleOf(C), { externalId: 'wrong' });
    const { accounts, log } = wire({ roleArns: [roleOf(A), roleOf(B), roleOf(C)] });
    const learned = await learnBotIdentities({ store, logger: log.logger, accounts, region: 'us-east-1' });
    const botArn = (a: string) => `arn:aws:sts::${a}:assumed-role/athena-session-bot-reader/${ROLE_SESSION_NAME}`;
    expect(learned.map((l) => l.arn)).toEqual([botArn(A), botArn(B)]);
    expect(store.callerRules().botPrincipals).toEqual([botArn(A), botArn(B)]);
    expect(fake.stsCalls('GetCallerIdentity').map((r) => r.account)).toEqual([A, B]);
    // C's refusal is one error line (the accounts'), no second warning from the identity look-up.
    expect(log.lines().filter((l) => (l.level as number) >= 40).map((l) => l.account)).toEqual([C]);
    // A read by the bot's role in B without the bot's user agent (another process of the bot) is set apart.
    const sid = fakeUuid();
    const read = call('GetSession', { actor: { kind: 'assumed-role', role: 'athena-session-bot-reader', sessionName: ROLE_SESSION_NAME, account: B }, eventTime: clock.now(), params: { sessionId: sid } });
    store.insertEvents(toEvents([read]), clock.now());
    expect(store.setApartSummary(0).map((r) => [r.reason, r.eventName])).toEqual([['bot', 'GetSession']]);
  });

  it('without AWS_ROLE_ARNS nothing changes: the default credentials, one target per region, cursors keyed as before', async () => {
    const log = captureLogger('silent');
    const accounts: Accounts = createAccounts({ regions: ['us-east-1', 'eu-west-1'], roleArns: [], logger: log.logger });
    expect(accounts.mode).toBe('default');
    expect(accounts.targets).toEqual([
      { account: '', region: 'us-east-1' },
      { account: '', region: 'eu-west-1' },
    ]);
    expect(accounts.credentials('')).toBeUndefined();
    // Until STS says which account the default credentials are, every session is asked with them.
    expect(accounts.targetOf('999999999999', 'us-east-1')).toEqual({ account: '', region: 'us-east-1' });
    await learnBotIdentities({ store, logger: log.logger, accounts, region: 'us-east-1' });
    expect(accounts.defaultAccountId).toBe(ACCOUNT_ID);
    expect(accounts.targetOf(ACCOUNT_ID, 'eu-west-1')).toEqual({ account: '', region: 'eu-west-1' });
    expect(accounts.targetOf(null, 'eu-west-1')).toEqual({ account: '', region: 'eu-west-1' });
    // Another account's session (records ingested from an organization's trail) is not this account's to answer.
    expect(accounts.targetOf('999999999999', 'us-east-1')).toBeUndefined();
    const sid = fakeUuid();
    fake.addEvents([startSession({ sessionId: sid, eventTime: clock.now() - MINUTE })], { visibleAt: 0 });
    const source = createCloudTrailSource({ logger: log.logger, ratePerSecond: 1000, accounts });
    await pollTarget(accounts.targets[0]!, { store, source, clock, logger: log.logger, lookbackMinutes: 20, backfillHours: 1 });
    expect(store.getCursor('us-east-1')?.cursorMs).toBe(clock.now());
    expect(fake.stsCalls('AssumeRole')).toEqual([]);
    expect(fake.requests.filter((r) => r.operation === 'LookupEvents').every((r) => r.accessKeyId === 'AKIDFAKE')).toBe(true);
  });
});
