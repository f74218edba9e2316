import type { Metrics } from '../../observability/metrics.js';
import type { Outbox, OutboxFile, OutboxPost } from '../../store/outbox.js';
import { HOUR } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { failpoint } from '../../util/failpoints.js';
import { describeSlackError, PERMANENT_SLACK_ERRORS, type WebClient } from '../slack-client.js';
import { ChannelWorkers, type ChannelPacing } from './channel-workers.js';

/** Pacing, Retry-After and Slack's own timestamps are real time, whatever clock the domain uses. */
const realTime = { now: () => Date.now() };

/** What the look-up after an interrupted send reads of a message. */
interface SlackMessageSeen {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
  files?: Array<{ id?: string }>;
}

/** A file as completeUploadExternal describes it, as far as its shares go. */
type SharedFile = { shares?: Record<string, Record<string, Array<{ ts?: string }>> | undefined> };

/** The ts of a file's share in `channel`, when completeUploadExternal already says it (it often does not: sharing is asynchronous). */
function shareTsOf(file: SharedFile | undefined, channel: string): string | null {
  for (const scope of ['public', 'private']) {
    const ts = file?.shares?.[scope]?.[channel]?.[0]?.ts;
    if (ts) return ts;
  }
  return null;
}

/** Slack message metadata type that marks every post with its outbox key. */
export const POST_METADATA_TYPE = 'athena_session_bot_post';

export interface DeliveryOptions extends ChannelPacing {
  outbox: Outbox;
  web: WebClient;
  logger: Logger;
  metrics?: Metrics;
  /** A post still failing with transient errors after this long is given up, loudly. */
  giveUpAfterMs?: number;
  /** Test hook: runs after Slack accepted a post and before it is recorded (the crash window). */
  afterSend?: (post: OutboxPost, ts: string) => void;
  /**
   * Slack shares a completed file upload asynchronously: after an interrupted completion, a
   * file not (yet) in the thread is only taken as not shared once this long has passed.
   */
  shareSettleMs?: number;
}

/**
 * Delivers recorded intents to Slack: one worker per channel keeps that channel's posts in
 * order and about a second apart; a 429 is waited out for its Retry-After; 5xx and network
 * errors back off and retry; a post whose outcome is unknown (the process died or the
 * network failed mid-send) is first looked for in Slack by its metadata key, and only
 * posted again if it is not there. Nothing is dropped silently: a post that finally fails
 * is logged and counted.
 */
export class DeliveryQueue extends ChannelWorkers {
  constructor(private readonly o: DeliveryOptions) {
    super(o);
  }

  /** Resolves when nothing is pending (or `keys` are all settled). */
  drain(keys?: readonly string[], timeoutMs = 120_000): Promise<boolean> {
    const { outbox } = this.o;
    return this.drainUntil(() => (keys ? keys.every((k) => outbox.get(k)?.status !== 'pending') : outbox.channelsWithPending().length === 0), timeoutMs);
  }

  protected channelsWithPending(): string[] {
    return this.o.outbox.channelsWithPending();
  }

  protected async work(channel: string): Promise<void> {
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

  /** Returns false when nothing could be attempted (the parent is still pending, or stopping). */
  private async deliver(post: OutboxPost): Promise<boolean> {
    const { outbox, web, logger, metrics } = this.o;
    const clock = realTime;
    const threadTs = this.threadFor(post);
    if (threadTs === undefined) return false; // parent still pending
    if (post.payload.file) return this.deliverFile(post, post.payload.file, threadTs);
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
      await this.paceChannel(post.channel);
      if (this.stop.signal.aborted) return false;
      outbox.markSending(post.key, clock.now());
      failpoint('slack.before-send');
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

  /**
   * A file post: the files upload v2 flow, with each step recorded so a restart neither
   * uploads twice nor loses the file. The file id is recorded before the bytes go; the
   * completion (which shares the file into the channel or thread) is marked as a send, so a
   * completion whose outcome is unknown is first looked for in Slack — the file in the thread —
   * and only repeated, with the same file id, once it has had time to appear and has not.
   */
  private async deliverFile(post: OutboxPost, file: OutboxFile, threadTs: string | null): Promise<boolean> {
    const { outbox, web, metrics } = this.o;
    let checking = false;
    try {
      if (post.maybeSent && post.fileId) {
        checking = true;
        const shared = await this.findInSlack(post, threadTs, (m) => m.files?.some((f) => f.id === post.fileId) ?? false);
        checking = false;
        if (shared) {
          this.o.logger.info({ key: post.key, fileId: post.fileId, ts: shared }, 'file found in Slack after an interrupted upload; not uploading again');
          outbox.markPosted(post.key, shared, realTime.now());
          return true;
        }
        const settle = this.o.shareSettleMs ?? 60_000;
        const since = realTime.now() - (post.attemptedAt ?? 0);
        if (since < settle) {
          outbox.markUncertain(post.key, 'file share not visible yet', realTime.now() + Math.min(settle - since, 5_000));
          return true;
        }
      }
      const bytes = outbox.fileBytes(post.key);
      if (!bytes) throw new Error(`file post ${post.key} has no bytes`);
      await this.paceChannel(post.channel);
      if (this.stop.signal.aborted) return false;
      let fileId = post.fileId;
      let uploadUrl = post.uploadUrl;
      if (!fileId || !uploadUrl) {
        const res = await web.files.getUploadURLExternal({ filename: file.filename, length: bytes.length, alt_text: file.altText });
        if (!res.file_id || !res.upload_url) throw new Error('files.getUploadURLExternal gave no file id or upload URL');
        fileId = res.file_id;
        uploadUrl = res.upload_url;
        outbox.markUploadStarted(post.key, fileId, uploadUrl);
        failpoint('slack.file-upload-started');
      }
      const upload = await fetch(uploadUrl, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(30_000) });
      await upload.arrayBuffer();
      if (!upload.ok) {
        // A spent or expired URL: the file was never completed, so nothing was shared; start a new upload.
        if (upload.status >= 400 && upload.status < 500) outbox.clearUpload(post.key);
        throw new Error(`the file upload answered HTTP ${upload.status}`);
      }
      outbox.markSending(post.key, realTime.now());
      failpoint('slack.before-send');
      const files: [{ id: string; title: string }] = [{ id: fileId, title: file.title }];
      const res = await web.files.completeUploadExternal(threadTs ? { files, channel_id: post.channel, thread_ts: threadTs } : { files, channel_id: post.channel });
      const shareTs = shareTsOf(res.files?.[0] as SharedFile | undefined, post.channel);
      this.o.afterSend?.(post, shareTs ?? fileId);
      failpoint('slack.after-send');
      outbox.markPosted(post.key, shareTs, realTime.now());
      metrics?.slackPosts.inc({ kind: post.kind });
    } catch (err) {
      this.onError(post, err, checking);
    }
    return true;
  }

  private async findInSlack(post: OutboxPost, threadTs: string | null, matches: (m: SlackMessageSeen) => boolean = (m) => this.carriesKey(m, post.key)): Promise<string | undefined> {
    const { web } = this.o;
    const oldest = String(Math.floor(post.createdAt / 1000) - 60);
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = threadTs
        ? await web.conversations.replies({ channel: post.channel, ts: threadTs, oldest, include_all_metadata: true, limit: 200, cursor } as never)
        : await web.conversations.history({ channel: post.channel, oldest, include_all_metadata: true, limit: 200, cursor });
      const hit = (res.messages as SlackMessageSeen[] | undefined)?.find(matches);
      if (hit?.ts) return hit.ts;
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) return undefined;
    }
    return undefined;
  }

  private carriesKey(m: SlackMessageSeen, key: string): boolean {
    return m.metadata?.event_type === POST_METADATA_TYPE && m.metadata.event_payload?.key === key;
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
      this.holdChannel(post.channel, now + (info.retryAfterMs ?? 1000));
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
