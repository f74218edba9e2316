/**
 * Proof: fault tests (issue "Proof", item 2). In-process, with the real AWS SDK and the
 * real Slack WebClient pointed at the fakes through configuration only.
 *
 *  - CloudTrail throttles half of all calls for a (compressed) stretch: nothing is lost and
 *    the busiest second never carries more than 2 LookupEvents requests;
 *  - CloudTrail unreachable for several intervals: /healthz turns 503, then recovers, and
 *    everything that happened meanwhile is stored;
 *  - late delivery: a record CloudTrail delivers 19 min after its eventTime is picked up
 *    (LOOKBACK_MINUTES=20); one delivered later than the lookback plus one poll interval is
 *    not (documented limit: load those from the S3 log files with `ingest`);
 *  - Athena AccessDenied mid-run: answers fall back to unconfirmed, no crash, logged once;
 *  - Slack 429 storms and 5xx: every post delivered once, in order, replies in their thread;
 *  - the store turns read-only: a clear StoreError mentioning read-only, no corruption.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { captureLogger, tempDir, tempStore, TestClock, useAwsFakeEnv } from '../support/harness.js';
import { call, executor, fakeUuid, human, startCalculation, startSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { freePort, SIGNING_SECRET, until } from '../support/slack-requests.js';
import { runCli } from '../support/cli.js';
import { createRuntime } from '../../src/runtime/runtime.js';
import { createPollLoop } from '../../src/runtime/watchers.js';
import { readConfig } from '../../src/config/config.js';
import { ingestFiles } from '../../src/ingest/ingest-files.js';
import { buildSessionReport } from '../../src/reports/session-report.js';
import { PollHealth } from '../../src/schedule/poll-health.js';
import { PollLoop } from '../../src/schedule/poll-loop.js';
import { createApp } from '../../src/slack/app.js';
import { AlertManager } from '../../src/slack/alerts/alert-manager.js';
import { DeliveryQueue } from '../../src/slack/delivery/delivery-queue.js';
import { createWebClient } from '../../src/slack/slack-client.js';
import { createAthenaSource } from '../../src/sources/athena/athena-source.js';
import { Enricher } from '../../src/sources/athena/enrich.js';
import { createCloudTrailSource } from '../../src/sources/cloudtrail/lookup-client.js';
import { pollRegion } from '../../src/sources/cloudtrail/poll.js';
import { Outbox, type NewPost } from '../../src/store/outbox.js';
import { Store, StoreError } from '../../src/store/store.js';
import { MINUTE, systemClock } from '../../src/util/clock.js';
import { toEvents as events } from '../support/events.js';

const REGION = 'us-east-1';
const TOKEN = 'xoxb-faults-token';

let aws: AwsFake;
let slack: SlackFake;
let restoreEnv: () => void;
/** The fake's clock: real time, or a test clock for the late-delivery test. */
let fakeNow: () => number = Date.now;

beforeAll(async () => {
  aws = await startAwsFake({ now: () => fakeNow() });
  restoreEnv = useAwsFakeEnv(aws, REGION);
  slack = await startSlackFake({ token: TOKEN, channels: ['C0GENERAL', 'C0ALERTS'] });
});
afterAll(async () => {
  restoreEnv();
  await slack.close();
  await aws.close();
});
beforeEach(() => {
  aws.reset();
  slack.reset();
  fakeNow = Date.now;
});


/** Notebook polling inside one session: n GetSessionStatus records between from and to. */
/** A notebook waiting on its calculations polls their status (or, with none named, the session's). */
function polling(sid: string, n: number, from: number, to: number, calcs: string[] = []): CloudTrailRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const eventTime = from + Math.floor(((to - from) * i) / n);
    return calcs.length
      ? call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime, params: { calculationExecutionId: calcs[i % calcs.length] } })
      : call('GetSessionStatus', { actor: executor(sid), eventTime, params: { sessionId: sid } });
  });
}

const storedIds = (store: Store) => new Set((store.db.prepare('SELECT event_id FROM all_records').all() as Array<{ event_id: string }>).map((r) => r.event_id));
const missing = (store: Store, ids: Iterable<string>) => {
  const have = storedIds(store);
  return [...ids].filter((id) => !have.has(id));
};

describe('CloudTrail faults', () => {
  it('throttling of 50% of calls for a compressed minute (10 s): nothing lost, never more than 2 requests in any second', async () => {
    aws.setRatePerSecond(2);
    aws.throttleRatio(0.5, 2); // the fake's seed 2 throttles 45–58% of any first 10–40 requests: a steady 50% storm
    const { store } = tempStore();
    const { logger } = captureLogger('silent');
    const health = new PollHealth([REGION]);
    const source = createCloudTrailSource({ logger, onAttempt: (r, err) => (err ? health.failure(r, String(err)) : health.success(r)) });
    const loop = new PollLoop({ store, source, clock: systemClock, logger, regions: [REGION], intervalSeconds: 1, lookbackMinutes: 20, backfillHours: 1, retentionDays: 90, health });
    const sid = fakeUuid();
    const now = Date.now();
    const all: CloudTrailRecord[] = [startSession({ sessionId: sid, eventTime: now - 10 * MINUTE }), ...polling(sid, 150, now - 10 * MINUTE, now)];
    aws.addEvents(all);
    loop.start();
    try {
      // Activity keeps arriving during the storm.
      for (let s = 0; s < 10; s++) {
        await new Promise((r) => setTimeout(r, 1000));
        const batch = polling(sid, 8, Date.now() - 5000, Date.now());
        all.push(...batch);
        aws.addEvents(batch);
      }
      const stormRequests = aws.lookupCount(REGION);
      const stormThrottled = aws.requests.filter((q) => q.errorType === 'ThrottlingException').length;
      aws.throttleRatio(0);
      await until(() => missing(store, all.map((r) => r.eventID)).length === 0, 40_000, 100).catch(() => undefined);
      expect(missing(store, all.map((r) => r.eventID))).toEqual([]);
      expect(store.recordCount()).toBe(all.length);
      // The storm really was a storm: about half of the calls made during it were throttled.
      expect(stormRequests).toBeGreaterThanOrEqual(10);
      expect(stormThrottled / stormRequests).toBeGreaterThan(0.35);
      expect(stormThrottled / stormRequests).toBeLessThan(0.7);
      console.log(`throttling storm: ${stormThrottled} of ${stormRequests} LookupEvents calls throttled in 10 s; busiest second ${aws.maxRequestsInAnyWindow(REGION, 1000)}`);
      expect(aws.maxRequestsInAnyWindow(REGION, 1000)).toBeLessThanOrEqual(2);
      // Throttling is slowness, not failure: health stayed good throughout.
      expect(loop.healthy()).toBe(true);
    } finally {
      await loop.close();
      store.close();
    }
  }, 70_000);

  it('unreachable for several intervals: /healthz turns 503, then recovers and catches up with nothing lost', async () => {
    aws.setRatePerSecond(Infinity);
    const port = await freePort();
    const dir = tempDir('asb-faults-');
    const rt = createRuntime(
      {
        clock: systemClock,
        env: {
          ...process.env,
          SLACK_BOT_TOKEN: TOKEN,
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_API_URL: slack.apiUrl,
          PORT: String(port),
          DATABASE_PATH: path.join(dir, 'down.sqlite'),
          POLL_INTERVAL_SECONDS: '1',
          LOG_LEVEL: 'silent',
        },
      },
      { needs: ['regions', 'slack-http-or-socket'] },
    );
    // Wired as `start` wires them: the source reports every attempt to the loop's health.
    const loop = createPollLoop(rt, { clock: systemClock });
    const bot = createApp({ runtime: rt, outbox: new Outbox(rt.store), clock: systemClock, pollLoop: loop });
    await bot.start();
    const healthz = async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status;
    const sid = fakeUuid();
    const before = [startSession({ sessionId: sid, eventTime: Date.now() - MINUTE }), ...polling(sid, 60, Date.now() - MINUTE, Date.now())];
    aws.addEvents(before);
    loop.start();
    try {
      await until(() => missing(rt.store, before.map((r) => r.eventID)).length === 0, 15_000, 50);
      expect(await healthz()).toBe(200);

      aws.setDown(true);
      const downAt = Date.now();
      const during: CloudTrailRecord[] = [];
      let saw503 = false;
      while (Date.now() - downAt < 6000 || !saw503) {
        const batch = polling(sid, 5, Date.now() - 1000, Date.now());
        during.push(...batch);
        aws.addEvents(batch);
        if ((await healthz()) === 503) saw503 = true;
        if (Date.now() - downAt > 20_000) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(saw503).toBe(true);
      const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string; regions: Record<string, { failingSince: string | null; lastError: string | null }> };
      expect(body.status).toBe('failing');
      expect(body.regions[REGION]!.failingSince).not.toBeNull();
      expect(missing(rt.store, during.map((r) => r.eventID)).length).toBe(during.length);

      aws.setDown(false);
      const recovered = await until(() => missing(rt.store, during.map((r) => r.eventID)).length === 0, 30_000, 100).then(
        () => true,
        () => false,
      );
      expect(missing(rt.store, during.map((r) => r.eventID))).toEqual([]);
      expect(recovered).toBe(true);
      expect(await healthz()).toBe(200);
      const ids = rt.store.db.prepare('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM all_records').get() as { n: number; d: number };
      expect(ids).toEqual({ n: before.length + during.length, d: before.length + during.length });
    } finally {
      aws.setDown(false);
      await loop.close();
      await bot.stop();
      rt.close();
    }
  }, 70_000);

  it('late delivery: picked up when delivered 19 min after its eventTime (LOOKBACK_MINUTES=20); beyond lookback + one interval it is not', async () => {
    const T0 = Date.parse('2026-11-23T12:00:00Z');
    const clock = new TestClock(T0);
    fakeNow = clock.now;
    aws.setRatePerSecond(Infinity);
    const { store } = tempStore();
    const { logger } = captureLogger('silent');
    const deps = { store, source: createCloudTrailSource({ logger, ratePerSecond: 1000 }), clock, logger, lookbackMinutes: 20, backfillHours: 1 };
    const sid = fakeUuid();
    const at = (m: number) => T0 + m * MINUTE;
    const late = (eventMin: number, delayMin: number) => {
      const r = call('GetSessionStatus', { actor: executor(sid), eventTime: at(eventMin), params: { sessionId: sid } });
      aws.addEvents([r], { visibleAt: at(eventMin) + delayMin * MINUTE });
      return r.eventID;
    };
    aws.addEvents([startSession({ sessionId: sid, eventTime: T0 - 5 * MINUTE })], { visibleAt: 0 });
    const onTime = late(2, 0);
    const after5 = late(3, 5);
    const after19 = late(4, 19);
    const after20 = late(5, 20);
    const after25 = late(6, 25);
    const after40 = late(7, 40);
    // One cycle a minute (POLL_INTERVAL_SECONDS=60) for an hour.
    for (let m = 0; m <= 60; m++) {
      clock.t = at(m);
      await pollRegion(REGION, deps);
    }
    const have = storedIds(store);
    expect({ onTime: have.has(onTime), after5: have.has(after5), after19: have.has(after19), after20: have.has(after20) }).toEqual({
      onTime: true,
      after5: true,
      after19: true,
      after20: true,
    });
    // Documented limit: each window starts LOOKBACK_MINUTES before the previous cycle's end,
    // so a record is picked up if CloudTrail delivers it within LOOKBACK_MINUTES + one poll
    // interval of its eventTime. Later ones are not; `ingest` the S3 log files for those.
    expect({ after25: have.has(after25), after40: have.has(after40) }).toEqual({ after25: false, after40: false });
    store.close();
  });
});

describe('Athena AccessDenied mid-run', () => {
  it('falls back to unconfirmed answers and unconfirmed alerts, never crashes, and logs the denial once per operation', async () => {
    const T0 = Date.now();
    const clock = new TestClock(T0);
    const { store } = tempStore();
    const log = captureLogger('debug');
    const config = readConfig({ ALERT_CHANNEL: 'C0ALERTS', LONG_RUNNING_MINUTES: '30' });
    const enricher = new Enricher({ store, athena: createAthenaSource({ logger: log.logger, ratePerSecond: 1000 }), clock, logger: log.logger, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, refreshMs: 60_000 });
    const outbox = new Outbox(store);
    const delivery = new DeliveryQueue({ outbox, web: createWebClient(TOKEN, slack.apiUrl, log.logger), logger: log.logger, channelSpacingMs: 10 });
    const alerts = new AlertManager({ store, outbox, delivery, config, clock, logger: log.logger, athenaConfigured: true });
    const sid = fakeUuid();
    const c1 = fakeUuid();
    const c2 = fakeUuid();
    store.insertEvents(
      events([
        startSession({ sessionId: sid, eventTime: T0 - 60 * MINUTE, actor: human('heidi'), maxConcurrentDpus: 20 }),
        startCalculation({ sessionId: sid, calculationId: c1, eventTime: T0 - 45 * MINUTE }),
        ...polling(sid, 10, T0 - 10 * MINUTE, T0, [c1]),
      ]),
      T0,
    );
    aws.setSession(REGION, athenaSession({ SessionId: sid, Status: { State: 'BUSY', StartDateTime: T0 - 60 * MINUTE } }));
    aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: c1, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MINUTE } }));
    const model = () => ({ now: clock.now(), longRunningMinutes: 30, dpuHourPriceUsd: 0.35 });
    try {
      // Allowed: confirmed by Athena, and the alert says so.
      const first = await enricher.enrichOpenWork(alerts.watched());
      alerts.onCycle(first.views);
      let view = buildSessionReport(store, sid, model())!.view;
      expect(view.stateSource).toBe('athena');
      expect(view.calculations.find((c) => c.calculationId === c1)).toMatchObject({ confirmed: true, state: 'RUNNING' });

      // Mid-run the role loses athena:Get*; a second calculation crosses the threshold.
      aws.denyAthena(true);
      aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: c2, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 35 * MINUTE } }));
      store.insertEvents(events([startCalculation({ sessionId: sid, calculationId: c2, eventTime: T0 - 35 * MINUTE })]), clock.now());
      for (let cycle = 0; cycle < 4; cycle++) {
        clock.advance(cycle === 2 ? 61 * MINUTE : 2 * MINUTE); // past the hour-long back-off once: asked again, denied again
        store.insertEvents(events(polling(sid, 4, clock.now() - MINUTE, clock.now(), [c1, c2])), clock.now()); // the notebook is still busy
        const r = await enricher.enrichOpenWork(alerts.watched());
        expect(r.denied).toBeGreaterThan(0);
        alerts.onCycle(r.views);
        // The second calculation is paged at once, unconfirmed, not an hour later when the back-off ends.
        if (cycle === 0) expect(outbox.get(`alert:${c2}`)?.payload.text).toMatch(/unconfirmed/);
      }
      view = buildSessionReport(store, sid, model())!.view;
      expect(view.stateSource).not.toBe('athena');
      expect(view.calculations.find((c) => c.calculationId === c1)?.confirmed).toBe(false);
      expect(aws.requests.filter((q) => q.errorType === 'AccessDeniedException').length).toBeGreaterThanOrEqual(4);

      expect(await delivery.drain(undefined, 20_000)).toBe(true);
      const posted = slack.messages('C0ALERTS');
      const a1 = posted.find((m) => m.metadata?.event_payload.key === `alert:${c1}`);
      const a2 = posted.find((m) => m.metadata?.event_payload.key === `alert:${c2}`);
      expect(a1?.text).toContain(c1);
      expect(a1?.text).not.toContain('unconfirmed');
      expect(a2?.text).toContain(c2);
      expect(a2?.text).toContain('unconfirmed');
      expect(posted.map((m) => m.metadata?.event_payload.key)).toEqual([`alert:${c1}`, `alert:${c2}`]);

      const denials = log.lines().filter((l) => String(l.msg).startsWith('no permission for athena:'));
      expect(denials.map((l) => l.operation).sort()).toEqual(['GetResourceDashboard', 'GetSession', 'ListCalculationExecutions']);
      expect(denials.every((l) => l.level === 40)).toBe(true);
    } finally {
      await delivery.close();
      store.close();
    }
  }, 40_000);
});

describe('Slack faults', () => {
  it('429 storms and 5xx: every post delivered once, in order, replies in their thread', async () => {
    const limited = await startSlackFake({ token: TOKEN, channels: ['C0GENERAL'], rateLimitPerChannelPerSecond: 1 });
    const { store } = tempStore();
    const log = captureLogger('debug');
    const outbox = new Outbox(store);
    let sent = 0;
    const queue = new DeliveryQueue({
      outbox,
      web: createWebClient(TOKEN, limited.apiUrl, log.logger),
      logger: log.logger,
      channelSpacingMs: 150, // faster than Slack allows, so Slack's own 429s join the storm
      afterSend: () => {
        sent++;
        if (sent === 1) limited.rateLimitNext(3, 1); // a 429 storm
        if (sent === 2) limited.failNext(2, 503); // the send and the check after it fail
        if (sent === 4) limited.failNext(1, 500);
      },
    });
    const post = (key: string, parentKey?: string): NewPost => ({
      key,
      kind: parentKey ? 'reply' : 'test',
      channel: 'C0GENERAL',
      ...(parentKey ? { parentKey } : {}),
      payload: { text: `text of ${key}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${key}*` } }] },
    });
    const keys = ['p1', 'p2', 'p3', 'p4'];
    try {
      outbox.enqueue([post('p1'), post('p1:r1', 'p1'), post('p2'), post('p3'), post('p1:r2', 'p1'), post('p4')], Date.now());
      queue.kick();
      expect(await queue.drain(undefined, 45_000)).toBe(true);
      const msgs = limited.messages('C0GENERAL').filter((m) => m.bot_id);
      const keyOf = (m: (typeof msgs)[number]) => String(m.metadata?.event_payload.key);
      expect(msgs.map(keyOf).sort()).toEqual([...keys, 'p1:r1', 'p1:r2'].sort());
      expect(msgs.filter((m) => !m.thread_ts).map(keyOf)).toEqual(keys);
      const p1 = msgs.find((m) => keyOf(m) === 'p1')!;
      expect(msgs.filter((m) => m.thread_ts === p1.ts).map(keyOf)).toEqual(['p1:r1', 'p1:r2']);
      expect(outbox.counts()).toEqual({ pending: 0, posted: 6, failed: 0 });
      // The faults happened: 429s (the storm and Slack's own limit) and 5xx answers.
      const chat = limited.calls.filter((c) => c.method === 'chat.postMessage');
      expect(chat.filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(3);
      expect(limited.calls.filter((c) => c.status >= 500).length).toBe(3);
    } finally {
      await queue.close();
      store.close();
      await limited.close();
    }
  }, 60_000);
});

describe('store read-only', () => {
  const writeLog = (file: string, records: CloudTrailRecord[]) => fs.writeFileSync(file, JSON.stringify({ Records: records }));

  it('a read-only database gives a clear StoreError from ingest and poll, and nothing is corrupted', async () => {
    aws.setRatePerSecond(Infinity);
    const dir = tempDir('asb-ro-');
    const file = path.join(dir, 'store.sqlite');
    const sid = fakeUuid();
    const earlier = [startSession({ sessionId: sid, eventTime: Date.now() - 30 * MINUTE }), ...polling(sid, 40, Date.now() - 29 * MINUTE, Date.now() - MINUTE)];
    const later = polling(sid, 10, Date.now() - MINUTE, Date.now());
    writeLog(path.join(dir, 'earlier.json'), earlier);
    writeLog(path.join(dir, 'later.json'), later);
    const clock = systemClock;
    let store = Store.open(file);
    expect((await ingestFiles([path.join(dir, 'earlier.json')], { store, clock })).inserted).toBe(earlier.length);
    store.close();

    // The same database through a read-only connection: what SQLite gives a process whose
    // database file (or disk) is not writable. Store's constructor is private; this is a test seam.
    const ReadOnlyStore = Store as unknown as new (db: Database.Database) => Store;
    const ro = new ReadOnlyStore(new Database(file, { readonly: true, fileMustExist: true }));
    try {
      const ingest = ingestFiles([path.join(dir, 'later.json')], { store: ro, clock });
      await expect(ingest).rejects.toBeInstanceOf(StoreError);
      await expect(ingestFiles([path.join(dir, 'later.json')], { store: ro, clock })).rejects.toThrow(/database is read-only/);

      aws.addEvents(later);
      const { logger } = captureLogger('silent');
      const source = createCloudTrailSource({ logger, ratePerSecond: 1000 });
      await expect(pollRegion(REGION, { store: ro, source, clock, logger, lookbackMinutes: 20, backfillHours: 1 })).rejects.toThrow(/read-only/);
      // The running loop logs it and keeps going (it does not crash).
      const log = captureLogger('info');
      const loop = new PollLoop({ store: ro, source, clock, logger: log.logger, regions: [REGION], intervalSeconds: 1, lookbackMinutes: 20, backfillHours: 1, retentionDays: 90 });
      loop.start();
      await until(() => log.lines().some((l) => /read-only/.test(String(l.error))), 10_000);
      await loop.close();
      const failed = log.lines().find((l) => l.msg === 'poll cycle failed; the cursor stays where it was');
      expect(String(failed?.error)).toMatch(/^the database is read-only \(.*store\.sqlite\): check the disk and file permissions$/);
      expect(loop.healthy()).toBe(true); // storing failed, not CloudTrail
    } finally {
      ro.close();
    }

    // Writable again: intact, nothing lost, and the write that failed simply succeeds now.
    store = Store.open(file);
    try {
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(missing(store, earlier.map((r) => r.eventID))).toEqual([]);
      expect(store.recordCount()).toBe(earlier.length);
      expect((await ingestFiles([path.join(dir, 'later.json')], { store, clock })).inserted).toBe(later.length);
    } finally {
      store.close();
    }
  });

  it('a read-only file system (tmpfs remounted read-only, where mount is permitted) stops start-up and ingest with a read-only error, and the store survives', async () => {
    const dir = tempDir('asb-rofs-');
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'ignore' });
      mounted = true;
    } catch {
      // Not permitted here (no CAP_SYS_ADMIN): the read-only connection case above covers the store.
    }
    if (!mounted) {
      console.log('read-only file system case not run: mount is not permitted in this environment');
      return;
    }
    try {
      const file = path.join(dir, 'data', 'store.sqlite');
      const sid = fakeUuid();
      const records = [startSession({ sessionId: sid, eventTime: Date.now() - 10 * MINUTE }), ...polling(sid, 20, Date.now() - 9 * MINUTE, Date.now())];
      const input = path.join(tempDir('asb-rofs-in-'), 'log.json');
      writeLog(input, records);
      const ok = await runCli(['ingest', input], { DATABASE_PATH: file });
      expect(ok.code).toBe(0);
      execFileSync('mount', ['-o', 'remount,ro', dir], { stdio: 'ignore' });

      expect(() => Store.open(file)).toThrow(StoreError);
      expect(() => Store.open(file)).toThrow(/read-only file system/);
      const r = await runCli(['ingest', input], { DATABASE_PATH: file });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^athena-session-bot: cannot open the database at .*store\.sqlite: EROFS: read-only file system/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);

      execFileSync('mount', ['-o', 'remount,rw', dir], { stdio: 'ignore' });
      const store = Store.open(file);
      try {
        expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(missing(store, records.map((x) => x.eventID))).toEqual([]);
      } finally {
        store.close();
      }
    } finally {
      try {
        execFileSync('umount', [dir], { stdio: 'ignore' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      }
    }
  });
});
