import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { RECORD_VALUE_COUNT, StoreError, type RecordValue, type Rejection, type Store } from '../store/store.js';
import { startWorker } from '../util/start-worker.js';
import { markIngested } from './ingested-objects.js';
import type { FromWriterControl, FromWriterPort, IngestedObject, ToWriter, ToWriterControl, WriterThreadData } from './thread-protocol.js';

/** Called as rows are written: `rows` handed over, `inserted` of them new (the rest already stored). */
export type OnWritten = (rows: number, inserted: number) => void;

/** Where a reader puts what it parsed: the store in this thread, or the writer thread. */
export interface RecordWriter {
  /** Writes rows (flat, see `pushRecordValues`); resolves when the writer can take more. */
  writeRows(values: RecordValue[], now: number): Promise<void>;
  writeRejections(rejections: Rejection[], now: number): Promise<void>;
  /** Remembers S3 objects read completely; sent after their rows, so it commits with them or later. */
  writeObjects(objects: IngestedObject[], now: number): Promise<void>;
  /** Resolves when everything sent is written; rejects if anything failed. */
  drain(): Promise<void>;
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
    async writeObjects(objects, now) {
      store.write(() => markIngested(store.db, objects, now));
    },
    async drain() {},
  };
}

/** Whether a store can be written from another thread (a file, opened for writing). */
export function canWriteFromThread(store: Store): boolean {
  return !store.db.memory && !store.db.readonly;
}

const writerError = (m: { message: string; storeError: boolean }): Error =>
  m.storeError ? new StoreError(m.message) : new Error(`ingest writer thread: ${m.message}`);

/**
 * A reader thread's end of its port to the writer thread. At most `maxInFlight` messages are
 * unanswered at a time (bounding memory); errors from the writer surface as StoreError where
 * the store failed, so readers see the same errors as with `storeWriter`.
 */
export function portWriter(port: MessagePort, o: { maxInFlight: number; onTaken: (rows: number) => void }): RecordWriter {
  let inFlight = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const settle = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  port.on('message', (m: FromWriterPort) => {
    if (m.kind === 'ack') {
      inFlight--;
      if (m.rows > 0) o.onTaken(m.rows);
    } else {
      failure ??= writerError(m);
    }
    settle();
  });
  port.on('close', () => {
    if (inFlight > 0) failure ??= new Error('ingest writer thread went away');
    settle();
  });
  const waitUntil = async (ready: () => boolean) => {
    while (!failure && !ready()) await new Promise<void>((resolve) => (wake = resolve));
    if (failure) throw failure;
  };
  const post = async (m: ToWriter) => {
    if (failure) throw failure;
    port.postMessage(m);
    inFlight++;
    await waitUntil(() => inFlight < o.maxInFlight);
  };
  return {
    writeRows: (values, now) => post({ kind: 'rows', values, now }),
    writeRejections: (rejections, now) => post({ kind: 'rejections', rejections, now }),
    writeObjects: (objects, now) => post({ kind: 'objects', objects, now }),
    drain: () => waitUntil(() => inFlight === 0),
  };
}

/** The writer thread, seen from the coordinator. */
export interface WriterThread {
  /** One port per reader, to be transferred to it. */
  readonly readerPorts: MessagePort[];
  /** Rejects as soon as the thread fails (StoreError where the store failed). */
  readonly failed: Promise<never>;
  /** Commits everything and waits for the thread to close the store and exit; resolves with the rows that were new. */
  finish(): Promise<number>;
  /** Stops at once; what was committed stays. */
  abort(): Promise<void>;
}

/**
 * Starts the writer thread: it owns its own connection, takes rows from every reader's port
 * and commits every `commitRows`, so SQLite's work overlaps the readers' parsing.
 */
export function startWriterThread(o: { databasePath: string; commitRows: number; readers: number }): WriterThread {
  const channels = Array.from({ length: o.readers }, () => new MessageChannel());
  const data: WriterThreadData = { databasePath: o.databasePath, commitRows: o.commitRows, ports: channels.map((c) => c.port1) };
  // The thread only binds rows: a small heap is plenty, and without limits V8 lets it grow to
  // tens of megabytes of garbage (peak RSS of a 1M-record ingest: 352 MB unlimited, 266 MB so).
  const worker: Worker = startWorker(import.meta.url, 'record-writer-thread', {
    workerData: data,
    transferList: data.ports,
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 },
  });
  let done = false;
  let rejectFailed!: (err: Error) => void;
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => undefined); // observed by whoever races it; never an unhandled rejection
  let resolveDone!: (inserted: number) => void;
  const finished = new Promise<number>((resolve) => (resolveDone = resolve));
  worker.on('message', (m: FromWriterControl) => {
    if (m.kind === 'done') {
      done = true;
      resolveDone(m.inserted);
    } else {
      rejectFailed(writerError(m));
    }
  });
  worker.on('error', (err) => rejectFailed(new Error(`ingest writer thread: ${err.message}`)));
  worker.on('exit', (code) => {
    if (!done) rejectFailed(new Error(`ingest writer thread stopped unexpectedly (exit code ${code})`));
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    readerPorts: channels.map((c) => c.port2),
    failed,
    async finish() {
      worker.postMessage({ kind: 'end' } satisfies ToWriterControl);
      const inserted = await Promise.race([finished, failed]);
      await exited;
      return inserted;
    },
    async abort() {
      await worker.terminate();
    },
  };
}
