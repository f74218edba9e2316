import type { Headline } from '../model/trend.js';
import type { Store } from './store.js';

/** A finished day's headline figures as remembered, with the record count they were made from. */
export interface RememberedDay {
  headline: Headline;
  records: number;
}

/**
 * What the digest's trend remembers of finished days, so a trend over 7 days costs 7 look-ups
 * and not 7 more digests. An entry is only good while the records it was made from are
 * unchanged: the caller compares `records` with a fresh count (records are only ever added,
 * or pruned as a whole past), so a record of that day that arrives late makes it recomputed.
 */
export class DigestHistory {
  private readonly stmts;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.stmts = {
      first: db.prepare('SELECT min(event_time) AS t FROM records'),
      count: db.prepare('SELECT count(*) AS n FROM records WHERE event_time >= ? AND event_time < ?'),
      get: db.prepare('SELECT headline, records FROM digest_days WHERE timezone = ? AND date = ? AND params = ?'),
      put: db.prepare(
        `INSERT INTO digest_days (timezone, date, params, headline, records, computed_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (timezone, date, params) DO UPDATE SET headline = excluded.headline, records = excluded.records, computed_at = excluded.computed_at`,
      ),
      prune: db.prepare('DELETE FROM digest_days WHERE computed_at < ?'),
    };
  }

  /** The time of the oldest stored record, or null for an empty store. */
  firstRecordAt(): number | null {
    return (this.stmts.first.get() as { t: number | null }).t;
  }

  /** Records with start <= eventTime < end (an index-only count). */
  countRecords(start: number, end: number): number {
    return (this.stmts.count.get(start, end) as { n: number }).n;
  }

  get(timezone: string, date: string, params: string): RememberedDay | undefined {
    const row = this.stmts.get.get(timezone, date, params) as { headline: string; records: number } | undefined;
    return row && { headline: JSON.parse(row.headline) as Headline, records: row.records };
  }

  remember(timezone: string, date: string, params: string, day: RememberedDay, now: number): void {
    this.store.write(() => this.stmts.put.run(timezone, date, params, JSON.stringify(day.headline), day.records, now));
  }

  /** Forgets entries not refreshed since `before` (days that left the store's retention). */
  forgetOlderThan(before: number): void {
    this.store.write(() => this.stmts.prune.run(before));
  }
}
