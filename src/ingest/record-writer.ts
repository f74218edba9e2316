import type { Worker } from 'node:worker_threads';
import { RECORD_VALUE_COUNT, StoreError, type RecordValue, type Rejection, type Store } from '../store/store.js';
import { startWorker } from '../util/start-worker.js';
import type { FromWriter, ToWriter, WriterThreadData } from './thread-protocol.js';

/** Called as rows are written: `rows` handed over, `inserted` of them new (the rest already stored). */
export type OnWritten = (rows: number, inserted: number) => void;

/** Where an ingest puts what it parsed: the store in this thread, or a writer thread. */
export interface RecordWriter {
  /** Writes rows (flat, see `pushRecordValues`); resolves when the writer can take more. */
  writeRows(values: RecordValue[], now: number): Promise<void>;
  writeRejections(rejections: Rejection[], now: number): Promise<void>;
  /** Commits everything; rejects if anything failed. */
  finish(): Promise<void>;
  /** Stops without waiting; what was committed stays. */
  abort(): Promise<void>;
}

/** Writes in this thread, one transaction per call. */
export function storeWriter(store: Store, onWritten: OnWritten): RecordWriter {
  return {
    async writeRows(values, now) {
      const inserted = store.insertRecordValues(values, now);
      onWritten(values.length / RECORD_VALUE_COUNT, inserted);
    },
    async writeRejections(rejections, now) {
      store.recordRejections(rejections, now);
    },
    async finish() {},
    async abort() {},
  };
}

/** Whether a store can be written from another thread (a file, opened for writing). */
export function canWriteFromThread(store: Store): boolean {
  return !store.db.memory && !store.db.readonly;
}

export interface ThreadWriterOptions {
  databasePath: string;
  /** Rows per transaction in the writer thread. */
  commitRows: number;
  /** Messages in flight before `writeRows` waits: enough to keep the writer busy, few enough to bound memory. */
  maxInFlight: number;
  onWritten: OnWritten;
}

/**
 * Writes through a worker thread holding its own connection, so parsing (this thread) and
 * SQLite (that one) overlap on two cores. Errors from the thread surface as StoreError where
 * the store failed, so callers see the same errors as with `storeWriter`.
 */
export function threadWriter(o: ThreadWriterOptions): RecordWriter {
  const worker = startWriterThread({ databasePath: o.databasePath, commitRows: o.commitRows });
  let inFlight = 0;
  let failure: Error | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const settle = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  worker.on('message', (m: FromWriter) => {
    if (m.kind === 'ack') {
      inFlight--;
      if (m.rows > 0) o.onWritten(m.rows, m.inserted);
    } else if (m.kind === 'done') {
      finished = true;
    } else {
      failure = m.storeError ? new StoreError(m.message) : new Error(`ingest writer thread: ${m.message}`);
    }
    settle();
  });
  worker.on('error', (err) => {
    failure ??= new Error(`ingest writer thread: ${err.message}`);
    settle();
  });
  worker.on('exit', (code) => {
    if (!finished) failure ??= new Error(`ingest writer thread stopped unexpectedly (exit code ${code})`);
    settle();
  });

  const waitUntil = async (ready: () => boolean) => {
    while (!failure && !ready()) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
  };
  const post = async (m: ToWriter, ready: () => boolean) => {
    if (failure) throw failure;
    worker.postMessage(m);
    inFlight++;
    await waitUntil(ready);
  };

  return {
    writeRows: (values, now) => post({ kind: 'rows', values, now }, () => inFlight < o.maxInFlight),
    writeRejections: (rejections, now) => post({ kind: 'rejections', rejections, now }, () => inFlight < o.maxInFlight),
    async finish() {
      if (failure) throw failure;
      worker.postMessage({ kind: 'end' } satisfies ToWriter);
      await waitUntil(() => finished);
      await exited;
    },
    async abort() {
      await worker.terminate();
    },
  };
}

function startWriterThread(data: WriterThreadData): Worker {
  // The thread only binds rows: a small heap is plenty, and without limits V8 lets it grow to
  // tens of megabytes of garbage (peak RSS of a 1M-record ingest: 352 MB unlimited, 266 MB so).
  return startWorker(import.meta.url, 'record-writer-thread', { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 } });
}
