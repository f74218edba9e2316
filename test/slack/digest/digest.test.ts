import { afterEach, describe, expect, it } from 'vitest';
import cron from 'node-cron';
import { startSlackFake, type FakeMessage, type SlackFake } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore, TestClock } from '../../support/harness.js';
import {
  EXAMPLE_IP,
  EXAMPLE_KEY_ID,
  fakeUuid,
  human,
  importNotebook,
  startCalculation,
  stopCalculation,
  startSession,
  terminateSession,
  type CloudTrailRecord,
} from '../../support/cloudtrail-records.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { readConfig, type Config } from '../../../src/config/config.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { DeliveryQueue, POST_METADATA_TYPE } from '../../../src/slack/delivery/delivery-queue.js';
import { digestDateFor, DigestScheduler, lastFireAt } from '../../../src/slack/digest/digest-scheduler.js';
import { postDigestCommand } from '../../../src/slack/digest/post-digest-command.js';
import { digestKey, enqueueDigest } from '../../../src/slack/digest/post-digest.js';
import { createWebClient } from '../../../src/slack/slack-client.js';
import { Outbox } from '../../../src/store/outbox.js';
import type { Store } from '../../../src/store/store.js';
import { MINUTE } from '../../../src/util/clock.js';
import { toEvents as events } from '../../support/events.js';

const TOKEN = 'xoxb-test-token';
const DIGEST = 'C0DIGEST';
const DAY = '2026-11-22';
const DAY_START = Date.parse(`${DAY}T00:00:00Z`);
/** The 09:00 UTC fire that posts DAY's digest. */
const FIRE = Date.parse('2026-11-23T09:00:00Z');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});


/**
 * A busy day: `longCalcs` sessions, each with a 90-minute calculation (its session terminated
 * after it), by `users` people in three workgroups, and `imports` notebook imports with long names.
 */
function seedDay(store: Store, o: { users: number; longCalcs: number; imports: number }): void {
  const recs: CloudTrailRecord[] = [];
  for (let i = 0; i < o.longCalcs; i++) {
    const sid = fakeUuid();
    const cid = fakeUuid();
    const t = DAY_START + 8 * 60 * MINUTE + i * MINUTE;
    const actor = human(`user-${i % o.users}`);
    recs.push(
      startSession({ sessionId: sid, eventTime: t, actor, workGroup: `wg-${i % 3}`, idleTimeoutMinutes: 120 }),
      startCalculation({ sessionId: sid, calculationId: cid, eventTime: t + 5 * MINUTE }),
      // Stopped after 90 minutes: a known run time (a TerminateSession alone would only bound it).
      stopCalculation({ calculationId: cid, sessionId: sid, eventTime: t + 95 * MINUTE, actor }),
      terminateSession({ sessionId: sid, eventTime: t + 96 * MINUTE, actor }),
    );
  }
  for (let i = 0; i < o.imports; i++) {
    recs.push(
      importNotebook({
        notebookId: fakeUuid(),
        eventTime: DAY_START + 12 * 60 * MINUTE + i * MINUTE,
        actor: human(`user-${i % o.users}`),
        name: `quarterly-revenue-analysis-${i}-${'x'.repeat(120)}`,
      }),
    );
  }
  store.insertEvents(events(recs), FIRE);
}

interface Env {
  slack: SlackFake;
  store: Store;
  outbox: Outbox;
  config: Config;
  logger: ReturnType<typeof captureLogger>['logger'];
  queue(spacing?: number): DeliveryQueue;
}

async function setup(env: Record<string, string> = {}, limit = 0): Promise<Env> {
  const slack = await startSlackFake({ rateLimitPerChannelPerSecond: limit });
  const { store } = tempStore();
  const outbox = new Outbox(store);
  const logger = captureLogger('silent').logger;
  const config = readConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: slack.apiUrl, DIGEST_CHANNEL: DIGEST, LONG_RUNNING_MINUTES: '30', ...env });
  cleanups.push(() => store.close(), () => slack.close());
  const queue = (spacing = 10) => {
    const q = new DeliveryQueue({ outbox, web: createWebClient(TOKEN, slack.apiUrl, logger), logger, channelSpacingMs: spacing });
    cleanups.push(() => q.close());
    return q;
  };
  return { slack, store, outbox, config, logger, queue };
}

const keyOf = (m: FakeMessage) => m.metadata?.event_payload.key as string | undefined;
const topLevel = (slack: SlackFake) => slack.messages(DIGEST).filter((m) => m.thread_ts === undefined);
const setCreatedAt = (store: Store, t: number) => store.db.prepare("UPDATE meta SET value=? WHERE key='created_at'").run(String(t));

describe('enqueueDigest', () => {
  it('records one summary and the long lists as thread replies, once per day; delivery obeys Slack limits', async () => {
    const env = await setup();
    seedDay(env.store, { users: 8, longCalcs: 12, imports: 45 });
    const keys = await enqueueDigest(env.store, env.outbox, env.config, DAY, FIRE);
    const key = digestKey(DAY);
    expect(keys[0]).toBe(key);
    // The chart first in the thread; then long-running calculations, notebook imports, all users (> 5); all workgroups is 3 (not listed).
    expect(keys.slice(1)).toEqual([`${key}:chart`, `${key}:reply:0`, `${key}:reply:1`, `${key}:reply:2`]);
    expect(env.outbox.get(key)).toMatchObject({ kind: 'digest', channel: DIGEST, parentKey: null, status: 'pending' });
    expect(env.outbox.get(`${key}:chart`)).toMatchObject({ kind: 'digest-chart', channel: DIGEST, parentKey: key });
    for (const k of keys.slice(2)) expect(env.outbox.get(k)).toMatchObject({ kind: 'digest-reply', channel: DIGEST, parentKey: key });
    expect(env.outbox.get(key)!.payload.text).toContain(`Athena Spark digest for ${DAY}: 12 sessions, 12 calculations, 12 long-running`);

    // Once per day: the second time (a restart, a second fire, a person) records nothing.
    expect(await enqueueDigest(env.store, env.outbox, env.config, DAY, FIRE + 5 * MINUTE)).toEqual([]);
    expect(env.outbox.family(key)).toEqual(keys);

    const q = env.queue();
    expect(await q.drain(keys, 15_000)).toBe(true);
    // The fake refuses anything over Slack's limits (invalid_blocks, msg_too_long): all went through.
    expect(env.slack.calls.filter((c) => c.method === 'chat.postMessage').every((c) => c.ok)).toBe(true);
    expect(env.outbox.counts()).toEqual({ pending: 0, posted: 5, failed: 0 });

    const all = env.slack.messages(DIGEST);
    const [summary, chart, ...replies] = all;
    // The chart is the file Slack shared from the upload, the first reply in the thread.
    expect(chart!.files?.map((f) => f.id)).toEqual([env.outbox.get(`${key}:chart`)!.fileId]);
    expect(chart!.thread_ts).toBe(summary!.ts);
    const msgs = all.filter((m) => !m.files);
    expect(msgs.map(keyOf)).toEqual(keys.filter((k) => !k.endsWith(':chart')));
    expect(summary!.thread_ts).toBeUndefined();
    expect(summary!.metadata).toEqual({ event_type: POST_METADATA_TYPE, event_payload: { key } });
    for (const r of replies) expect(r.thread_ts).toBe(summary!.ts);
    expect(JSON.stringify(replies[0]!.blocks)).toContain(`Long-running calculations on ${DAY} (12)`);
    expect(JSON.stringify(replies[1]!.blocks)).toContain(`Notebook imports on ${DAY} (45)`);
    expect(JSON.stringify(replies[1]!.blocks)).toContain(`Notebook imports on ${DAY}, continued`);
    expect(JSON.stringify(replies[2]!.blocks)).toContain(`All users on ${DAY}`);
    for (const m of msgs) {
      expect(m.blocks!.length).toBeLessThanOrEqual(50);
      for (const b of m.blocks as Array<{ type: string; text?: { text: string } }>) {
        if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      }
    }
    const text = JSON.stringify(all);
    expect(text).not.toContain(EXAMPLE_IP);
    expect(text).not.toContain(EXAMPLE_KEY_ID);

    // `digest --post` afterwards: already posted, nothing new.
    const rt = { store: env.store, config: env.config, logger: env.logger, metrics: new Metrics() } as unknown as Runtime;
    expect(await postDigestCommand(rt, DAY)).toMatch(/already posted/);
    expect(topLevel(env.slack)).toHaveLength(1);
  });

  it('a quiet day is one summary and its (empty) chart; no digest channel records nothing', async () => {
    const env = await setup();
    const keys = await enqueueDigest(env.store, env.outbox, env.config, DAY, FIRE);
    expect(keys).toEqual([digestKey(DAY), `${digestKey(DAY)}:chart`]);
    expect(env.outbox.get(digestKey(DAY))!.payload.text).toContain('0 sessions, 0 calculations, 0 long-running');
    const none = await setup({ DIGEST_CHANNEL: '' });
    expect(await enqueueDigest(none.store, none.outbox, none.config, DAY, FIRE)).toEqual([]);
    expect(none.outbox.counts()).toEqual({ pending: 0, posted: 0, failed: 0 });
  });
});

describe('enqueueDigest: a chart that cannot be drawn', () => {
  it('posts the digest and its thread without the chart, and says why at error level', async () => {
    const env = await setup();
    seedDay(env.store, { users: 2, longCalcs: 1, imports: 1 });
    const log = captureLogger('info');
    const keys = await enqueueDigest(env.store, env.outbox, env.config, DAY, FIRE, {
      logger: log.logger,
      drawChart: async () => {
        throw new Error('resvg could not load its native module');
      },
    });
    const key = digestKey(DAY);
    expect(keys).toEqual([key, `${key}:reply:0`, `${key}:reply:1`]);
    expect(await env.queue().drain(keys, 10_000)).toBe(true);
    expect(env.slack.messages(DIGEST)).toHaveLength(3);
    expect(log.lines()).toContainEqual(expect.objectContaining({ level: 50, key, error: 'resvg could not load its native module', msg: 'the digest chart could not be drawn; posting the digest without it' }));
  });
});

describe('DigestScheduler', () => {
  it('lastFireAt finds the latest minute a real node-cron task fires at, in UTC and in America/New_York', async () => {
    const utc = cron.createTask('0 9 * * *', () => undefined, { timezone: 'UTC' });
    const ny = cron.createTask('0 9 * * *', () => undefined, { timezone: 'America/New_York' });
    const leap = cron.createTask('0 9 29 2 *', () => undefined, { timezone: 'UTC' });
    try {
      expect(lastFireAt(utc, Date.parse('2026-11-24T08:59:59Z'))).toBe(Date.parse('2026-11-23T09:00:00Z'));
      expect(lastFireAt(utc, Date.parse('2026-11-24T09:00:00Z'))).toBe(Date.parse('2026-11-24T09:00:00Z'));
      expect(lastFireAt(utc, Date.parse('2026-11-24T09:00:45Z'))).toBe(Date.parse('2026-11-24T09:00:00Z'));
      expect(lastFireAt(utc, Date.parse('2026-11-24T23:30:00Z'))).toBe(Date.parse('2026-11-24T09:00:00Z'));
      // 09:00 in New York is 14:00 UTC in winter (EST) and 13:00 UTC in summer (EDT).
      expect(lastFireAt(ny, Date.parse('2026-11-24T13:59:00Z'))).toBe(Date.parse('2026-11-23T14:00:00Z'));
      expect(lastFireAt(ny, Date.parse('2026-11-24T14:10:00Z'))).toBe(Date.parse('2026-11-24T14:00:00Z'));
      expect(lastFireAt(ny, Date.parse('2026-07-15T12:00:00Z'))).toBe(Date.parse('2026-07-14T13:00:00Z'));
      // Nothing within two days: undefined.
      expect(lastFireAt(leap, Date.parse('2026-11-24T12:00:00Z'))).toBeUndefined();
    } finally {
      await utc.destroy();
      await ny.destroy();
      await leap.destroy();
    }
  });

  it('digestDateFor is the day before the fire instant’s local date', () => {
    expect(digestDateFor(Date.parse('2026-11-24T09:00:00Z'), 'UTC')).toBe('2026-11-23');
    expect(digestDateFor(Date.parse('2026-11-24T00:00:00Z'), 'UTC')).toBe('2026-11-23');
    // 22:00 on the 23rd in New York: the digest of the 22nd.
    expect(digestDateFor(Date.parse('2026-11-24T03:00:00Z'), 'America/New_York')).toBe('2026-11-22');
    // Already the 24th in Auckland.
    expect(digestDateFor(Date.parse('2026-11-23T12:00:00Z'), 'Pacific/Auckland')).toBe('2026-11-23');
    expect(digestDateFor(Date.parse('2027-01-01T09:00:00Z'), 'UTC')).toBe('2026-12-31');
    expect(digestDateFor(Date.parse('2027-03-01T09:00:00Z'), 'UTC')).toBe('2027-02-28');
    expect(digestDateFor(Date.parse('2028-03-01T09:00:00Z'), 'UTC')).toBe('2028-02-29');
  });

  function scheduler(env: Env, clock: TestClock, queue = env.queue()): DigestScheduler {
    const s = new DigestScheduler({ store: env.store, outbox: env.outbox, delivery: queue, config: env.config, clock, logger: env.logger });
    cleanups.push(() => s.stop());
    return s;
  }

  it('catches up on a digest missed while the bot was down, once, and not again after a restart', async () => {
    const env = await setup();
    seedDay(env.store, { users: 2, longCalcs: 2, imports: 1 });
    setCreatedAt(env.store, FIRE - 3 * 24 * 60 * MINUTE);
    // The bot comes back at 12:00 UTC: the 09:00 fire (DAY's digest) passed while it was down.
    const clock = new TestClock(FIRE + 3 * 60 * MINUTE);
    const q = env.queue();
    const first = scheduler(env, clock, q);
    await first.start();
    const key = digestKey(DAY);
    expect(env.outbox.get(key)).toBeDefined();
    expect(await q.drain(env.outbox.family(key), 15_000)).toBe(true);
    expect(await first.catchUp()).toEqual([]);

    // A restart: a new scheduler on the same store posts nothing more.
    await first.stop();
    const second = scheduler(env, clock);
    await second.start();
    expect(await second.catchUp()).toEqual([]);
    // A fire at the same instant (cron and catch-up racing) is harmless too.
    expect(await second.fire(FIRE)).toEqual([]);
    await second.stop();

    const summaries = topLevel(env.slack);
    expect(summaries).toHaveLength(1);
    expect(keyOf(summaries[0]!)).toBe(key);
    expect(env.slack.messages(DIGEST).filter((m) => m.thread_ts === summaries[0]!.ts).length).toBe(env.outbox.family(key).length - 1);
  });

  it('before today’s fire time it catches up on yesterday’s fire (the digest of the day before)', async () => {
    const env = await setup();
    setCreatedAt(env.store, FIRE - 3 * 24 * 60 * MINUTE);
    const clock = new TestClock(Date.parse('2026-11-23T08:30:00Z'));
    const s = scheduler(env, clock);
    await s.start();
    expect(env.outbox.get(digestKey('2026-11-21'))).toBeDefined();
    expect(env.outbox.get(digestKey(DAY))).toBeUndefined();
  });

  it('posts nothing on a fresh install (the store was created after the last fire)', async () => {
    const env = await setup();
    seedDay(env.store, { users: 2, longCalcs: 1, imports: 1 });
    setCreatedAt(env.store, FIRE + 60 * MINUTE);
    const clock = new TestClock(FIRE + 3 * 60 * MINUTE);
    const s = scheduler(env, clock);
    await s.start();
    expect(await s.catchUp()).toEqual([]);
    expect(env.outbox.counts()).toEqual({ pending: 0, posted: 0, failed: 0 });
    await new Promise((r) => setTimeout(r, 100));
    expect(env.slack.calls).toEqual([]);
  });

  it('in America/New_York, catches up on the 09:00 local fire', async () => {
    const env = await setup({ DIGEST_TIMEZONE: 'America/New_York' });
    setCreatedAt(env.store, FIRE - 3 * 24 * 60 * MINUTE);
    // 13:30 UTC on the 23rd is 08:30 in New York: the last fire was 09:00 EST on the 22nd (14:00 UTC).
    const clock = new TestClock(Date.parse('2026-11-23T13:30:00Z'));
    const s = scheduler(env, clock);
    await s.start();
    expect(env.outbox.get(digestKey('2026-11-21'))).toBeDefined();
    clock.t = Date.parse('2026-11-23T14:00:30Z');
    expect((await s.catchUp())[0]).toBe(digestKey(DAY));
  });

  it('without a digest channel it schedules nothing and catches up on nothing', async () => {
    const env = await setup({ DIGEST_CHANNEL: '' });
    setCreatedAt(env.store, 0);
    const s = scheduler(env, new TestClock(FIRE + MINUTE));
    await s.start();
    expect(await s.catchUp()).toEqual([]);
    expect(env.outbox.counts()).toEqual({ pending: 0, posted: 0, failed: 0 });
  });
});

describe('postDigestCommand', () => {
  it('posts the digest and says so; a second call says it was already posted and nothing is posted again', async () => {
    const env = await setup({}, 1); // the fake's real 1 message/s limit; the command uses the default spacing
    seedDay(env.store, { users: 3, longCalcs: 2, imports: 2 });
    const metrics = new Metrics();
    const rt = { store: env.store, config: env.config, logger: env.logger, metrics } as unknown as Runtime;
    const first = await postDigestCommand(rt, DAY);
    expect(first).toMatch(new RegExp(`^posted the digest for ${DAY} to ${DIGEST} \\(ts \\d+\\.\\d{6}, its chart, 2 thread replies\\)$`));
    const second = await postDigestCommand(rt, DAY);
    expect(second).toMatch(new RegExp(`^the digest for ${DAY} was already posted to ${DIGEST} \\(ts \\d+\\.\\d{6}\\)$`));

    const summaries = topLevel(env.slack);
    expect(summaries).toHaveLength(1);
    expect(keyOf(summaries[0]!)).toBe(digestKey(DAY));
    expect(second).toContain(summaries[0]!.ts);
    expect(env.slack.messages(DIGEST)).toHaveLength(4);
    expect(env.slack.calls.filter((c) => c.status === 429)).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('athena_bot_slack_posts_total')).toMatch(/kind="digest"\} 1/);
  });

  it('delivers a digest the bot recorded but had not posted yet (one summary either way)', async () => {
    const env = await setup();
    seedDay(env.store, { users: 2, longCalcs: 0, imports: 0 });
    expect(await enqueueDigest(env.store, env.outbox, env.config, DAY, FIRE)).toEqual([digestKey(DAY), `${digestKey(DAY)}:chart`]);
    const rt = { store: env.store, config: env.config, logger: env.logger, metrics: new Metrics() } as unknown as Runtime;
    expect(await postDigestCommand(rt, DAY)).toMatch(/^posted the digest for 2026-11-22 to C0DIGEST \(ts [\d.]+, its chart, 0 thread replies\)$/);
    expect(topLevel(env.slack)).toHaveLength(1);
  });
});

describe('weekly digest', () => {
  const WEEKLY = '0 9 * * 1'; // Mondays 09:00
  /** Monday 2026-11-23 09:00 UTC: the week of 2026-11-16 … 2026-11-22. */
  const MONDAY = FIRE;

  function weeklyScheduler(env: Env, clock: TestClock, queue = env.queue()): DigestScheduler {
    const s = new DigestScheduler({ store: env.store, outbox: env.outbox, delivery: queue, config: env.config, clock, logger: env.logger });
    cleanups.push(() => s.stop());
    return s;
  }

  it('DIGEST_WEEKLY_CRON posts the 7 days ending yesterday, with its chart, once across restarts; missed while down, posted on return', async () => {
    const env = await setup({ DIGEST_WEEKLY_CRON: WEEKLY, DIGEST_CRON: '0 9 1 1 *' });
    seedDay(env.store, { users: 2, longCalcs: 2, imports: 0 });
    setCreatedAt(env.store, MONDAY - 30 * 24 * 60 * MINUTE);
    // The bot comes back on Wednesday: Monday's weekly fire passed while it was down.
    const clock = new TestClock(MONDAY + 2 * 24 * 60 * MINUTE);
    const q = env.queue();
    const first = weeklyScheduler(env, clock, q);
    await first.start();
    const key = digestKey(DAY, 'week');
    expect(key).toBe('digest-week:2026-11-22');
    expect(env.outbox.family(key)).toEqual([key, `${key}:chart`, `${key}:reply:0`]);
    expect(env.outbox.get(key)!.payload.text).toMatch(/^Athena Spark weekly digest for 2026-11-16 to 2026-11-22: 2 sessions/);
    expect(await q.drain(env.outbox.family(key), 15_000)).toBe(true);
    await first.stop();

    const second = weeklyScheduler(env, clock);
    await second.start();
    expect(await second.catchUp()).toEqual([]);
    expect(await second.fire(MONDAY, 'week')).toEqual([]);
    const summaries = topLevel(env.slack);
    expect(summaries).toHaveLength(1);
    expect(keyOf(summaries[0]!)).toBe(key);
    const chart = env.slack.messages(DIGEST).find((m) => m.files)!;
    expect(chart.thread_ts).toBe(summaries[0]!.ts);
    expect(chart.files![0]!.name).toBe('athena-spark-weekly-digest-2026-11-16-to-2026-11-22.png');
  });

  it('is off by default, and the daily digest does not post the weekly one', async () => {
    const env = await setup();
    setCreatedAt(env.store, MONDAY - 30 * 24 * 60 * MINUTE);
    const s = weeklyScheduler(env, new TestClock(MONDAY + 60 * MINUTE));
    await s.start();
    expect(env.outbox.get(digestKey(DAY, 'week'))).toBeUndefined();
    expect(env.outbox.get(digestKey(DAY))).toBeDefined();
  });

  it('digest --post --week posts the weekly digest, and says so the second time', async () => {
    const env = await setup();
    seedDay(env.store, { users: 2, longCalcs: 1, imports: 0 });
    const rt = { store: env.store, config: env.config, logger: env.logger, metrics: new Metrics() } as unknown as Runtime;
    expect(await postDigestCommand(rt, DAY, 'week')).toMatch(/^posted the weekly digest for the week ending 2026-11-22 to C0DIGEST \(ts [\d.]+, its chart, 1 thread reply\)$/);
    expect(await postDigestCommand(rt, DAY, 'week')).toMatch(/^the weekly digest for the week ending 2026-11-22 was already posted/);
    expect(topLevel(env.slack).map(keyOf)).toEqual([digestKey(DAY, 'week')]);
  });
});
