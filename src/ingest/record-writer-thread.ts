/**
 * The writer thread of a bulk ingest: owns its own connection to the store and writes what
 * the reader threads parse, each on its own port, so SQLite's index maintenance runs beside
 * their parsing. Rows arrive as flat value arrays (see `pushRecordValues`) and are gathered
 * into batches of up to `FLUSH_ROWS`, inside a transaction committed every `commitRows`. On any
 * failure it rolls back what is uncommitted, tells the readers and the coordinator, and exits:
 * what was committed stays, and a re-run skips it.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { RECORD_VALUE_COUNT, Store, StoreError, type RecordValue } from '../store/store.js';
import { failpoint } from '../util/failpoints.js';
import { markIngested } from './ingested-objects.js';
import type { FromWriterControl, FromWriterPort, ToWriter, ToWriterControl, WriterThreadData } from './thread-protocol.js';

if (!parentPort) throw new Error('record-writer-thread runs as a worker thread');
const control = parentPort;
const { databasePath, commitRows, ports } = workerData as WriterThreadData;

/**
 * Rows written by one call. Readers send 256-row messages (small, for their heaps); the store
 * writes a batch in key order, and bigger batches touch each index page fewer times: 1M
 * records took 12.8 µs a row written 256 at a time, 10.5 µs 5,000 at a time, 8.7 µs 20,000
 * at a time, store alone (measured). In the whole ingest 5,000 did as well as 20,000 (held
 * rows are promoted and collected in this thread's small heap) with less memory.
 */
const FLUSH_ROWS = 5_000;

let store: Store | undefined;
let uncommitted = 0;
let inserted = 0;
let pending: RecordValue[][] = [];
let pendingRows = 0;
let pendingNow = 0;
/** Rejections and S3 objects read completely, in arrival order: written after the rows held, in their transaction. */
let pendingOther: Array<Exclude<ToWriter, { kind: 'rows' }>> = [];

/** Closes the store (rolling back anything uncommitted), tells everyone, and lets the thread exit. */
function stop(last: FromWriterControl): void {
  store?.rollback();
  store?.close();
  store = undefined;
  for (const port of ports) {
    if (last.kind === 'failed') port.postMessage(last satisfies FromWriterPort);
    port.close();
  }
  control.postMessage(last);
  control.close();
}

const failed = (err: unknown): FromWriterControl => ({ kind: 'failed', message: (err as Error).message, storeError: err instanceof StoreError });

/**
 * Writes what is held: the rows, then the rejections and objects. An object is remembered
 * only after every row sent before it, and in the same transaction, so a crash never leaves
 * one remembered without its records. Commits when the transaction has reached `commitRows`.
 */
function flush(s: Store): void {
  if (pendingRows === 0 && pendingOther.length === 0) return;
  if (!s.db.inTransaction) {
    s.begin();
    uncommitted = 0;
  }
  if (pendingRows > 0) {
    const chunks = pending;
    const rows = pendingRows;
    pending = [];
    pendingRows = 0;
    inserted += s.insertRecordChunks(chunks, pendingNow);
    failpoint('ingest.rows-written');
    uncommitted += rows;
  }
  const other = pendingOther;
  pendingOther = [];
  for (const m of other) {
    if (m.kind === 'rejections') s.recordRejections(m.rejections, m.now);
    else s.write(() => markIngested(s.db, m.objects, m.now));
  }
  if (uncommitted >= commitRows) s.commit();
}

function take(s: Store, m: ToWriter): FromWriterPort {
  if (m.kind !== 'rows') {
    pendingOther.push(m);
    return { kind: 'ack', rows: 0 };
  }
  const rows = m.values.length / RECORD_VALUE_COUNT;
  pending.push(m.values);
  pendingRows += rows;
  pendingNow = m.now;
  // Written at FLUSH_ROWS, and where a transaction ends, so that commits fall every commitRows.
  if (pendingRows >= FLUSH_ROWS || uncommitted + pendingRows >= commitRows) flush(s);
  return { kind: 'ack', rows };
}

function serve(port: MessagePort): void {
  port.on('message', (m: ToWriter) => {
    if (!store) return;
    try {
      port.postMessage(take(store, m));
    } catch (err) {
      stop(failed(err));
    }
  });
}

try {
  store = Store.open(databasePath);
  // Checkpoint every 10,000 pages (160 MB) instead of 1,000: a bulk import rewrites the same
  // index pages over and over, and each checkpoint syncs the database file (1M records:
  // 21 s → 14 s of writing, measured). The WAL is truncated when the import ends.
  store.db.pragma('wal_autocheckpoint = 10000');
  for (const port of ports) serve(port);
  control.on('message', (m: ToWriterControl) => {
    if (m.kind !== 'end' || !store) return;
    try {
      flush(store);
      if (store.db.inTransaction) store.commit();
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      stop({ kind: 'done', inserted });
    } catch (err) {
      stop(failed(err));
    }
  });
} catch (err) {
  stop(failed(err));
}
