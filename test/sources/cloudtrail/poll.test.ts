import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAwsFake, type AwsFake } from '../../fakes/aws-fake.js';
import { captureLogger, tempStore, TestClock, useAwsFakeEnv } from '../../support/harness.js';
import { call, executor, fakeUuid, human, referenceRecords, startCalculation, startSession, terminateSession, toLookupEvent } from '../../support/cloudtrail-records.js';
import { createCloudTrailSource } from '../../../src/sources/cloudtrail/lookup-client.js';
import { pollRegion, type PollDeps } from '../../../src/sources/cloudtrail/poll.js';
import { SPARK_EVENT_NAMES } from '../../../src/records/athena-events.js';
import type { Store } from '../../../src/store/store.js';
import { MINUTE, HOUR } from '../../../src/util/clock.js';

const REGION = 'us-east-1';
const T0 = Date.parse('2026-11-23T12:00:00Z');

let fake: AwsFake;
let restoreEnv: () => void;
let clock: TestClock;
let store: Store;

beforeAll(async () => {
  clock = new TestClock(T0);
  fake = await startAwsFake({ now: () => clock.now() });
  restoreEnv = useAwsFakeEnv(fake, REGION);
});
afterAll(async () => {
  restoreEnv();
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  fake.setRatePerSecond(Infinity);
  clock.t = T0;
  store = tempStore().store;
});
afterEach(() => store.close());

function deps(over: Partial<PollDeps> = {}, rate = 1000): PollDeps {
  const { logger } = captureLogger('silent');
  return { store, source: createCloudTrailSource({ logger, ratePerSecond: rate }), clock, logger, lookbackMinutes: 20, backfillHours: 24, ...over };
}

const sqlNoise = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => call('GetQueryExecution', { actor: human('etl'), eventTime: from + i * 1000, params: { queryExecutionId: fakeUuid() } }));

describe('pollRegion', () => {
  it('backfills BACKFILL_HOURS on first start and moves the cursor to the window end', async () => {
    const inside = startSession({ sessionId: fakeUuid(), eventTime: T0 - 23 * HOUR });
    const outside = startSession({ sessionId: fakeUuid(), eventTime: T0 - 25 * HOUR });
    fake.addEvents([inside, outside], { visibleAt: 0 });
    const r = await pollRegion(REGION, deps());
    expect(r.backfill).toBe(true);
    expect(r.windowStart).toBe(T0 - 24 * HOUR);
    expect(r.inserted).toBe(1);
    expect(store.getCursor(REGION)?.cursorMs).toBe(T0);
  });

  it('picks up a record delivered late, inside the lookback, and would miss it without the lookback', async () => {
    await pollRegion(REGION, deps());
    const lateId = fakeUuid();
    const late = startSession({ sessionId: lateId, eventTime: T0 - 5 * MINUTE });
    // CloudTrail makes it visible 8 minutes later, after a cycle has already read past its eventTime.
    fake.addEvents([late], { visibleAt: T0 + 3 * MINUTE });
    clock.advance(MINUTE);
    expect((await pollRegion(REGION, deps())).inserted).toBe(0);
    clock.advance(3 * MINUTE);
    const r = await pollRegion(REGION, deps());
    expect(r.inserted).toBe(1);
    expect(store.sessionKnown(lateId)).toBe(true);

    // Control: the same delivery with no lookback is lost, which is why the lookback exists.
    const other = tempStore().store;
    const d = deps({ store: other, lookbackMinutes: 0 });
    clock.t = T0;
    fake.reset();
    fake.setRatePerSecond(Infinity);
    await pollRegion(REGION, d);
    fake.addEvents([late], { visibleAt: T0 + 3 * MINUTE });
    clock.advance(MINUTE);
    await pollRegion(REGION, d);
    clock.advance(3 * MINUTE);
    expect((await pollRegion(REGION, d)).inserted).toBe(0);
    other.close();
  });

  it('pages through every NextToken and stores each record once across overlapping windows', async () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 - 50 * MINUTE })];
    for (let i = 0; i < 130; i++) {
      records.push(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 - 40 * MINUTE + i * 10_000, params: { sessionId: sid } }));
    }
    fake.addEvents(records, { visibleAt: 0 });
    const first = await pollRegion(REGION, deps());
    expect(first.calls).toBe(3);
    expect(first.inserted).toBe(131);
    clock.advance(MINUTE);
    const second = await pollRegion(REGION, deps());
    expect(second.fetched).toBeGreaterThan(0);
    expect(second.inserted).toBe(0);
    expect(store.recordCount()).toBe(131);
  });

  it('uses one EventSource query on a quiet account', async () => {
    fake.addEvents(referenceRecords().map((r) => ({ ...r, eventTime: new Date(T0 - HOUR).toISOString() })), { visibleAt: 0 });
    const r = await pollRegion(REGION, deps());
    expect(r.strategy).toBe('event-source');
    expect(r.calls).toBe(1);
    expect(r.inserted).toBe(5);
  });

  it('switches to per-event-name queries on a busy account and stays there', async () => {
    const sid = fakeUuid();
    fake.addEvents([startSession({ sessionId: sid, eventTime: T0 - 2 * HOUR }), ...sqlNoise(3000, T0 - 3 * HOUR)], { visibleAt: 0 });
    const r = await pollRegion(REGION, deps());
    expect(r.switchedFrom).toBe('event-source');
    expect(r.strategy).toBe('event-names');
    expect(r.calls).toBe(2 * SPARK_EVENT_NAMES.length);
    expect(r.inserted).toBe(1);
    clock.advance(MINUTE);
    const next = await pollRegion(REGION, deps());
    expect(next.strategy).toBe('event-names');
    expect(next.calls).toBe(SPARK_EVENT_NAMES.length);
    expect(store.getCursor(REGION)?.strategy).toBe('event-names');
  });

  it('keeps the single EventSource query for a long backfill of Spark records (a quiet account with history)', async () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 - 23 * HOUR })];
    for (let i = 0; i < 1499; i++) records.push(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 - 22 * HOUR + i * 50_000, params: { sessionId: sid } }));
    fake.addEvents(records, { visibleAt: 0 });
    const r = await pollRegion(REGION, deps());
    expect(r.switchedFrom).toBeUndefined();
    expect(r.strategy).toBe('event-source');
    expect(r.calls).toBe(30);
    expect(r.inserted).toBe(1500);
  });

  it('never sends more than 2 LookupEvents requests in any second, retries included, and loses nothing under a throttling storm', async () => {
    fake.setRatePerSecond(2);
    fake.throttleRatio(0.5, 7);
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 - 50 * MINUTE })];
    for (let i = 0; i < 140; i++) records.push(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 - 45 * MINUTE + i * 5000, params: { sessionId: sid } }));
    fake.addEvents(records, { visibleAt: 0 });
    const r = await pollRegion(REGION, deps({}, 2));
    expect(r.inserted).toBe(141);
    const throttled = fake.requests.filter((q) => q.errorType === 'ThrottlingException').length;
    expect(throttled).toBeGreaterThan(0);
    expect(fake.maxRequestsInAnyWindow(REGION, 1000)).toBeLessThanOrEqual(2);
  }, 60_000);

  it('retries 5xx and network failures; a cycle that cannot finish leaves the cursor where it was', async () => {
    fake.addEvents([startSession({ sessionId: fakeUuid(), eventTime: T0 - HOUR })], { visibleAt: 0 });
    fake.failNext(2, 503);
    expect((await pollRegion(REGION, deps())).inserted).toBe(1);
    const before = store.getCursor(REGION)!.cursorMs;
    clock.advance(MINUTE);
    fake.setDown(true);
    const { logger } = captureLogger('silent');
    const failing = deps({ source: createCloudTrailSource({ logger, ratePerSecond: 1000, attempts: 2 }) });
    await expect(pollRegion(REGION, failing)).rejects.toThrow();
    expect(store.getCursor(REGION)!.cursorMs).toBe(before);
    fake.setDown(false);
  });

  it('after a crash between storing pages and moving the cursor, the next cycle neither loses nor duplicates records', async () => {
    const sid = fakeUuid();
    const records = [startSession({ sessionId: sid, eventTime: T0 - 30 * MINUTE })];
    for (let i = 0; i < 120; i++) records.push(call('GetSessionStatus', { actor: executor(sid), eventTime: T0 - 25 * MINUTE + i * 5000, params: { sessionId: sid } }));
    fake.addEvents(records, { visibleAt: 0 });
    await pollRegion(REGION, deps());
    clock.advance(MINUTE);
    const more = Array.from({ length: 60 }, (_, i) => call('GetSessionStatus', { actor: executor(sid), eventTime: T0 + i * 500, params: { sessionId: sid } }));
    fake.addEvents(more, { visibleAt: 0 });
    const cursor = store.getCursor(REGION)!.cursorMs;
    const crash = deps({
      onPageStored: (_r, page) => {
        if (page === 2) throw new Error('simulated crash after page 2 was committed');
      },
    });
    await expect(pollRegion(REGION, crash)).rejects.toThrow('simulated crash');
    expect(store.getCursor(REGION)!.cursorMs).toBe(cursor);
    await pollRegion(REGION, deps());
    expect(store.recordCount()).toBe(181);
    const ids = store.db.prepare('SELECT count(DISTINCT event_id) AS n FROM all_records').get() as { n: number };
    expect(ids.n).toBe(181);
  });

  it('skips malformed records with a counted, kept reason and keeps the good records beside them', async () => {
    const good = startSession({ sessionId: fakeUuid(), eventTime: T0 - HOUR });
    fake.addEvents([good], { visibleAt: 0 });
    const base = toLookupEvent(startSession({ sessionId: fakeUuid(), eventTime: T0 - HOUR }));
    fake.addRawEvent(REGION, { ...base, EventId: 'bad-json', CloudTrailEvent: '{"eventVersion": "1.08", "eventID": ' }, 0);
    const v2 = JSON.parse(base.CloudTrailEvent as string);
    fake.addRawEvent(REGION, { ...base, EventId: 'v2', CloudTrailEvent: JSON.stringify({ ...v2, eventID: 'v2', eventVersion: '2.0' }) }, 0);
    fake.addRawEvent(REGION, { ...base, EventId: 'noid', CloudTrailEvent: JSON.stringify({ ...v2, eventID: undefined }) }, 0);
    const { logger, lines } = captureLogger();
    const r = await pollRegion(REGION, deps({ logger }));
    expect(r.inserted).toBe(1);
    expect(r.rejected).toBe(3);
    expect(store.rejectionCount()).toBe(3);
    const reasons = lines().filter((l) => l.msg === 'skipped a malformed CloudTrail record').map((l) => l.reason);
    expect(reasons).toEqual(expect.arrayContaining(['CloudTrailEvent is not valid JSON', 'unknown event version "2.0"']));
    expect(store.getCursor(REGION)?.cursorMs).toBe(T0);
  });

  it('reads every event type of the reference page and both engines', async () => {
    const spark35 = fakeUuid();
    const recs = [
      ...referenceRecords().map((r) => ({ ...r, eventTime: new Date(T0 - 2 * HOUR).toISOString() })),
      startSession({ sessionId: spark35, eventTime: T0 - 90 * MINUTE, notebookId: null, actor: human('carol') }),
      call('GetSessionEndpoint', { actor: human('carol'), eventTime: T0 - 89 * MINUTE, params: { sessionId: spark35 } }),
      terminateSession({ sessionId: spark35, eventTime: T0 - 60 * MINUTE, actor: human('carol') }),
      startCalculation({ sessionId: fakeUuid(), calculationId: fakeUuid(), eventTime: T0 - 70 * MINUTE }),
    ];
    fake.addEvents(recs, { visibleAt: 0 });
    await pollRegion(REGION, deps());
    const names = (store.db.prepare('SELECT DISTINCT event_name AS n FROM all_records ORDER BY n').all() as Array<{ n: string }>).map((r) => r.n);
    expect(names).toEqual(['GetSessionEndpoint', 'ImportNotebook', 'StartCalculationExecution', 'StartSession', 'TerminateSession', 'UpdateNotebook']);
    expect(store.eventsForSession(spark35).map((e) => e.eventName)).toEqual(['StartSession', 'GetSessionEndpoint', 'TerminateSession']);
  });
});
