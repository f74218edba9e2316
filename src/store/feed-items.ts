import type { Store } from './store.js';

export type FeedItemKind = 'session' | 'notebook';

/** Something the live feed announced, and the message that shows it. */
export interface FeedItem {
  /** `session:<id>` or `notebook:<eventID>`. */
  key: string;
  kind: FeedItemKind;
  sessionId: string | null;
  region: string;
  channel: string;
  /** The outbox post of its message (a grouped notebook message holds several items). */
  postKey: string;
  /** Fingerprint of the content last posted or queued as an edit. */
  shown: string | null;
  /** True while the message may still change (a session not yet settled). */
  live: boolean;
  /** How often Athena was asked to confirm the end of an ended session. */
  confirmTries: number;
  createdAt: number;
}

interface Row {
  key: string;
  kind: FeedItemKind;
  session_id: string | null;
  region: string;
  channel: string;
  post_key: string;
  shown: string | null;
  live: number;
  confirm_tries: number;
  created_at: number;
}

const toItem = (r: Row): FeedItem => ({
  key: r.key,
  kind: r.kind,
  sessionId: r.session_id,
  region: r.region,
  channel: r.channel,
  postKey: r.post_key,
  shown: r.shown,
  live: r.live === 1,
  confirmTries: r.confirm_tries,
  createdAt: r.created_at,
});

export type NewFeedItem = Omit<FeedItem, 'confirmTries' | 'createdAt'>;

/**
 * The live feed's memory (SPEC §5): what was announced (so nothing is announced twice, across
 * restarts), which records the feed has looked at (a rowid cursor over the stored history, so a
 * record delivered late is still seen once), and the first-start floor before which nothing is
 * announced.
 */
export class FeedItems {
  constructor(private readonly store: Store) {}

  /** The moment before which nothing is announced: `firstRun` the first time it is asked, then that value for good. */
  floor(firstRun: number): number {
    const row = this.store.db.prepare(`SELECT value FROM meta WHERE key = 'feed_floor'`).get() as { value: string } | undefined;
    if (row) return Number(row.value);
    this.store.write(() => this.store.db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES ('feed_floor', ?)`).run(String(firstRun)));
    return firstRun;
  }

  /** The rowid of the last history record the feed has looked at. */
  cursor(): number {
    const row = this.store.db.prepare(`SELECT value FROM meta WHERE key = 'feed_cursor'`).get() as { value: string } | undefined;
    return row ? Number(row.value) : 0;
  }

  /** Which of these keys were announced already. */
  known(keys: readonly string[]): Set<string> {
    const stmt = this.store.db.prepare('SELECT 1 FROM feed_items WHERE key = ?');
    return new Set(keys.filter((k) => stmt.get(k) !== undefined));
  }

  /** Records announced items and moves the cursor; call inside the transaction that records their posts. */
  add(items: readonly NewFeedItem[], cursor: number, now: number): void {
    const insert = this.store.db.prepare(
      `INSERT OR IGNORE INTO feed_items (key, kind, session_id, region, channel, post_key, shown, live, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.store.write(() => {
      for (const i of items) insert.run(i.key, i.kind, i.sessionId, i.region, i.channel, i.postKey, i.shown, i.live ? 1 : 0, now);
      this.store.db.prepare(`INSERT INTO meta (key, value) VALUES ('feed_cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`).run(String(cursor));
    });
  }

  get(key: string): FeedItem | undefined {
    const row = this.store.db.prepare('SELECT * FROM feed_items WHERE key = ?').get(key) as Row | undefined;
    return row && toItem(row);
  }

  /** Items whose message may still change, oldest first. */
  live(): FeedItem[] {
    return (this.store.db.prepare('SELECT * FROM feed_items WHERE live = 1 ORDER BY created_at, key').all() as Row[]).map(toItem);
  }

  setShown(key: string, shown: string): void {
    this.store.write(() => this.store.db.prepare('UPDATE feed_items SET shown = ? WHERE key = ?').run(shown, key));
  }

  /** The message shows its item's final state: no more edits. */
  settle(key: string, now: number): void {
    this.store.write(() => this.store.db.prepare('UPDATE feed_items SET live = 0, settled_at = ? WHERE key = ?').run(now, key));
  }

  noteConfirmTry(key: string): void {
    this.store.write(() => this.store.db.prepare('UPDATE feed_items SET confirm_tries = confirm_tries + 1 WHERE key = ?').run(key));
  }
}
