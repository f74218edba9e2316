import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../../fakes/slack-fake.js';
import { ALERTS, REGION, startOnCallBot, type OnCallBot } from '../../support/oncall-bot.js';
import { until } from '../../support/slack-requests.js';
import { ALERT_ACTION, encodeActionValue } from '../../../src/reports/alert-document.js';
import { fakeUuid } from '../../support/cloudtrail-records.js';

const ONCALL = 'U0ONCALL';

let o: OnCallBot;
beforeAll(async () => {
  o = await startOnCallBot({ ACTIONS_ENABLED: 'true', ACTION_USER_IDS: ONCALL, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
}, 60_000);
afterAll(async () => {
  await o?.close();
});

interface Button {
  action_id: string;
  text: { text: string };
  value?: string;
  url?: string;
  style?: string;
  confirm?: { title: { text: string }; text: { text: string }; confirm: { text: string }; deny: { text: string }; style?: string };
}
const buttons = (m: FakeMessage): Button[] => (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? ((b as { elements: Button[] }).elements ?? []) : []));
const button = (m: FakeMessage, actionId: string) => buttons(m).find((b) => b.action_id === actionId);
const content = (m: FakeMessage) => `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
const thread = (m: FakeMessage) => o.slack.messages(m.channel).filter((x) => x.thread_ts === m.ts);
const stops = (cid: string) => o.aws.athenaCalls('StopCalculationExecution').filter((r) => r.body.CalculationExecutionId === cid);
const audit = (target: string) =>
  o.rt.store.db.prepare('SELECT action, user_id AS user, status, outcome FROM slack_actions WHERE target = ? ORDER BY id').all(target) as Array<{ action: string; user: string; status: string; outcome: string | null }>;

describe('live alerts: buttons on the real Bolt app, over signed HTTP', () => {
  it('an alert carries Acknowledge, Snooze 1/4/24 h, the console and Spark UI links, and red Stop/Terminate buttons that ask first', async () => {
    const { sid, cid, alert } = await o.alertFor();
    expect(content(alert)).toContain('confirmed RUNNING by Athena');
    expect(button(alert, ALERT_ACTION.acknowledge)).toMatchObject({ text: { text: 'Acknowledge' }, style: 'primary', value: `alert:${cid}` });
    for (const h of ['1h', '4h', '24h'] as const) expect(button(alert, ALERT_ACTION.snooze[h])?.value).toBe(`alert:${cid}`);
    expect(button(alert, ALERT_ACTION.console)?.url).toBe(`https://${REGION}.console.aws.amazon.com/athena/home?region=${REGION}#/workgroups/details/prod-notebooks/sessions/details/${sid}`);
    expect(button(alert, ALERT_ACTION.sparkUi)?.url).toMatch(new RegExp(`^https://${sid}\\.spark-ui\\.athena\\.${REGION}\\.amazonaws\\.com/`));
    const stop = button(alert, ALERT_ACTION.stopCalculation)!;
    expect(stop).toMatchObject({ style: 'danger', value: encodeActionValue({ sessionId: sid, calculationId: cid }) });
    expect(stop.confirm).toMatchObject({ title: { text: 'Stop this calculation?' }, confirm: { text: 'Stop it' }, deny: { text: 'Cancel' }, style: 'danger' });
    const terminate = button(alert, ALERT_ACTION.terminateSession)!;
    expect(terminate).toMatchObject({ style: 'danger', value: encodeActionValue({ sessionId: sid }) });
    expect(terminate.confirm?.title.text).toBe('Terminate this session?');
  });

  it('Acknowledge: answered 200 at once; the message names who and loses the button; a second press says who already did', async () => {
    const { cid, alert } = await o.alertFor();
    const r = await o.press({ actionId: ALERT_ACTION.acknowledge, value: `alert:${cid}`, userId: 'U0ALICE', message: alert });
    expect(r.status).toBe(200);
    const edited = await until(() => (content(o.current(alert)).includes('Acknowledged by <@U0ALICE>') ? o.current(alert) : undefined));
    expect(edited.edited).toBeDefined();
    expect(button(edited, ALERT_ACTION.acknowledge)).toBeUndefined();
    expect(button(edited, ALERT_ACTION.snooze['1h'])).toBeDefined();
    expect(o.slack.responses(r.responseId)).toEqual([]);

    const again = await o.press({ actionId: ALERT_ACTION.acknowledge, value: `alert:${cid}`, userId: 'U0BOB', message: alert });
    expect(again.status).toBe(200);
    expect(await o.told(again.responseId)).toMatch(/^Already acknowledged by <@U0ALICE> at /);
    expect(audit(`alert:${cid}`)).toEqual([{ action: 'acknowledge', user: 'U0ALICE', status: 'done', outcome: null }]);
    expect(o.rt.store.db.prepare('SELECT acked_by FROM alert_posts WHERE post_key = ?').get(`alert:${cid}`)).toEqual({ acked_by: 'U0ALICE' });
  });

  it('Snooze 4 h: the message says until when; no new alert for that session until then', async () => {
    const { sid, cid, alert } = await o.alertFor();
    const r = await o.press({ actionId: ALERT_ACTION.snooze['4h'], value: `alert:${cid}`, userId: 'U0BOB', message: alert });
    expect(r.status).toBe(200);
    expect(await o.told(r.responseId)).toMatch(/^Snoozed until .*: no new alert or reminder for its sessions until then\.$/);
    await until(() => content(o.current(alert)).includes('Snoozed by <@U0BOB> until'));
    const until4h = (o.rt.store.db.prepare('SELECT until FROM session_snoozes WHERE session_id = ?').get(sid) as { until: number }).until;
    expect(until4h - Date.now()).toBeGreaterThan(3.9 * 3_600_000);

    // Another calculation of the same session crosses the threshold: not alerted while snoozed.
    const other = fakeUuid();
    const now = Date.now();
    o.aws.setCalculation(REGION, { CalculationExecutionId: other, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: now - 40 * 60_000 }, Statistics: { DpuExecutionInMillis: 0 } });
    o.aws.addEvents([(await import('../../support/cloudtrail-records.js')).startCalculation({ sessionId: sid, calculationId: other, eventTime: now - 40 * 60_000 })]);
    await o.cycle();
    await o.cycle();
    expect(o.slack.messages(ALERTS).filter((m) => content(m).includes(other))).toEqual([]);
    // A double press of the same snooze changes nothing.
    const twice = await o.press({ actionId: ALERT_ACTION.snooze['4h'], value: `alert:${cid}`, userId: 'U0CAROL', message: alert });
    expect(await o.told(twice.responseId)).toMatch(/^Already snoozed until .* by <@U0BOB>\.$/);
  });

  it('Stop by someone outside ACTION_USER_IDS: an ephemeral refusal, and no call reaches Athena', async () => {
    const { cid, alert } = await o.alertFor();
    const stop = button(alert, ALERT_ACTION.stopCalculation)!;
    const r = await o.press({ actionId: ALERT_ACTION.stopCalculation, value: stop.value!, userId: 'U0ALICE', message: alert });
    expect(r.status).toBe(200);
    expect(await o.told(r.responseId)).toBe('Only the people in ACTION_USER_IDS may stop calculations or terminate sessions from Slack; nothing was done.');
    expect(stops(cid)).toEqual([]);
    expect(o.aws.getCalculation(REGION, cid)!.Status.State).toBe('RUNNING');
    expect(audit(cid)).toEqual([{ action: 'stop-calculation', user: 'U0ALICE', status: 'forbidden', outcome: 'not in ACTION_USER_IDS' }]);
    expect(thread(alert)).toEqual([]);
  });

  it('Stop by on-call: Athena cancels it; the thread says who, what and how it went; a double press makes no second call; the follow-up and the last edit show it stopped', async () => {
    const { sid, cid, alert } = await o.alertFor();
    const value = button(alert, ALERT_ACTION.stopCalculation)!.value!;
    const [first, second] = await Promise.all([
      o.press({ actionId: ALERT_ACTION.stopCalculation, value, userId: ONCALL, message: alert }),
      o.press({ actionId: ALERT_ACTION.stopCalculation, value, userId: ONCALL, message: alert }),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const reply = await until(() => thread(alert).find((m) => m.metadata?.event_payload.key?.toString().startsWith('action:')));
    expect(reply.text).toBe(`Stop calculation ${cid}: Athena is stopping it (CANCELING)`);
    expect(content(reply)).toContain(`<@${ONCALL}> asked to stop calculation ${cid} at `);
    // One of the presses asked Athena; the other was told it is under way or done — no error.
    const told = await Promise.all([first, second].map((p) => until(() => o.slack.responses(p.responseId)[0], 3000).then((x) => String(x.body.text), () => undefined)));
    expect(told.filter(Boolean)).toHaveLength(1);
    expect(told.find(Boolean)).toMatch(new RegExp(`^Already asked by <@${ONCALL}> at `));
    expect(stops(cid)).toHaveLength(1);
    expect(audit(cid)).toEqual([{ action: 'stop-calculation', user: ONCALL, status: 'done', outcome: 'Athena is stopping it (CANCELING)' }]);
    expect(['CANCELING', 'CANCELED']).toContain(o.aws.getCalculation(REGION, cid)!.Status.State);

    // The bot's call is in the trail, with its own user agent, and (a change, not a read) is the session's history.
    const logged = o.aws.callRecords({ eventName: 'StopCalculationExecution' }).filter((r) => (r.requestParameters as { calculationExecutionId?: string })?.calculationExecutionId === cid);
    expect(logged).toHaveLength(1);
    expect(String(logged[0]!.userAgent)).toMatch(/athena-session-bot\//);
    // Athena finishes cancelling on its own clock; the next cycles bring the follow-up and the final edit.
    await new Promise((r) => setTimeout(r, 2100));
    await o.cycle();
    await o.cycle();
    expect(o.rt.store.db.prepare(`SELECT count(*) AS n FROM records WHERE event_name = 'StopCalculationExecution' AND calculation_id = ?`).get(cid)).toEqual({ n: 1 });
    const followUp = await until(() => thread(alert).find((m) => m.metadata?.event_payload.key === `followup:${cid}`));
    expect(followUp.text).toMatch(new RegExp(`^${cid}: stopped at .* \\(CANCELED, confirmed by Athena\\)$`));
    const last = o.current(alert);
    expect(last.text).toContain(`Long-running Athena calculation ${cid} in session ${sid}: stopped at`);
    expect(buttons(last).map((b) => b.action_id).sort()).toEqual([ALERT_ACTION.console, ALERT_ACTION.sparkUi].sort());
    expect(content(last)).toContain(`asked to stop calculation ${cid}`);

    // Pressed again on the stale message later: still no second call, and no error.
    const late = await o.press({ actionId: ALERT_ACTION.stopCalculation, value, userId: ONCALL, message: alert });
    expect(await o.told(late.responseId)).toMatch(/^Already asked by/);
    expect(stops(cid)).toHaveLength(1);
    expect(thread(alert).filter((m) => String(m.metadata?.event_payload.key).startsWith('action:'))).toHaveLength(1);
  });

  it('a press on a calculation that has already ended makes no call and shows no error', async () => {
    const { cid, alert } = await o.alertFor();
    o.aws.updateCalculation(REGION, cid, { Status: { State: 'COMPLETED', CompletionDateTime: Date.now() } });
    await new Promise((r) => setTimeout(r, 1100));
    await o.cycle();
    const r = await o.press({ actionId: ALERT_ACTION.stopCalculation, value: button(alert, ALERT_ACTION.stopCalculation)!.value!, userId: ONCALL, message: alert });
    expect(await o.told(r.responseId)).toBe('Nothing to do: the calculation had already ended (COMPLETED).');
    expect(stops(cid)).toEqual([]);
    expect(audit(cid).map((a) => a.status)).toEqual(['noop']);
  });

  it('Athena refusing Terminate is explained in one line naming the permission, in the thread and to the presser', async () => {
    const { sid, alert } = await o.alertFor();
    o.aws.denyAthena({ operations: ['TerminateSession'] });
    try {
      const r = await o.press({ actionId: ALERT_ACTION.terminateSession, value: button(alert, ALERT_ACTION.terminateSession)!.value!, userId: ONCALL, message: alert });
      const line = 'Athena refused: the bot is not allowed athena:TerminateSession here (grant it on the workgroup to use the Terminate session button)';
      expect(await o.told(r.responseId)).toBe(line);
      const reply = await until(() => thread(alert).find((m) => String(m.metadata?.event_payload.key).startsWith('action:')));
      expect(reply.text).toBe(`Terminate session ${sid}: ${line}`);
      expect(audit(sid)).toEqual([{ action: 'terminate-session', user: ONCALL, status: 'denied', outcome: line }]);
      expect(o.aws.getSession(REGION, sid)!.Status.State).toBe('BUSY');
      // The refusal is operator advice on /healthz too.
      const health = (await (await fetch(`${o.base}/healthz`)).json()) as { athena: { advice: string[] } };
      expect(health.athena.advice.join('\n')).toContain('grant athena:TerminateSession');
    } finally {
      o.aws.denyAthena(false);
    }
    // Granted later, a new press works (a refusal does not count as done).
    const again = await o.press({ actionId: ALERT_ACTION.terminateSession, value: button(alert, ALERT_ACTION.terminateSession)!.value!, userId: ONCALL, message: alert });
    expect(again.status).toBe(200);
    await until(() => o.aws.getSession(REGION, sid)!.Status.State === 'TERMINATING');
  });

  it('bad input: unsigned or stale payloads get 401; unknown ids, tampered values and strange messages get a short ephemeral line', async () => {
    const { cid, sid, alert } = await o.alertFor();
    const stopValue = button(alert, ALERT_ACTION.stopCalculation)!.value!;
    expect((await o.press({ actionId: ALERT_ACTION.stopCalculation, value: stopValue, userId: ONCALL, message: alert, sign: { unsigned: true } })).status).toBe(401);
    expect((await o.press({ actionId: ALERT_ACTION.stopCalculation, value: stopValue, userId: ONCALL, message: alert, sign: { timestamp: Math.floor(Date.now() / 1000) - 600 } })).status).toBe(401);
    expect((await o.press({ actionId: ALERT_ACTION.stopCalculation, value: stopValue, userId: ONCALL, message: alert, sign: { secret: 'not-the-signing-secret-000' } })).status).toBe(401);

    const cases: Array<[string, string, FakeMessage, RegExp]> = [
      ['alert_self_destruct', 'x', alert, /^That button is not one this bot knows/],
      [ALERT_ACTION.stopCalculation, '{not json', alert, /^That button does not match this alert message/],
      [ALERT_ACTION.stopCalculation, encodeActionValue({ sessionId: fakeUuid(), calculationId: cid }), alert, /^That button does not match/],
      [ALERT_ACTION.stopCalculation, encodeActionValue({ sessionId: sid, calculationId: fakeUuid() }), alert, /^That button does not match/],
      [ALERT_ACTION.terminateSession, JSON.stringify({ s: '../../etc/passwd' }), alert, /^That button does not match/],
      [ALERT_ACTION.acknowledge, 'alert:someone-else', alert, /^That button does not match/],
      [ALERT_ACTION.acknowledge, `alert:${cid}`, { ...alert, ts: '1700000000.000001' }, /^This bot does not know that alert message/],
    ];
    for (const [actionId, value, message, answer] of cases) {
      const r = await o.press({ actionId, value, userId: ONCALL, message, ...(message === alert ? {} : {}) });
      expect(r.status).toBe(200);
      expect(await o.told(r.responseId)).toMatch(answer);
    }
    expect(stops(cid)).toEqual([]);
    expect(o.aws.athenaCalls('TerminateSession').filter((c) => c.body.SessionId === sid)).toEqual([]);
    // Link buttons are acknowledged and say nothing.
    const link = await o.press({ actionId: ALERT_ACTION.console, value: '', userId: 'U0ALICE', message: alert });
    expect(link.status).toBe(200);
    // The bot is still up and answering.
    expect((await fetch(`${o.base}/healthz`)).status).toBe(200);
  });
});
