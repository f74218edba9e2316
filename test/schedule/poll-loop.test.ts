/**
 * Push mode of the poll loop: LookupEvents is a sweep every SWEEP_MINUTES, while enrichment and
 * the after-cycle work (alerts) run every interval for the records the queue brings. The real
 * SDK clients talk to the CloudTrail/Athena fake and to the SQS emulator; the domain clock is a
 * test clock, and cycles are driven one by one as the loop drives them (`targetsDue()`).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { captureLogger, tempStore, TestClock, useAwsFakeEnv } from '../support/harness.js';
import { call, executor, fakeUuid, human, startCalculation, startSession } from '../support/cloudtrail-records.js';
import { until } from '../support/slack-requests.js';
import { startSqsEmulator, useEnv, type SqsEmulator } from '../support/sqs-emulator.js';
import { PollHealth } from '../../src/schedule/poll-health.js';
import { PollLoop, type CycleReport } from '../../src/schedule/poll-loop.js';
import { createAthenaSource } from '../../src/sources/athena/athena-source.js';
import { Enricher } from '../../src/sources/athena/enrich.js';
import { createCloudTrailSource } from '../../src/sources/cloudtrail/lookup-client.js';
import { QueueConsumer } from '../../src/sources/sqs/queue-consumer.js';
import { createSqsQueue } from '../../src/sources/sqs/sqs-queue.js';
import type { Store } from '../../src/store/store.js';
import { MINUTE } from '../../src/util/clock.js';

const REGION = 'us-east-1';
const SWEEP_MINUTES = 15;
const INTERVAL_SECONDS = 60;

let aws: AwsFake;
let sqs: SqsEmulator;
let clock: TestClock;
let store: Store;
const restore: Array<() => void> = [];

beforeAll(async () => {
  clock = new TestClock(Date.now());
  aws = await startAwsFake({ now: () => clock.now(), ratePerSecond: Infinity });
  sqs = await startSqsEmulator();
  restore.push(useAwsFakeEnv(aws, REGION), useEnv(sqs.env(REGION)));
});
afterAll(async () => {
  for (const r of restore.splice(0)) r();
  await sqs.close();
  await aws.close();
});
beforeEach(() => {
  aws.reset();
  aws.setRatePerSecond(Infinity);
  clock.t = Date.now();
  store = tempStore().store;
});
afterEach(() => store.close());

function pushModeLoop() {
  const { logger } = captureLogger('silent');
  const cycles: CycleReport[] = [];
  const health = new PollHealth([REGION], () => clock.now());
  const enricher = new Enricher({ store, athena: createAthenaSource({ logger, ratePerSecond: 1000 }), clock, logger, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, refreshMs: INTERVAL_SECONDS * 1000 });
  const loop = new PollLoop({
    store,
    source: createCloudTrailSource({ logger, ratePerSecond: 1000, attempts: 2, onAttempt: (region, err) => (err ? health.failure(region, String(err)) : health.success(region)) }),
    enricher,
    clock,
    logger,
    regions: [REGION],
    intervalSeconds: INTERVAL_SECONDS,
    sweepMinutes: SWEEP_MINUTES,
    lookbackMinutes: 20,
    backfillHours: 1,
    retentionDays: 90,
    health,
    afterCycle: async (c) => void cycles.push(c),
  });
  /** One interval of the loop: what it runs when its timer fires. */
  const tick = async () => {
    const regions = loop.targetsDue();
    const report = await loop.cycle(undefined, regions);
    clock.advance(INTERVAL_SECONDS * 1000);
    return { swept: regions.length > 0, report };
  };
  return { loop, tick, cycles, logger };
}

describe('PollLoop in push mode (SQS_QUEUE_URL set)', () => {
  it('sweeps LookupEvents every SWEEP_MINUTES, and brings pushed records to the after-cycle work within one interval', async () => {
    const { tick, cycles, logger } = pushModeLoop();
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 5 });
    const consumer = new QueueConsumer({
      queue: createSqsQueue({ queueUrl: pair.queueUrl, fallbackRegion: REGION, logger, endpointOverridden: true, waitTimeSeconds: 1 }),
      store,
      clock,
      logger,
      unhealthyAfterMs: 3 * INTERVAL_SECONDS * 1000,
    });
    consumer.start();
    try {
      // The first cycle of a new store sweeps (backfills).
      expect((await tick()).swept).toBe(true);
      const sweepCalls = aws.lookupCount(REGION);
      expect(sweepCalls).toBeGreaterThan(0);

      // A long-running calculation arrives by push only; Athena says it is running.
      const sid = fakeUuid();
      const cid = fakeUuid();
      const startedAt = clock.now() - 40 * MINUTE;
      await sqs.sendRecords(pair.queueUrl, [
        startSession({ sessionId: sid, eventTime: startedAt - MINUTE, actor: human('heidi') }),
        startCalculation({ sessionId: sid, calculationId: cid, eventTime: startedAt }),
        call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: clock.now() - 30_000, params: { calculationExecutionId: cid } }),
      ]);
      aws.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: startedAt - MINUTE } }));
      aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: startedAt } }));
      await until(() => consumer.status().deleted === 3, 10_000);

      // The next interval: no LookupEvents, but enrichment confirms the calculation and hands it to the alerts.
      const next = await tick();
      expect(next.swept).toBe(false);
      expect(aws.lookupCount(REGION)).toBe(sweepCalls);
      const calc = cycles.at(-1)!.enrichment!.views.find((v) => v.sessionId === sid)?.calculations.find((c) => c.calculationId === cid);
      expect(calc).toMatchObject({ longRunning: true, confirmed: true, state: 'RUNNING' });

      // A record the bus never delivered: only the sweep finds it, SWEEP_MINUTES after the last one.
      const missedSession = fakeUuid();
      aws.addEvents([startSession({ sessionId: missedSession, eventTime: clock.now() - 2 * MINUTE, actor: human('ivan') })], { visibleAt: 0 });
      const swept: boolean[] = [];
      while (!store.sessionKnown(missedSession)) {
        swept.push((await tick()).swept);
        expect(swept.length).toBeLessThanOrEqual(SWEEP_MINUTES);
      }
      // Sweeps at 0 and 15 minutes; every interval in between ran enrichment and the after-cycle work only.
      expect(swept.filter(Boolean)).toHaveLength(1);
      expect(swept.length).toBe(SWEEP_MINUTES - 1);
      expect(cycles.length).toBe(2 + swept.length);
    } finally {
      await consumer.close();
    }
  }, 60_000);

  it('retries a failed sweep the next interval, and turns unhealthy only after three sweep intervals of failure', async () => {
    const { loop, tick } = pushModeLoop();
    expect((await tick()).swept).toBe(true);
    for (let i = 1; i < SWEEP_MINUTES; i++) expect((await tick()).swept).toBe(false);
    aws.setDown(true);
    try {
      const failed = await tick();
      expect(failed.swept).toBe(true);
      expect(failed.report.failures).toHaveLength(1);
      // Still due: the cursor did not move.
      expect(loop.targetsDue()).toEqual([{ account: '', region: REGION }]);
      // Three poll intervals of failure would turn a polling bot unhealthy; a sweeping one waits three sweeps.
      clock.advance(3 * INTERVAL_SECONDS * 1000 + 1);
      expect(loop.healthy()).toBe(true);
      clock.advance(3 * SWEEP_MINUTES * MINUTE);
      expect(loop.healthy()).toBe(false);
    } finally {
      aws.setDown(false);
    }
    expect((await tick()).report.failures).toEqual([]);
    expect(loop.healthy()).toBe(true);
    expect(loop.targetsDue()).toEqual([]);
  }, 120_000);
});
