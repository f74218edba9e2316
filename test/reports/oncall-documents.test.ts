import { describe, expect, it } from 'vitest';
import { fakeUuid, human, startCalculation, startSession, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { toEvents } from '../support/events.js';
import { foldSession } from '../../src/model/session.js';
import { noEnrichment, type SessionView } from '../../src/model/types.js';
import { ALERT_ACTION, alertDocument, type AlertLiveState } from '../../src/reports/alert-document.js';
import { liveAsOf, notebookFeedDocument, sessionFeedDocument } from '../../src/reports/feed-document.js';
import { homeDocument } from '../../src/reports/home-document.js';
import { renderBlockKit } from '../../src/reports/render/block-kit.js';
import { renderText } from '../../src/reports/render/text.js';

const T0 = Date.parse('2026-11-23T12:00:00Z');
const MINUTE = 60_000;
const opts = (now: number) => ({ now, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 });

function view(records: CloudTrailRecord[], sid: string, now: number): SessionView {
  return foldSession(sid, toEvents(records), noEnrichment, opts(now))!;
}

describe('the live feed’s session message', () => {
  const sid = fakeUuid();
  const start = startSession({ sessionId: sid, eventTime: T0, actor: human('alice'), workGroup: 'analytics', maxConcurrentDpus: 20, idleTimeoutMinutes: 120 });
  const display = (now: number) => ({ timezone: 'UTC', showCallerDetails: false, now, dpuHourPriceUsd: 0.35 });
  const render = (records: CloudTrailRecord[], now: number) =>
    renderBlockKit(sessionFeedDocument({ view: view(records, sid, now), notebookNames: {}, athenaReachable: true, sparkUiUrl: null, consoleUrl: null }, display(now)));

  it('shows what runs in five-minute steps: the same minute to minute, new when a step passes', () => {
    expect(liveAsOf(T0 + 7 * MINUTE + 30_000, T0)).toBe(T0 + 5 * MINUTE);
    expect(liveAsOf(T0 + 2 * MINUTE, T0)).toBe(T0);
    const a = render([start], T0 + 11 * MINUTE);
    const b = render([start], T0 + 14 * MINUTE + 59_000);
    const c = render([start], T0 + 15 * MINUTE);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(JSON.stringify(a)).toContain('10m so far');
    expect(JSON.stringify(a)).toContain('at most 3.33 so far (upper bound: max DPUs × duration) ≈ $1.17');
    expect(JSON.stringify(c)).toContain('15m so far');
  });

  it('once ended, shows the end, the exact run time and DPU-hours', () => {
    const m = render([start, terminateSession({ sessionId: sid, eventTime: T0 + 47 * MINUTE })], T0 + 50 * MINUTE);
    expect(m.text).toBe(`Athena session ${sid} by alice ended: TERMINATED (TerminateSession record), ran 47m`);
    expect(JSON.stringify(m.blocks)).toContain('Athena session ended: alice in analytics');
  });
});

describe('notebook lines', () => {
  it('one line for one event; a grouped list with counts by kind for many', () => {
    const e = (eventName: string, i: number) => ({ eventName, principal: 'kim', principalType: 'AssumedRole', notebookId: `nb-${i}`, notebookName: `name-${i}`, workgroup: 'prod', account: '123456789012', region: 'us-east-1', at: T0 + i * MINUTE });
    expect(notebookFeedDocument([e('ImportNotebook', 1)], { timezone: 'UTC' }).summary).toBe('kim imported notebook name-1 (nb-1) in prod (123456789012 / us-east-1) at 2026-11-23 12:01 UTC');
    const many = Array.from({ length: 12 }, (_, i) => e(i % 3 === 0 ? 'DeleteNotebook' : 'CreateNotebook', i));
    const doc = notebookFeedDocument(many, { timezone: 'UTC' });
    expect(doc.summary).toBe('12 notebook events: 4 deleted, 8 created');
    expect(renderBlockKit(doc).blocks).toHaveLength(2);
  });
});

describe('the live alert', () => {
  const sid = fakeUuid();
  const cid = fakeUuid();
  const records = [
    startSession({ sessionId: sid, eventTime: T0 - 50 * MINUTE, actor: human('<!channel>'), workGroup: 'prod', idleTimeoutMinutes: 600 }),
    startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 - 45 * MINUTE }),
  ];
  const v = view(records, sid, T0);
  const item = { session: v, calculation: v.calculations[0]!, confirmed: true, consoleUrl: 'https://console.example/s', sparkUiUrl: null };
  const live = (o: Partial<AlertLiveState> = {}): AlertLiveState => ({ postKey: `alert:${cid}`, actions: [], actionsEnabled: false, ...o });
  const ids = (doc: ReturnType<typeof alertDocument>) => doc.blocks.flatMap((b) => (b.type === 'actions' ? b.buttons.map((x) => x.actionId) : []));
  const display = { timezone: 'UTC', showCallerDetails: false, now: T0 };

  it('offers no Stop/Terminate unless ACTIONS_ENABLED; drops Acknowledge once acknowledged; shows a snooze only while it lasts', () => {
    expect(ids(alertDocument([item], display, 30, live()))).toEqual([ALERT_ACTION.acknowledge, ALERT_ACTION.snooze['1h'], ALERT_ACTION.snooze['4h'], ALERT_ACTION.snooze['24h'], ALERT_ACTION.console]);
    expect(ids(alertDocument([item], display, 30, live({ actionsEnabled: true })))).toContain(ALERT_ACTION.terminateSession);
    const acked = alertDocument([item], display, 30, live({ acknowledged: { by: 'U0ALICE', at: T0 }, snoozed: { by: 'U0BOB', until: T0 - 1 } }));
    expect(ids(acked)).not.toContain(ALERT_ACTION.acknowledge);
    const text = JSON.stringify(renderBlockKit(acked).blocks);
    expect(text).toContain('Acknowledged by <@U0ALICE> at 2026-11-23 12:00 UTC');
    expect(text).not.toContain('Snoozed');
    // An owner named like a Slack control sequence stays text.
    expect(text).not.toContain('<!channel>');
  });

  it('without live state it is the plain alert (no buttons), as before', () => {
    expect(ids(alertDocument([item], display, 30))).toEqual([]);
  });
});

describe('the App Home', () => {
  it('says plainly when nothing is active and nothing started today', () => {
    const doc = homeDocument(
      { now: T0, date: '2026-11-23', active: [], longRunning: [], today: { sessionsStarted: 0, calculationsStarted: 0, dpuHours: 0, dpuHoursIsUpperBound: false, estimatedCostUsd: 0 }, topSpenders: [] },
      { timezone: 'UTC', showCallerDetails: false, now: T0 },
    );
    const text = renderText(doc);
    expect(text).toContain('No session is active now.');
    expect(text).toContain('No long-running calculation is open.');
    expect(text).toContain('No session has started today.');
    expect(text).toMatch(/Estimated cost:\s+\$0\.00/);
  });
});
