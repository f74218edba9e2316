import { afterEach, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { startSlackFake, type SlackFake } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore } from '../../support/harness.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { DeliveryQueue, POST_METADATA_TYPE, type DeliveryOptions } from '../../../src/slack/delivery/delivery-queue.js';
import { createWebClient } from '../../../src/slack/slack-client.js';
import { Outbox, type NewPost } from '../../../src/store/outbox.js';
import type { Store } from '../../../src/store/store.js';

const TOKEN = 'xoxb-test-token';
const GENERAL = 'C0GENERAL';
const ALERTS = 'C0ALERTS';

interface Env {
  slack: SlackFake;
  store: Store;
  outbox: Outbox;
  log: ReturnType<typeof captureLogger>;
  queue(o?: Partial<DeliveryOptions>): DeliveryQueue;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A fresh store, fake Slack and queue factory. `limit` is the fake's real per-channel limit (0 = off). */
async function setup(limit = 0): Promise<Env> {
  const slack = await startSlackFake({ rateLimitPerChannelPerSecond: limit });
  const { store } = tempStore();
  const outbox = new Outbox(store);
  const log = captureLogger('debug');
  cleanups.push(() => store.close(), () => slack.close());
  const queue = (o: Partial<DeliveryOptions> = {}) => {
    const q = new DeliveryQueue({ outbox, web: createWebClient(TOKEN, slack.apiUrl, log.logger), logger: log.logger, channelSpacingMs: 10, ...o });
    cleanups.push(() => q.close());
    return q;
  };
  return { slack, store, outbox, log, queue };
}

const post = (key: string, channel = GENERAL, parentKey?: string): NewPost => ({
  key,
  kind: parentKey ? 'reply' : 'test',
  channel,
  ...(parentKey ? { parentKey } : {}),
  payload: { text: `text of ${key}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${key}*` } }] },
});

const keyOf = (m: { metadata?: { event_payload: Record<string, unknown> } }) => m.metadata?.event_payload.key;
const postCalls = (slack: SlackFake) => slack.calls.filter((c) => c.method === 'chat.postMessage');
const row = (store: Store, key: string) =>
  store.db.prepare('SELECT status, ts, maybe_sent, attempts, last_error FROM slack_posts WHERE key = ?').get(key) as
    | { status: string; ts: string | null; maybe_sent: number; attempts: number; last_error: string | null }
    | undefined;

describe('DeliveryQueue: metadata and threads', () => {
  it('marks every post with metadata naming its key and puts replies in the parent thread', async () => {
    const env = await setup();
    env.outbox.enqueue([post('p1'), post('p1:r1', GENERAL, 'p1'), post('p1:r2', GENERAL, 'p1'), post('p2')], Date.now());
    const q = env.queue();
    expect(await q.drain(['p1', 'p1:r1', 'p1:r2', 'p2'], 10_000)).toBe(true);

    const msgs = env.slack.messages(GENERAL);
    expect(msgs.map(keyOf)).toEqual(['p1', 'p1:r1', 'p1:r2', 'p2']);
    for (const m of msgs) {
      expect(m.metadata?.event_type).toBe(POST_METADATA_TYPE);
      expect(m.metadata?.event_type).toBe('athena_session_bot_post');
      expect(m.text).toBe(`text of ${String(keyOf(m))}`);
    }
    const [p1, r1, r2, p2] = msgs;
    expect(p1!.thread_ts).toBeUndefined();
    expect(p2!.thread_ts).toBeUndefined();
    expect(r1!.thread_ts).toBe(p1!.ts);
    expect(r2!.thread_ts).toBe(p1!.ts);
    // The store holds Slack's timestamps.
    expect(env.outbox.get('p1')).toMatchObject({ status: 'posted', ts: p1!.ts, maybeSent: false });
    expect(env.outbox.get('p1:r1')).toMatchObject({ status: 'posted', ts: r1!.ts });
    expect(env.outbox.counts()).toEqual({ pending: 0, posted: 4, failed: 0 });
  });

  it('holds a reply recorded while its parent is still pending (rate limited) until the parent is posted', async () => {
    const env = await setup();
    env.slack.rateLimitNext(1, 1);
    env.outbox.enqueue([post('parent')], Date.now());
    const q = env.queue();
    q.kick();
    // The parent is refused (429) and waits out Retry-After; the reply is recorded meanwhile.
    await vi_waitFor(() => env.slack.calls.some((c) => c.status === 429));
    expect(env.outbox.get('parent')!.status).toBe('pending');
    env.outbox.enqueue([post('parent:reply', GENERAL, 'parent')], Date.now());
    q.kick();
    expect(await q.drain(['parent', 'parent:reply'], 10_000)).toBe(true);
    const [parent, reply] = env.slack.messages(GENERAL);
    expect(keyOf(parent!)).toBe('parent');
    expect(keyOf(reply!)).toBe('parent:reply');
    expect(reply!.thread_ts).toBe(parent!.ts);
    expect(env.slack.messages(GENERAL)).toHaveLength(2);
  });

  it('holds a reply recorded before its parent was recorded, and posts it in the thread once the parent is posted', async () => {
    const env = await setup();
    // The reply has the older row: the queue must deliver the parent first, not spin on the reply.
    env.outbox.enqueue([post('late-parent:reply', GENERAL, 'late-parent')], Date.now());
    env.outbox.enqueue([post('late-parent'), post('other')], Date.now());
    const q = env.queue();
    expect(await q.drain(undefined, 10_000)).toBe(true);
    const msgs = env.slack.messages(GENERAL);
    expect(msgs).toHaveLength(3);
    const parent = msgs.find((m) => keyOf(m) === 'late-parent')!;
    const reply = msgs.find((m) => keyOf(m) === 'late-parent:reply')!;
    expect(parent.thread_ts).toBeUndefined();
    expect(reply.thread_ts).toBe(parent.ts);
  });

  it('a reply whose parent is pending in another channel waits for it without blocking the process', async () => {
    const env = await setup();
    env.slack.rateLimitNext(1, 1);
    env.outbox.enqueue([post('elsewhere', ALERTS)], Date.now());
    const q = env.queue();
    q.kick();
    await vi_waitFor(() => env.slack.calls.some((c) => c.status === 429));
    env.outbox.enqueue([post('elsewhere:reply', GENERAL, 'elsewhere')], Date.now());
    q.kick();
    // Timers still run while the reply waits (a busy loop would starve them).
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    try {
      expect(await q.drain(['elsewhere', 'elsewhere:reply'], 10_000)).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
    expect(env.outbox.get('elsewhere')!.status).toBe('posted');
    // Slack refuses a thread_ts from another channel; the point here is that the reply waited for its parent.
    const replyCall = postCalls(env.slack).find((c) => (c.body.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key === 'elsewhere:reply');
    expect(replyCall?.body.thread_ts).toBe(env.outbox.get('elsewhere')!.ts);
  });
});

describe('DeliveryQueue: order and pacing (fake limit 1 message/s per channel)', () => {
  it('posts to one channel in recorded order, about a second apart, with no 429; two channels proceed independently', async () => {
    const env = await setup(1);
    const a = ['a1', 'a2', 'a3', 'a4', 'a5'];
    const b = ['b1', 'b2', 'b3'];
    env.outbox.enqueue(
      [...a.map((k) => post(k, GENERAL)), ...b.map((k) => post(k, ALERTS))],
      Date.now(),
    );
    const q = env.queue({ channelSpacingMs: undefined }); // the default spacing (1100 ms)
    const started = Date.now();
    expect(await q.drain([...a, ...b], 20_000)).toBe(true);
    const elapsed = Date.now() - started;

    expect(env.slack.calls.filter((c) => c.status === 429)).toEqual([]);
    expect(env.slack.messages(GENERAL).map(keyOf)).toEqual(a);
    expect(env.slack.messages(ALERTS).map(keyOf)).toEqual(b);
    const at = (ch: string) => postCalls(env.slack).filter((c) => c.body.channel === ch).map((c) => c.at);
    const gaps = (ts: number[]) => ts.slice(1).map((t, i) => t - ts[i]!);
    for (const g of [...gaps(at(GENERAL)), ...gaps(at(ALERTS))]) expect(g).toBeGreaterThanOrEqual(1000);
    // Independent: the second channel does not wait for the first one's queue.
    expect(at(ALERTS)[0]! - at(GENERAL)[0]!).toBeLessThan(500);
    expect(at(ALERTS)[2]!).toBeLessThan(at(GENERAL)[4]!);
    // 4 gaps of ~1.1 s, not 7 (which a single global queue would need).
    expect(elapsed).toBeLessThan(6500);
  });

  it('waits out a 429 storm (Retry-After) and delivers every message exactly once, in order per channel', async () => {
    const env = await setup(1);
    env.slack.rateLimitNext(4, 1);
    const a = ['s-a1', 's-a2', 's-a3'];
    const b = ['s-b1', 's-b2'];
    env.outbox.enqueue([...a.map((k) => post(k, GENERAL)), ...b.map((k) => post(k, ALERTS))], Date.now());
    const q = env.queue({ channelSpacingMs: 200 });
    const started = Date.now();
    expect(await q.drain([...a, ...b], 25_000)).toBe(true);
    const elapsed = Date.now() - started;

    const limited = env.slack.calls.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(4);
    expect(env.slack.messages(GENERAL).map(keyOf)).toEqual(a);
    expect(env.slack.messages(ALERTS).map(keyOf)).toEqual(b);
    // No channel was posted to again before Retry-After passed after a 429.
    for (const r of limited) {
      const next = postCalls(env.slack).find((c) => c.body.channel === r.body.channel && c.at > r.at);
      expect(next!.at - r.at).toBeGreaterThanOrEqual(1000 - 20);
    }
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(env.outbox.counts()).toEqual({ pending: 0, posted: 5, failed: 0 });
    expect(env.log.lines().some((l) => l.msg === 'Slack rate limit: waiting Retry-After')).toBe(true);
  });
});

describe('DeliveryQueue: transient failures', () => {
  it('retries after HTTP 503, checks Slack before re-posting an uncertain send, and posts once', async () => {
    const env = await setup();
    env.slack.failNext(2, 503);
    env.outbox.enqueue([post('flaky')], Date.now());
    const q = env.queue();
    expect(await q.drain(['flaky'], 15_000)).toBe(true);
    expect(env.slack.calls.filter((c) => c.status === 503)).toHaveLength(2);
    expect(env.slack.calls.some((c) => c.method === 'conversations.history')).toBe(true);
    expect(env.slack.messages(GENERAL).map(keyOf)).toEqual(['flaky']);
    expect(env.outbox.get('flaky')).toMatchObject({ status: 'posted', ts: env.slack.messages(GENERAL)[0]!.ts, lastError: null });
  });

  it('rides out Slack being unreachable and posts once when it is back, after checking history', async () => {
    const env = await setup();
    env.slack.setDown(true);
    env.outbox.enqueue([post('outage'), post('outage:reply', GENERAL, 'outage')], Date.now());
    const q = env.queue();
    q.kick();
    await vi_waitFor(() => (row(env.store, 'outage')?.attempts ?? 0) >= 1 && row(env.store, 'outage')!.last_error !== null);
    await new Promise((r) => setTimeout(r, 1200));
    expect(env.outbox.get('outage')).toMatchObject({ status: 'pending', maybeSent: true });
    env.slack.setDown(false);
    expect(await q.drain(['outage', 'outage:reply'], 15_000)).toBe(true);
    expect(env.slack.calls.some((c) => c.method === 'conversations.history')).toBe(true);
    const msgs = env.slack.messages(GENERAL);
    expect(msgs.map(keyOf)).toEqual(['outage', 'outage:reply']);
    expect(msgs[1]!.thread_ts).toBe(msgs[0]!.ts);
  });

  it('gives up on a post still failing after giveUpAfterMs: failed, logged at error level, counted', async () => {
    const env = await setup();
    const metrics = new Metrics();
    env.slack.failNext(1, 500);
    env.outbox.enqueue([post('doomed')], Date.now() - 10);
    const q = env.queue({ giveUpAfterMs: 0, metrics });
    expect(await q.drain(['doomed'], 10_000)).toBe(true);
    expect(env.outbox.get('doomed')).toMatchObject({ status: 'failed', lastError: 'HTTP 500' });
    const errors = env.log.lines().filter((l) => l.level === 50 && l.key === 'doomed');
    expect(errors).toHaveLength(1);
    const counted = await metrics.registry.getSingleMetricAsString('athena_bot_slack_errors_total');
    expect(counted).toMatch(/athena_bot_slack_errors_total\{error="gave_up"\} 1/);
  });
});

describe('DeliveryQueue: crash recovery (nothing posted twice across restarts)', () => {
  /** Runs a queue whose process "dies" right after Slack accepted `key`, before the ts is recorded. */
  async function crashAfterSending(env: Env, key: string): Promise<void> {
    let crashed!: () => void;
    const died = new Promise<void>((r) => (crashed = r));
    const q = env.queue({
      afterSend: (p) => {
        if (p.key === key) {
          crashed();
          throw new Error('process died');
        }
      },
    });
    q.kick();
    await died;
    await q.close();
  }

  it('finds a top-level post by its metadata in history after a restart and does not post it again', async () => {
    const env = await setup();
    env.outbox.enqueue([post('crash-top')], Date.now());
    await crashAfterSending(env, 'crash-top');
    expect(env.slack.messages(GENERAL)).toHaveLength(1);
    expect(row(env.store, 'crash-top')).toMatchObject({ status: 'pending', ts: null, maybe_sent: 1 });

    const restarted = env.queue();
    expect(await restarted.drain(['crash-top'], 10_000)).toBe(true);
    const msgs = env.slack.messages(GENERAL);
    expect(msgs).toHaveLength(1);
    expect(postCalls(env.slack)).toHaveLength(1);
    expect(env.slack.calls.some((c) => c.method === 'conversations.history' && c.body.include_all_metadata !== undefined)).toBe(true);
    expect(row(env.store, 'crash-top')).toMatchObject({ status: 'posted', ts: msgs[0]!.ts, maybe_sent: 0 });
  });

  it('finds a thread reply by its metadata in the thread (conversations.replies) after a restart', async () => {
    const env = await setup();
    env.outbox.enqueue([post('crash-parent'), post('crash-parent:reply', GENERAL, 'crash-parent')], Date.now());
    await crashAfterSending(env, 'crash-parent:reply');
    expect(env.outbox.get('crash-parent')!.status).toBe('posted');
    expect(env.slack.messages(GENERAL)).toHaveLength(2);

    const restarted = env.queue();
    expect(await restarted.drain(['crash-parent:reply'], 10_000)).toBe(true);
    const msgs = env.slack.messages(GENERAL);
    expect(msgs).toHaveLength(2);
    expect(postCalls(env.slack)).toHaveLength(2);
    expect(env.slack.calls.some((c) => c.method === 'conversations.replies')).toBe(true);
    const reply = msgs.find((m) => keyOf(m) === 'crash-parent:reply')!;
    expect(reply.thread_ts).toBe(env.outbox.get('crash-parent')!.ts);
    expect(env.outbox.get('crash-parent:reply')).toMatchObject({ status: 'posted', ts: reply.ts, maybeSent: false });
  });

  it('does not re-post when the history check after a restart is itself rate limited', async () => {
    const env = await setup();
    env.outbox.enqueue([post('crash-429')], Date.now());
    await crashAfterSending(env, 'crash-429');

    // Slack's history endpoint answers 429 once: that says nothing about whether the post is there.
    const web = createWebClient(TOKEN, env.slack.apiUrl, env.log.logger);
    const history = web.conversations.history.bind(web.conversations);
    let refused = 0;
    web.conversations.history = (async (args: Parameters<typeof history>[0]) => {
      if (refused++ === 0) {
        const e = new Error('A rate limit was exceeded (url: conversations.history, retry-after: 1)') as Error & { code: string; retryAfter: number };
        e.code = webApi.ErrorCode.RateLimitedError;
        e.retryAfter = 1;
        throw e;
      }
      return history(args);
    }) as typeof web.conversations.history;
    const restarted = env.queue({ web });
    expect(await restarted.drain(['crash-429'], 10_000)).toBe(true);
    expect(refused).toBeGreaterThanOrEqual(2);
    expect(env.slack.messages(GENERAL)).toHaveLength(1);
    expect(postCalls(env.slack)).toHaveLength(1);
    expect(env.outbox.get('crash-429')).toMatchObject({ status: 'posted', ts: env.slack.messages(GENERAL)[0]!.ts });
  });

  it('control: an intent recorded but never sent (maybe_sent = 0) is posted normally after a restart', async () => {
    const env = await setup();
    env.outbox.enqueue([post('never-sent')], Date.now());
    expect(row(env.store, 'never-sent')).toMatchObject({ status: 'pending', maybe_sent: 0 });
    const restarted = env.queue();
    expect(await restarted.drain(['never-sent'], 10_000)).toBe(true);
    expect(env.slack.messages(GENERAL).map(keyOf)).toEqual(['never-sent']);
    expect(env.slack.calls.some((c) => c.method.startsWith('conversations.'))).toBe(false);
    expect(env.outbox.get('never-sent')).toMatchObject({ status: 'posted', ts: env.slack.messages(GENERAL)[0]!.ts });
  });

  it('control: a send that started but never reached Slack is looked for, not found, and posted once', async () => {
    const env = await setup();
    env.outbox.enqueue([post('died-before-send')], Date.now());
    env.outbox.markSending('died-before-send');
    const restarted = env.queue();
    expect(await restarted.drain(['died-before-send'], 10_000)).toBe(true);
    expect(env.slack.calls.map((c) => c.method)).toEqual(['conversations.history', 'chat.postMessage']);
    expect(env.slack.messages(GENERAL).map(keyOf)).toEqual(['died-before-send']);
  });

  it('ignores a message with another key (or a human message) when looking for a post', async () => {
    const env = await setup();
    env.slack.injectMessage({ channel: GENERAL, text: 'text of look-alike' });
    env.outbox.enqueue([post('decoy')], Date.now());
    await env.queue().drain(['decoy'], 10_000);
    env.outbox.enqueue([post('look-alike')], Date.now());
    env.outbox.markSending('look-alike');
    expect(await env.queue().drain(['look-alike'], 10_000)).toBe(true);
    expect(env.slack.messages(GENERAL).map(keyOf)).toEqual([undefined, 'decoy', 'look-alike']);
  });
});

describe('DeliveryQueue: permanent errors and drain', () => {
  it('marks a post to an unknown channel failed, logs it at error level and counts it; others still go out', async () => {
    const env = await setup();
    const metrics = new Metrics();
    env.outbox.enqueue([post('lost', 'C0UNKNOWN1'), post('fine', GENERAL)], Date.now());
    const q = env.queue({ metrics });
    expect(await q.drain(['lost', 'fine'], 10_000)).toBe(true);
    expect(row(env.store, 'lost')).toMatchObject({ status: 'failed', last_error: 'channel_not_found', ts: null });
    expect(env.outbox.get('fine')!.status).toBe('posted');
    const errorLines = env.log.lines().filter((l) => l.level === 50 && l.key === 'lost');
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatchObject({ channel: 'C0UNKNOWN1', error: 'channel_not_found' });
    const counted = await metrics.registry.getSingleMetricAsString('athena_bot_slack_errors_total');
    expect(counted).toMatch(/athena_bot_slack_errors_total\{error="channel_not_found"\} 1/);
    expect(counted).toMatch(/athena_bot_slack_errors_total\{error="gave_up"\} 1/);
    const posted = await metrics.registry.getSingleMetricAsString('athena_bot_slack_posts_total');
    expect(posted).toMatch(/athena_bot_slack_posts_total\{kind="test"\} 1/);
    // Failed once means failed: a later queue does not try it again.
    await env.queue().drain(undefined, 2000);
    expect(postCalls(env.slack).filter((c) => c.body.channel === 'C0UNKNOWN1')).toHaveLength(1);
  });

  it('drain(keys) resolves true once those keys are posted, and false when they cannot be settled in time', async () => {
    const env = await setup();
    env.outbox.enqueue([post('d1'), post('d2', ALERTS)], Date.now());
    const q = env.queue();
    expect(await q.drain(['d1', 'd2'], 10_000)).toBe(true);
    expect(env.outbox.get('d1')!.status).toBe('posted');
    expect(env.outbox.get('d2')!.status).toBe('posted');
    expect(await q.drain([], 10)).toBe(true);

    env.slack.setDown(true);
    env.outbox.enqueue([post('d3')], Date.now());
    expect(await q.drain(['d3'], 300)).toBe(false);
    expect(env.outbox.get('d3')!.status).toBe('pending');
    await q.close();
    expect(await q.drain(['d3'], 10_000)).toBe(false);
  });
});

/** Polls until `cond` holds (real time). */
async function vi_waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
