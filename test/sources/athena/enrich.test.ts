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

/** A session started 50 minutes ago whose one calculation has run 45 minutes with status polls. */
function openLongCalculation() {
  const sid = fakeUuid();
  const cid = fakeUuid();
  const recs = [startSession({ sessionId: sid, eventTime: T0 - 50 * MINUTE, maxConcurrentDpus: 20 }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 - 45 * MINUTE })];
  for (let m = 44; m >= 1; m--) recs.push(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 - m * MINUTE, params: { calculationExecutionId: cid } }));
  store.insertEvents(events(recs), T0);
  return { sid, cid };
}

const model = () => ({ now: clock.now(), longRunningMinutes: 30, dpuHourPriceUsd: 0.35 });

describe('Enricher', () => {
  it('confirms an open long-running calculation and a session without end record through Athena', async () => {
    const { sid, cid } = openLongCalculation();
    fake.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 50 * MINUTE }, Statistics: { DpuExecutionInMillis: 3_600_000 } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MINUTE } }));
    const r = await enricher().enrichOpenWork();
    expect(r.calls).toBe(2);
    const view = buildSessionReport(store, sid, model())!.view;
    expect(view.stateSource).toBe('athena');
    expect(view.state).toBe('BUSY');
    expect(view.dpuHoursKind).toBe('measured');
    expect(view.dpuHours).toBe(1);
    expect(view.calculations[0]).toMatchObject({ calculationId: cid, state: 'RUNNING', confirmed: true, endedAt: null, longRunning: true });
  });

  it('stores terminal answers and never asks again; refreshes non-terminal ones after the refresh interval', async () => {
    const { sid, cid } = openLongCalculation();
    fake.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 50 * MINUTE } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'COMPLETED', SubmissionDateTime: T0 - 45 * MINUTE, CompletionDateTime: T0 - 10 * MINUTE } }));
    const e = enricher();
    await e.enrichOpenWork();
    const athenaCalls = () => fake.requests.filter((q) => q.service === 'athena').length;
    const after1 = athenaCalls();
    await e.enrichOpenWork();
    expect(athenaCalls()).toBe(after1);
    clock.advance(2 * MINUTE);
    await e.enrichOpenWork();
    expect(fake.requests.filter((q) => q.target.endsWith('GetSession')).length).toBe(2);
    expect(fake.requests.filter((q) => q.target.endsWith('GetCalculationExecution')).length).toBe(1);
    const calc = buildSessionReport(store, sid, model())!.view.calculations[0]!;
    expect(calc).toMatchObject({ state: 'COMPLETED', confirmed: true, endedAt: T0 - 10 * MINUTE, runMs: 35 * MINUTE });
  });

  it('without permission falls back to inference, logs once, and marks answers unconfirmed', async () => {
    const { sid } = openLongCalculation();
    fake.denyAthena(true);
    const cap = captureLogger('info');
    const e = enricher(cap.logger);
    const r = await e.enrichOpenWork();
    expect(r.denied).toBeGreaterThan(0);
    await e.enrichOpenWork();
    clock.advance(5 * MINUTE);
    await e.enrichOpenWork();
    const warnings = cap.lines().filter((l) => String(l.msg).startsWith('no permission for athena:'));
    expect(warnings.map((w) => w.operation).sort()).toEqual(['GetCalculationExecution', 'GetSession']);
    // Asked once per operation, then backed off.
    expect(fake.requests.filter((q) => q.service === 'athena').length).toBe(2);
    const view = buildSessionReport(store, sid, model())!.view;
    expect(view.stateSource).not.toBe('athena');
    expect(view.calculations[0]!.confirmed).toBe(false);
    expect(view.dpuHoursKind).toBe('upper-bound');
  });

  it('treats ResourceNotFoundException and InvalidRequestException as not found', async () => {
    const { sid } = openLongCalculation();
    const answer = await createAthenaSource({ logger: captureLogger('silent').logger, ratePerSecond: 1000 }).getSession(REGION, sid);
    expect(answer.status).toBe('not-found');
    const other = await startAwsFake({ notFoundAs: 'InvalidRequestException' });
    const r2 = useAwsFakeEnv(other, REGION);
    try {
      const a2 = await createAthenaSource({ logger: captureLogger('silent').logger, ratePerSecond: 1000 }).getCalculation(REGION, fakeUuid());
      expect(a2.status).toBe('not-found');
    } finally {
      r2();
      restore = useAwsFakeEnv(fake, REGION);
      await other.close();
    }
  });
});
