import { describe, expect, it } from 'vitest';
import { call, EXAMPLE_IP, EXAMPLE_KEY_ID, fakeUuid, human, iamUser, startCalculation, startSession, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { foldSession } from '../../src/model/session.js';
import { noEnrichment, type SessionView } from '../../src/model/types.js';
import { buildDigest } from '../../src/model/digest.js';
import { dayBounds } from '../../src/model/zoned-day.js';
import { sessionDocument, activeSessionsDocument } from '../../src/reports/session-document.js';
import { digestDocument } from '../../src/reports/digest-document.js';
import { renderBlockKit } from '../../src/reports/render/block-kit.js';
import { renderText } from '../../src/reports/render/text.js';
import { toEvent as ev } from '../support/events.js';

const T0 = Date.parse('2026-05-04T10:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;


function view(records: CloudTrailRecord[], id: string, now: number): SessionView {
  return foldSession(id, records.map(ev), noEnrichment, { now, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!;
}

describe('renderText', () => {
  it('renders every block kind', () => {
    const out = renderText({
      summary: 'ignored here',
      blocks: [
        { type: 'header', text: 'Title' },
        { type: 'fields', fields: [['Owner', 'alias'], ['Workgroup', 'wg']] },
        { type: 'text', text: 'plain <text> & more' },
        { type: 'list', title: 'Things', items: ['one', 'two'], total: 4 },
        { type: 'list', title: 'Nothing', items: [] },
        { type: 'divider' },
        { type: 'context', text: 'footnote' },
        { type: 'header', text: 'Second' },
      ],
    });
    expect(out).toBe(
      [
        'Title',
        '=====',
        'Owner:     alias',
        'Workgroup: wg',
        'plain <text> & more',
        '',
        'Things (2 of 4)',
        '  - one',
        '  - two',
        '',
        'Nothing',
        '  (none)',
        '',
        '  footnote',
        '',
        'Second',
        '======',
        '',
      ].join('\n'),
    );
  });

  it('caps the header underline at 78 characters', () => {
    const out = renderText({ summary: '', blocks: [{ type: 'header', text: 'x'.repeat(120) }] });
    expect(out.split('\n')[1]).toBe('='.repeat(78));
  });

  it('shows a session’s owner, workgroup and state, and hides caller details by default', () => {
    const sid = fakeUuid();
    const records = [
      startSession({ sessionId: sid, eventTime: T0, actor: iamUser('dana'), workGroup: 'analytics-wg', maxConcurrentDpus: 12 }),
      startCalculation({ sessionId: sid, calculationId: fakeUuid(), eventTime: T0 + MINUTE }),
      terminateSession({ sessionId: sid, eventTime: T0 + 10 * MINUTE, actor: iamUser('dana') }),
    ];
    const v = view(records, sid, T0 + 20 * MINUTE);
    const report = { view: v, notebookNames: { 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04': 'My notebook' }, athenaReachable: true, sparkUiUrl: null, consoleUrl: null };
    const text = renderText(sessionDocument(report, { timezone: 'UTC', showCallerDetails: false, now: T0 + 20 * MINUTE }));
    expect(text).toContain(`Athena session ${sid}`);
    expect(text).toMatch(/Owner: +dana/);
    expect(text).toMatch(/Workgroup: +analytics-wg/);
    expect(text).toMatch(/State: +TERMINATED \(TerminateSession record\)/);
    expect(text).toMatch(/Started: +2026-05-04 10:00 UTC/);
    expect(text).toMatch(/Duration: +10m/);
    expect(text).toMatch(/DPU-hours: +at most 2\.00 \(upper bound: max DPUs × duration\) ≈ \$0\.70/);
    expect(text).toContain('My notebook (b8f5854b-1042-4b90-9d82-51d3c2fd5c04)');
    expect(text).toContain('Calculations: 1');
    expect(text).not.toContain(EXAMPLE_IP);
    expect(text).not.toContain(EXAMPLE_KEY_ID);

    const detailed = renderText(sessionDocument(report, { timezone: 'UTC', showCallerDetails: true, now: T0 + 20 * MINUTE }));
    expect(detailed).toContain(`[${EXAMPLE_IP}, ${EXAMPLE_KEY_ID}]`);
  });

  it('labels an inferred end and an open session', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0, idleTimeoutMinutes: 15 })];
    expect(renderText(sessionDocument({ view: view(records, sid, T0 + HOUR), notebookNames: {}, athenaReachable: true, sparkUiUrl: null, consoleUrl: null }, { timezone: 'UTC', showCallerDetails: false, now: T0 + HOUR }))).toMatch(
      /State: +TERMINATED \(inferred: idle 15m timeout\)/,
    );
    const open = renderText(sessionDocument({ view: view(records, sid, T0 + 5 * MINUTE), notebookNames: {}, athenaReachable: true, sparkUiUrl: null, consoleUrl: null }, { timezone: 'UTC', showCallerDetails: false, now: T0 + 5 * MINUTE }));
    expect(open).toMatch(/State: +CREATED \(from CloudTrail; not confirmed\)/);
    expect(open).toMatch(/Duration: +5m so far/);
  });

  it('shows times in the configured zone', () => {
    const sid = fakeUuid();
    const v = view([startSession({ sessionId: sid, eventTime: T0 })], sid, T0 + MINUTE);
    const text = renderText(sessionDocument({ view: v, notebookNames: {}, athenaReachable: true, sparkUiUrl: null, consoleUrl: null }, { timezone: 'America/New_York', showCallerDetails: false, now: T0 + MINUTE }));
    expect(text).toMatch(/Started: +2026-05-04 06:00 EDT/);
  });

  it('lists active sessions', () => {
    const sid = fakeUuid();
    const v = view([startSession({ sessionId: sid, eventTime: T0, actor: human('carol') })], sid, T0 + 5 * MINUTE);
    const text = renderText(activeSessionsDocument([{ view: v, listedByAthena: false, startInCloudTrail: true }], { timezone: 'UTC', showCallerDetails: false, now: T0 + 5 * MINUTE }));
    expect(text).toContain(`${sid} — carol in notebook-workgroup (us-east-1), up 5m, max 20 DPUs`);
    // Athena lists a session whose StartSession CloudTrail has not delivered yet: shown, and said so.
    const listedOnly = { ...v, owner: null, ownerType: null };
    expect(renderText(activeSessionsDocument([{ view: listedOnly, listedByAthena: true, startInCloudTrail: false }], { timezone: 'UTC', showCallerDetails: false, now: T0 + 5 * MINUTE }))).toContain(
      'owner not yet known (Athena lists it; CloudTrail has not delivered its start)',
    );
    expect(renderText(activeSessionsDocument([], { timezone: 'UTC', showCallerDetails: false, now: T0 }))).toContain('No session is active now.');
  });

  it('renders a digest with its counts and the upper-bound label', () => {
    const sid = fakeUuid();
    const records = [
      startSession({ sessionId: sid, eventTime: T0, maxConcurrentDpus: 10 }),
      terminateSession({ sessionId: sid, eventTime: T0 + 60 * MINUTE }),
      call('GetSession', { actor: human('bob'), eventTime: T0, errorCode: 'AccessDeniedException', params: { sessionId: sid } }),
    ];
    const { start, end } = dayBounds('2026-05-04', 'UTC');
    const d = buildDigest({
      date: '2026-05-04',
      timezone: 'UTC',
      start,
      end,
      now: T0 + 2 * 60 * MINUTE,
      dayEvents: records.map(ev),
      sessions: [view(records, sid, T0 + 2 * 60 * MINUTE)],
      dpuHourPriceUsd: 0.35,
    });
    const text = renderText(digestDocument(d));
    expect(text).toContain('Athena Spark digest — 2026-05-04 (UTC)');
    expect(text).toMatch(/Sessions: +1 started, 1 ended/);
    expect(text).toMatch(/DPU use: +at most 10\.0 DPU-h ≈ \$3\.50/);
    expect(text).toMatch(/Failed calls: +1 \(AccessDeniedException 1\)/);
    expect(text).toContain('alias: 1 session, 0 calculations, 10.0 DPU-h, 1 failed call');
  });

  it('adds the per-account totals when the day spans more than one account, and not for one account', () => {
    const inAccount = (account: string) => ({ kind: 'assumed-role' as const, role: 'DataScientist', sessionName: 'ana', account });
    const [s1, s2] = [fakeUuid(), fakeUuid()];
    const records = [
      startSession({ sessionId: s1, eventTime: T0, maxConcurrentDpus: 10, actor: inAccount('111111111111') }),
      terminateSession({ sessionId: s1, eventTime: T0 + 60 * MINUTE, actor: inAccount('111111111111') }),
      startSession({ sessionId: s2, eventTime: T0, maxConcurrentDpus: 4, actor: inAccount('222222222222') }),
      terminateSession({ sessionId: s2, eventTime: T0 + 30 * MINUTE, actor: inAccount('222222222222') }),
    ];
    const { start, end } = dayBounds('2026-05-04', 'UTC');
    const now = T0 + 2 * 60 * MINUTE;
    const digest = (ids: string[]) =>
      buildDigest({ date: '2026-05-04', timezone: 'UTC', start, end, now, dayEvents: records.map(ev), sessions: ids.map((id) => view(records, id, now)), dpuHourPriceUsd: 0.35 });
    const text = renderText(digestDocument(digest([s1, s2])));
    expect(text).toContain('By account');
    expect(text).toContain('111111111111: 1 session, 0 calculations, 10.0 DPU-h');
    expect(text).toContain('222222222222: 1 session, 0 calculations, 2.0 DPU-h');
    const blocks = JSON.stringify(renderBlockKit(digestDocument(digest([s1, s2]))).blocks);
    expect(blocks).toContain('By account');
    expect(blocks).toContain('222222222222: 1 session');
    expect(renderText(digestDocument(digest([s1])))).not.toContain('By account');
  });
});
