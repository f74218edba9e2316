/**
 * The SQS consumer against a real SQS emulator (fauxqs, in-process on a loopback port) through
 * the real AWS SDK, pointed there by AWS_ENDPOINT_URL_SQS only. Faults come from the emulator
 * (a deleted queue, redrive to the DLQ) and from the real store (SQLite triggers that refuse
 * rows, as a full disk or a schema problem would).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { foldSession } from '../../../src/model/session.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { storedEnrichment } from '../../../src/reports/enrichment-lookup.js';
import { QueueConsumer, type QueueConsumerOptions } from '../../../src/sources/sqs/queue-consumer.js';
import { createSqsQueue } from '../../../src/sources/sqs/sqs-queue.js';
import { Store } from '../../../src/store/store.js';
import { MINUTE } from '../../../src/util/clock.js';
import { toEvents } from '../../support/events.js';
import { captureLogger, tempStore, TestClock } from '../../support/harness.js';
import { call, fakeUuid, human, startCalculation, startSession, stopCalculation, terminateSession, type CloudTrailRecord } from '../../support/cloudtrail-records.js';
import { until } from '../../support/slack-requests.js';
import { eventBridgeEvent, startSqsEmulator, useEnv, type QueuePair, type SqsEmulator } from '../../support/sqs-emulator.js';

let sqs: SqsEmulator;
let restoreEnv: () => void;
const running: QueueConsumer[] = [];
const stores: Store[] = [];

beforeAll(async () => {
  sqs = await startSqsEmulator();
  restoreEnv = useEnv(sqs.env());
});
afterAll(async () => {
  restoreEnv();
  await sqs.close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.close()));
  for (const s of stores.splice(0)) s.close();
});

interface Setup {
  consumer: QueueConsumer;
  store: Store;
  pair: QueuePair;
  clock: TestClock;
  metrics: Metrics;
  lines: () => Array<Record<string, unknown>>;
}

function setup(o: { pair?: QueuePair; store?: Store; waitTimeSeconds?: number; options?: Partial<QueueConsumerOptions> } = {}): Setup {
  const pair = o.pair ?? sqs.createQueuePair({ visibilityTimeoutSeconds: 1, maxReceiveCount: 3 });
  const store = o.store ?? tempStore().store;
  stores.push(store);
  const clock = new TestClock(Date.now());
  const metrics = new Metrics();
  const { logger, lines } = captureLogger('debug');
  const queue = createSqsQueue({ queueUrl: pair.queueUrl, fallbackRegion: 'us-east-1', logger, endpointOverridden: true, waitTimeSeconds: o.waitTimeSeconds ?? 20 });
  const consumer = new QueueConsumer({ queue, store, clock, logger, metrics, unhealthyAfterMs: 3 * MINUTE, backlogEveryMs: 1, backoff: { baseMs: 20, maxMs: 200 }, ...o.options });
  running.push(consumer);
  return { consumer, store, pair, clock, metrics, lines };
}

const storedIds = (store: Store) => (store.db.prepare('SELECT event_id FROM all_records').all() as Array<{ event_id: string }>).map((r) => r.event_id);
const drained = (pair: QueuePair) => sqs.depth(pair.queueName).total === 0;

/** A real SQLite trigger that refuses some inserts, as a broken disk or schema would. */
function refuseInserts(store: Store, when: string): () => void {
  store.db.exec(`CREATE TRIGGER refuse_inserts BEFORE INSERT ON records WHEN ${when} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;`);
  return () => store.db.exec('DROP TRIGGER refuse_inserts');
}

function session(sid = fakeUuid(), t0 = Date.now() - 30 * MINUTE): CloudTrailRecord[] {
  const c1 = fakeUuid();
  const c2 = fakeUuid();
  return [
    startSession({ sessionId: sid, eventTime: t0, actor: human('heidi'), workGroup: 'prod-notebooks' }),
    startCalculation({ sessionId: sid, calculationId: c1, eventTime: t0 + MINUTE }),
    stopCalculation({ calculationId: c1, sessionId: sid, eventTime: t0 + 3 * MINUTE }),
    startCalculation({ sessionId: sid, calculationId: c2, eventTime: t0 + 4 * MINUTE }),
    call('GetSession', { actor: human('bo'), eventTime: t0 + 5 * MINUTE, params: { sessionId: sid }, errorCode: 'AccessDeniedException' }),
    terminateSession({ sessionId: sid, eventTime: t0 + 20 * MINUTE }),
  ];
}

describe('QueueConsumer', () => {
  it('stores every record once, duplicates and redeliveries included, and deletes each message once its records are committed', async () => {
    const { consumer, store, pair, metrics, clock } = setup({ waitTimeSeconds: 1 });
    const records = session();
    // Every record; one event delivered twice (at least once), one record in two events.
    const bodies = records.map((r) => eventBridgeEvent(r));
    await sqs.send(pair.queueUrl, [...bodies, bodies[0]!, eventBridgeEvent(records[1]!, { id: 'another-event-id' })]);
    consumer.start();
    await until(() => drained(pair) && consumer.status().deleted === 8, 15_000);
    expect(storedIds(store).sort()).toEqual(records.map((r) => r.eventID).sort());
    const status = consumer.status();
    expect(status).toMatchObject({ received: 8, deleted: 8, junk: 0, failed: 0, failingSince: null, state: 'receiving' });
    expect(status.lastReceiveAt).not.toBeNull();
    // The backlog is read after a round once backlogEveryMs has passed.
    clock.advance(1000);
    const backlog = await until(() => consumer.status().backlog?.at === clock.now() && consumer.status().backlog, 10_000);
    expect(backlog).toMatchObject({ visible: 0, inFlight: 0 });
    expect(await metrics.registry.metrics()).toMatch(/athena_bot_sqs_backlog_messages\{state="visible"\} 0/);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/athena_bot_sqs_messages_total\{outcome="deleted"\} 8/);
    expect(text).toMatch(/athena_bot_records_ingested_total\{source="sqs"\} 6/);
    expect(consumer.healthy()).toBe(true);
  }, 30_000);

  it('folds records delivered out of order into the same session as records delivered in order', async () => {
    const sid = fakeUuid();
    const records = session(sid);
    const inOrder = tempStore().store;
    stores.push(inOrder);
    inOrder.insertEvents(toEvents(records), Date.now());

    const { consumer, store, pair } = setup();
    // Newest first, in three separate batches, the terminate record before its session's start.
    const reversed = [...records].reverse();
    await sqs.sendRecords(pair.queueUrl, reversed.slice(0, 2));
    consumer.start();
    await until(() => storedIds(store).length === 2, 15_000);
    await sqs.sendRecords(pair.queueUrl, reversed.slice(2, 5));
    await until(() => storedIds(store).length === 5, 15_000);
    await sqs.sendRecords(pair.queueUrl, reversed.slice(5));
    await until(() => drained(pair) && storedIds(store).length === records.length, 15_000);

    const model = { now: Date.now(), longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
    const pushed = foldSession(sid, store.eventsForSession(sid), storedEnrichment(store), model);
    const reference = foldSession(sid, inOrder.eventsForSession(sid), storedEnrichment(inOrder), model);
    expect(pushed).toBeDefined();
    expect(pushed).toEqual(reference);
    expect(pushed!.calculations).toHaveLength(2);
    expect(pushed!.failedCalls).toHaveLength(1);
  }, 30_000);

  it('logs junk once, keeps it as a rejection and deletes it; a non-Spark Athena call is dropped quietly', async () => {
    const { consumer, store, pair, lines, metrics } = setup();
    const good = startSession({ sessionId: fakeUuid(), eventTime: Date.now() - MINUTE });
    const s3Event = eventBridgeEvent(call('PutObject', { actor: human('etl'), eventTime: Date.now() }), { source: 'aws.s3' });
    const junk = [
      'not json at all',
      '[1,2,3]',
      s3Event,
      s3Event, // the same junk twice: logged once
      JSON.stringify({ 'detail-type': 'Athena Query State Change', source: 'aws.athena', detail: { currentState: 'SUCCEEDED' } }),
      JSON.stringify({ Type: 'Notification', MessageId: 'x', Message: eventBridgeEvent(good) }),
      JSON.stringify({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.athena' }),
    ];
    const malformed = eventBridgeEvent({ ...good, eventID: fakeUuid(), eventTime: 'yesterday-ish' });
    const sqlCall = eventBridgeEvent(call('GetQueryExecution', { actor: human('etl'), eventTime: Date.now(), params: { queryExecutionId: fakeUuid() } }));
    await sqs.send(pair.queueUrl, [...junk, malformed, sqlCall, eventBridgeEvent(good)]);
    consumer.start();
    await until(() => drained(pair) && consumer.status().received === 10, 15_000);

    expect(storedIds(store)).toEqual([good.eventID]);
    const junkLines = lines().filter((l) => l.msg === 'deleting an SQS message that is not an Athena CloudTrail event');
    expect(junkLines).toHaveLength(junk.length - 1);
    expect(junkLines.map((l) => l.reason)).toEqual(
      expect.arrayContaining([
        'not an Athena CloudTrail event: message body is not JSON',
        'not an Athena CloudTrail event: an EventBridge event from "aws.s3", not aws.athena',
        expect.stringContaining('an SNS notification'),
        expect.stringContaining('of type "Athena Query State Change"'),
      ]),
    );
    expect(lines().filter((l) => l.msg === 'skipped a malformed CloudTrail record').map((l) => l.reason)).toEqual(['invalid eventTime "yesterday-ish"']);
    // Nothing lost: every distinct junk body and the malformed record are kept, with their counts.
    expect(store.rejectionCount()).toBe(junk.length + 1);
    expect(consumer.status()).toMatchObject({ received: 10, deleted: 10, junk: junk.length, failed: 0 });
    expect(await metrics.registry.metrics()).toMatch(new RegExp(`athena_bot_sqs_messages_total\\{outcome="junk"\\} ${junk.length}`));
  }, 30_000);

  it('deletes nothing while the store refuses the records, backs off, turns unhealthy, and stores everything once it recovers', async () => {
    const store = tempStore().store;
    const allowAgain = refuseInserts(store, '1');
    // A redrive limit the outage does not reach (with a low one, the DLQ takes them: see the poison test).
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 1, maxReceiveCount: 100 });
    const { consumer, clock, lines } = setup({ store, pair });
    const records = session();
    await sqs.sendRecords(pair.queueUrl, records);
    consumer.start();
    await until(() => lines().filter((l) => l.msg === 'SQS consumer backing off').length >= 3, 15_000);
    expect(storedIds(store)).toEqual([]);
    expect(sqs.depth(pair.queueName).total).toBe(records.length);
    expect(consumer.status().deleted).toBe(0);
    expect(consumer.status().lastError).toContain('storing');
    clock.advance(3 * MINUTE + 1);
    expect(consumer.healthy()).toBe(false);

    allowAgain();
    await until(() => drained(pair) && storedIds(store).length === records.length, 15_000);
    await until(() => consumer.healthy() && consumer.status().failingSince === null, 10_000);
    const failures = lines().filter((l) => String(l.msg).startsWith('could not store an SQS message'));
    expect(failures.length).toBeGreaterThanOrEqual(records.length);
    expect(failures[0]).toMatchObject({ level: 50, receiveCount: expect.any(Number), error: expect.stringContaining('database write failed') });
  }, 30_000);

  it('moves a poison message to the dead-letter queue after maxReceiveCount while the rest of its batch is stored', async () => {
    const store = tempStore().store;
    const poison = startSession({ sessionId: fakeUuid(), eventTime: Date.now() - MINUTE });
    refuseInserts(store, `NEW.event_id = '${poison.eventID}'`);
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    // Short long polls, so the round after the move to the DLQ comes back soon.
    const { consumer, lines } = setup({ store, pair, waitTimeSeconds: 1 });
    const good = session();
    await sqs.sendRecords(pair.queueUrl, [good[0]!, good[1]!, poison, good[2]!, good[3]!]);
    consumer.start();
    await until(() => sqs.depth(pair.dlqName).ready === 1 && drained(pair), 20_000);

    expect(storedIds(store).sort()).toEqual(good.slice(0, 4).map((r) => r.eventID).sort());
    expect(JSON.parse(sqs.server.inspectQueue(pair.dlqName)!.messages.ready[0]!.body).detail.eventID).toBe(poison.eventID);
    const failures = lines().filter((l) => String(l.msg).startsWith('could not store an SQS message'));
    expect(failures.map((l) => l.receiveCount)).toEqual([1, 2]);
    // Once the poison message has left, the consumer is healthy again.
    await until(() => consumer.status().failingSince === null, 10_000);
    expect(consumer.status()).toMatchObject({ failed: 2, deleted: 4 });
  }, 30_000);

  it('backs off while the queue cannot be reached, says so, and recovers when it is back', async () => {
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 1 });
    const { consumer, store, clock, metrics, lines } = setup({ pair, waitTimeSeconds: 1 });
    consumer.start();
    await until(() => consumer.status().lastReceiveAt !== null, 10_000);
    sqs.server.deleteQueue(pair.queueName);
    await until(() => consumer.status().state === 'backing-off', 10_000);
    expect(consumer.status().lastError).toMatch(/QueueDoesNotExist/);
    clock.advance(3 * MINUTE + 1);
    expect(consumer.healthy()).toBe(false);
    expect(await metrics.registry.metrics()).toMatch(/athena_bot_sqs_receive_errors_total [1-9]/);
    const waits = lines().filter((l) => l.msg === 'SQS consumer backing off').map((l) => l.retryInMs as number);
    expect(waits.length).toBeGreaterThanOrEqual(1);

    // The queue is back (same name, same URL): the consumer finds it without a restart.
    sqs.server.createQueue(pair.queueName, { attributes: { VisibilityTimeout: '1' } });
    const r = startSession({ sessionId: fakeUuid(), eventTime: Date.now() });
    await sqs.sendRecords(pair.queueUrl, [r]);
    await until(() => storedIds(store).includes(r.eventID), 15_000);
    await until(() => consumer.healthy() && consumer.status().failingSince === null, 10_000);
  }, 30_000);

  it('stops during a long poll at once and loses nothing: a later consumer receives what arrives afterwards', async () => {
    const pair = sqs.createQueuePair({ visibilityTimeoutSeconds: 1 });
    const first = setup({ pair });
    first.consumer.start();
    await until(() => first.consumer.status().state === 'receiving', 10_000);
    // The 20-second long poll is in flight; close() interrupts it (the test's timeout would catch a 20 s wait).
    await first.consumer.close();
    expect(first.consumer.status().state).toBe('stopped');
    const r = startSession({ sessionId: fakeUuid(), eventTime: Date.now() });
    await sqs.sendRecords(pair.queueUrl, [r]);
    expect(storedIds(first.store)).toEqual([]);

    const second = setup({ pair, store: Store.open(':memory:') });
    second.consumer.start();
    await until(() => storedIds(second.store).includes(r.eventID) && drained(pair), 15_000);
  }, 15_000);
});
