/**
 * The writer thread of a bulk ingest: owns its own connection to the store and writes what
 * the reader threads parse, each on its own port, so SQLite's index maintenance runs beside
 * their parsing. Rows arrive as flat value arrays (see `pushRecordValues`) and are written as
 * they come, inside a transaction committed every `commitRows`. On any failure it rolls back
 * what is uncommitted, tells the readers and the coordinator, and exits: what was committed
 * stays, and a re-run skips it.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { RECORD_VALUE_COUNT, Store, StoreError } from '../store/store.js';
import { failpoint } from '../util/failpoints.js';
import { markIngested } from './ingested-objects.js';
import type { FromWriterControl, FromWriterPort, ToWriter, ToWriterControl, WriterThreadData } from './thread-protocol.js';

if (!parentPort) throw new Error('record-writer-thread runs as a worker thread');
const control = parentPort;
const { databasePath, commitRows, ports } = workerData as WriterThreadData;

let store: Store | undefined;
let uncommitted = 0;

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

function write(s: Store, m: ToWriter): FromWriterPort {
  if (!s.db.inTransaction) {
    s.begin();
    uncommitted = 0;
  }
  if (m.kind === 'rows') {
    const inserted = s.insertRecordValues(m.values, m.now);
    failpoint('ingest.rows-written');
    const rows = m.values.length / RECORD_VALUE_COUNT;
    uncommitted += rows;
    if (uncommitted >= commitRows) s.commit();
    return { kind: 'ack', rows, inserted };
  }
  if (m.kind === 'rejections') s.recordRejections(m.rejections, m.now);
  else s.write(() => markIngested(s.db, m.objects, m.now));
  return { kind: 'ack', rows: 0, inserted: 0 };
}

function serve(port: MessagePort): void {
  port.on('message', (m: ToWriter) => {
    if (!store) return;
    try {
      port.postMessage(write(store, m));
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
      if (store.db.inTransaction) store.commit();
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      stop({ kind: 'done' });
    } catch (err) {
      stop(failed(err));
    }
  });
} catch (err) {
  stop(failed(err));
}
