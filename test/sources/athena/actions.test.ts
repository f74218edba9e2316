import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, startAwsFake, type AwsFake } from '../../fakes/aws-fake.js';
import { captureLogger, tempStore, TestClock, useAwsFakeEnv } from '../../support/harness.js';
import { fakeUuid, human, startCalculation, startSession, terminateSession } from '../../support/cloudtrail-records.js';
import { toEvents } from '../../support/events.js';
import { AthenaActions, type AthenaActionRequest } from '../../../src/sources/athena/actions.js';
import { createAthenaSource } from '../../../src/sources/athena/athena-source.js';
import { Enricher } from '../../../src/sources/athena/enrich.js';
import type { Store } from '../../../src/store/store.js';
import { MINUTE } from '../../../src/util/clock.js';

const REGION = 'us-east-1';
const T0 = Date.parse('2026-11-23T12:00:00Z');
let fake: AwsFake;
let restore: () => void;
let store: Store;
const clock = new TestClock(T0);
let log: ReturnType<typeof captureLogger>;

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
  clock.t = T0;
  store = tempStore().store;
  log = captureLogger('info');
});
afterEach(() => store.close());

function actions(): AthenaActions {
  const athena = createAthenaSource({ logger: log.logger, ratePerSecond: 1000, quick: true });
  const enricher = new Enricher({ store, athena, clock, logger: log.logger, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, refreshMs: 60_000 });
  return new AthenaActions({ store, athena, enricher, clock, logger: log.logger });
}

/** A session with a calculation running for 45 minutes, in the store and in Athena. */
function running(): { sid: string; cid: string } {
  const sid = fakeUuid();
  const cid = fakeUuid();
  store.insertEvents(
    toEvents([startSession({ sessionId: sid, eventTime: T0 - 50 * MINUTE, actor: human('heidi') }), startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 - 45 * MINUTE })]),
    T0,
  );
  fake.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 50 * MINUTE } }));
  fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MINUTE } }));
  return { sid, cid };
}

const stop = (x: { sid: string; cid: string }, userId = 'U0ONCALL'): AthenaActionRequest => ({
  action: 'stop-calculation',
  target: x.cid,
  sessionId: x.sid,
  calculationId: x.cid,
  region: REGION,
  userId,
  postKey: `alert:${x.cid}`,
});
const terminate = (x: { sid: string }): AthenaActionRequest => ({ action: 'terminate-session', target: x.sid, sessionId: x.sid, calculationId: null, region: REGION, userId: 'U0ONCALL', postKey: null });
const calls = (op: string) => fake.athenaCalls(op).length;

describe('AthenaActions', () => {
  it('stops a calculation once: recorded, asked, answered; a second request finds the first and asks nothing', async () => {
    const x = running();
    const a = actions();
    const first = await a.run(stop(x));
    expect(first).toMatchObject({ duplicate: false, record: { status: 'done', outcome: 'Athena is stopping it (CANCELING)', userId: 'U0ONCALL' } });
    expect(fake.getCalculation(REGION, x.cid)!.Status.State).toBe('CANCELING');
    const second = await a.run(stop(x, 'U0OTHER'));
    expect(second).toMatchObject({ duplicate: true, record: { id: first.record.id, userId: 'U0ONCALL' } });
    expect(calls('StopCalculationExecution')).toBe(1);
    // The state is refreshed at once: the store knows CANCELING without waiting for a poll cycle.
    expect(store.getEnrichment('calculation', x.cid)).toMatchObject({ status: 'ok', payload: { state: 'CANCELING' } });
  });

  it('two presses at the same moment: one call', async () => {
    const x = running();
    const a = actions();
    const results = await Promise.all([a.run(stop(x)), a.run(stop(x)), actions().run(stop(x))]);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(calls('StopCalculationExecution')).toBe(1);
  });

  it('terminates a session; one the store knows has ended is not asked about', async () => {
    const x = running();
    expect((await actions().run(terminate(x))).record).toMatchObject({ status: 'done', outcome: 'Athena is terminating it (TERMINATING)' });
    const ended = running();
    store.insertEvents(toEvents([terminateSession({ sessionId: ended.sid, eventTime: T0 - MINUTE })]), T0);
    const r = await actions().run(terminate(ended));
    expect(r.record).toMatchObject({ status: 'noop', outcome: 'the session had already ended (TERMINATED)' });
    const stopped = await actions().run(stop(ended));
    expect(stopped.record).toMatchObject({ status: 'noop', outcome: 'the calculation had already ended (its session was terminated)' });
    expect(calls('TerminateSession')).toBe(1);
    expect(calls('StopCalculationExecution')).toBe(0);
  });

  it('Athena refusing names the permission, is operator advice, and does not count as done (a later press tries again)', async () => {
    const x = running();
    fake.denyAthena({ operations: ['StopCalculationExecution'] });
    const a = actions();
    const r = await a.run(stop(x));
    expect(r.record).toMatchObject({
      status: 'denied',
      outcome: 'Athena refused: the bot is not allowed athena:StopCalculationExecution here (grant it on the workgroup to use the Stop calculation button)',
    });
    fake.denyAthena(false);
    expect((await a.run(stop(x))).record.status).toBe('done');
    expect(calls('StopCalculationExecution')).toBe(2);
  });

  it('an id Athena does not know fails plainly', async () => {
    const x = running();
    fake.deleteCalculation(REGION, x.cid);
    expect((await actions().run(stop(x))).record).toMatchObject({ status: 'failed', outcome: `Athena does not know calculation ${x.cid} in ${REGION}` });
  });

  describe('after a crash, an action left under way is settled without asking Athena twice', () => {
    it('the call never reached Athena (it still runs): asked now, once', async () => {
      const x = running();
      const a = actions();
      a.audit.record(stop(x), 'started', null, T0);
      const settled = await a.recover();
      expect(settled.map((r) => [r.status, r.outcome])).toEqual([['done', 'Athena is stopping it (CANCELING)']]);
      expect(calls('StopCalculationExecution')).toBe(1);
      expect(await a.recover()).toEqual([]);
    });

    it('the call reached Athena (it is stopping): recorded as done, not asked again', async () => {
      const x = running();
      fake.updateCalculation(REGION, x.cid, { Status: { State: 'CANCELING' } });
      const a = actions();
      a.audit.record(stop(x), 'started', null, T0);
      const settled = await a.recover();
      expect(settled.map((r) => [r.status, r.outcome])).toEqual([['done', 'Athena says CANCELING (the bot restarted while asking; not asked again)']]);
      expect(calls('StopCalculationExecution')).toBe(0);
      // A press after the restart finds it done.
      expect((await a.run(stop(x))).duplicate).toBe(true);
    });

    it('Athena cannot say: recorded as unknown, and a new press may try again', async () => {
      const x = running();
      const a = actions();
      a.audit.record(terminate(x), 'started', null, T0);
      fake.setDown(true);
      const settled = await a.recover();
      fake.setDown(false);
      expect(settled.map((r) => r.status)).toEqual(['unknown']);
      expect(settled[0]!.outcome).toContain('cannot tell whether it took effect');
      expect((await a.run(terminate(x))).record.status).toBe('done');
      expect(calls('TerminateSession')).toBe(1);
    });

    it('an action under way in this process is not settled by a recovery running beside it', async () => {
      const x = running();
      const a = actions();
      fake.setDelayMs(300);
      const pending = a.run(stop(x));
      await new Promise((r) => setTimeout(r, 50));
      expect(await a.recover()).toEqual([]);
      fake.setDelayMs(0);
      expect((await pending).record.status).toBe('done');
      expect(calls('StopCalculationExecution')).toBe(1);
    });
  });
});
