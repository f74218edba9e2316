import type { Store } from './store.js';

/** An alert message and what people did with it. */
export interface AlertPost {
  postKey: string;
  channel: string;
  ackedBy: string | null;
  ackedAt: number | null;
  snoozedBy: string | null;
  snoozedUntil: number | null;
  /** Reminders posted in its thread so far, and when the last one was. */
  reminders: number;
  remindedAt: number | null;
  /** Fingerprint of the content last posted or queued as an edit. */
  shown: string | null;
  /** True while the message may still change (some of its calculations have not settled). */
  live: boolean;
  createdAt: number;
}

/** One calculation of an alert (the `alerts` table). */
export interface AlertedCalculation {
  calculationId: string;
  sessionId: string;
  region: string;
  postKey: string;
  /** Whether Athena confirmed it running when it was alerted. */
  confirmed: boolean;
  open: boolean;
}

interface Row {
  post_key: string;
  channel: string;
  acked_by: string | null;
  acked_at: number | null;
  snoozed_by: string | null;
  snoozed_until: number | null;
  reminders: number;
  reminded_at: number | null;
  shown: string | null;
  live: number;
  created_at: number;
}

const toPost = (r: Row): AlertPost => ({
  postKey: r.post_key,
  channel: r.channel,
  ackedBy: r.acked_by,
  ackedAt: r.acked_at,
  snoozedBy: r.snoozed_by,
  snoozedUntil: r.snoozed_until,
  reminders: r.reminders,
  remindedAt: r.reminded_at,
  shown: r.shown,
  live: r.live === 1,
  createdAt: r.created_at,
});

/**
 * Alert messages as on-call sees them (SPEC §5 "Alerts are live"): acknowledged by whom,
 * snoozed until when (with the snoozed sessions, which get no new alert meanwhile), reminders
 * sent, and whether the message still changes.
 */
export class AlertStates {
  constructor(private readonly store: Store) {}

  /** Records a new alert message; call inside the transaction that records its post. */
  add(postKey: string, channel: string, shown: string, now: number): void {
    this.store.db.prepare('INSERT OR IGNORE INTO alert_posts (post_key, channel, shown, live, created_at) VALUES (?, ?, ?, 1, ?)').run(postKey, channel, shown, now);
  }

  get(postKey: string): AlertPost | undefined {
    const row = this.store.db.prepare('SELECT * FROM alert_posts WHERE post_key = ?').get(postKey) as Row | undefined;
    return row && toPost(row);
  }

  /** The alert whose message is at `ts` in `channel` (where a button was pressed). */
  byMessage(channel: string, ts: string): AlertPost | undefined {
    const row = this.store.db
      .prepare(`SELECT a.* FROM alert_posts a JOIN slack_posts p ON p.key = a.post_key WHERE p.channel = ? AND p.ts = ?`)
      .get(channel, ts) as Row | undefined;
    return row && toPost(row);
  }

  /** Alert messages that may still change, oldest first. */
  live(): AlertPost[] {
    return (this.store.db.prepare('SELECT * FROM alert_posts WHERE live = 1 ORDER BY created_at, post_key').all() as Row[]).map(toPost);
  }

  /** The calculations an alert message is about. */
  calculations(postKey: string): AlertedCalculation[] {
    return (
      this.store.db.prepare('SELECT calculation_id, session_id, region, post_key, confirmed, status FROM alerts WHERE post_key = ? ORDER BY rowid').all(postKey) as Array<{
        calculation_id: string;
        session_id: string;
        region: string;
        post_key: string;
        confirmed: number;
        status: string;
      }>
    ).map((r) => ({ calculationId: r.calculation_id, sessionId: r.session_id, region: r.region, postKey: r.post_key, confirmed: r.confirmed === 1, open: r.status === 'open' }));
  }

  /** Marks an alert acknowledged by `user`; false when someone already had. */
  acknowledge(postKey: string, user: string, now: number): boolean {
    return this.store.write(() => this.store.db.prepare('UPDATE alert_posts SET acked_by = ?, acked_at = ? WHERE post_key = ? AND acked_by IS NULL').run(user, now, postKey).changes === 1);
  }

  /** Snoozes an alert and its sessions until `until` (a later snooze of a session wins). */
  snooze(postKey: string, sessionIds: readonly string[], user: string, until: number): void {
    this.store.write(() => {
      this.store.db.prepare('UPDATE alert_posts SET snoozed_by = ?, snoozed_until = ? WHERE post_key = ?').run(user, until, postKey);
      const put = this.store.db.prepare(
        `INSERT INTO session_snoozes (session_id, until, by_user, post_key) VALUES (?, ?, ?, ?)
         ON CONFLICT (session_id) DO UPDATE SET until = max(until, excluded.until), by_user = excluded.by_user, post_key = excluded.post_key`,
      );
      for (const id of new Set(sessionIds)) put.run(id, until, user, postKey);
    });
  }

  /** Until when a session is snoozed, if it is at `now`. */
  sessionSnoozedUntil(sessionId: string, now: number): number | undefined {
    const row = this.store.db.prepare('SELECT until FROM session_snoozes WHERE session_id = ? AND until > ?').get(sessionId, now) as { until: number } | undefined;
    return row?.until;
  }

  setShown(postKey: string, shown: string): void {
    this.store.write(() => this.store.db.prepare('UPDATE alert_posts SET shown = ? WHERE post_key = ?').run(shown, postKey));
  }

  /** Counts a reminder; call inside the transaction that records its post. */
  noteReminder(postKey: string, now: number): void {
    this.store.db.prepare('UPDATE alert_posts SET reminders = reminders + 1, reminded_at = ? WHERE post_key = ?').run(now, postKey);
  }

  /** The message shows its final state: no more edits. */
  settle(postKey: string): void {
    this.store.write(() => this.store.db.prepare('UPDATE alert_posts SET live = 0 WHERE post_key = ?').run(postKey));
  }
}
