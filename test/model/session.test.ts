import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  call,
  executor,
  fakeUuid,
  human,
  iamUser,
  referenceRecords,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  updateNotebook,
  type CloudTrailRecord,
} from '../support/cloudtrail-records.js';
import { canonicalOrder, DEFAULT_IDLE_TIMEOUT_MINUTES, foldSession } from '../../src/model/session.js';
import {
  noEnrichment,
  type AthenaCalculationFacts,
  type AthenaSessionFacts,
  type EnrichmentLookup,
  type ModelOptions,
  type SessionView,
} from '../../src/model/types.js';
import { Store } from '../../src/store/store.js';
import { toEvent as ev } from '../support/events.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-05-04T10:00:00Z');
const NOTEBOOK_SESSION = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
const EXECUTOR_SESSION = '9cc1ebb2-aac5-b1ca-8247-5d827bd8232f';
const REFERENCE_CALC = '82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5';
const REFERENCE_NOTEBOOK = 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04';

const evs = (rs: CloudTrailRecord[]) => rs.map(ev);

function lookup(o: { sessions?: Record<string, AthenaSessionFacts>; calcs?: Record<string, AthenaCalculationFacts>; sessionStatus?: 'not-found' | 'denied' | 'error' } = {}): EnrichmentLookup {
  return {
    session: (id) => {
      if (o.sessionStatus) return { status: o.sessionStatus, fetchedAt: T0 };
      const f = o.sessions?.[id];
      return f ? { status: 'ok', facts: f, fetchedAt: T0 } : undefined;
    },
    calculation: (id) => {
      const f = o.calcs?.[id];
      return f ? { status: 'ok', facts: f, fetchedAt: T0 } : undefined;
    },
  };
}

function fold(id: string, records: CloudTrailRecord[], o: Partial<ModelOptions> & { enrichment?: EnrichmentLookup } = {}): SessionView {
  const { enrichment = noEnrichment, ...rest } = o;
  const v = foldSession(id, evs(records), enrichment, { now: T0 + 10 * HOUR, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, ...rest });
  if (!v) throw new Error('no view');
  return v;
}

const at = (iso: string) => Date.parse(iso);

describe('foldSession: AWS documentation reference records', () => {
  const refs = referenceRecords();
  const events = evs(refs);

  it('folds StartSession + TerminateSession of a2c1ebba… into a TERMINATED session from CloudTrail', () => {
    const v = foldSession(NOTEBOOK_SESSION, events.filter((e) => e.sessionId === NOTEBOOK_SESSION), noEnrichment, {
      now: at('2022-10-15T00:00:00Z'),
      longRunningMinutes: 30,
      dpuHourPriceUsd: 0.35,
    })!;
    expect(v).toMatchObject({
      sessionId: NOTEBOOK_SESSION,
      region: 'us-east-1',
      state: 'TERMINATED',
      stateSource: 'cloudtrail',
      endReason: 'terminated',
      owner: 'alias',
      ownerArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alias',
      workgroup: 'notebook-workgroup',
      notebookId: REFERENCE_NOTEBOOK,
      notebookVersion: 'KeplerJupyter-1.x',
      maxConcurrentDpus: 20,
      coordinatorDpuSize: 1,
      defaultExecutorDpuSize: 1,
      idleTimeoutMinutes: 20,
      startedAt: at('2022-10-14T17:05:36Z'),
      endedAt: at('2022-10-14T17:21:03Z'),
      lastActivityAt: at('2022-10-14T17:21:03Z'),
      engine: 'pyspark',
      calculations: [],
      failedCalls: [],
      events: 2,
      dpuHoursKind: 'upper-bound',
    });
    // 20 DPUs × 15 min 27 s, an upper bound.
    expect(v.dpuHours).toBeCloseTo((20 * 927) / 3600, 10);
    expect(v.estimatedCostUsd).toBeCloseTo(((20 * 927) / 3600) * 0.35, 10);
    expect(v.endedAt).not.toBeNull();
    expect(v.timeline.map((t) => t.what)).toEqual(['StartSession', 'TerminateSession']);
  });

  it('attaches the executor-signed UpdateNotebook and StartCalculationExecution to 9cc1ebb2…', () => {
    const mine = events.filter((e) => e.sessionId === EXECUTOR_SESSION);
    expect(mine.map((e) => e.eventName).sort()).toEqual(['StartCalculationExecution', 'UpdateNotebook']);
    for (const e of mine) expect(e.principal).toBe(`AthenaExecutor-${EXECUTOR_SESSION}`);
    const v = foldSession(EXECUTOR_SESSION, mine, noEnrichment, { now: at('2022-10-14T17:00:00Z'), longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!;
    expect(v.owner).toBeNull(); // no StartSession record for this one
    expect(v.startedAt).toBeNull();
    expect(v.engine).toBe('pyspark');
    expect(v.calculations.map((c) => c.calculationId)).toEqual([REFERENCE_CALC]);
    expect(v.notebooks).toEqual([{ notebookId: 'c87553ff-e740-44b5-884f-a70e575e08b9', calls: { UpdateNotebook: 1 } }]);
    expect(v.state).toBe('IDLE');
    expect(v.stateSource).toBe('inferred');
    expect(v.dpuHoursKind).toBe('unknown');
    expect(v.dpuHours).toBeNull();
    expect(v.estimatedCostUsd).toBeNull();
  });

  it('attaches executor calls by their caller alone, when the request names no session', () => {
    const sid = fakeUuid();
    const records = [
      call('UpdateNotebook', { actor: executor(sid), eventTime: T0, params: { notebookId: 'nb-1', type: 'IPYNB' } }),
      call('StartCalculationExecution', { actor: executor(sid), eventTime: T0 + MINUTE, params: { description: 'x' }, response: { calculationExecutionId: 'calc-1', state: 'CREATING' } }),
    ];
    for (const e of evs(records)) expect(e.sessionId).toBe(sid);
    const v = fold(sid, records, { now: T0 + 2 * MINUTE });
    expect(v.calculations).toHaveLength(1);
    expect(v.notebooks[0]?.notebookId).toBe('nb-1');
  });

  it('ignores the other session’s records: the importNotebook record has no session', () => {
    const imp = events.find((e) => e.eventName === 'ImportNotebook')!;
    expect(imp.sessionId).toBeNull();
  });
});

describe('foldSession: session start and owner', () => {
  it('names the owner by IAM user name or role session name', () => {
    const a = fakeUuid();
    expect(fold(a, [startSession({ sessionId: a, eventTime: T0, actor: iamUser('dana') })]).owner).toBe('dana');
    const b = fakeUuid();
    const v = fold(b, [startSession({ sessionId: b, eventTime: T0, actor: human('erin@example.com', 'DataSci') })]);
    expect(v.owner).toBe('erin@example.com');
    expect(v.ownerArn).toBe('arn:aws:sts::123456789012:assumed-role/DataSci/erin@example.com');
  });

  it('returns undefined when nothing is known of the session', () => {
    expect(foldSession(fakeUuid(), [], noEnrichment, { now: T0, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })).toBeUndefined();
  });

  it('accepts an upper-case session id and answers in lower case', () => {
    const sid = fakeUuid().replace(/0/g, 'a');
    const records = [startSession({ sessionId: sid.toUpperCase(), eventTime: T0 })];
    const v = fold(sid.toUpperCase(), records, { now: T0 + MINUTE });
    expect(v.sessionId).toBe(sid);
    expect(v.state).toBe('CREATED');
    expect(v.owner).toBe('alias');
  });

  it('is CREATED from CloudTrail while the session is young', () => {
    const sid = fakeUuid();
    const v = fold(sid, [startSession({ sessionId: sid, eventTime: T0 })], { now: T0 + 5 * MINUTE });
    expect(v).toMatchObject({ state: 'CREATED', stateSource: 'cloudtrail', endedAt: null, endReason: null });
    expect(v.endedAt).toBeNull();
  });

  it('does not create a session from a failed StartSession', () => {
    const sid = fakeUuid();
    const failed = ev(startSession({ sessionId: sid, eventTime: T0, errorCode: 'InvalidRequestException', errorMessage: 'Workgroup is not enabled for Spark' }));
    // Athena returned no session id, so the record is kept but attached to no session.
    expect(failed.sessionId).toBeNull();
    expect(failed.errorCode).toBe('InvalidRequestException');
    const v = foldSession(sid, [failed], noEnrichment, { now: T0 + MINUTE, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!;
    expect(v.owner).toBeNull();
    expect(v.startedAt).toBeNull();
    expect(v.maxConcurrentDpus).toBeNull();
    expect(v.failedCalls).toEqual([
      { eventName: 'StartSession', errorCode: 'InvalidRequestException', eventTime: T0, principal: 'alias', principalType: 'AssumedRole', sessionId: null, errorMessage: 'Workgroup is not enabled for Spark' },
    ]);
  });

  it('keeps a failed StartSession that does carry a session id out of the state', () => {
    const sid = fakeUuid();
    const r = startSession({ sessionId: sid, eventTime: T0, errorCode: 'InternalServerException' });
    r.responseElements = { sessionId: sid };
    const v = fold(sid, [r], { now: T0 + MINUTE });
    expect(v.owner).toBeNull();
    expect(v.startedAt).toBeNull();
    expect(v.failedCalls).toHaveLength(1);
  });
});

describe('foldSession: ends of sessions', () => {
  it('ends at a successful TerminateSession record, whoever sent it', () => {
    const sid = fakeUuid();
    const v = fold(sid, [startSession({ sessionId: sid, eventTime: T0 }), terminateSession({ sessionId: sid, eventTime: T0 + 7 * MINUTE, actor: iamUser('ops') })], {
      now: T0 + 8 * MINUTE,
    });
    expect(v).toMatchObject({ state: 'TERMINATED', stateSource: 'cloudtrail', endReason: 'terminated', endedAt: T0 + 7 * MINUTE, owner: 'alias' });
  });

  it('does not end at a failed TerminateSession', () => {
    const sid = fakeUuid();
    const v = fold(sid, [startSession({ sessionId: sid, eventTime: T0 }), terminateSession({ sessionId: sid, eventTime: T0 + MINUTE, errorCode: 'AccessDeniedException' })], {
      now: T0 + 2 * MINUTE,
    });
    expect(v).toMatchObject({ state: 'CREATED', stateSource: 'cloudtrail', endedAt: null, endReason: null });
    expect(v.failedCalls).toEqual([expect.objectContaining({ eventName: 'TerminateSession', errorCode: 'AccessDeniedException', sessionId: sid })]);
    expect(v.timeline.find((t) => t.what === 'TerminateSession')?.errorCode).toBe('AccessDeniedException');
  });

  it('infers the idle-timeout end at exactly last activity + the session’s idle timeout', () => {
    const sid = fakeUuid();
    const cid = fakeUuid();
    const records = [
      startSession({ sessionId: sid, eventTime: T0, idleTimeoutMinutes: 15 }),
      startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + 5 * MINUTE }),
      call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 + 7 * MINUTE, params: { calculationExecutionId: cid } }),
    ];
    // The status poll is read-only, so not activity; but it names the open calculation, which
    // was still being waited on then: the session could only start to idle after it.
    const lastActivity = T0 + 5 * MINUTE;
    const lastPoll = T0 + 7 * MINUTE;
    const before = fold(sid, records, { now: lastPoll + 15 * MINUTE - 1 });
    expect(before).toMatchObject({ state: 'CREATED', stateSource: 'cloudtrail', endedAt: null, lastActivityAt: lastActivity });
    expect(before.calculations[0]).toMatchObject({ endedAt: null, confirmed: false, endSource: null });

    const v = fold(sid, records, { now: lastPoll + 15 * MINUTE });
    expect(v).toMatchObject({
      state: 'TERMINATED',
      stateSource: 'inferred',
      endReason: 'idle-timeout',
      endedAt: lastPoll + 15 * MINUTE,
      idleTimeoutMinutes: 15,
    });
    expect(v.timeline.at(-1)).toEqual({ at: lastPoll + 15 * MINUTE, what: 'idle timeout (inferred)', count: 1, inferred: true });
    // The calculation ended with the session, at the latest when the session went idle: how, nobody knows.
    expect(v.calculations[0]).toMatchObject({ state: 'UNKNOWN', endSource: 'session-ended', endIsUpperBound: true, confirmed: false, endedAt: lastPoll, lastSeenAt: lastPoll });
    // Later views agree: the end does not move with now.
    expect(fold(sid, records, { now: lastPoll + 10 * HOUR }).endedAt).toBe(lastPoll + 15 * MINUTE);
  });

  it('uses Athena’s default idle timeout of 20 minutes when no StartSession says otherwise', () => {
    expect(DEFAULT_IDLE_TIMEOUT_MINUTES).toBe(20);
    const sid = fakeUuid();
    const records = [updateNotebook({ notebookId: 'nb', sessionId: sid, eventTime: T0 })];
    expect(fold(sid, records, { now: T0 + 20 * MINUTE - 1 })).toMatchObject({ state: 'IDLE', stateSource: 'inferred', endedAt: null });
    expect(fold(sid, records, { now: T0 + 20 * MINUTE })).toMatchObject({ state: 'TERMINATED', stateSource: 'inferred', endedAt: T0 + 20 * MINUTE, idleTimeoutMinutes: 20 });
  });

  it('takes the idle timeout from Athena when there is no StartSession record', () => {
    const sid = fakeUuid();
    const records = [updateNotebook({ notebookId: 'nb', sessionId: sid, eventTime: T0 })];
    // Athena says not found for the session itself, so its facts are not used for state…
    expect(fold(sid, records, { now: T0 + 25 * MINUTE, enrichment: lookup({ sessionStatus: 'not-found' }) }).endedAt).toBe(T0 + 20 * MINUTE);
  });

  it('does not infer an end while Athena confirms a calculation is running', () => {
    const sid = fakeUuid();
    const cid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE })];
    const now = T0 + 3 * HOUR;
    const running = fold(sid, records, { now, enrichment: lookup({ calcs: { [cid]: { state: 'RUNNING', sessionId: sid, submittedAt: T0 + MINUTE } } }) });
    expect(running).toMatchObject({ state: 'CREATED', stateSource: 'cloudtrail', endedAt: null, endReason: null });
    expect(running.calculations[0]).toMatchObject({ state: 'RUNNING', confirmed: true, endedAt: null, endSource: null, runMs: now - (T0 + MINUTE), longRunning: true });

    // Without a StartSession record the session is known busy, by inference.
    const noStart = fold(sid, records.slice(1), { now, enrichment: lookup({ calcs: { [cid]: { state: 'QUEUED' } } }) });
    expect(noStart).toMatchObject({ state: 'BUSY', stateSource: 'inferred', endedAt: null });

    // A calculation Athena says is finished does not block the inference.
    const done = fold(sid, records, { now, enrichment: lookup({ calcs: { [cid]: { state: 'COMPLETED', completedAt: T0 + 2 * MINUTE } } }) });
    expect(done).toMatchObject({ state: 'TERMINATED', stateSource: 'inferred', endedAt: T0 + MINUTE + 20 * MINUTE });
  });

  it('lets Athena’s session facts override CloudTrail and inference', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 }), terminateSession({ sessionId: sid, eventTime: T0 + 10 * MINUTE })];
    const idle = fold(sid, records, { now: T0 + HOUR, enrichment: lookup({ sessions: { [sid]: { state: 'IDLE', startedAt: T0 - 2000 } } }) });
    expect(idle).toMatchObject({ state: 'IDLE', stateSource: 'athena', endedAt: null, endReason: null, startedAt: T0 - 2000 });

    const ended = fold(sid, records, { now: T0 + HOUR, enrichment: lookup({ sessions: { [sid]: { state: 'TERMINATED', endedAt: T0 + 11 * MINUTE } } }) });
    expect(ended).toMatchObject({ state: 'TERMINATED', stateSource: 'athena', endedAt: T0 + 11 * MINUTE, endReason: 'athena', startedAt: T0 });

    // Terminal without an end time: the TerminateSession record's time.
    const noEnd = fold(sid, records, { now: T0 + HOUR, enrichment: lookup({ sessions: { [sid]: { state: 'FAILED' } } }) });
    expect(noEnd).toMatchObject({ state: 'FAILED', stateSource: 'athena', endedAt: T0 + 10 * MINUTE, endReason: 'athena' });

    // Athena's word on a session with no record left in the store still gives a view.
    const only = foldSession(sid, [], lookup({ sessions: { [sid]: { state: 'BUSY', startedAt: T0, maxConcurrentDpus: 8, idleTimeoutMinutes: 45 } } }), {
      now: T0 + HOUR,
      longRunningMinutes: 30,
      dpuHourPriceUsd: 0.35,
    })!;
    expect(only).toMatchObject({ state: 'BUSY', stateSource: 'athena', startedAt: T0, maxConcurrentDpus: 8, idleTimeoutMinutes: 45, events: 0, owner: null });

    // Athena idle facts also block an idle-timeout inference long after the last record.
    const stillIdle = fold(sid, records.slice(0, 1), { now: T0 + 10 * HOUR, enrichment: lookup({ sessions: { [sid]: { state: 'IDLE' } } }) });
    expect(stillIdle).toMatchObject({ state: 'IDLE', stateSource: 'athena', endedAt: null });
  });

  it('falls back to CloudTrail when Athena could not answer', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 }), terminateSession({ sessionId: sid, eventTime: T0 + MINUTE })];
    for (const status of ['not-found', 'denied', 'error'] as const) {
      expect(fold(sid, records, { enrichment: lookup({ sessionStatus: status }) })).toMatchObject({ state: 'TERMINATED', stateSource: 'cloudtrail' });
    }
  });
});

describe('foldSession: calculations', () => {
  const sid = 'dddddddd-0000-4000-8000-000000000001';
  const cid = 'cccccccc-0000-4000-8000-000000000001';
  const base = () => [startSession({ sessionId: sid, eventTime: T0 }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE })];

  it('is open (unconfirmed) with no end, running until now', () => {
    const v = fold(sid, base(), { now: T0 + 11 * MINUTE });
    expect(v.calculations).toEqual([
      {
        calculationId: cid,
        sessionId: sid,
        startedAt: T0 + MINUTE,
        endedAt: null,
        state: 'CREATING',
        confirmed: false,
        confirmedAt: null,
        endSource: null,
        endIsUpperBound: false,
        runMs: 10 * MINUTE,
        longRunning: false,
        possiblyLongRunning: false,
        dpuHours: null,
        lastSeenAt: T0 + MINUTE,
      },
    ]);
  });

  it('ends at a StopCalculationExecution record, confirmed', () => {
    const v = fold(sid, [...base(), stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 6 * MINUTE })], { now: T0 + HOUR });
    expect(v.calculations[0]).toMatchObject({ state: 'CANCELED', endedAt: T0 + 6 * MINUTE, confirmed: true, endSource: 'stop-record', runMs: 5 * MINUTE });
  });

  it('ignores a failed StopCalculationExecution and a stop older than the start', () => {
    const failed = fold(sid, [...base(), stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 6 * MINUTE, errorCode: 'InvalidRequestException' })], {
      now: T0 + 10 * MINUTE,
    });
    expect(failed.calculations[0]).toMatchObject({ endedAt: null, confirmed: false, endSource: null });
    expect(failed.failedCalls.map((f) => f.eventName)).toEqual(['StopCalculationExecution']);

    const early = fold(sid, [...base(), stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 30_000 })], { now: T0 + 10 * MINUTE });
    expect(early.calculations[0]).toMatchObject({ endedAt: null, endSource: null });
  });

  it('ends at most at the TerminateSession of its session: an upper bound, possibly long-running, state unknown', () => {
    const v = fold(sid, [...base(), terminateSession({ sessionId: sid, eventTime: T0 + 41 * MINUTE })], { now: T0 + HOUR });
    expect(v.calculations[0]).toMatchObject({
      state: 'UNKNOWN',
      endedAt: T0 + 41 * MINUTE,
      confirmed: false,
      endSource: 'session-terminated',
      endIsUpperBound: true,
      runMs: 40 * MINUTE,
      longRunning: false,
      possiblyLongRunning: true,
    });
  });

  it('prefers a Stop record to the TerminateSession', () => {
    const v = fold(sid, [...base(), stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 3 * MINUTE }), terminateSession({ sessionId: sid, eventTime: T0 + 41 * MINUTE })]);
    expect(v.calculations[0]).toMatchObject({ endedAt: T0 + 3 * MINUTE, confirmed: true, endSource: 'stop-record' });
  });

  it('takes state, times and DPU-hours from Athena, confirmed, over both records', () => {
    const records = [...base(), stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + 3 * MINUTE }), terminateSession({ sessionId: sid, eventTime: T0 + 41 * MINUTE })];
    const enrichment = lookup({ calcs: { [cid]: { state: 'COMPLETED', submittedAt: T0 + MINUTE + 500, completedAt: T0 + 2 * MINUTE, dpuExecutionMillis: 1_800_000 } } });
    const v = fold(sid, records, { enrichment });
    expect(v.calculations[0]).toMatchObject({
      state: 'COMPLETED',
      startedAt: T0 + MINUTE + 500,
      endedAt: T0 + 2 * MINUTE,
      confirmed: true,
      endSource: 'athena',
      runMs: MINUTE - 500,
      dpuHours: 0.5,
    });
  });

  it('uses the session end for a terminal Athena calculation without a completion time', () => {
    const v = fold(sid, [...base(), terminateSession({ sessionId: sid, eventTime: T0 + 9 * MINUTE })], { enrichment: lookup({ calcs: { [cid]: { state: 'FAILED' } } }) });
    expect(v.calculations[0]).toMatchObject({ state: 'FAILED', endedAt: T0 + 9 * MINUTE, confirmed: true, endSource: 'athena' });
  });

  it('ends with a session Athena says is over, unconfirmed', () => {
    const v = fold(sid, base(), { enrichment: lookup({ sessions: { [sid]: { state: 'TERMINATED', endedAt: T0 + 20 * MINUTE } } }) });
    expect(v.calculations[0]).toMatchObject({ state: 'UNKNOWN', endedAt: T0 + 20 * MINUTE, confirmed: false, endSource: 'session-ended', endIsUpperBound: true });
  });

  it('keeps a failed StartCalculationExecution out of the calculations', () => {
    const v = fold(sid, [startSession({ sessionId: sid, eventTime: T0 }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE, errorCode: 'InvalidRequestException' })], {
      now: T0 + 2 * MINUTE,
    });
    expect(v.calculations).toEqual([]);
    expect(v.failedCalls).toEqual([expect.objectContaining({ eventName: 'StartCalculationExecution', errorCode: 'InvalidRequestException', principal: `AthenaExecutor-${sid}` })]);
  });

  it('records the last call that named the calculation', () => {
    const records = [...base(), call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 + 4 * MINUTE, params: { calculationExecutionId: cid } })];
    expect(fold(sid, records, { now: T0 + 5 * MINUTE }).calculations[0]?.lastSeenAt).toBe(T0 + 4 * MINUTE);
  });

  describe('long-running threshold (LONG_RUNNING_MINUTES, inclusive)', () => {
    const stopAfter = (ms: number) => [...base(), stopCalculation({ calculationId: cid, sessionId: sid, eventTime: T0 + MINUTE + ms })];

    it('exactly 30 minutes is long-running; 29 min 59 s is not', () => {
      expect(fold(sid, stopAfter(30 * MINUTE)).calculations[0]).toMatchObject({ runMs: 30 * MINUTE, longRunning: true });
      expect(fold(sid, stopAfter(30 * MINUTE - 1000)).calculations[0]).toMatchObject({ runMs: 30 * MINUTE - 1000, longRunning: false });
    });

    it('an open calculation is measured up to now', () => {
      // A 60-minute idle timeout keeps the session (and so the calculation) open for the check.
      const open = [startSession({ sessionId: sid, eventTime: T0, idleTimeoutMinutes: 60 }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE })];
      expect(fold(sid, open, { now: T0 + MINUTE + 30 * MINUTE }).calculations[0]).toMatchObject({ endedAt: null, longRunning: true, runMs: 30 * MINUTE });
      expect(fold(sid, open, { now: T0 + MINUTE + 30 * MINUTE - 1 }).calculations[0]).toMatchObject({ endedAt: null, longRunning: false });
    });

    it('follows the configured threshold', () => {
      expect(fold(sid, stopAfter(45 * MINUTE), { longRunningMinutes: 60 }).calculations[0]?.longRunning).toBe(false);
      expect(fold(sid, stopAfter(60 * MINUTE), { longRunningMinutes: 60 }).calculations[0]?.longRunning).toBe(true);
    });
  });
});

describe('foldSession: DPU-hours and cost', () => {
  it('measures DPU-hours from Athena’s dpuExecutionMillis when known', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0, maxConcurrentDpus: 20 }), terminateSession({ sessionId: sid, eventTime: T0 + 30 * MINUTE })];
    const v = fold(sid, records, { enrichment: lookup({ sessions: { [sid]: { state: 'TERMINATED', dpuExecutionMillis: 7_200_000 } } }), dpuHourPriceUsd: 0.5 });
    expect(v).toMatchObject({ dpuHours: 2, dpuHoursKind: 'measured', estimatedCostUsd: 1 });
  });

  it('bounds DPU-hours by max DPUs × duration otherwise, labelled as an upper bound', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0, maxConcurrentDpus: 20 }), terminateSession({ sessionId: sid, eventTime: T0 + 30 * MINUTE })];
    const v = fold(sid, records);
    expect(v.dpuHours).toBeCloseTo(10, 10);
    expect(v.dpuHoursKind).toBe('upper-bound');
    expect(v.estimatedCostUsd).toBeCloseTo(3.5, 10);
  });

  it('measures an open session up to now', () => {
    const sid = fakeUuid();
    const v = fold(sid, [startSession({ sessionId: sid, eventTime: T0, maxConcurrentDpus: 4 })], { now: T0 + 15 * MINUTE });
    expect(v.endedAt).toBeNull();
    expect(v.dpuHours).toBeCloseTo(1, 10);
    expect(v.dpuHoursKind).toBe('upper-bound');
  });

  it('takes max DPUs from Athena when there is no StartSession', () => {
    const sid = fakeUuid();
    const v = fold(sid, [updateNotebook({ notebookId: 'nb', sessionId: sid, eventTime: T0 + HOUR })], {
      enrichment: lookup({ sessions: { [sid]: { state: 'TERMINATED', startedAt: T0, endedAt: T0 + 2 * HOUR, maxConcurrentDpus: 3 } } }),
    });
    expect(v).toMatchObject({ maxConcurrentDpus: 3, dpuHours: 6, dpuHoursKind: 'upper-bound' });
  });

  it('is unknown without a start or Athena facts', () => {
    const sid = fakeUuid();
    expect(fold(sid, [updateNotebook({ notebookId: 'nb', sessionId: sid, eventTime: T0 })])).toMatchObject({ dpuHours: null, dpuHoursKind: 'unknown', estimatedCostUsd: null });
  });
});

describe('foldSession: engines', () => {
  it('recognises an Apache Spark 3.5 session (no notebook, GetSessionEndpoint) as Spark Connect', () => {
    const sid = fakeUuid();
    const records = [
      startSession({ sessionId: sid, eventTime: T0, notebookId: null }),
      call('GetSessionEndpoint', { actor: human('alias'), eventTime: T0 + MINUTE, params: { sessionId: sid } }),
    ];
    const v = fold(sid, records, { now: T0 + 2 * MINUTE });
    expect(v).toMatchObject({ engine: 'spark-connect', calculations: [], notebookId: null, notebookVersion: null, owner: 'alias', state: 'CREATED' });
    // GetSessionEndpoint is read-only but tells the story, so the timeline keeps it.
    expect(v.timeline.map((t) => t.what)).toEqual(['StartSession', 'GetSessionEndpoint']);
  });

  it('takes Spark Connect from Athena’s engine version', () => {
    const sid = fakeUuid();
    const v = fold(sid, [startSession({ sessionId: sid, eventTime: T0, notebookId: null })], { enrichment: lookup({ sessions: { [sid]: { state: 'IDLE', engineVersion: 'Apache Spark version 3.5' } } }) });
    expect(v.engine).toBe('spark-connect');
  });

  it('is the PySpark engine with a notebook, unknown with neither notebook nor calculations', () => {
    const a = fakeUuid();
    expect(fold(a, [startSession({ sessionId: a, eventTime: T0 })]).engine).toBe('pyspark');
    const b = fakeUuid();
    expect(fold(b, [startSession({ sessionId: b, eventTime: T0, notebookId: null })]).engine).toBe('unknown');
  });
});

describe('foldSession: timeline, notebooks and failed calls', () => {
  it('collapses notebook autosaves, hides read-only polls but counts them', () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 })];
    for (let i = 1; i <= 5; i++) records.push(updateNotebook({ notebookId: 'nb-1', sessionId: sid, eventTime: T0 + i * MINUTE }));
    for (let i = 1; i <= 3; i++) records.push(call('GetSessionStatus', { actor: human('alias'), eventTime: T0 + i * MINUTE + 1000, params: { sessionId: sid } }));
    const v = fold(sid, records, { now: T0 + 6 * MINUTE });
    expect(v.events).toBe(9);
    expect(v.timeline.map((t) => [t.what, t.count])).toEqual([
      ['StartSession', 1],
      ['UpdateNotebook', 5],
    ]);
    expect(v.notebooks).toEqual([
      { notebookId: 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04', calls: { StartSession: 1 } },
      { notebookId: 'nb-1', calls: { UpdateNotebook: 5 } },
    ]);
  });

  it('keeps caller details in the timeline for reports to hide or show', () => {
    const sid = fakeUuid();
    const v = fold(sid, [startSession({ sessionId: sid, eventTime: T0 })], { now: T0 + MINUTE });
    expect(v.timeline[0]).toMatchObject({ sourceIp: '203.0.113.10', accessKeyId: 'ASIAEXAMPLEKEYID0001' });
  });
});

describe('foldSession: order independence and idempotence', () => {
  it('gives the same view for reversed, shuffled and repeated input', () => {
    const sid = fakeUuid();
    const c1 = fakeUuid();
    const c2 = fakeUuid();
    const records = [
      startSession({ sessionId: sid, eventTime: T0 }),
      startCalculation({ sessionId: sid, calculationId: c1, eventTime: T0 + MINUTE }),
      startCalculation({ sessionId: sid, calculationId: c2, eventTime: T0 + MINUTE }),
      stopCalculation({ calculationId: c1, sessionId: sid, eventTime: T0 + 2 * MINUTE }),
      updateNotebook({ notebookId: 'nb', sessionId: sid, eventTime: T0 + 2 * MINUTE }),
      call('GetSession', { actor: human('bob'), eventTime: T0 + 2 * MINUTE, errorCode: 'AccessDeniedException', params: { sessionId: sid } }),
      terminateSession({ sessionId: sid, eventTime: T0 + 50 * MINUTE }),
    ];
    const events = evs(records);
    const opts = { now: T0 + HOUR, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
    const expected = foldSession(sid, events, noEnrichment, opts);
    expect(foldSession(sid, [...events].reverse(), noEnrichment, opts)).toEqual(expected);
    expect(foldSession(sid, [...events, ...events, ...events.slice(2)], noEnrichment, opts)).toEqual(expected);
    expect(canonicalOrder([...events].reverse())).toEqual(canonicalOrder(events));
    expect(canonicalOrder([...events, ...events])).toHaveLength(events.length);
  });
});

describe('attribution through the store', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('attributes a person’s StopCalculationExecution that names only the calculation', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asb-model-'));
    dirs.push(dir);
    const store = Store.open(path.join(dir, 'db.sqlite'));
    try {
      const sid = fakeUuid();
      const cid = fakeUuid();
      const stop = ev(stopCalculation({ calculationId: cid, eventTime: T0 + 9 * MINUTE, actor: human('alias') }));
      expect(stop.sessionId).toBeNull();
      expect(stop.calculationId).toBe(cid);
      store.insertEvents(
        [ev(startSession({ sessionId: sid, eventTime: T0 })), ev(startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + MINUTE })), stop],
        T0 + HOUR,
      );
      const row = store.db.prepare('SELECT session_id FROM records WHERE event_id = ?').get(stop.eventId) as { session_id: string | null };
      expect(row.session_id).toBeNull();

      const events = store.eventsForSession(sid);
      expect(events.map((e) => e.eventName)).toContain('StopCalculationExecution');
      const v = foldSession(sid, events, noEnrichment, { now: T0 + HOUR, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!;
      expect(v.calculations[0]).toMatchObject({ calculationId: cid, state: 'CANCELED', endedAt: T0 + 9 * MINUTE, confirmed: true, endSource: 'stop-record' });
      // The stop is not attributed to some other session.
      expect(store.eventsForSession(fakeUuid())).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('failed calls are not activity', () => {
  const model = { longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };

  it('a failed call after the idle timeout does not move the inferred end', () => {
    const sid = fakeUuid();
    const records = evs([
      startSession({ sessionId: sid, eventTime: T0, idleTimeoutMinutes: 20 }),
      call('GetSession', { actor: human('alias'), eventTime: T0 + 23 * HOUR, params: { sessionId: sid }, errorCode: 'AccessDeniedException' }),
    ]);
    const v = foldSession(sid, records, noEnrichment, { ...model, now: T0 + 24 * HOUR })!;
    expect(v).toMatchObject({ state: 'TERMINATED', stateSource: 'inferred', endedAt: T0 + 20 * MINUTE, lastActivityAt: T0 });
    expect(v.failedCalls).toHaveLength(1);
  });

  it('an id known only from failed calls is reported but never inferred to have ended', () => {
    const sid = fakeUuid();
    const failed = evs([call('GetSessionStatus', { actor: human('alias'), eventTime: T0, params: { sessionId: sid }, errorCode: 'ResourceNotFoundException' })]);
    const v = foldSession(sid, failed, noEnrichment, { ...model, now: T0 + 24 * HOUR })!;
    expect(v.endedAt).toBeNull();
    expect(v.startedAt).toBeNull();
    expect(v.failedCalls).toHaveLength(1);
  });
});

describe('read-only calls are not activity (SPEC §2)', () => {
  const model = { longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
  const sid = 'eeeeeeee-0000-4000-8000-00000000000e';

  it("a console's status polls, calculation listings and notebook reads move neither last activity nor the idle end", () => {
    const work = [startSession({ sessionId: sid, eventTime: T0, idleTimeoutMinutes: 20 }), updateNotebook({ notebookId: 'nb', sessionId: sid, eventTime: T0 + 5 * MINUTE })];
    const reads = [
      call('GetSessionStatus', { actor: human('bob'), eventTime: T0 + 10 * MINUTE, params: { sessionId: sid } }),
      call('ListCalculationExecutions', { actor: human('bob'), eventTime: T0 + 15 * MINUTE, params: { sessionId: sid } }),
      call('GetNotebookMetadata', { actor: executor(sid), eventTime: T0 + 22 * MINUTE, params: { notebookId: 'nb' } }),
      call('GetSession', { actor: human('datadog'), eventTime: T0 + 24 * MINUTE, params: { sessionId: sid } }),
    ];
    const quiet = foldSession(sid, evs(work), noEnrichment, { ...model, now: T0 + 3 * HOUR })!;
    const read = foldSession(sid, evs([...work, ...reads]), noEnrichment, { ...model, now: T0 + 3 * HOUR })!;
    expect(quiet).toMatchObject({ state: 'TERMINATED', stateSource: 'inferred', endedAt: T0 + 25 * MINUTE, lastActivityAt: T0 + 5 * MINUTE });
    expect(read).toMatchObject({ state: 'TERMINATED', stateSource: 'inferred', endedAt: T0 + 25 * MINUTE, lastActivityAt: T0 + 5 * MINUTE });
    // Counted, never shown.
    expect(read.events).toBe(quiet.events + reads.length);
    expect(read.timeline).toEqual(quiet.timeline);
    // Before the idle end the polls do not keep the session "alive" longer either.
    expect(foldSession(sid, evs([...work, ...reads]), noEnrichment, { ...model, now: T0 + 24 * MINUTE })!.endedAt).toBeNull();
    expect(foldSession(sid, evs([...work, ...reads]), noEnrichment, { ...model, now: T0 + 25 * MINUTE })!.endedAt).toBe(T0 + 25 * MINUTE);
  });

  it('a session without its StartSession takes its notebook from the calls that name both', () => {
    const v = fold(sid, [updateNotebook({ notebookId: 'c87553ff-e740-44b5-884f-a70e575e08b9', sessionId: sid, eventTime: T0 })]);
    expect(v.owner).toBeNull();
    expect(v.notebookId).toBe('c87553ff-e740-44b5-884f-a70e575e08b9');
  });
});

describe('a busy session: 50,000 status polls', () => {
  it('folds the same view from the polls one by one and from their summary, and its cost follows calculations, not polls', () => {
    const sid = 'ffffffff-0000-4000-8000-00000000000f';
    const calcs = Array.from({ length: 200 }, (_, i) => `c${String(i).padStart(3, '0')}-0000-4000-8000-000000000000`);
    const work: CloudTrailRecord[] = [startSession({ sessionId: sid, eventTime: T0, idleTimeoutMinutes: 60 })];
    calcs.forEach((cid, i) => work.push(startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 + i * MINUTE })));
    work.push(terminateSession({ sessionId: sid, eventTime: T0 + 4 * HOUR }));
    const polls: CloudTrailRecord[] = [];
    for (let i = 0; i < 50_000; i++) {
      const cid = calcs[i % calcs.length]!;
      polls.push(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 + Math.floor((i * 4 * HOUR) / 50_000), params: { calculationExecutionId: cid } }));
    }
    const all = evs([...work, ...polls]);
    const opts = { now: T0 + 5 * HOUR, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
    const byRecord = foldSession(sid, all, noEnrichment, opts)!;

    const store = Store.open(':memory:');
    try {
      expect(store.insertEvents(all, T0)).toBe(all.length);
      const { events, reads } = store.sessionRecords(sid);
      // What the report reads is the session's notable records: 202, not 50,202.
      expect(events).toHaveLength(work.length);
      expect(reads.count).toBe(50_000);
      expect(foldSession(sid, events, noEnrichment, opts, reads)).toEqual(byRecord);
    } finally {
      store.close();
    }
    expect(byRecord.events).toBe(50_202);
    // Offline, the only end of its calculations is the TerminateSession hours later: upper bounds, never facts.
    expect(byRecord.calculations.filter((c) => c.longRunning)).toEqual([]);
    expect(byRecord.calculations.every((c) => c.endIsUpperBound && c.state === 'UNKNOWN' && !c.confirmed)).toBe(true);
  });
});
