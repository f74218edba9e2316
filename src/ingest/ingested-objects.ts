/**
 * The S3 objects an ingest has read completely (migration 3's `ingested_objects`), so that
 * `ingest s3://…` run again skips them. A row is written by the writer in the transaction that
 * holds the object's last records, or a later one: a crash before that commit forgets both, and
 * the next run reads the object again (its records are deduplicated on eventID).
 */
import type Database from 'better-sqlite3';
import type { IngestedObject } from './thread-protocol.js';

const statements = new WeakMap<Database.Database, { mark: Database.Statement; etag: Database.Statement }>();

function prepared(db: Database.Database) {
  let s = statements.get(db);
  if (!s) {
    s = {
      mark: db.prepare('INSERT OR REPLACE INTO ingested_objects (bucket, key, etag, size, ingested_at) VALUES (?, ?, ?, ?, ?)'),
      etag: db.prepare('SELECT etag FROM ingested_objects WHERE bucket = ? AND key = ?').pluck(),
    };
    statements.set(db, s);
  }
  return s;
}

/** Records objects as read (call inside a write transaction). */
export function markIngested(db: Database.Database, objects: readonly IngestedObject[], now: number): void {
  const { mark } = prepared(db);
  for (const o of objects) mark.run(o.bucket, o.key, o.etag, o.size, now);
}

/** Whether this exact object (same key and ETag) was read completely before. */
export function alreadyIngested(db: Database.Database, bucket: string, key: string, etag: string): boolean {
  return prepared(db).etag.get(bucket, key) === etag;
}
