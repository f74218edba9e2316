import { afterEach, describe, expect, it } from 'vitest';
import { startSlackFake, type FakeMessage, type SlackFake } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore, TestClock } from '../../support/harness.js';
import {
  call,
  EXAMPLE_IP,
  EXAMPLE_KEY_ID,
  executor,
  fakeUuid,
  human,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  type CloudTrailRecord,
} from '../../support/cloudtrail-records.js';
import { readConfig, type Config } from '../../../src/config/config.js';
import { AlertManager } from '../../../src/slack/alerts/alert-manager.js';
import { DeliveryQueue, POST_METADATA_TYPE } from '../../../src/slack/delivery/delivery-queue.js';
import { createWebClient } from '../../../src/slack/slack-client.js';
import { Outbox } from '../../../src/store/outbox.js';
import type { EnrichmentRow, Store } from '../../../src/store/store.js';
import { MINUTE } from '../../../src/util/clock.js';
import { toEvents as events } from '../../support/events.js';

const TOKEN = 'xoxb-test-token';
const ALERTS = 'C0ALERTS';
const REGION = 'us-east-1';
const T0 = Date.parse('2026-11-23T12:00:00Z');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});


interface Env {
  slack: SlackFake;
  store: Store;
  outbox: Outbox;
  config: Config;
  clock: TestClock;
  queue: DeliveryQueue;
  log: ReturnType<typeof captureLogger>;
  manager(athenaConfigured?: boolean): AlertManager;
  /** Runs a cycle and waits until everything recorded is delivered. */
  cycle(m: AlertManager): Promise<{ alerted: number; followUps: number }>;
  insert(records: CloudTrailRecord[]): void;
  enrich(calculationId: string, row: Partial<EnrichmentRow> & Pick<EnrichmentRow, 'status'>): void;
}

async function setup(extraEnv: Record<string, string> = {}): Promise<Env> {
  const slack = await startSlackFake({ rateLimitPerChannelPerSecond: 0 });
  const { store } = tempStore();
  const outbox = new Outbox(store);
  const log = captureLogger('info');
  const config = readConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: slack.apiUrl, ALERT_CHANNEL: ALERTS, LONG_RUNNING_MINUTES: '30', ...extraEnv });
  const clock = new TestClock(T0);
  const queue = new DeliveryQueue({ outbox, web: createWebClient(TOKEN, slack.apiUrl, log.logger), logger: log.logger, channelSpacingMs: 10 });
  cleanups.push(
    () => store.close(),
    () => slack.close(),
    () => queue.close(),
  );
  const env: Env = {
    slack,
    store,
    outbox,
    config,
    clock,
    queue,
    log,
    manager: (athenaConfigured = false) => new AlertManager({ store, outbox, delivery: queue, config, clock, logger: log.logger, athenaConfigured }),
    async cycle(m) {
      const r = m.onCycle();
      expect(await queue.drain(undefined, 10_000)).toBe(true);
      return r;
    },
    insert: (records) => store.insertEvents(events(records), clock.now()),
    enrich: (calculationId, row) =>
      store.putEnrichment({ kind: 'calculation', id: calculationId, region: REGION, terminal: false, payload: null, fetchedAt: clock.now(), ...row }),
  };
  return env;
}

/** A session started `minutes + 5` ago whose calculation has run `minutes`, polled every minute until a minute ago. */
function openCalculation(env: Env, minutes = 45, who = 'alias'): { sid: string; cid: string } {
  const sid = fakeUuid();
  const cid = fakeUuid();
  const t = env.clock.now();
  const recs = [
    startSession({ sessionId: sid, eventTime: t - (minutes + 5) * MINUTE, actor: human(who), maxConcurrentDpus: 20 }),
    startCalculation({ sessionId: sid, calculationId: cid, eventTime: t - minutes * MINUTE }),
  ];
  for (let m = minutes - 1; m >= 1; m--) recs.push(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: t - m * MINUTE, params: { calculationExecutionId: cid } }));
  env.insert(recs);
  return { sid, cid };
}

const keyOf = (m: FakeMessage) => m.metadata?.event_payload.key as string | undefined;
const topLevel = (env: Env) => env.slack.messages(ALERTS).filter((m) => m.thread_ts === undefined);
const content = (m: FakeMessage) => `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
const alertRows = (store: Store) =>
  store.db.prepare('SELECT calculation_id, post_key, confirmed, status FROM alerts ORDER BY calculation_id').all() as Array<{
    calculation_id: string;
    post_key: string;
    confirmed: number;
    status: string;
  }>;

function expectNoCallerDetails(env: Env): void {
  const all = JSON.stringify(env.slack.messages());
  expect(all).not.toContain(EXAMPLE_IP);
  expect(all).not.toContain(EXAMPLE_KEY_ID);
}

describe('AlertManager: new alerts', () => {
  it('without Athena: one UNCONFIRMED alert per long-running calculation, never repeated (also after a restart)', async () => {
    const env = await setup();
    const { sid, cid } = openCalculation(env, 45);
    // A short calculation in another session is not alerted.
    const short = openCalculation(env, 10);
    const m = env.manager(false);
    expect(await env.cycle(m)).toEqual({ alerted: 1, followUps: 0 });

    const msgs = env.slack.messages(ALERTS);
    expect(msgs).toHaveLength(1);
    const alert = msgs[0]!;
    expect(alert.thread_ts).toBeUndefined();
    expect(alert.metadata).toEqual({ event_type: POST_METADATA_TYPE, event_payload: { key: `alert:${cid}` } });
    expect(alert.text).toContain(`Long-running Athena calculation ${cid}: running 45m in session ${sid}`);
    expect(alert.text).toContain('unconfirmed');
    expect(content(alert)).toContain('UNCONFIRMED');
    expect(content(alert)).not.toContain(short.cid);
    expect(alertRows(env.store)).toEqual([{ calculation_id: cid, post_key: `alert:${cid}`, confirmed: 0, status: 'open' }]);

    env.clock.advance(MINUTE);
    env.insert([call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: env.clock.now(), params: { calculationExecutionId: cid } })]);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    // A restart: a new manager on the same store.
    expect(await env.cycle(env.manager(false))).toEqual({ alerted: 0, followUps: 0 });
    expect(env.slack.messages(ALERTS)).toHaveLength(1);
    expect(m.watched()).toEqual([{ region: REGION, sessionId: sid }]);
    expectNoCallerDetails(env);
  });

  it('with Athena: waits for its answer, then pages confirmed (RUNNING); terminal states are never paged; denied pages unconfirmed', async () => {
    const env = await setup();
    const running = openCalculation(env, 45, 'runner');
    const done = openCalculation(env, 45, 'finisher');
    const doneNoTime = openCalculation(env, 40, 'finisher2');
    const denied = openCalculation(env, 50, 'denied');
    const failing = openCalculation(env, 35, 'failing');
    const m = env.manager(true);

    // Not asked yet: nothing this cycle.
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    expect(env.outbox.counts()).toEqual({ pending: 0, posted: 0, failed: 0 });

    env.enrich(running.cid, { status: 'ok', payload: { state: 'RUNNING', submittedAt: T0 - 45 * MINUTE } });
    env.enrich(done.cid, { status: 'ok', terminal: true, payload: { state: 'COMPLETED', submittedAt: T0 - 45 * MINUTE, completedAt: T0 - 2 * MINUTE } });
    env.enrich(doneNoTime.cid, { status: 'ok', terminal: true, payload: { state: 'COMPLETED', submittedAt: T0 - 40 * MINUTE } });
    expect(await env.cycle(m)).toEqual({ alerted: 1, followUps: 0 });
    const [confirmed] = env.slack.messages(ALERTS);
    expect(keyOf(confirmed!)).toBe(`alert:${running.cid}`);
    expect(content(confirmed!)).toContain('confirmed RUNNING by Athena');
    expect(content(confirmed!).toLowerCase()).not.toContain('unconfirmed');
    expect(alertRows(env.store).find((r) => r.calculation_id === running.cid)).toMatchObject({ confirmed: 1 });

    env.enrich(denied.cid, { status: 'denied' });
    env.enrich(failing.cid, { status: 'error' });
    expect(await env.cycle(m)).toEqual({ alerted: 2, followUps: 0 });
    const later = env.slack.messages(ALERTS).slice(1);
    expect(later).toHaveLength(1); // found in the same cycle: one grouped message
    expect(content(later[0]!)).toContain(denied.cid);
    expect(content(later[0]!)).toContain(failing.cid);
    expect(content(later[0]!)).toContain('UNCONFIRMED');
    expect(later[0]!.text).toBe('2 long-running Athena calculations (0 confirmed)');

    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    const all = env.slack.messages(ALERTS).map(content).join('\n');
    expect(all).not.toContain(done.cid);
    expect(all).not.toContain(doneNoTime.cid);
    expect(alertRows(env.store).map((r) => r.calculation_id).sort()).toEqual([running.cid, denied.cid, failing.cid].sort());
  });

  it('an Athena answer from before the calculation could be long-running does not confirm it (soak race)', async () => {
    const env = await setup();
    const calc = openCalculation(env, 45, 'stale');
    const m = env.manager(true);
    // A report asked Athena 10 minutes into the run, when it was RUNNING; nobody asked since.
    env.enrich(calc.cid, { status: 'ok', payload: { state: 'RUNNING', submittedAt: T0 - 45 * MINUTE }, fetchedAt: T0 - 35 * MINUTE });
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    // Once the enricher has asked after the threshold, the answer counts.
    env.enrich(calc.cid, { status: 'ok', payload: { state: 'RUNNING', submittedAt: T0 - 45 * MINUTE } });
    expect(await env.cycle(m)).toEqual({ alerted: 1, followUps: 0 });
  });

  it('two long-running calculations found in the same cycle are one grouped message listing both; a later one gets its own', async () => {
    const env = await setup();
    const a = openCalculation(env, 45, 'alice');
    const b = openCalculation(env, 60, 'bob');
    const c = openCalculation(env, 20, 'carol');
    const m = env.manager(false);
    expect(await env.cycle(m)).toEqual({ alerted: 2, followUps: 0 });
    const msgs = env.slack.messages(ALERTS);
    expect(msgs).toHaveLength(1);
    const group = msgs[0]!;
    expect(keyOf(group)).toMatch(/^alert-group:/);
    expect(group.text).toBe('2 long-running Athena calculations (0 confirmed)');
    const body = content(group);
    expect(body).toContain(a.cid);
    expect(body).toContain(b.cid);
    expect(body).not.toContain(c.cid);
    // Longest first.
    expect(body.indexOf(b.cid)).toBeLessThan(body.indexOf(a.cid));
    expect(new Set(alertRows(env.store).map((r) => r.post_key))).toEqual(new Set([keyOf(group)]));

    // Carol's calculation crosses the threshold later: its own alert; the others are not repeated.
    env.clock.advance(11 * MINUTE);
    env.insert(
      [a, b, c].map((x) => call('GetCalculationExecutionStatus', { actor: executor(x.sid), eventTime: env.clock.now() - MINUTE, params: { calculationExecutionId: x.cid } })),
    );
    expect(await env.cycle(m)).toEqual({ alerted: 1, followUps: 0 });
    const after = env.slack.messages(ALERTS);
    expect(after).toHaveLength(2);
    expect(keyOf(after[1]!)).toBe(`alert:${c.cid}`);
    expect(content(after[1]!)).not.toContain(a.cid);
    expectNoCallerDetails(env);
  });
});

describe('AlertManager: follow-ups in the alert thread', () => {
  async function alerted(env: Env, athena = false) {
    const calc = openCalculation(env, 45);
    const m = env.manager(athena);
    if (athena) env.enrich(calc.cid, { status: 'ok', payload: { state: 'RUNNING', submittedAt: T0 - 45 * MINUTE } });
    expect(await env.cycle(m)).toEqual({ alerted: 1, followUps: 0 });
    const alert = topLevel(env)[0]!;
    return { ...calc, m, alert };
  }

  function repliesTo(env: Env, alert: FakeMessage): FakeMessage[] {
    return env.slack.messages(ALERTS).filter((x) => x.thread_ts === alert.ts);
  }

  it('a StopCalculationExecution record: one "stopped" reply in the thread, once; the alert is no longer watched', async () => {
    const env = await setup();
    const { sid, cid, m, alert } = await alerted(env);
    env.clock.advance(3 * MINUTE);
    env.insert([stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 2 * MINUTE })]);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 1 });
    const replies = repliesTo(env, alert);
    expect(replies).toHaveLength(1);
    expect(keyOf(replies[0]!)).toBe(`followup:${cid}`);
    expect(replies[0]!.text).toBe(`${cid}: stopped at 2026-11-23 12:02 UTC after 47m (StopCalculationExecution)`);
    expect(m.watched()).toEqual([]);

    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    expect(await env.cycle(env.manager(false))).toEqual({ alerted: 0, followUps: 0 });
    expect(env.slack.messages(ALERTS)).toHaveLength(2);
    expect(env.store.db.prepare('SELECT status, closed_at FROM alerts WHERE calculation_id = ?').get(cid)).toEqual({ status: 'closed', closed_at: T0 + 3 * MINUTE });
    expectNoCallerDetails(env);
  });

  it('a TerminateSession record: a "session terminated" reply', async () => {
    const env = await setup();
    const { sid, cid, m, alert } = await alerted(env);
    env.clock.advance(3 * MINUTE);
    env.insert([terminateSession({ sessionId: sid, eventTime: T0 + 2 * MINUTE })]);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 1 });
    const replies = repliesTo(env, alert);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain(`${cid}: session terminated at 2026-11-23 12:02 UTC: the calculation ran at most 47m`);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    expect(repliesTo(env, alert)).toHaveLength(1);
    expectNoCallerDetails(env);
  });

  it('Athena says COMPLETED: a "finished … after Xm" reply', async () => {
    const env = await setup();
    const { cid, m, alert } = await alerted(env, true);
    expect(content(alert)).toContain('confirmed RUNNING by Athena');
    env.clock.advance(6 * MINUTE);
    env.enrich(cid, { status: 'ok', terminal: true, payload: { state: 'COMPLETED', submittedAt: T0 - 45 * MINUTE, completedAt: T0 + 5 * MINUTE } });
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 1 });
    const replies = repliesTo(env, alert);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toBe(`${cid}: finished at 2026-11-23 12:05 UTC after 50m (confirmed by Athena)`);
    expect(m.watched()).toEqual([]);
  });

  it('no activity past the idle timeout: a "timed out" reply (inferred)', async () => {
    const env = await setup();
    const { cid, m, alert } = await alerted(env);
    // Last activity was a minute before T0; the session's idle timeout is 20 minutes.
    env.clock.advance(18 * MINUTE);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    env.clock.advance(2 * MINUTE);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 1 });
    const replies = repliesTo(env, alert);
    expect(replies).toHaveLength(1);
    // The session timed out 20 minutes after its last activity (11:59); the calculation ended by then.
    expect(replies[0]!.text).toBe(`${cid}: session timed out idle (inferred, 2026-11-23 12:19 UTC): the calculation ran at most 44m`);
    expect(replies[0]!.text).toContain('timed out');
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 0 });
    expect(repliesTo(env, alert)).toHaveLength(1);
  });

  it('a grouped alert gets one follow-up per calculation, each in the group thread; watched() drops closed alerts', async () => {
    const env = await setup();
    const a = openCalculation(env, 45, 'alice');
    const b = openCalculation(env, 60, 'bob');
    const m = env.manager(false);
    expect(await env.cycle(m)).toEqual({ alerted: 2, followUps: 0 });
    const group = topLevel(env)[0]!;
    expect(m.watched().map((w) => w.sessionId).sort()).toEqual([a.sid, b.sid].sort());

    env.clock.advance(2 * MINUTE);
    env.insert([
      stopCalculation({ calculationId: a.cid, sessionId: a.sid, eventTime: T0 + MINUTE }),
      call('GetCalculationExecutionStatus', { actor: executor(b.sid), eventTime: T0 + MINUTE, params: { calculationExecutionId: b.cid } }),
    ]);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 1 });
    expect(m.watched()).toEqual([{ region: REGION, sessionId: b.sid }]);

    env.clock.advance(2 * MINUTE);
    env.insert([terminateSession({ sessionId: b.sid, eventTime: T0 + 3 * MINUTE })]);
    expect(await env.cycle(m)).toEqual({ alerted: 0, followUps: 1 });
    expect(m.watched()).toEqual([]);

    const replies = env.slack.messages(ALERTS).filter((x) => x.thread_ts !== undefined);
    expect(replies).toHaveLength(2);
    for (const r of replies) expect(r.thread_ts).toBe(group.ts);
    expect(replies.map(keyOf)).toEqual([`followup:${a.cid}`, `followup:${b.cid}`]);
    expect(replies[0]!.text).toContain(`${a.cid}: stopped at`);
    expect(replies[1]!.text).toContain(`${b.cid}: session terminated at`);
    expect(await env.cycle(env.manager(false))).toEqual({ alerted: 0, followUps: 0 });
    expect(env.slack.messages(ALERTS)).toHaveLength(3);
    expectNoCallerDetails(env);
  });

  it('a follow-up recorded while its alert is still unposted waits and lands in the alert thread', async () => {
    const env = await setup();
    const { sid, cid } = openCalculation(env, 45);
    env.slack.setDown(true);
    const m = env.manager(false);
    expect(m.onCycle()).toEqual({ alerted: 1, followUps: 0 });
    env.clock.advance(3 * MINUTE);
    env.insert([stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 2 * MINUTE })]);
    expect(m.onCycle()).toEqual({ alerted: 0, followUps: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(env.outbox.get(`alert:${cid}`)!.status).toBe('pending');
    env.slack.setDown(false);
    expect(await env.queue.drain(undefined, 15_000)).toBe(true);
    const [alert, reply] = env.slack.messages(ALERTS);
    expect(keyOf(alert!)).toBe(`alert:${cid}`);
    expect(keyOf(reply!)).toBe(`followup:${cid}`);
    expect(reply!.thread_ts).toBe(alert!.ts);
    expect(env.slack.messages(ALERTS)).toHaveLength(2);
  });

  it('shows no source IP or access-key id even when the records carry them', async () => {
    const env = await setup();
    const { sid, cid, m } = await alerted(env);
    env.clock.advance(3 * MINUTE);
    env.insert([stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 2 * MINUTE, actor: human('alias') })]);
    await env.cycle(m);
    expect(env.slack.messages(ALERTS)).toHaveLength(2);
    expect(env.store.eventsForSession(sid).some((e) => e.detail.sourceIp === EXAMPLE_IP && e.detail.accessKeyId === EXAMPLE_KEY_ID)).toBe(true);
    expectNoCallerDetails(env);
    expect(env.log.text()).not.toContain(EXAMPLE_KEY_ID);
  });

  it('posts nothing without an alert channel', async () => {
    const env = await setup({ ALERT_CHANNEL: '' });
    openCalculation(env, 45);
    expect(await env.cycle(env.manager(false))).toEqual({ alerted: 0, followUps: 0 });
    expect(env.slack.calls).toEqual([]);
  });
});
