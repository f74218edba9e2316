import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { callerClassifier } from '../../src/records/callers.js';
import { Store } from '../../src/store/store.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { call, executor, fakeUuid, human, iamUser, record, startCalculation, startSession, stopCalculation, terminateSession } from '../support/cloudtrail-records.js';
import { toEvent as ev } from '../support/events.js';
import path from 'node:path';
import { tempDir, tempStore } from '../support/harness.js';
import { storesClosedAfterEach } from '../support/stores.js';
import { foldStoredSession } from '../../src/reports/stored-session.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const MINUTE = 60_000;
const BOT_ARN = 'arn:aws:sts::123456789012:assumed-role/athena-session-bot/bot';
const BOT_AGENT = 'aws-sdk-js/3.1164.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2 api/athena#3.1164.0 m/E athena-session-bot/0.1.0';
const OPTS = { now: T0 + 3 * 60 * MINUTE, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };

/** A read the bot made about a session, as CloudTrail logs it back. */
function botRead(eventName: string, sessionId: string, at: number, extra: { errorCode?: string; agent?: string } = {}) {
  const r = call(eventName, { actor: human('bot', 'athena-session-bot'), eventTime: at, params: { sessionId }, ...(extra.errorCode ? { errorCode: extra.errorCode } : {}) });
  r.userAgent = extra.agent ?? BOT_AGENT;
  return ev(r);
}

const where = (s: Store, eventId: string) => (s.db.prepare('SELECT stored_as FROM all_records WHERE event_id = ?').get(eventId) as { stored_as: string } | undefined)?.stored_as;

describe('callerClassifier', () => {
  const classify = callerClassifier({
    botPrincipals: [BOT_ARN],
    ignorePrincipals: ['arn:aws:iam::123456789012:role/path/DatadogIntegrationRole', 'arn:aws:iam::123456789012:user/monitor', 'cloudability-reader'],
  });
  const base = { principal: 'x', principalArn: null as string | null, readOnly: true, errorCode: null as string | null, botAgent: false };

  it('sets apart reads and refused calls made with the bot agent or by the bot principal', () => {
    expect(classify({ ...base, botAgent: true })).toBe('bot');
    expect(classify({ ...base, botAgent: true, readOnly: false, errorCode: 'AccessDeniedException' })).toBe('bot');
    expect(classify({ ...base, principal: 'bot', principalArn: BOT_ARN })).toBe('bot');
  });

  it('matches an ignored role by any of its sessions, a user by its ARN, and role-session names', () => {
    expect(classify({ ...base, principal: 'dd-1', principalArn: 'arn:aws:sts::123456789012:assumed-role/DatadogIntegrationRole/dd-1' })).toBe('ignored');
    expect(classify({ ...base, principal: 'monitor', principalArn: 'arn:aws:iam::123456789012:user/monitor' })).toBe('ignored');
    expect(classify({ ...base, principal: 'cloudability-reader', principalArn: 'arn:aws:sts::210987654321:assumed-role/Reader/cloudability-reader' })).toBe('ignored');
    // Another account's role of the same name is someone else.
    expect(classify({ ...base, principal: 'dd-1', principalArn: 'arn:aws:sts::210987654321:assumed-role/DatadogIntegrationRole/dd-1' })).toBeNull();
    expect(classify({ ...base, principal: 'DatadogIntegrationRoleX', principalArn: 'arn:aws:sts::123456789012:assumed-role/DatadogIntegrationRoleX/s' })).toBeNull();
  });

  it('never sets apart a call that changed something, whoever made it', () => {
    expect(classify({ ...base, botAgent: true, readOnly: false })).toBeNull();
    expect(classify({ ...base, readOnly: false, principal: 'cloudability-reader' })).toBeNull();
  });
});

describe('store: calls set apart', () => {
  const open = storesClosedAfterEach();

  it("keeps the bot's reads and refusals out of every answer, counted apart", () => {
    const { file } = tempStore();
    const s = open(file);
    const sid = fakeUuid();
    const cid = fakeUuid();
    const history = [startSession({ sessionId: sid, eventTime: T0 }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE })].map(ev);
    s.insertEvents(history, T0);
    const before = foldStoredSession(s, sid, OPTS)!;

    const own = [
      botRead('GetSession', sid, T0 + 40 * MINUTE),
      botRead('ListCalculationExecutions', sid, T0 + 41 * MINUTE),
      botRead('GetSession', sid, T0 + 42 * MINUTE, { errorCode: 'AccessDeniedException' }),
      botRead('GetSession', sid, T0 + 43 * MINUTE, { errorCode: 'AccessDeniedException' }),
    ];
    expect(s.insertEvents(own, T0)).toBe(4);
    expect(s.insertEvents(own, T0)).toBe(0);
    expect(own.map((e) => where(s, e.eventId))).toEqual(['bot', 'bot', 'bot', 'bot']);
    expect(foldStoredSession(s, sid, OPTS)).toEqual(before);
    expect(s.eventsBetweenForDigest(T0, T0 + 60 * MINUTE)).toHaveLength(2);
    expect(s.recordCount()).toBe(6);
    expect(s.setApartSummary(T0)).toEqual([
      { reason: 'bot', eventName: 'GetSession', errorCode: null, count: 1, lastAt: T0 + 40 * MINUTE },
      { reason: 'bot', eventName: 'GetSession', errorCode: 'AccessDeniedException', count: 2, lastAt: T0 + 43 * MINUTE },
      { reason: 'bot', eventName: 'ListCalculationExecutions', errorCode: null, count: 1, lastAt: T0 + 41 * MINUTE },
    ]);
    // The bot's own look-ups of an id never make it "known".
    const typo = fakeUuid();
    s.insertEvents([botRead('GetSession', typo, T0, { errorCode: 'ResourceNotFoundException' })], T0);
    expect(s.sessionKnown(typo)).toBe(false);
  });

  it("keeps the bot's successful actions as history", () => {
    const s = open(tempStore().file);
    const sid = fakeUuid();
    const cid = fakeUuid();
    const stop = stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 5 * MINUTE, actor: human('bot', 'athena-session-bot') });
    stop.userAgent = BOT_AGENT;
    const term = terminateSession({ sessionId: sid, eventTime: T0 + 6 * MINUTE, actor: human('bot', 'athena-session-bot') });
    term.userAgent = BOT_AGENT;
    s.insertEvents([startSession({ sessionId: sid, eventTime: T0 }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE }), stop, term].map(ev), T0);
    const v = foldStoredSession(s, sid, OPTS)!;
    expect(v).toMatchObject({ state: 'TERMINATED', endedAt: T0 + 6 * MINUTE });
    expect(v.calculations[0]).toMatchObject({ state: 'CANCELED', endSource: 'stop-record', confirmed: true });
  });

  it('learns the bot principal: its earlier reads and refusals (from before the user agent) move apart', () => {
    const { file } = tempStore();
    const s = open(file);
    const sid = fakeUuid();
    const old = [botRead('GetSession', sid, T0, { agent: 'aws-sdk-js/3.1164.0' }), botRead('GetCalculationExecution', sid, T0, { agent: 'aws-sdk-js/3.1164.0', errorCode: 'AccessDeniedException' })];
    s.insertEvents([ev(startSession({ sessionId: sid, eventTime: T0 })), ...old], T0);
    expect(old.map((e) => where(s, e.eventId))).toEqual(['read', 'history']);
    expect(s.addBotPrincipal(BOT_ARN)).toBe(2);
    expect(old.map((e) => where(s, e.eventId))).toEqual(['bot', 'bot']);
    expect(s.readsForSession(sid, [])).toEqual({ count: 0, calculations: {} });
    expect(s.addBotPrincipal(BOT_ARN)).toBe(0);
    // Another connection (the ingest writer thread) routes by the same rules.
    const other = open(file);
    const later = botRead('GetSession', sid, T0 + MINUTE, { agent: 'aws-sdk-js/3.1164.0' });
    other.insertEvents([later], T0);
    expect(where(s, later.eventId)).toBe('bot');
  });

  it("remembers the bot's principal in every watched account: many accounts never push one account's principal out", () => {
    const s = open(tempStore().file);
    const accountArn = (i: number) => `arn:aws:sts::${String(100000000000 + i)}:assumed-role/athena-session-bot-reader/athena-session-bot`;
    for (let i = 0; i < 30; i++) s.addBotPrincipal(accountArn(i));
    expect(s.callerRules().botPrincipals).toHaveLength(30);
    // Learning them again at the next start moves nothing (no re-sorting of the stored calls).
    for (let i = 0; i < 30; i++) expect(s.addBotPrincipal(accountArn(i))).toBe(0);
    // Within one account, role sessions with changing names: the most recent 20 are kept.
    for (let i = 0; i < 25; i++) s.addBotPrincipal(`arn:aws:sts::123456789012:assumed-role/athena-session-bot/task-${i}`);
    const mine = s.callerRules().botPrincipals.filter((p) => p.includes('::123456789012:'));
    expect(mine).toHaveLength(20);
    expect(mine.at(-1)).toContain('task-24');
    expect(s.callerRules().botPrincipals).toContain(accountArn(0));
  });

  it('moves calls both ways when IGNORE_PRINCIPALS changes, and counts their reads again when it no longer lists them', () => {
    const s = open(tempStore().file);
    const sid = fakeUuid();
    const monitor = (eventName: string, at: number, errorCode?: string) =>
      ev(call(eventName, { actor: human('dd-1', 'DatadogIntegrationRole'), eventTime: at, params: { sessionId: sid }, ...(errorCode ? { errorCode } : {}) }));
    const reads = [monitor('GetSessionStatus', T0 + MINUTE), monitor('GetSessionStatus', T0 + 2 * MINUTE)];
    const refused = monitor('GetSession', T0 + 3 * MINUTE, 'AccessDeniedException');
    s.insertEvents([ev(startSession({ sessionId: sid, eventTime: T0 })), ...reads, refused], T0);
    expect(foldStoredSession(s, sid, OPTS)!).toMatchObject({ events: 4, failedCalls: [expect.objectContaining({ principal: 'dd-1' })] });

    expect(s.setIgnorePrincipals(['arn:aws:iam::123456789012:role/DatadogIntegrationRole'])).toBe(3);
    expect(foldStoredSession(s, sid, OPTS)!).toMatchObject({ events: 1, failedCalls: [] });
    expect(s.setIgnorePrincipals(['arn:aws:iam::123456789012:role/DatadogIntegrationRole'])).toBe(0);

    expect(s.setIgnorePrincipals([])).toBe(3);
    expect(foldStoredSession(s, sid, OPTS)!).toMatchObject({ events: 4, failedCalls: [expect.objectContaining({ principal: 'dd-1' })] });
    expect(s.readsForSession(sid, [])).toEqual({ count: 2, calculations: {} });
  });

  it('prunes every table and keeps the read summaries true', () => {
    const s = open(tempStore().file);
    const sid = fakeUuid();
    const DAY = 86_400_000;
    s.insertEvents(
      [
        ev(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 - 100 * DAY })),
        ev(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 })),
        botRead('GetSession', sid, T0 - 100 * DAY),
        ev(record({ eventName: 'StartSession', actor: iamUser('dana'), eventTime: T0 - 100 * DAY })),
      ],
      T0,
    );
    expect(s.readsForSession(sid, [])).toEqual({ count: 2, calculations: {} });
    expect(s.prune(T0, 90).records).toBe(3);
    expect(s.recordCount()).toBe(1);
    expect(s.readsForSession(sid, [])).toEqual({ count: 1, calculations: {} });
  });
});

describe('migration 3', () => {
  it('moves the routine reads of an existing store out of the history and summarises them', () => {
    const file = path.join(tempDir(), 'old.sqlite');
    const sid = fakeUuid();
    // A store as the previous version left it: schema 2, every record in `records`.
    const db = new Database(file);
    db.exec(MIGRATIONS[0]!);
    db.exec(MIGRATIONS[1]!);
    db.pragma('user_version = 2');
    const insert = db.prepare(
      `INSERT INTO records (event_id, event_time, event_name, region, session_id, calculation_id, principal, read_only, error_code, ingested_at) VALUES (?, ?, ?, 'us-east-1', ?, ?, 'p', ?, ?, 0)`,
    );
    insert.run('start', T0, 'StartSession', sid, null, 0, null);
    insert.run('poll-1', T0 + MINUTE, 'GetCalculationExecutionStatus', sid, 'c1', 1, null);
    insert.run('poll-2', T0 + 2 * MINUTE, 'GetCalculationExecutionStatus', sid, 'c1', 1, null);
    insert.run('denied', T0 + 3 * MINUTE, 'GetSession', sid, null, 1, 'AccessDeniedException');
    insert.run('endpoint', T0 + 4 * MINUTE, 'GetSessionEndpoint', sid, null, 1, null);
    db.close();

    const s = Store.open(file);
    try {
      expect(s.eventsForSession(sid).map((e) => e.eventId)).toEqual(['start', 'denied', 'endpoint']);
      expect(s.readsForSession(sid, [])).toEqual({ count: 2, calculations: { c1: { count: 2, lastAt: T0 + 2 * MINUTE } } });
      expect(s.recordCount()).toBe(5);
    } finally {
      s.close();
    }
  });
});
