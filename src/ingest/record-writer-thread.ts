/**
 * The writer thread of a bulk ingest: owns its own connection to the store and writes the
 * rows the ingest thread parses, so parsing and SQLite's index maintenance run on both cores
 * at once. Rows arrive as flat value arrays (see `pushRecordValues`) and are written as they
 * come, inside a transaction committed every `commitRows`. On any failure it rolls back what
 * is uncommitted, reports and exits: what was committed stays, and a re-run skips it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RECORD_VALUE_COUNT, Store, StoreError } from '../store/store.js';
import { failpoint } from '../util/failpoints.js';
import type { FromWriter, ToWriter, WriterThreadData } from './thread-protocol.js';

if (!parentPort) throw new Error('record-writer-thread runs as a worker thread');
const port = parentPort;
const { databasePath, commitRows } = workerData as WriterThreadData;
const send = (m: FromWriter) => port.postMessage(m);

let store: Store | undefined;
let uncommitted = 0;

/** Closes the store (rolling back anything uncommitted) and then the port, so the thread exits. */
function stop(last: FromWriter): void {
  store?.rollback();
  store?.close();
  store = undefined;
  send(last);
  port.close();
}

const failed = (err: unknown): FromWriter => ({ kind: 'failed', message: (err as Error).message, storeError: err instanceof StoreError });

function handle(s: Store, m: ToWriter): void {
  if (m.kind === 'end') {
    if (s.db.inTransaction) s.commit();
    stop({ kind: 'done' });
    return;
  }
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
    send({ kind: 'ack', rows, inserted });
  } else {
    s.recordRejections(m.rejections, m.now);
    send({ kind: 'ack', rows: 0, inserted: 0 });
  }
}

try {
  store = Store.open(databasePath);
  port.on('message', (m: ToWriter) => {
    if (!store) return;
    try {
      handle(store, m);
    } catch (err) {
      stop(failed(err));
    }
  });
} catch (err) {
  stop(failed(err));
}
