import { describe, expect, it } from 'vitest';
import { call, EXAMPLE_IP, EXAMPLE_KEY_ID, fakeUuid, human, startCalculation, startSession, stopCalculation, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { normaliseRecord } from '../../src/records/normalise.js';
import { foldSession } from '../../src/model/session.js';
import { noEnrichment, type SessionView } from '../../src/model/types.js';
import type { DocBlock, ReportDocument } from '../../src/reports/document.js';
import { sessionDocument } from '../../src/reports/session-document.js';
import { clampMessage, escapeMrkdwn, renderBlockKit, renderHomeView, SLACK_LIMITS, type Block, type SlackMessage } from '../../src/reports/render/block-kit.js';
import { renderText } from '../../src/reports/render/text.js';

const T0 = Date.parse('2026-05-04T10:00:00Z');
const MINUTE = 60_000;

const textOf = (b: Block) => (b.text as { text: string } | undefined)?.text ?? '';
const allText = (m: SlackMessage) => JSON.stringify(m);

function sessionView(): SessionView {
  const sid = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
  const cid = fakeUuid();
  const records: CloudTrailRecord[] = [
    startSession({ sessionId: sid, eventTime: T0, actor: human('alias') }),
    startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE }),
    stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 40 * MINUTE }),
    call('GetSession', { actor: human('bob'), eventTime: T0 + 41 * MINUTE, errorCode: 'AccessDeniedException', errorMessage: 'User: bob is not authorized', params: { sessionId: sid } }),
    terminateSession({ sessionId: sid, eventTime: T0 + 45 * MINUTE }),
  ];
  const events = records.map((r) => {
    const n = normaliseRecord(r);
    if (n.kind !== 'event') throw new Error('fixture');
    return n.event;
  });
  return foldSession(sid, events, noEnrichment, { now: T0 + 2 * 60 * MINUTE, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!;
}

describe('renderBlockKit limits', () => {
  it('keeps at most 50 blocks, the last one a note of what was dropped', () => {
    const doc: ReportDocument = { summary: 'many', blocks: Array.from({ length: 60 }, (_, i): DocBlock => ({ type: 'text', text: `block ${i}` })) };
    const m = renderBlockKit(doc);
    expect(m.blocks).toHaveLength(SLACK_LIMITS.blocks);
    expect(m.blocks).toHaveLength(50);
    expect(textOf(m.blocks[48]!)).toBe('block 48');
    const note = m.blocks[49]!;
    expect(note.type).toBe('context');
    expect(JSON.stringify(note)).toContain('11 more blocks not shown');
  });

  it('leaves exactly 50 blocks alone', () => {
    const m = renderBlockKit({ summary: 's', blocks: Array.from({ length: 50 }, (): DocBlock => ({ type: 'divider' })) });
    expect(m.blocks).toHaveLength(50);
    expect(m.blocks.every((b) => b.type === 'divider')).toBe(true);
  });

  it('cuts a section longer than 3000 characters, at a line break, with a note', () => {
    const items = Array.from({ length: 200 }, (_, i) => `item number ${i} with some padding text`);
    const m = renderBlockKit({ summary: 's', blocks: [{ type: 'list', title: 'Long list', items }] });
    const text = textOf(m.blocks[0]!);
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(text).toMatch(/cut to fit Slack’s 3,000-character limit_$/);
    expect(text).toMatch(/padding text\n_…cut/);
  });

  it('cuts a section without line breaks too', () => {
    const m = renderBlockKit({ summary: 's', blocks: [{ type: 'text', text: 'y'.repeat(10_000) }] });
    expect(textOf(m.blocks[0]!).length).toBeLessThanOrEqual(3000);
  });

  it('cuts a header over 150 characters', () => {
    const m = renderBlockKit({ summary: 's', blocks: [{ type: 'header', text: 'H'.repeat(400) }] });
    const t = textOf(m.blocks[0]!);
    expect(t.length).toBeLessThanOrEqual(150);
    expect(t.endsWith('…')).toBe(true);
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
  });

  it('cuts a field over 2000 characters and a context over 3000', () => {
    const m = renderBlockKit({
      summary: 's',
      blocks: [
        { type: 'fields', fields: [['Label', 'v'.repeat(5000)]] },
        { type: 'context', text: 'c'.repeat(5000) },
      ],
    });
    const field = (m.blocks[0]!.fields as Array<{ text: string }>)[0]!;
    expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    const ctx = (m.blocks[1]!.elements as Array<{ text: string }>)[0]!;
    expect(ctx.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
  });

  it('always sets a non-empty notification text, at most 3000 characters', () => {
    expect(renderBlockKit({ summary: '', blocks: [] }).text).toBe('athena-session-bot report');
    expect(renderBlockKit({ summary: '   \n', blocks: [] }).text).toBe('athena-session-bot report');
    expect(renderBlockKit({ summary: 'S'.repeat(9000), blocks: [] }).text.length).toBeLessThanOrEqual(3000);
    expect(clampMessage({ text: '  hello  ', blocks: [] }).text).toBe('hello');
  });

  it('splits fields into sections of at most 10', () => {
    const fields = Array.from({ length: 23 }, (_, i): [string, string] => [`L${i}`, `v${i}`]);
    const m = renderBlockKit({ summary: 's', blocks: [{ type: 'fields', fields }] });
    expect(m.blocks.map((b) => (b.fields as unknown[]).length)).toEqual([10, 10, 3]);
    expect((m.blocks[2]!.fields as Array<{ text: string }>)[2]!.text).toBe('*L22*\nv22');
  });
});

describe('mrkdwn escaping', () => {
  it('escapes <, > and &', () => {
    expect(escapeMrkdwn('a < b > c & d')).toBe('a &lt; b &gt; c &amp; d');
    expect(escapeMrkdwn('<!channel> <@U123> &amp;')).toBe('&lt;!channel&gt; &lt;@U123&gt; &amp;amp;');
  });

  it('escapes every piece of user text in every block kind', () => {
    const evil = '<!here> & <https://evil.example|click>';
    const m = renderBlockKit({
      summary: 'summary',
      blocks: [
        { type: 'text', text: evil },
        { type: 'list', title: evil, items: [evil] },
        { type: 'fields', fields: [[evil, evil]] },
        { type: 'context', text: evil },
      ],
    });
    const json = JSON.stringify(m.blocks);
    expect(json).not.toContain('<!here>');
    expect(json).not.toContain('<https://');
    expect(json).toContain('&lt;!here&gt; &amp; &lt;https://evil.example|click&gt;');
  });

  it('notes a shortened list as “n of total” and an empty list as none', () => {
    const m = renderBlockKit({ summary: 's', blocks: [{ type: 'list', title: 'Calcs', items: ['a', 'b'], total: 5 }, { type: 'list', title: 'Empty', items: [] }] });
    expect(textOf(m.blocks[0]!)).toBe('*Calcs* (2 of 5)\n• a\n• b');
    expect(textOf(m.blocks[1]!)).toBe('*Empty*\n_none_');
  });
});

describe('the session document', () => {
  const view = sessionView();
  const doc = (showCallerDetails: boolean) =>
    sessionDocument({ view, notebookNames: {}, athenaReachable: true, sparkUiUrl: null, consoleUrl: null }, { timezone: 'UTC', showCallerDetails, now: T0 + 2 * 60 * MINUTE });

  it('never shows the source IP or access key unless SHOW_CALLER_DETAILS', () => {
    const hidden = renderBlockKit(doc(false));
    expect(allText(hidden)).not.toContain(EXAMPLE_IP);
    expect(allText(hidden)).not.toContain(EXAMPLE_KEY_ID);
    expect(EXAMPLE_IP).toBe('203.0.113.10');
    expect(EXAMPLE_KEY_ID).toBe('ASIAEXAMPLEKEYID0001');
    const shown = renderBlockKit(doc(true));
    expect(allText(shown)).toContain('203.0.113.10');
    expect(allText(shown)).toContain('ASIAEXAMPLEKEYID0001');
  });

  it('renders within Slack’s limits with owner, workgroup, state and the long-running calculation', () => {
    const m = renderBlockKit(doc(false));
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    expect(m.text).toContain('a2c1ebba-ad01-865f-ed2d-a142b7451f7e');
    expect(m.text).toContain('owner alias');
    const json = allText(m);
    expect(json).toContain('notebook-workgroup');
    expect(json).toContain('TERMINATED (TerminateSession record)');
    expect(json).toContain('LONG-RUNNING');
    expect(json).toContain('AccessDeniedException');
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Athena session a2c1ebba-ad01-865f-ed2d-a142b7451f7e' } });
  });

  it('stays within limits for a session with hundreds of calculations', () => {
    const sid = fakeUuid();
    const records: CloudTrailRecord[] = [startSession({ sessionId: sid, eventTime: T0, idleTimeoutMinutes: 600 })];
    for (let i = 0; i < 300; i++) records.push(startCalculation({ sessionId: sid, calculationId: fakeUuid(), eventTime: T0 + i * 1000, description: 'x' }));
    const events = records.map((r) => {
      const n = normaliseRecord(r);
      if (n.kind !== 'event') throw new Error('fixture');
      return n.event;
    });
    const v = foldSession(sid, events, noEnrichment, { now: T0 + 60 * MINUTE, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!;
    const m = renderBlockKit(sessionDocument({ view: v, notebookNames: {}, athenaReachable: false, sparkUiUrl: null, consoleUrl: null }, { timezone: 'UTC', showCallerDetails: false, now: T0 + 60 * MINUTE }));
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    for (const b of m.blocks) expect(textOf(b).length).toBeLessThanOrEqual(3000);
    expect(allText(m)).toContain('(10 of 300)');
    expect(allText(m)).toContain('Athena API not consulted or not reachable');
  });
});

describe('buttons, people and the Home view', () => {
  const elements = (m: SlackMessage) => (m.blocks.find((b) => b.type === 'actions')?.elements ?? []) as Array<Record<string, any>>;

  it('renders action and link buttons within Slack’s limits; a value or link that cannot fit is left out, never cut', () => {
    const m = renderBlockKit({
      summary: 's',
      blocks: [
        {
          type: 'actions',
          buttons: [
            { kind: 'action', actionId: 'go', label: 'L'.repeat(200), value: 'v', style: 'danger', confirm: { title: 'T'.repeat(300), text: 'X'.repeat(900), confirm: 'C'.repeat(50), deny: 'D'.repeat(50) } },
            { kind: 'action', actionId: 'big', label: 'Big', value: 'v'.repeat(2001) },
            { kind: 'link', actionId: 'long-link', label: 'Long', url: `https://example.com/${'p'.repeat(3000)}` },
            { kind: 'link', actionId: 'js', label: 'Script', url: 'javascript:alert(1)' },
            { kind: 'link', actionId: 'ok-link', label: 'Console', url: 'https://console.aws.amazon.com/athena' },
            { kind: 'action', actionId: 'go', label: 'Same id again', value: 'w' },
          ],
        },
      ],
    });
    const els = elements(m);
    expect(els.map((e) => e.action_id)).toEqual(['go', 'ok-link']);
    const go = els[0]!;
    expect(go.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
    expect(go.style).toBe('danger');
    expect(go.confirm.title.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmTitle);
    expect(go.confirm.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmText);
    expect(go.confirm.confirm.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmButton);
    expect(go.confirm.deny.text.length).toBeLessThanOrEqual(SLACK_LIMITS.confirmButton);
    expect(go.confirm.style).toBe('danger');
    expect(els[1]).toEqual({ type: 'button', action_id: 'ok-link', text: { type: 'plain_text', text: 'Console', emoji: true }, url: 'https://console.aws.amazon.com/athena' });
  });

  it('keeps at most 25 buttons in a block, and drops a block left with none', () => {
    const buttons = Array.from({ length: 30 }, (_, i) => ({ kind: 'action' as const, actionId: `b${i}`, label: `B${i}`, value: String(i) }));
    expect(elements(renderBlockKit({ summary: 's', blocks: [{ type: 'actions', buttons }] }))).toHaveLength(25);
    expect(renderBlockKit({ summary: 's', blocks: [{ type: 'actions', buttons: [] }] }).blocks).toEqual([]);
  });

  it('names people as mentions only where the bot put a user id; text around them is escaped', () => {
    const m = renderBlockKit({ summary: 's', blocks: [{ type: 'line', parts: ['Acknowledged by ', { user: 'U0ALICE' }, ' <!channel> & ', { user: 'not-an-id>' }] }] });
    expect(textOf(m.blocks[0]!)).toBe('Acknowledged by <@U0ALICE> &lt;!channel&gt; &amp; @not-an-id&gt;');
    expect(renderText({ summary: 's', blocks: [{ type: 'line', parts: ['by ', { user: 'U0ALICE' }] }] })).toBe('by @U0ALICE\n');
  });

  it('the Home view holds up to 100 blocks, the rest noted', () => {
    const blocks = Array.from({ length: 130 }, (_, i): DocBlock => ({ type: 'text', text: `row ${i}` }));
    const v = renderHomeView({ summary: 's', blocks });
    expect(v.type).toBe('home');
    expect(v.blocks).toHaveLength(100);
    expect(JSON.stringify(v.blocks[99])).toContain('31 more blocks not shown: Slack allows 100');
  });

  it('a terminal shows the links among buttons and leaves the rest out', () => {
    const text = renderText({
      summary: 's',
      blocks: [{ type: 'actions', buttons: [{ kind: 'action', actionId: 'a', label: 'Acknowledge', value: 'x' }, { kind: 'link', actionId: 'l', label: 'Spark UI', url: 'https://ui.example' }] }],
    });
    expect(text).toBe('Spark UI: https://ui.example\n');
  });
});
