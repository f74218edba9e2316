import { describe, expect, it } from 'vitest';
import {
  call,
  createNotebook,
  fakeUuid,
  human,
  iamUser,
  importNotebook,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  type CloudTrailRecord,
} from '../support/cloudtrail-records.js';
import type { NotebookEvent } from '../../src/records/types.js';
import { foldSession } from '../../src/model/session.js';
import { buildDigest, type Digest } from '../../src/model/digest.js';
import { dayBounds } from '../../src/model/zoned-day.js';
import { noEnrichment, type AthenaCalculationFacts, type AthenaSessionFacts, type EnrichmentLookup, type SessionView } from '../../src/model/types.js';
import { toEvent as ev } from '../support/events.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const iso = (s: string) => Date.parse(s);


function lookup(sessions: Record<string, AthenaSessionFacts> = {}, calcs: Record<string, AthenaCalculationFacts> = {}): EnrichmentLookup {
  return {
    session: (id) => (sessions[id] ? { status: 'ok', facts: sessions[id]!, fetchedAt: 0 } : undefined),
    calculation: (id) => (calcs[id] ? { status: 'ok', facts: calcs[id]!, fetchedAt: 0 } : undefined),
  };
}

/** What buildDigestReport does with a store, done by hand: fold each session, pick the day's records. */
function digestOf(records: CloudTrailRecord[], o: { date: string; timezone?: string; now: number; enrichment?: EnrichmentLookup; longRunningMinutes?: number }): Digest {
  const timezone = o.timezone ?? 'UTC';
  const events = records.map(ev);
  const { start, end } = dayBounds(o.date, timezone);
  const ids = [...new Set(events.map((e) => e.sessionId).filter((s): s is string => s !== null))];
  const sessions: SessionView[] = ids.map((id) => {
    const own = events.filter((e) => e.sessionId === id);
    const calcs = new Set(own.filter((e) => e.eventName === 'StartCalculationExecution').map((e) => e.calculationId));
    const extra = events.filter((e) => e.sessionId === null && e.calculationId !== null && calcs.has(e.calculationId));
    return foldSession(id, [...own, ...extra], o.enrichment ?? noEnrichment, { now: o.now, longRunningMinutes: o.longRunningMinutes ?? 30, dpuHourPriceUsd: 0.35 })!;
  });
  return buildDigest({
    date: o.date,
    timezone,
    start,
    end,
    now: o.now,
    dayEvents: events.filter((e) => e.eventTime >= start && e.eventTime < end),
    sessions,
    dpuHourPriceUsd: 0.35,
  });
}

// One day, 2026-05-04 (UTC), and its neighbours.
const A = 'aaaaaaaa-0000-4000-8000-00000000000a'; // started the day before, terminated in the day
const B = 'bbbbbbbb-0000-4000-8000-00000000000b'; // alias, notebook-workgroup, two calculations
const C = 'cccccccc-0000-4000-8000-00000000000c'; // dana (IAM user), spark-wg, measured by Athena
const D = 'dddddddd-0000-4000-8000-00000000000d'; // started late in the day, still open
const E = 'eeeeeeee-0000-4000-8000-00000000000e'; // started the day after
const B1 = 'b1b1b1b1-0000-4000-8000-0000000000b1';
const B2 = 'b2b2b2b2-0000-4000-8000-0000000000b2';
const C1 = 'c1c1c1c1-0000-4000-8000-0000000000c1';
const NOW = iso('2026-05-05T00:10:00Z');

function dayRecords(): CloudTrailRecord[] {
  return [
    startSession({ sessionId: A, eventTime: '2026-05-03T22:00:00Z', actor: human('alias') }),
    terminateSession({ sessionId: A, eventTime: '2026-05-04T01:00:00Z' }),

    startSession({ sessionId: B, eventTime: '2026-05-04T09:00:00Z', actor: human('alias'), maxConcurrentDpus: 10, idleTimeoutMinutes: 60 }),
    startCalculation({ sessionId: B, calculationId: B1, eventTime: '2026-05-04T09:05:00Z' }),
    stopCalculation({ calculationId: B1, eventTime: '2026-05-04T09:50:00Z', actor: human('alias') }), // 45 min, confirmed
    startCalculation({ sessionId: B, calculationId: B2, eventTime: '2026-05-04T10:00:00Z' }),
    stopCalculation({ calculationId: B2, sessionId: B, eventTime: '2026-05-04T10:10:00Z' }), // 10 min
    call('GetSession', { actor: human('bob'), eventTime: '2026-05-04T10:20:00Z', errorCode: 'AccessDeniedException', params: { sessionId: B } }),
    terminateSession({ sessionId: B, eventTime: '2026-05-04T11:00:00Z' }),

    startSession({ sessionId: C, eventTime: '2026-05-04T12:00:00Z', actor: iamUser('dana'), workGroup: 'spark-wg' }),
    startCalculation({ sessionId: C, calculationId: C1, eventTime: '2026-05-04T12:10:00Z' }),
    terminateSession({ sessionId: C, eventTime: '2026-05-04T13:00:00Z', actor: iamUser('dana') }), // C1 ran at most 50 min, unconfirmed

    startSession({ sessionId: D, eventTime: '2026-05-04T23:30:00Z', actor: human('carol'), idleTimeoutMinutes: 60, maxConcurrentDpus: 2 }),

    startSession({ sessionId: E, eventTime: '2026-05-05T00:05:00Z', actor: human('alias') }),

    // Failures: a StartSession that created nothing, and a throttled import.
    startSession({ sessionId: fakeUuid(), eventTime: '2026-05-04T08:00:00Z', actor: human('erin'), errorCode: 'InvalidRequestException' }),
    importNotebook({ notebookId: 'nb-failed', eventTime: '2026-05-04T14:00:00Z', actor: human('erin'), errorCode: 'ThrottlingException' }),
    call('TerminateSession', { actor: human('erin'), eventTime: '2026-05-04T15:00:00Z', errorCode: 'InvalidRequestException', params: { sessionId: 'not-a-session-id' } }),

    // Notebooks: two imports (one the day before), one creation.
    importNotebook({ notebookId: 'nb-2', name: 'second', eventTime: '2026-05-04T16:00:00Z', actor: human('carol'), workGroup: 'spark-wg' }),
    importNotebook({ notebookId: 'nb-1', name: 'first', eventTime: '2026-05-04T15:30:00Z', actor: human('alias') }),
    importNotebook({ notebookId: 'nb-0', name: 'yesterday', eventTime: '2026-05-03T15:30:00Z', actor: human('alias') }),
    createNotebook({ notebookId: 'nb-3', eventTime: '2026-05-04T17:00:00Z', actor: human('alias') }),
  ];
}

const measured = () => lookup({ [C]: { state: 'TERMINATED', dpuExecutionMillis: 3 * HOUR } });

describe('buildDigest: one UTC day', () => {
  const d = digestOf(dayRecords(), { date: '2026-05-04', now: NOW, enrichment: measured() });

  it('counts sessions on the day they started, and ended ones on the day they ended', () => {
    expect(d.date).toBe('2026-05-04');
    expect(d.timezone).toBe('UTC');
    // B, C, D started; A started the day before; E the day after.
    expect(d.sessionsStarted).toBe(3);
    // A (terminated at 01:00), B and C ended in the day; D is open.
    expect(d.sessionsEnded).toBe(3);
    // B 2 h + C 1 h + D 40 min (up to now).
    expect(d.sessionHours).toBeCloseTo(3 + 40 / 60, 10);
  });

  it('counts a session that started the day before as ended, not started', () => {
    const before = digestOf(dayRecords(), { date: '2026-05-03', now: NOW, enrichment: measured() });
    expect(before.sessionsStarted).toBe(1); // A
    expect(before.sessionsEnded).toBe(0);
    expect(before.byUser).toEqual({ alias: { sessionsStarted: 1, calculationsStarted: 0, dpuHours: expect.any(Number), failedCalls: 0 } });
  });

  it('tells notebook imports from notebook creations', () => {
    expect(d.notebookImports).toEqual([
      { notebookId: 'nb-1', name: 'first', workgroup: 'notebook-workgroup', principal: 'alias', at: iso('2026-05-04T15:30:00Z') },
      { notebookId: 'nb-2', name: 'second', workgroup: 'spark-wg', principal: 'carol', at: iso('2026-05-04T16:00:00Z') },
    ]);
    expect(d.notebooksCreated).toBe(1);
  });

  it('counts calculations started in the day and lists long-running ones with their confirmation', () => {
    expect(d.calculationsStarted).toBe(3);
    expect(d.longRunningCalculations).toEqual([
      { calculationId: B1, sessionId: B, minutes: 45, confirmed: true, open: false, owner: 'alias', workgroup: 'notebook-workgroup' },
    ]);
    // C1's only end is its session's TerminateSession: at most 50 minutes, which is not a fact.
    expect(d.possiblyLongRunning).toEqual([{ calculationId: C1, sessionId: C, minutes: 50, confirmed: false, open: false, owner: 'dana', workgroup: 'spark-wg' }]);
  });

  it('counts failed calls by error code', () => {
    expect(d.failedCalls).toBe(4);
    expect(d.failedCallsByCode).toEqual({ AccessDeniedException: 1, InvalidRequestException: 2, ThrottlingException: 1 });
    expect(Object.keys(d.failedCallsByCode)).toEqual(['AccessDeniedException', 'InvalidRequestException', 'ThrottlingException']);
    const byUser = Object.values(d.byUser).reduce((n, t) => n + t.failedCalls, 0);
    const byWorkgroup = Object.values(d.byWorkgroup).reduce((n, t) => n + t.failedCalls, 0);
    expect(byUser).toBe(4);
    expect(byWorkgroup).toBe(4);
    expect(d.byUser.erin?.failedCalls).toBe(3);
    expect(d.byUser.erin?.sessionsStarted).toBe(0);
  });

  it('adds measured and upper-bound DPU-hours and says when any is an upper bound', () => {
    // B: 10 DPUs × 2 h (upper bound); C: 3 DPU-h measured; D: 2 DPUs × 40 min (upper bound).
    expect(d.dpuHours).toBeCloseTo(20 + 3 + 2 * (40 / 60), 10);
    expect(d.dpuHoursIsUpperBound).toBe(true);
    expect(d.estimatedCostUsd).toBeCloseTo(d.dpuHours * 0.35, 10);
  });

  it('tallies by user and by workgroup, sorted by name', () => {
    expect(Object.keys(d.byUser)).toEqual(['alias', 'carol', 'dana', 'erin']);
    expect(d.byUser.alias).toMatchObject({ sessionsStarted: 1, calculationsStarted: 2, failedCalls: 1 });
    expect(d.byUser.alias?.dpuHours).toBeCloseTo(20, 10);
    expect(d.byUser.dana).toEqual({ sessionsStarted: 1, calculationsStarted: 1, dpuHours: 3, failedCalls: 0 });
    expect(d.byUser.carol).toMatchObject({ sessionsStarted: 1, calculationsStarted: 0, failedCalls: 0 });
    // Failed calls that name no workgroup and no known session count under 'unknown'.
    expect(Object.keys(d.byWorkgroup)).toEqual(['notebook-workgroup', 'spark-wg', 'unknown']);
    expect(d.byWorkgroup.unknown).toEqual({ sessionsStarted: 0, calculationsStarted: 0, dpuHours: 0, failedCalls: 1 });
    expect(d.byWorkgroup['spark-wg']).toMatchObject({ sessionsStarted: 1, calculationsStarted: 1, dpuHours: 3 });
    expect(d.byWorkgroup['notebook-workgroup']).toMatchObject({ sessionsStarted: 2, calculationsStarted: 2 });
    expect(d.generatedAt).toBe(NOW);
  });
});

describe('buildDigest: details', () => {
  it('is not an upper bound when every session started in the day is measured', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: '2026-05-04T10:00:00Z' }), terminateSession({ sessionId: sid, eventTime: '2026-05-04T11:00:00Z' })];
    const d = digestOf(records, { date: '2026-05-04', now: NOW, enrichment: lookup({ [sid]: { state: 'TERMINATED', dpuExecutionMillis: HOUR / 2 } }) });
    expect(d.dpuHours).toBe(0.5);
    expect(d.dpuHoursIsUpperBound).toBe(false);
    expect(d.estimatedCostUsd).toBeCloseTo(0.175, 10);
    const unmeasured = digestOf(records, { date: '2026-05-04', now: NOW });
    expect(unmeasured.dpuHoursIsUpperBound).toBe(true);
  });

  it('lists an open long-running calculation as open, confirmed when Athena says it runs', () => {
    const sid = fakeUuid();
    const cid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: '2026-05-04T22:00:00Z' }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: '2026-05-04T22:05:00Z' })];
    const d = digestOf(records, { date: '2026-05-04', now: iso('2026-05-04T23:05:00Z'), enrichment: lookup({}, { [cid]: { state: 'RUNNING' } }) });
    expect(d.longRunningCalculations).toEqual([{ calculationId: cid, sessionId: sid, minutes: 60, confirmed: true, open: true, owner: 'alias', workgroup: 'notebook-workgroup' }]);
    expect(d.sessionsEnded).toBe(0);
  });

  it('counts a calculation on the day it started even when its session started the day before', () => {
    const sid = fakeUuid();
    const cid = fakeUuid();
    const records = [
      startSession({ sessionId: sid, eventTime: '2026-05-03T23:50:00Z', idleTimeoutMinutes: 60 }),
      startCalculation({ sessionId: sid, calculationId: cid, eventTime: '2026-05-04T00:10:00Z' }),
    ];
    const d = digestOf(records, { date: '2026-05-04', now: iso('2026-05-04T00:20:00Z') });
    expect(d.sessionsStarted).toBe(0);
    expect(d.calculationsStarted).toBe(1);
    expect(d.byUser.alias).toMatchObject({ sessionsStarted: 0, calculationsStarted: 1 });
  });

  it('counts a session that ended by idle-timeout inference in the day it timed out', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: '2026-05-03T23:50:00Z', idleTimeoutMinutes: 20 })];
    expect(digestOf(records, { date: '2026-05-04', now: NOW }).sessionsEnded).toBe(1);
    expect(digestOf(records, { date: '2026-05-03', now: NOW }).sessionsEnded).toBe(0);
  });

  it('follows the time zone: a late-evening New York session belongs to the New York day', () => {
    const sid = fakeUuid();
    // 2026-03-09T03:30Z is 23:30 EDT on 2026-03-08, the 23-hour day.
    const records = [startSession({ sessionId: sid, eventTime: '2026-03-09T03:30:00Z' })];
    const ny = (date: string) => digestOf(records, { date, timezone: 'America/New_York', now: iso('2026-03-09T04:00:00Z') });
    expect(ny('2026-03-08').sessionsStarted).toBe(1);
    expect(ny('2026-03-09').sessionsStarted).toBe(0);
    expect(digestOf(records, { date: '2026-03-09', now: iso('2026-03-09T04:00:00Z') }).sessionsStarted).toBe(1);
    // In Kolkata it is already 09:00 on the 9th.
    expect(digestOf(records, { date: '2026-03-09', timezone: 'Asia/Kolkata', now: iso('2026-03-09T04:00:00Z') }).sessionsStarted).toBe(1);
  });

  it('counts each session and each record once, whatever the repeats', () => {
    const records = dayRecords();
    const once = digestOf(records, { date: '2026-05-04', now: NOW, enrichment: measured() });
    const events = records.map(ev);
    const { start, end } = dayBounds('2026-05-04', 'UTC');
    const dayEvents = events.filter((e) => e.eventTime >= start && e.eventTime < end);
    const views = [A, B, C, D].map((id) => foldSession(id, events.filter((e) => e.sessionId === id || (e.sessionId === null && e.calculationId === B1)), measured(), { now: NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!);
    const twice = buildDigest({ date: '2026-05-04', timezone: 'UTC', start, end, now: NOW, dayEvents: [...dayEvents, ...[...dayEvents].reverse()], sessions: [...views, ...[...views].reverse()], dpuHourPriceUsd: 0.35 });
    expect(twice).toEqual(once);
  });

  it('totals per account: sessions, calculations, DPU-hours and failed calls of each account the records name', () => {
    const [s1, s2, s3] = [fakeUuid(), fakeUuid(), fakeUuid()];
    const c1 = fakeUuid();
    const inAccount = (name: string, account: string) => ({ kind: 'assumed-role' as const, role: 'DataScientist', sessionName: name, account });
    const records = [
      startSession({ sessionId: s1, eventTime: '2026-05-04T09:00:00Z', actor: inAccount('ana', '111111111111'), maxConcurrentDpus: 10 }),
      startCalculation({ sessionId: s1, calculationId: c1, eventTime: '2026-05-04T09:05:00Z', actor: { kind: 'executor', sessionId: s1, account: '111111111111' } }),
      terminateSession({ sessionId: s1, eventTime: '2026-05-04T10:00:00Z', actor: inAccount('ana', '111111111111') }),
      startSession({ sessionId: s2, eventTime: '2026-05-04T11:00:00Z', actor: inAccount('ben', '222222222222') }),
      terminateSession({ sessionId: s2, eventTime: '2026-05-04T11:30:00Z', actor: inAccount('ben', '222222222222') }),
      startSession({ sessionId: s3, eventTime: '2026-05-04T12:00:00Z', actor: inAccount('ben', '222222222222') }),
      terminateSession({ sessionId: s3, eventTime: '2026-05-04T12:30:00Z', actor: inAccount('ben', '222222222222') }),
      call('GetSession', { actor: inAccount('eve', '333333333333'), eventTime: '2026-05-04T13:00:00Z', errorCode: 'AccessDeniedException', params: { sessionId: fakeUuid() } }),
    ];
    const d = digestOf(records, { date: '2026-05-04', now: NOW, enrichment: lookup({ [s2]: { state: 'TERMINATED', dpuExecutionMillis: 2 * HOUR } }) });
    expect(Object.keys(d.byAccount)).toEqual(['111111111111', '222222222222', '333333333333']);
    expect(d.byAccount['111111111111']).toEqual({ sessionsStarted: 1, calculationsStarted: 1, dpuHours: 10, failedCalls: 0 });
    expect(d.byAccount['222222222222']).toMatchObject({ sessionsStarted: 2, calculationsStarted: 0, failedCalls: 0 });
    // s2 measured (2 DPU-h), s3 an upper bound (20 DPUs × 30 min).
    expect(d.byAccount['222222222222']!.dpuHours).toBeCloseTo(2 + 10, 10);
    expect(d.byAccount['333333333333']).toEqual({ sessionsStarted: 0, calculationsStarted: 0, dpuHours: 0, failedCalls: 1 });
    // The accounts add up to the day's totals.
    const sum = (k: 'sessionsStarted' | 'calculationsStarted' | 'dpuHours' | 'failedCalls') => Object.values(d.byAccount).reduce((n, t) => n + t[k], 0);
    expect([sum('sessionsStarted'), sum('calculationsStarted'), sum('failedCalls')]).toEqual([d.sessionsStarted, d.calculationsStarted, d.failedCalls]);
    expect(sum('dpuHours')).toBeCloseTo(d.dpuHours, 10);
  });

  it('orders notebook imports of the same second the same way whatever the input order', () => {
    const at = '2026-05-04T12:00:00Z';
    const a = ev(importNotebook({ notebookId: 'nb-a', name: 'a', eventTime: at }));
    const b = ev(importNotebook({ notebookId: 'nb-b', name: 'b', eventTime: at }));
    const { start, end } = dayBounds('2026-05-04', 'UTC');
    const digest = (dayEvents: NotebookEvent[]) => buildDigest({ date: '2026-05-04', timezone: 'UTC', start, end, now: NOW, dayEvents, sessions: [], dpuHourPriceUsd: 0.35 });
    expect(digest([b, a]).notebookImports).toEqual(digest([a, b]).notebookImports);
    expect(digest([b, a]).notebookImports.map((n) => n.name)).toEqual(['a', 'b']);
  });

  it('is empty for a day with nothing', () => {
    const { start, end } = dayBounds('2026-05-04', 'UTC');
    expect(buildDigest({ date: '2026-05-04', timezone: 'UTC', start, end, now: NOW, dayEvents: [], sessions: [], dpuHourPriceUsd: 0.35 })).toEqual({
      date: '2026-05-04',
      timezone: 'UTC',
      sessionsStarted: 0,
      sessionsEnded: 0,
      sessionHours: 0,
      notebookImports: [],
      notebooksCreated: 0,
      calculationsStarted: 0,
      longRunningCalculations: [],
      possiblyLongRunning: [],
      failedCalls: 0,
      failedCallsByCode: {},
      dpuHours: 0,
      dpuHoursIsUpperBound: false,
      estimatedCostUsd: 0,
      byUser: {},
      byWorkgroup: {},
      byAccount: {},
      setApartCalls: { bot: 0, ignored: 0 },
      advice: [],
      generatedAt: NOW,
    });
  });

  it('uses the configured long-running threshold through the views', () => {
    const d = digestOf(dayRecords(), { date: '2026-05-04', now: NOW, enrichment: measured(), longRunningMinutes: 46 });
    expect(d.longRunningCalculations.map((c) => c.calculationId)).toEqual([]);
    expect(d.possiblyLongRunning.map((c) => c.calculationId)).toEqual([C1]);
    const lower = digestOf(dayRecords(), { date: '2026-05-04', now: NOW, enrichment: measured(), longRunningMinutes: 45 });
    expect(lower.longRunningCalculations.map((c) => c.calculationId)).toEqual([B1]);
    expect(MINUTE).toBe(60_000);
  });
});
