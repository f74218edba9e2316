import type { PostStatus } from './outbox.js';
import type { Store } from './store.js';

export type UpdateStatus = 'pending' | 'done' | 'failed';

/** The newest content a posted message should show, and whether Slack has it yet. */
export interface MessageUpdate {
  postKey: string;
  channel: string;
  payload: { text: string; blocks: unknown[] };
  /** Bumped by every new content; `sentRevision` is the newest Slack accepted. */
  revision: number;
  sentRevision: number;
  status: UpdateStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  updatedAt: number;
}

/** A waiting edit with the state of the post it edits (undefined status: the post is gone). */
export interface PendingUpdate extends MessageUpdate {
  post: { status: PostStatus | undefined; ts: string | null };
}

interface Row {
  post_key: string;
  channel: string;
  payload: string;
  revision: number;
  sent_revision: number;
  status: UpdateStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  updated_at: number;
}

const toUpdate = (r: Row): MessageUpdate => ({
  postKey: r.post_key,
  channel: r.channel,
  payload: JSON.parse(r.payload) as MessageUpdate['payload'],
  revision: r.revision,
  sentRevision: r.sent_revision,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  updatedAt: r.updated_at,
});

/**
 * Edits to messages the outbox posted (chat.update): one row per message holding the newest
 * content, so however often it changes while Slack is slow or limiting, one edit carries the
 * latest. An edit sets the whole message, so sending one twice (a crash before it was recorded)
 * does no harm: the next send simply repeats it.
 */
export class MessageUpdates {
  constructor(private readonly store: Store) {}

  /** Records new content for a message; returns its revision. */
  put(postKey: string, channel: string, payload: { text: string; blocks: unknown[] }, now: number): number {
    return this.store.write(() => {
      this.store.db
        .prepare(
          `INSERT INTO slack_updates (post_key, channel, payload, revision, status, updated_at) VALUES (?, ?, ?, 1, 'pending', ?)
           ON CONFLICT (post_key) DO UPDATE SET payload = excluded.payload, channel = excluded.channel, revision = revision + 1,
             status = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL, updated_at = excluded.updated_at`,
        )
        .run(postKey, channel, JSON.stringify(payload), now);
      return (this.store.db.prepare('SELECT revision FROM slack_updates WHERE post_key = ?').get(postKey) as { revision: number }).revision;
    });
  }

  get(postKey: string): MessageUpdate | undefined {
    const row = this.store.db.prepare('SELECT * FROM slack_updates WHERE post_key = ?').get(postKey) as Row | undefined;
    return row && toUpdate(row);
  }

  channelsWithPending(): string[] {
    return (this.store.db.prepare(`SELECT DISTINCT channel FROM slack_updates WHERE status = 'pending'`).all() as Array<{ channel: string }>).map((r) => r.channel);
  }

  /**
   * The next edit of a channel that can be sent: its message is posted (or has failed or gone,
   * which the sender settles). Edits of messages still waiting to be posted do not hold up others.
   */
  nextPending(channel: string): PendingUpdate | undefined {
    const row = this.store.db
      .prepare(
        `SELECT u.*, p.status AS post_status, p.ts AS post_ts FROM slack_updates u LEFT JOIN slack_posts p ON p.key = u.post_key
         WHERE u.channel = ? AND u.status = 'pending' AND (p.status IS NULL OR p.status != 'pending')
         ORDER BY u.next_attempt_at, u.rowid LIMIT 1`,
      )
      .get(channel) as (Row & { post_status: PostStatus | null; post_ts: string | null }) | undefined;
    return row && { ...toUpdate(row), post: { status: row.post_status ?? undefined, ts: row.post_ts } };
  }

  /** Whether a channel has edits waiting for their message to be posted first. */
  waitingForPosts(channel: string): boolean {
    return (
      this.store.db
        .prepare(`SELECT 1 FROM slack_updates u JOIN slack_posts p ON p.key = u.post_key WHERE u.channel = ? AND u.status = 'pending' AND p.status = 'pending' LIMIT 1`)
        .get(channel) !== undefined
    );
  }

  /** Slack accepted `revision`: done, unless newer content arrived meanwhile. */
  markSent(postKey: string, revision: number): void {
    this.store.write(() =>
      this.store.db
        .prepare(
          `UPDATE slack_updates SET sent_revision = max(sent_revision, ?), status = CASE WHEN revision <= ? THEN 'done' ELSE 'pending' END,
             attempts = CASE WHEN revision <= ? THEN attempts ELSE 0 END, last_error = NULL WHERE post_key = ?`,
        )
        .run(revision, revision, revision, postKey),
    );
  }

  markRetry(postKey: string, error: string, nextAttemptAt: number): void {
    this.store.write(() =>
      this.store.db.prepare('UPDATE slack_updates SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE post_key = ?').run(error, nextAttemptAt, postKey),
    );
  }

  markFailed(postKey: string, error: string): void {
    this.store.write(() => this.store.db.prepare(`UPDATE slack_updates SET status = 'failed', last_error = ? WHERE post_key = ?`).run(error, postKey));
  }

  counts(): Record<UpdateStatus, number> {
    const rows = this.store.db.prepare('SELECT status, count(*) AS n FROM slack_updates GROUP BY status').all() as Array<{ status: UpdateStatus; n: number }>;
    const out: Record<UpdateStatus, number> = { pending: 0, done: 0, failed: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }
}
