import type { Metrics } from '../../observability/metrics.js';
import type { MessageUpdates, PendingUpdate } from '../../store/message-updates.js';
import { HOUR } from '../../util/clock.js';
import { failpoint } from '../../util/failpoints.js';
import type { Logger } from '../../util/logger.js';
import { describeSlackError, PERMANENT_SLACK_ERRORS, type WebClient } from '../slack-client.js';
import { ChannelWorkers, type ChannelPacing } from './channel-workers.js';
import { POST_METADATA_TYPE } from './delivery-queue.js';

/** Errors chat.update answers that retrying cannot fix, besides those a post can get. */
const PERMANENT_UPDATE_ERRORS = new Set([...PERMANENT_SLACK_ERRORS, 'message_not_found', 'cant_update_message', 'edit_window_closed']);

/** `channelSpacingMs`: spacing between edits in one channel (Slack answers bursts with 429s). */
export interface UpdateQueueOptions extends ChannelPacing {
  updates: MessageUpdates;
  web: WebClient;
  logger: Logger;
  metrics?: Metrics;
  /** An edit still failing with transient errors after this long is given up, loudly. */
  giveUpAfterMs?: number;
}

/**
 * Sends the edits of posted messages (chat.update), beside the delivery queue that posts them:
 * one worker per channel, edits spaced apart, a 429 waited out for its Retry-After, 5xx and
 * network errors backed off and retried. An edit waits until its message is posted (it needs
 * the message's ts); the edits of a message that could not be posted are dropped with it. Each
 * send carries the newest content recorded for the message, so a burst of changes costs one call.
 */
export class UpdateQueue extends ChannelWorkers {
  constructor(private readonly o: UpdateQueueOptions) {
    super(o);
  }

  /** Records the newest content for a posted (or still pending) message; `kick()` sends it. */
  put(postKey: string, channel: string, payload: { text: string; blocks: unknown[] }): void {
    this.o.updates.put(postKey, channel, payload, Date.now());
  }

  /** Resolves true once no edit is waiting (false at the timeout). */
  drain(timeoutMs = 120_000): Promise<boolean> {
    return this.drainUntil(() => this.o.updates.channelsWithPending().length === 0, timeoutMs);
  }

  protected channelsWithPending(): string[] {
    return this.o.updates.channelsWithPending();
  }

  protected async work(channel: string): Promise<void> {
    const { updates } = this.o;
    while (!this.stop.signal.aborted) {
      const next = updates.nextPending(channel);
      if (!next) {
        if (!updates.waitingForPosts(channel)) return;
        // Only edits of messages not posted yet: wait for the delivery queue.
        await this.pause(250);
        continue;
      }
      const delay = next.nextAttemptAt - Date.now();
      if (delay > 0) {
        await this.pause(delay);
        continue;
      }
      await this.send(next);
    }
  }

  private async send(u: PendingUpdate): Promise<void> {
    const { updates, web, logger, metrics } = this.o;
    if (u.post.status !== 'posted' || !u.post.ts) {
      // The message was never posted (Slack refused it, or it aged out): there is nothing to edit.
      logger.warn({ postKey: u.postKey, channel: u.channel, post: u.post.status ?? 'gone' }, 'message to edit was never posted; dropping its edit');
      updates.markFailed(u.postKey, `post ${u.post.status ?? 'gone'}`);
      return;
    }
    await this.paceChannel(u.channel);
    if (this.stop.signal.aborted) return;
    try {
      await web.chat.update({
        channel: u.channel,
        ts: u.post.ts,
        text: u.payload.text,
        blocks: u.payload.blocks as never,
        // The metadata that finds the message after a crash stays what it was.
        metadata: { event_type: POST_METADATA_TYPE, event_payload: { key: u.postKey } },
      });
      failpoint('slack.after-update');
      updates.markSent(u.postKey, u.revision);
      metrics?.slackPosts.inc({ kind: 'update' });
    } catch (err) {
      const info = describeSlackError(err);
      metrics?.slackErrors.inc({ error: info.detail.slice(0, 40) });
      const now = Date.now();
      if (info.kind === 'rate-limited') {
        const retryAt = now + (info.retryAfterMs ?? 1000);
        logger.warn({ postKey: u.postKey, channel: u.channel, retryAfterMs: info.retryAfterMs }, 'Slack rate limit on chat.update: waiting Retry-After');
        this.holdChannel(u.channel, retryAt);
        updates.markRetry(u.postKey, 'ratelimited', retryAt);
        return;
      }
      if ((info.kind === 'platform' && PERMANENT_UPDATE_ERRORS.has(info.detail)) || now - u.updatedAt > (this.o.giveUpAfterMs ?? 24 * HOUR)) {
        logger.error({ postKey: u.postKey, channel: u.channel, error: info.detail }, 'Slack refused the edit; giving up on it');
        updates.markFailed(u.postKey, info.detail);
        return;
      }
      const backoff = Math.min(5 * 60_000, 1000 * 2 ** Math.min(u.attempts, 9));
      const next = now + Math.round(backoff / 2 + (Math.random() * backoff) / 2);
      logger.warn({ postKey: u.postKey, channel: u.channel, error: info.detail, retryInMs: next - now }, 'Slack edit failed; will retry');
      updates.markRetry(u.postKey, info.detail, next);
    }
  }
}
