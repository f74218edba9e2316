import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, startAwsFake, type AwsFake } from '../../fakes/aws-fake.js';
import { captureLogger, tempStore, TestClock, useAwsFakeEnv } from '../../support/harness.js';
import { call, executor, fakeUuid, startCalculation, startSession } from '../../support/cloudtrail-records.js';
import { createAthenaSource } from '../../../src/sources/athena/athena-source.js';
import { Enricher } from '../../../src/sources/athena/enrich.js';
import { buildSessionReport } from '../../../src/reports/session-report.js';
import type { Store } from '../../../src/store/store.js';
import { MINUTE } from '../../../src/util/clock.js';
import { toEvents as events } from '../../support/events.js';

const REGION = 'us-east-1';
const TARGET = { account: '', region: REGION };
const T0 = Date.parse('2026-11-23T12:00:00Z');
let fake: AwsFake;
let restore: () => void;
let store: Store;
const clock = new TestClock(T0);

beforeAll(async () => {
  fake = await startAwsFake({ now: clock.now });
  restore = useAwsFakeEnv(fake, REGION);
});
afterAll(async () => {
  restore();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setRatePerSecond(Infinity);
  clock.t = T0;
  store = tempStore().store;
});
afterEach(() => store.close());

function enricher(logger = captureLogger('silent').logger) {
  return new Enricher({ store, athena: createAthenaSource({ logger, ratePerSecond: 1000 }), clock, logger, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, refreshMs: 60_000 });
}

/** A session started 50 minutes ago whose calculations have run 45 and 10 minutes, with status polls. */
function openSession() {
  const sid = fakeUuid();
  const long = fakeUuid();
  const short = fakeUuid();
  const recs = [
    startSession({ sessionId: sid, eventTime: T0 - 50 * MINUTE, maxConcurrentDpus: 20 }),
    startCalculation({ sessionId: sid, calculationId: long, eventTime: T0 - 45 * MINUTE }),
    startCalculation({ sessionId: sid, calculationId: short, eventTime: T0 - 10 * MINUTE }),
  ];
  for (let m = 44; m >= 1; m--) recs.push(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 - m * MINUTE, params: { calculationExecutionId: long } }));
  store.insertEvents(events(recs), T0);
  return { sid, long, short };
}

const model = () => ({ now: clock.now(), longRunningMinutes: 30, dpuHourPriceUsd: 0.35 });
const athenaCalls = (op?: string) => fake.athenaCalls(op).length;

describe('Enricher', () => {
  it('confirms every calculation of a session in one ListCalculationExecutions, and the session with GetSession', async () => {
    const { sid, long, short } = openSession();
    fake.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 50 * MINUTE }, Statistics: { DpuExecutionInMillis: 3_600_000 } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: long, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MINUTE } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: short, SessionId: sid, Status: { State: 'COMPLETED', SubmissionDateTime: T0 - 10 * MINUTE, CompletionDateTime: T0 - 8 * MINUTE } }));
    const r = await enricher().enrichOpenWork();
    expect(r.callsByOperation).toMatchObject({ ListCalculationExecutions: 1, GetSession: 1 });
    expect(athenaCalls('GetCalculationExecution')).toBe(0);
    const view = buildSessionReport(store, sid, model())!.view;
    expect(view).toMatchObject({ stateSource: 'athena', state: 'BUSY', dpuHoursKind: 'measured', dpuHours: 1 });
    const byId = Object.fromEntries(view.calculations.map((c) => [c.calculationId, c]));
    expect(byId[long]).toMatchObject({ state: 'RUNNING', confirmed: true, confirmedAt: T0, endedAt: null, longRunning: true });
    expect(byId[short]).toMatchObject({ state: 'COMPLETED', confirmed: true, endedAt: T0 - 8 * MINUTE, runMs: 2 * MINUTE, longRunning: false });
  });

  it('never asks about finished work again, and refreshes what still runs after the refresh interval', async () => {
    const { sid, long, short } = openSession();
    fake.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 50 * MINUTE } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: long, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MINUTE } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: short, SessionId: sid, Status: { State: 'COMPLETED', SubmissionDateTime: T0 - 10 * MINUTE, CompletionDateTime: T0 - 9 * MINUTE } }));
    const e = enricher();
    await e.enrichOpenWork();
    const after1 = athenaCalls();
    await e.enrichOpenWork();
    expect(athenaCalls()).toBe(after1);

    // The long one completes and the session times out: asked once more, then never again.
    fake.updateCalculation(REGION, long, { Status: { State: 'COMPLETED', CompletionDateTime: T0 + MINUTE } });
    fake.updateSession(REGION, sid, { Status: { State: 'TERMINATED', EndDateTime: T0 + 2 * MINUTE } });
    clock.advance(2 * MINUTE);
    await e.enrichOpenWork();
    expect(athenaCalls('ListCalculationExecutions')).toBe(2);
    expect(athenaCalls('GetSession')).toBe(2);
    // Everything has ended and Athena said so: a report or a digest asks nothing more, ever.
    const confirmed = await e.confirmSessions([{ region: REGION, sessionId: sid }]);
    expect(confirmed).toMatchObject({ reachable: true, calls: 0 });
    clock.advance(60 * MINUTE);
    await e.confirmSessions([{ region: REGION, sessionId: sid }]);
    await e.enrichOpenWork();
    expect(athenaCalls('ListCalculationExecutions')).toBe(2);
    expect(athenaCalls('GetSession')).toBe(2);
    const view = buildSessionReport(store, sid, model())!.view;
    expect(view).toMatchObject({ state: 'TERMINATED', stateSource: 'athena', endedAt: T0 + 2 * MINUTE });
    expect(view.calculations.find((c) => c.calculationId === long)).toMatchObject({ state: 'COMPLETED', confirmed: true, endedAt: T0 + MINUTE, runMs: 46 * MINUTE });
  });

  it('without permission falls back to inference, logs once per operation, and withdraws answers it can no longer refresh', async () => {
    const { sid, long } = openSession();
    fake.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 50 * MINUTE } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: long, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MINUTE } }));
    const cap = captureLogger('info');
    const e = enricher(cap.logger);
    await e.enrichOpenWork();
    expect(buildSessionReport(store, sid, model())!.view.calculations.find((c) => c.calculationId === long)?.confirmed).toBe(true);

    fake.denyAthena(true);
    clock.advance(2 * MINUTE);
    const r = await e.enrichOpenWork();
    expect(r.denied).toBeGreaterThan(0);
    const callsAfterDenial = athenaCalls();
    clock.advance(5 * MINUTE);
    await e.enrichOpenWork();
    // Backed off for an hour: not asked again.
    expect(athenaCalls()).toBe(callsAfterDenial);
    const warnings = cap.lines().filter((l) => String(l.msg).startsWith('no permission for athena:'));
    expect(warnings.map((w) => w.operation).sort()).toEqual(['GetSession', 'ListCalculationExecutions']);
    expect(String(warnings.find((w) => w.operation === 'GetSession')!.msg)).toContain('grant athena:GetSession');
    const view = buildSessionReport(store, sid, model())!.view;
    expect(view.stateSource).not.toBe('athena');
    expect(view.calculations.find((c) => c.calculationId === long)?.confirmed).toBe(false);
    expect(view.dpuHoursKind).toBe('upper-bound');
    expect(e.refused().map((r) => r.operation).sort()).toEqual(['GetSession', 'ListCalculationExecutions']);
  });

  it('treats ResourceNotFoundException and InvalidRequestException as not found', async () => {
    const { sid } = openSession();
    const answer = await createAthenaSource({ logger: captureLogger('silent').logger, ratePerSecond: 1000 }).getSession(TARGET, sid);
    expect(answer.status).toBe('not-found');
    const other = await startAwsFake({ notFoundAs: 'InvalidRequestException' });
    const r2 = useAwsFakeEnv(other, REGION);
    try {
      const a2 = await createAthenaSource({ logger: captureLogger('silent').logger, ratePerSecond: 1000 }).getSession(TARGET, fakeUuid());
      expect(a2.status).toBe('not-found');
    } finally {
      r2();
      restore = useAwsFakeEnv(fake, REGION);
      await other.close();
    }
  });

  it('lists the active sessions of every Spark work group, including one CloudTrail has not delivered yet', async () => {
    const { sid } = openSession();
    const early = fakeUuid();
    fake.addWorkGroup(REGION, { Name: 'notebook-workgroup', EngineVersion: { SelectedEngineVersion: 'PySpark engine version 3', EffectiveEngineVersion: 'PySpark engine version 3' } });
    fake.addWorkGroup(REGION, { Name: 'sql-only', EngineVersion: { SelectedEngineVersion: 'Athena engine version 3', EffectiveEngineVersion: 'Athena engine version 3' } });
    fake.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 50 * MINUTE } }));
    fake.setSession(REGION, athenaSession({ SessionId: early, WorkGroup: 'notebook-workgroup', Status: { State: 'IDLE', StartDateTime: T0 - MINUTE }, EngineConfiguration: { MaxConcurrentDpus: 8 } }));
    const e = enricher();
    expect(await e.refreshActive([TARGET])).toBe(true);
    expect(fake.athenaCalls('ListSessions').map((q) => q.body.WorkGroup)).toEqual(['notebook-workgroup']);
    const { activeSessions } = await import('../../../src/reports/active-sessions.js');
    const active = activeSessions(store, model());
    expect(active.map((a) => [a.view.sessionId, a.listedByAthena, a.startInCloudTrail]).sort()).toEqual([
      [early, true, false],
      [sid, true, true],
    ].sort());
    // Work groups are listed once an hour, the sessions every time.
    await e.refreshActive([TARGET]);
    expect(fake.athenaCalls('ListWorkGroups')).toHaveLength(1);
    expect(fake.athenaCalls('ListSessions')).toHaveLength(2);
  });
});
