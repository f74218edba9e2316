import type { Metrics } from '../../observability/metrics.js';
import type { Outbox, OutboxPost } from '../../store/outbox.js';
import { HOUR, sleep } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { failpoint } from '../../util/failpoints.js';
import { describeSlackError, PERMANENT_SLACK_ERRORS, type WebClient } from '../slack-client.js';

/** Pacing, Retry-After and Slack's own timestamps are real time, whatever clock the domain uses. */
const realTime = { now: () => Date.now() };

/** Slack message metadata type that marks every post with its outbox key. */
export const POST_METADATA_TYPE = 'athena_session_bot_post';

export interface DeliveryOptions {
  outbox: Outbox;
  web: WebClient;
  logger: Logger;
  metrics?: Metrics;
  /** Spacing between posts to one channel (Slack: about one message per second). */
  channelSpacingMs?: number;
  /** A post still failing with transient errors after this long is given up, loudly. */
  giveUpAfterMs?: number;
  /** Test hook: runs after Slack accepted a post and before it is recorded (the crash window). */
  afterSend?: (post: OutboxPost, ts: string) => void;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Delivers recorded intents to Slack: one worker per channel keeps that channel's posts in
 * order and about a second apart; a 429 is waited out for its Retry-After; 5xx and network
 * errors back off and retry; a post whose outcome is unknown (the process died or the
 * network failed mid-send) is first looked for in Slack by its metadata key, and only
 * posted again if it is not there. Nothing is dropped silently: a post that finally fails
 * is logged and counted.
 */
export class DeliveryQueue {
  private readonly workers = new Map<string, Promise<void>>();
  private readonly lastPostAt = new Map<string, number>();
  private readonly wakeups = new Set<() => void>();
  private readonly stop = new AbortController();
  private readonly spacing: number;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly o: DeliveryOptions) {
    this.spacing = o.channelSpacingMs ?? 1100;
    this.wait = o.wait ?? sleep;
  }

  /** Starts workers for every channel with pending posts (call after enqueueing). */
  kick(): void {
    if (this.stop.signal.aborted) return;
    for (const w of this.wakeups) w();
    for (const channel of this.o.outbox.channelsWithPending()) {
      if (!this.workers.has(channel)) {
        const run = this.work(channel).finally(() => this.workers.delete(channel));
        this.workers.set(channel, run);
      }
    }
  }

  /** Resolves when nothing is pending (or `keys` are all settled). */
  async drain(keys?: readonly string[], timeoutMs = 120_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.kick();
      const pending = keys ? keys.filter((k) => this.o.outbox.get(k)?.status === 'pending') : this.o.outbox.channelsWithPending();
      if (pending.length === 0) return true;
      if (Date.now() > deadline || this.stop.signal.aborted) return false;
      await sleep(50);
    }
  }

  /** Stops taking new work and waits for sends in flight to be recorded. */
  async close(): Promise<void> {
    this.stop.abort();
    for (const w of this.wakeups) w();
    await Promise.allSettled([...this.workers.values()]);
  }

  private async work(channel: string): Promise<void> {
    const { outbox } = this.o;
    while (!this.stop.signal.aborted) {
      const head = outbox.nextPending(channel);
      if (!head) return;
      const post = this.deliverable(head);
      if (!post) {
        // Its parent is pending in another channel: wait for that channel's worker.
        await this.pause(250);
        continue;
      }
      const delay = post.nextAttemptAt - realTime.now();
      if (delay > 0) {
        await this.pause(delay);
        continue;
      }
      // A post that could not be attempted must not be retried in a tight loop (that would starve the event loop).
      if (!(await this.deliver(post)) && !this.stop.signal.aborted) await this.pause(250);
    }
  }

  /**
   * What to deliver for the head of a channel's queue: the head itself, or the pending
   * parent it waits for when that parent is in this channel (a reply recorded before its
   * parent); undefined when the parent it waits for is pending in another channel.
   */
  private deliverable(head: OutboxPost): OutboxPost | undefined {
    const seen = new Set<string>();
    let post = head;
    while (!post.threadTs && post.parentKey && !seen.has(post.key)) {
      seen.add(post.key);
      const parent = this.o.outbox.get(post.parentKey);
      if (!parent || parent.status !== 'pending') break;
      if (parent.channel !== head.channel) return undefined;
      post = parent;
    }
    return post;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.wakeups.delete(done);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 60_000));
      this.wakeups.add(done);
    });
  }

  /** Returns false when nothing could be attempted (the parent is still pending, or stopping). */
  private async deliver(post: OutboxPost): Promise<boolean> {
    const { outbox, web, logger, metrics } = this.o;
    const clock = realTime;
    const threadTs = this.threadFor(post);
    if (threadTs === undefined) return false; // parent still pending
    let checking = false;
    try {
      if (post.maybeSent) {
        checking = true;
        const found = await this.findInSlack(post, threadTs);
        checking = false;
        if (found) {
          logger.info({ key: post.key, ts: found }, 'post found in Slack after an interrupted send; not posting again');
          outbox.markPosted(post.key, found, clock.now());
          return true;
        }
      }
      const since = clock.now() - (this.lastPostAt.get(post.channel) ?? 0);
      if (since < this.spacing) await this.wait(this.spacing - since, this.stop.signal);
      if (this.stop.signal.aborted) return false;
      outbox.markSending(post.key);
      failpoint('slack.before-send');
      this.lastPostAt.set(post.channel, clock.now());
      const res = await web.chat.postMessage({
        channel: post.channel,
        text: post.payload.text,
        ...(post.payload.blocks.length ? { blocks: post.payload.blocks as never } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        metadata: { event_type: POST_METADATA_TYPE, event_payload: { key: post.key } },
        unfurl_links: false,
        unfurl_media: false,
      });
      const ts = res.ts ?? '';
      this.o.afterSend?.(post, ts);
      failpoint('slack.after-send');
      outbox.markPosted(post.key, ts, clock.now());
      metrics?.slackPosts.inc({ kind: post.kind });
    } catch (err) {
      this.onError(post, err, checking);
    }
    return true;
  }

  /** undefined: wait for the parent; null: top level; string: the thread. */
  private threadFor(post: OutboxPost): string | null | undefined {
    if (post.threadTs) return post.threadTs;
    if (!post.parentKey) return null;
    const parent = this.o.outbox.get(post.parentKey);
    if (!parent || parent.status === 'failed') return null;
    if (parent.status === 'pending') return undefined;
    return parent.ts;
  }

  private async findInSlack(post: OutboxPost, threadTs: string | null): Promise<string | undefined> {
    const { web } = this.o;
    const matches = (m: { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }) =>
      m.metadata?.event_type === POST_METADATA_TYPE && m.metadata.event_payload?.key === post.key;
    const oldest = String(Math.floor(post.createdAt / 1000) - 60);
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = threadTs
        ? await web.conversations.replies({ channel: post.channel, ts: threadTs, oldest, include_all_metadata: true, limit: 200, cursor } as never)
        : await web.conversations.history({ channel: post.channel, oldest, include_all_metadata: true, limit: 200, cursor });
      const hit = (res.messages as Array<{ ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }> | undefined)?.find(matches);
      if (hit?.ts) return hit.ts;
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  /** `checking`: the error came from looking for the post in Slack, so it says nothing about whether the post is there. */
  private onError(post: OutboxPost, err: unknown, checking = false): void {
    const { outbox, logger, metrics } = this.o;
    const clock = realTime;
    const info = describeSlackError(err);
    metrics?.slackErrors.inc({ error: info.detail.slice(0, 40) });
    const now = clock.now();
    if (info.kind === 'rate-limited') {
      logger.warn({ key: post.key, channel: post.channel, retryAfterMs: info.retryAfterMs }, 'Slack rate limit: waiting Retry-After');
      this.lastPostAt.set(post.channel, now + (info.retryAfterMs ?? 1000));
      if (checking) outbox.markUncertain(post.key, 'ratelimited', now + (info.retryAfterMs ?? 1000), true);
      else outbox.markNotSent(post.key, 'ratelimited', now + (info.retryAfterMs ?? 1000));
      return;
    }
    if (info.kind === 'platform' && PERMANENT_SLACK_ERRORS.has(info.detail)) {
      logger.error({ key: post.key, channel: post.channel, error: info.detail }, 'Slack refused the message; giving up on it');
      outbox.markFailed(post.key, info.detail);
      metrics?.slackErrors.inc({ error: 'gave_up' });
      return;
    }
    if (now - post.createdAt > (this.o.giveUpAfterMs ?? 24 * HOUR)) {
      logger.error({ key: post.key, channel: post.channel, error: info.detail, attempts: post.attempts }, 'Slack delivery kept failing for a day; giving up on this message');
      outbox.markFailed(post.key, info.detail);
      metrics?.slackErrors.inc({ error: 'gave_up' });
      return;
    }
    const backoff = Math.min(5 * 60_000, 1000 * 2 ** Math.min(post.attempts, 9));
    const next = now + Math.round(backoff / 2 + (Math.random() * backoff) / 2);
    logger.warn({ key: post.key, channel: post.channel, error: info.detail, retryInMs: next - now }, 'Slack delivery failed; will retry');
    if (info.definite && !checking) outbox.markNotSent(post.key, info.detail, next);
    else outbox.markUncertain(post.key, info.detail, next, checking);
  }
}
