import type { Store } from './store.js';

export type PostStatus = 'pending' | 'posted' | 'failed';

/** A file to upload (the digest chart): its bytes are kept with the intent, in the store. */
export interface OutboxFile {
  filename: string;
  title: string;
  altText: string;
}

export interface OutboxPost {
  key: string;
  kind: string;
  channel: string;
  parentKey: string | null;
  threadTs: string | null;
  /** `file` set: the post is a file shared into the channel (or thread) by the files upload v2 flow. */
  payload: { text: string; blocks: unknown[]; file?: OutboxFile };
  status: PostStatus;
  /** The message's ts; for a file, its share's ts when Slack said it (null when not yet known). */
  ts: string | null;
  /** A file upload under way: the file id and upload URL Slack handed out (files.getUploadURLExternal). */
  fileId: string | null;
  uploadUrl: string | null;
  /** When the last send (or file completion) started: how long ago an interrupted one began. */
  attemptedAt: number | null;
  attempts: number;
  maybeSent: boolean;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  postedAt: number | null;
}

export interface NewPost {
  key: string;
  kind: string;
  channel: string;
  parentKey?: string | null;
  threadTs?: string | null;
  payload: { text: string; blocks: unknown[]; file?: OutboxFile };
  /** The file's bytes, with `payload.file`. */
  file?: Buffer;
}

interface Row {
  key: string;
  kind: string;
  channel: string;
  parent_key: string | null;
  thread_ts: string | null;
  payload: string;
  status: PostStatus;
  ts: string | null;
  attempts: number;
  maybe_sent: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  posted_at: number | null;
  file_id: string | null;
  upload_url: string | null;
  attempted_at: number | null;
}

/** Every column but the file's bytes, which only the upload reads. */
const POST_COLUMNS =
  'key, kind, channel, parent_key, thread_ts, payload, status, ts, attempts, maybe_sent, next_attempt_at, last_error, created_at, posted_at, file_id, upload_url, attempted_at';

const toPost = (r: Row): OutboxPost => ({
  key: r.key,
  kind: r.kind,
  channel: r.channel,
  parentKey: r.parent_key,
  threadTs: r.thread_ts,
  payload: JSON.parse(r.payload) as OutboxPost['payload'],
  status: r.status,
  ts: r.ts,
  attempts: r.attempts,
  maybeSent: r.maybe_sent === 1,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  createdAt: r.created_at,
  postedAt: r.posted_at,
  fileId: r.file_id,
  uploadUrl: r.upload_url,
  attemptedAt: r.attempted_at,
});

/**
 * What the bot means to post to Slack and what it has posted (SPEC §6). An intent is
 * recorded, keyed, before anything is sent; a key is never recorded twice, so nothing is
 * posted twice across restarts.
 */
export class Outbox {
  constructor(private readonly store: Store) {}

  /** Records intents (in one transaction); returns the keys that were new. */
  enqueue(posts: readonly NewPost[], now: number): string[] {
    const insert = this.store.db.prepare(
      `INSERT OR IGNORE INTO slack_posts (key, kind, channel, parent_key, thread_ts, payload, file, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
    );
    return this.store.write(() =>
      posts
        .filter((p) => insert.run(p.key, p.kind, p.channel, p.parentKey ?? null, p.threadTs ?? null, JSON.stringify(p.payload), p.file ?? null, now).changes === 1)
        .map((p) => p.key),
    );
  }

  /** Records intents and other rows together (e.g. alert bookkeeping), atomically. */
  enqueueWith<T>(posts: readonly NewPost[], now: number, alsoInTransaction: () => T): { added: string[]; result: T } {
    return this.store.write(() => ({ added: this.enqueue(posts, now), result: alsoInTransaction() }));
  }

  get(key: string): OutboxPost | undefined {
    const row = this.store.db.prepare(`SELECT ${POST_COLUMNS} FROM slack_posts WHERE key = ?`).get(key) as Row | undefined;
    return row && toPost(row);
  }

  /** A post and its thread replies (keys `<key>` and `<key>:…`). */
  family(key: string): string[] {
    return (this.store.db.prepare(`SELECT key FROM slack_posts WHERE key = ? OR key LIKE ? ESCAPE '\\' ORDER BY rowid`).all(key, key.replace(/[%_\\]/g, (c) => '\\' + c) + ':%') as Array<{ key: string }>).map((r) => r.key);
  }

  channelsWithPending(): string[] {
    return (this.store.db.prepare(`SELECT DISTINCT channel FROM slack_posts WHERE status = 'pending'`).all() as Array<{ channel: string }>).map((r) => r.channel);
  }

  /** The oldest pending post of a channel: posts to one channel go out in the order they were recorded. */
  nextPending(channel: string): OutboxPost | undefined {
    const row = this.store.db.prepare(`SELECT ${POST_COLUMNS} FROM slack_posts WHERE channel = ? AND status = 'pending' ORDER BY rowid LIMIT 1`).get(channel) as Row | undefined;
    return row && toPost(row);
  }

  /** Marks that a send is about to start: if the process dies now, the post may or may not be in Slack. */
  markSending(key: string, now = Date.now()): void {
    this.store.write(() => this.store.db.prepare('UPDATE slack_posts SET attempts = attempts + 1, maybe_sent = 1, attempted_at = ? WHERE key = ?').run(now, key));
  }

  /** The bytes of a file post. */
  fileBytes(key: string): Buffer | undefined {
    return (this.store.db.prepare('SELECT file FROM slack_posts WHERE key = ?').get(key) as { file: Buffer | null } | undefined)?.file ?? undefined;
  }

  /** Records the file id and upload URL Slack handed out, before the bytes go: a restart completes this file, not a new one. */
  markUploadStarted(key: string, fileId: string, uploadUrl: string): void {
    this.store.write(() => this.store.db.prepare('UPDATE slack_posts SET file_id = ?, upload_url = ? WHERE key = ?').run(fileId, uploadUrl, key));
  }

  /** Forgets an upload whose URL Slack no longer takes; the next attempt starts a new one. */
  clearUpload(key: string): void {
    this.store.write(() => this.store.db.prepare('UPDATE slack_posts SET file_id = NULL, upload_url = NULL WHERE key = ?').run(key));
  }

  markPosted(key: string, ts: string | null, now: number): void {
    this.store.write(() =>
      this.store.db.prepare(`UPDATE slack_posts SET status = 'posted', ts = ?, posted_at = ?, maybe_sent = 0, last_error = NULL WHERE key = ?`).run(ts, now, key),
    );
  }

  /** A definite non-delivery (Slack answered no): nothing to recover; try again at `nextAttemptAt`. */
  markNotSent(key: string, error: string, nextAttemptAt: number): void {
    this.store.write(() =>
      this.store.db.prepare('UPDATE slack_posts SET maybe_sent = 0, last_error = ?, next_attempt_at = ? WHERE key = ?').run(error, nextAttemptAt, key),
    );
  }

  /**
   * An unknown outcome (network error, 5xx, or a failed look-up in Slack): keep maybe_sent
   * so the next try checks Slack first. A failed look-up counts as an attempt (a send was
   * already counted by markSending) so back-off keeps growing while Slack is down.
   */
  markUncertain(key: string, error: string, nextAttemptAt: number, lookupFailed = false): void {
    this.store.write(() =>
      this.store.db
        .prepare('UPDATE slack_posts SET last_error = ?, next_attempt_at = ?, attempts = attempts + ? WHERE key = ?')
        .run(error, nextAttemptAt, lookupFailed ? 1 : 0, key),
    );
  }

  markFailed(key: string, error: string): void {
    this.store.write(() => this.store.db.prepare(`UPDATE slack_posts SET status = 'failed', last_error = ?, maybe_sent = 0 WHERE key = ?`).run(error, key));
  }

  counts(): Record<PostStatus, number> {
    const rows = this.store.db.prepare('SELECT status, count(*) AS n FROM slack_posts GROUP BY status').all() as Array<{ status: PostStatus; n: number }>;
    const out: Record<PostStatus, number> = { pending: 0, posted: 0, failed: 0 };
    for (const r of rows) out[r.status] = r.n;
    return out;
  }

  storeCreatedAt(): number {
    const row = this.store.db.prepare(`SELECT value FROM meta WHERE key = 'created_at'`).get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }
}
