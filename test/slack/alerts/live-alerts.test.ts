import { afterEach, describe, expect, it } from 'vitest';
import { startSlackFake, type FakeMessage, type SlackFake } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore, TestClock } from '../../support/harness.js';
import { call, executor, fakeUuid, human, startCalculation, startSession, stopCalculation, type CloudTrailRecord } from '../../support/cloudtrail-records.js';
import { toEvents } from '../../support/events.js';
import { readConfig, type Config } from '../../../src/config/config.js';
import { ALERT_ACTION } from '../../../src/reports/alert-document.js';
import { AlertManager, REMINDER_EVERY_MS } from '../../../src/slack/alerts/alert-manager.js';
import { DeliveryQueue } from '../../../src/slack/delivery/delivery-queue.js';
import { UpdateQueue } from '../../../src/slack/delivery/update-queue.js';
import { createWebClient } from '../../../src/slack/slack-client.js';
import { MessageUpdates } from '../../../src/store/message-updates.js';
import { Outbox } from '../../../src/store/outbox.js';
import type { Store } from '../../../src/store/store.js';
import { HOUR, MINUTE } from '../../../src/util/clock.js';

const TOKEN = 'xoxb-test-token';
const ALERTS = 'C0ALERTS';
const PROD = 'C0PRODUCTION';
const T0 = Date.parse('2026-11-23T12:00:00Z');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Env {
  slack: SlackFake;
  store: Store;
  config: Config;
  clock: TestClock;
  manager: AlertManager;
  cycle(): Promise<{ alerted: number; followUps: number }>;
  insert(records: CloudTrailRecord[]): void;
}

async function setup(extraEnv: Record<string, string> = {}): Promise<Env> {
  const slack = await startSlackFake({ rateLimitPerChannelPerSecond: 0, channels: [ALERTS, PROD] });
  const { store } = tempStore();
  const outbox = new Outbox(store);
  const log = captureLogger('info');
  const config = readConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: slack.apiUrl, ALERT_CHANNEL: ALERTS, LONG_RUNNING_MINUTES: '30', ...extraEnv });
  const clock = new TestClock(T0);
  const web = createWebClient(TOKEN, slack.apiUrl, log.logger);
  const delivery = new DeliveryQueue({ outbox, web, logger: log.logger, channelSpacingMs: 5 });
  const updates = new UpdateQueue({ updates: new MessageUpdates(store), web, logger: log.logger, channelSpacingMs: 5 });
  cleanups.push(
    () => store.close(),
    () => slack.close(),
    () => delivery.close(),
    () => updates.close(),
  );
  const manager = new AlertManager({ store, outbox, delivery, config, clock, logger: log.logger, athenaConfigured: false, updates });
  return {
    slack,
    store,
    config,
    clock,
    manager,
    async cycle() {
      const r = manager.onCycle();
      expect(await delivery.drain(undefined, 10_000)).toBe(true);
      expect(await updates.drain(10_000)).toBe(true);
      return r;
    },
    insert: (records) => store.insertEvents(toEvents(records), clock.now()),
  };
}

/** A session whose calculation has run `minutes`, polled until a minute ago. */
function running(env: Env, o: { minutes?: number; who?: string; workGroup?: string } = {}): { sid: string; cid: string } {
  const sid = fakeUuid();
  const cid = fakeUuid();
  const t = env.clock.now();
  const minutes = o.minutes ?? 45;
  env.insert([
    startSession({ sessionId: sid, eventTime: t - (minutes + 5) * MINUTE, actor: human(o.who ?? 'heidi'), workGroup: o.workGroup ?? 'analytics' }),
    startCalculation({ sessionId: sid, calculationId: cid, eventTime: t - minutes * MINUTE }),
    call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: t - MINUTE, params: { calculationExecutionId: cid } }),
  ]);
  return { sid, cid };
}

/** Keeps a calculation visibly busy (a status poll a minute ago), so its session does not time out idle. */
function poll(env: Env, x: { sid: string; cid: string }): void {
  env.insert([call('GetCalculationExecutionStatus', { actor: executor(x.sid), eventTime: env.clock.now() - MINUTE, params: { calculationExecutionId: x.cid } })]);
}

const keyOf = (m: FakeMessage) => String(m.metadata?.event_payload.key ?? '');
const content = (m: FakeMessage) => `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
const actionIds = (m: FakeMessage) =>
  (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Array<{ action_id: string }> }).elements.map((e) => e.action_id) : []));
const reminders = (env: Env, alert: FakeMessage) => env.slack.messages(alert.channel).filter((m) => m.thread_ts === alert.ts && keyOf(m).startsWith('reminder:'));

describe('live alerts (AlertManager with edits)', () => {
  it('the alert message stays true: it is edited when its calculation is stopped, and then settles', async () => {
    const env = await setup();
    const x = running(env);
    await env.cycle();
    const [alert] = env.slack.messages(ALERTS);
    expect(actionIds(alert!)).toEqual([ALERT_ACTION.acknowledge, ALERT_ACTION.snooze['1h'], ALERT_ACTION.snooze['4h'], ALERT_ACTION.snooze['24h'], ALERT_ACTION.console]);
    // Nothing changed: no edit.
    env.clock.advance(MINUTE);
    poll(env, x);
    await env.cycle();
    expect(env.slack.calls.filter((c) => c.method === 'chat.update')).toHaveLength(0);

    env.clock.advance(MINUTE);
    env.insert([stopCalculation({ calculationId: x.cid, sessionId: x.sid, eventTime: env.clock.now() - 30_000 })]);
    expect(await env.cycle()).toEqual({ alerted: 0, followUps: 1 });
    const edited = env.slack.messages(ALERTS).find((m) => m.ts === alert!.ts)!;
    expect(edited.text).toBe(`Long-running Athena calculation ${x.cid} in session ${x.sid}: stopped at 2026-11-23 12:01 UTC after 46m (StopCalculationExecution)`);
    expect(content(edited)).toContain('Long-running calculation ended after 46m');
    expect(actionIds(edited)).toEqual([ALERT_ACTION.console]);
    expect(env.store.db.prepare('SELECT live FROM alert_posts WHERE post_key = ?').get(`alert:${x.cid}`)).toEqual({ live: 0 });
    env.clock.advance(HOUR);
    await env.cycle();
    expect(env.slack.calls.filter((c) => c.method === 'chat.update')).toHaveLength(1);
  });

  it('an unacknowledged alert is recalled in its thread every hour while its calculation runs; acknowledged, no reminder follows', async () => {
    const env = await setup();
    const a = running(env, { who: 'ana' });
    await env.cycle();
    const b = running(env, { who: 'bo' });
    await env.cycle();
    const [alertA, alertB] = env.slack.messages(ALERTS).filter((m) => !m.thread_ts);
    expect(env.manager.acknowledge(`alert:${b.cid}`, 'U0ONCALL')).toEqual({ kind: 'done' });
    await env.cycle();
    expect(content(env.slack.messages(ALERTS).find((m) => m.ts === alertB!.ts)!)).toContain('Acknowledged by <@U0ONCALL>');

    for (let i = 0; i < 2; i++) {
      env.clock.advance(REMINDER_EVERY_MS);
      poll(env, a);
      poll(env, b);
      await env.cycle();
    }
    const recalled = reminders(env, alertA!);
    expect(recalled.map(keyOf)).toEqual([`reminder:alert:${a.cid}:1`, `reminder:alert:${a.cid}:2`]);
    expect(recalled[0]!.text).toMatch(new RegExp(`^Reminder 1: Calculation ${a.cid} is still running \\(1h 45m\\) and nobody has acknowledged this alert`));
    expect(reminders(env, alertB!)).toEqual([]);
    // Acknowledged late: the reminders stop.
    env.manager.acknowledge(`alert:${a.cid}`, 'U0ONCALL');
    env.clock.advance(2 * REMINDER_EVERY_MS);
    poll(env, a);
    await env.cycle();
    expect(reminders(env, alertA!)).toHaveLength(2);
  });

  it('snoozed: no reminder and no new alert for its session until the snooze ends; then both come back', async () => {
    const env = await setup();
    const x = running(env, { minutes: 45 });
    await env.cycle();
    const [alert] = env.slack.messages(ALERTS);
    expect(env.manager.snooze(`alert:${x.cid}`, 'U0BOB', '4h')).toMatchObject({ kind: 'done', until: T0 + 4 * HOUR });
    // A second calculation in the snoozed session crosses the threshold during the snooze.
    const second = fakeUuid();
    env.insert([startCalculation({ sessionId: x.sid, calculationId: second, eventTime: env.clock.now() })]);
    for (let h = 0; h < 4; h++) {
      env.clock.advance(HOUR - MINUTE);
      poll(env, x);
      env.insert([call('GetCalculationExecutionStatus', { actor: executor(x.sid), eventTime: env.clock.now() - MINUTE, params: { calculationExecutionId: second } })]);
      await env.cycle();
    }
    expect(reminders(env, alert!)).toEqual([]);
    expect(env.slack.messages(ALERTS).filter((m) => !m.thread_ts)).toHaveLength(1);
    env.clock.advance(5 * MINUTE);
    poll(env, x);
    await env.cycle();
    expect(reminders(env, alert!)).toHaveLength(1);
    const top = env.slack.messages(ALERTS).filter((m) => !m.thread_ts);
    expect(top.map(keyOf)).toEqual([`alert:${x.cid}`, `alert:${second}`]);
  });

  it('CHANNEL_ROUTES sends alerts by workgroup: one message per channel when several fire together', async () => {
    const env = await setup({ CHANNEL_ROUTES: `workgroup:prod=${PROD}` });
    const p = running(env, { workGroup: 'prod' });
    const a = running(env, { workGroup: 'adhoc' });
    const b = running(env, { workGroup: 'adhoc', minutes: 50 });
    expect(await env.cycle()).toEqual({ alerted: 3, followUps: 0 });
    expect(env.slack.messages(PROD).map(keyOf)).toEqual([`alert:${p.cid}`]);
    const [group] = env.slack.messages(ALERTS);
    expect(group!.text).toBe('2 long-running Athena calculations (0 confirmed)');
    expect(content(group!)).toContain(a.cid);
    expect(content(group!)).toContain(b.cid);
    // Follow-ups land in the thread of the channel the alert went to.
    env.clock.advance(MINUTE);
    env.insert([stopCalculation({ calculationId: p.cid, sessionId: p.sid, eventTime: env.clock.now() })]);
    await env.cycle();
    expect(env.slack.messages(PROD).filter((m) => m.thread_ts).map(keyOf)).toEqual([`followup:${p.cid}`]);
  });

  it('a grouped alert offers Stop/Terminate per calculation when ACTIONS_ENABLED, and Acknowledge/Snooze for the group', async () => {
    const env = await setup({ ACTIONS_ENABLED: 'true', ACTION_USER_IDS: 'U0ONCALL' });
    const x = running(env);
    const y = running(env, { minutes: 50 });
    await env.cycle();
    // A minute later nothing it shows has changed (the confirm dialogs too): no edit.
    env.clock.advance(MINUTE);
    poll(env, x);
    poll(env, y);
    await env.cycle();
    expect(env.slack.calls.filter((c) => c.method === 'chat.update')).toEqual([]);
    const [group] = env.slack.messages(ALERTS);
    expect(actionIds(group!)).toEqual([
      ALERT_ACTION.stopCalculation,
      ALERT_ACTION.terminateSession,
      ALERT_ACTION.console,
      ALERT_ACTION.stopCalculation,
      ALERT_ACTION.terminateSession,
      ALERT_ACTION.console,
      ALERT_ACTION.acknowledge,
      ALERT_ACTION.snooze['1h'],
      ALERT_ACTION.snooze['4h'],
      ALERT_ACTION.snooze['24h'],
    ]);
  });
});
