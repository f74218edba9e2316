/**
 * The coordinator of an ingest, shared by local files and S3: hands items out to readers,
 * collects their reports, shows progress, and stops cleanly on a signal.
 *
 * A bulk import into a store file runs on every core: N reader threads (gunzip, scan,
 * prefilter, parse), each taking jobs of a few files as it finishes the last, feed one writer
 * thread (the store has one writer) on their own ports; this thread only lists, dispatches and
 * counts. A small import, or one into a store that cannot be shared with a thread, is read and
 * written right here with the same code.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Metrics } from '../observability/metrics.js';
import type { FileProblem } from '../sources/files/index.js';
import type { S3Reader } from '../sources/s3/index.js';
import { StoreError, type Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { startWorker } from '../util/start-worker.js';
import { addCounts, emptyCounts } from './element-parser.js';
import { createItemReader } from './item-reader.js';
import { canWriteFromThread, startWriterThread, storeWriter, type WriterThread } from './record-writer.js';
import type { FromReader, JobReport, ReadItem, ReaderSettings, ReaderThreadData, S3ClientSettings, ToReader } from './thread-protocol.js';
import type { IngestProgress, IngestResult } from './types.js';

export type { IngestProgress };

export interface IngestOptions {
  store: Store;
  clock: Clock;
  metrics?: Metrics;
  /** Called at most ~10 times a second, plus once at the start and once at the end. */
  onProgress?: (p: IngestProgress) => void;
  onProblem?: (p: FileProblem) => void;
  onRejected?: (reason: string, file: string) => void;
  /** Stops reading between items; what was read is still committed. */
  signal?: AbortSignal;
}

/** Options not in the public IngestOptions (tests and the benchmark). */
export interface InternalIngestOptions extends IngestOptions {
  /** Reader threads (default: one per core, at most 4); 0 reads in this thread. */
  readers?: number;
  /** Imports up to this many bytes are read in this thread (default 1 MiB). */
  inThreadMaxBytes?: number;
  /** Rows per transaction. */
  commitRows?: number;
  /** Rows per message to the writer. */
  messageRows?: number;
  /** Judge records on their bytes before parsing (default true). */
  prefilter?: boolean;
  smallFileBytes?: number;
  chunkSize?: number;
  wholeObjectBytes?: number;
  /** Items per job handed to a reader. */
  jobItems?: number;
}

/** Items to read, as they become known: a listing may still be running while they are read. */
export interface ItemSource {
  /** Jobs: a few items each, in order. */
  jobs: AsyncIterable<ReadItem[]>;
  /** Items and bytes known so far, and whether that is all of them. */
  known(): { items: number; bytes: number; complete: boolean };
  /** Where the items come from (the `source` label of the metrics). */
  source: 'file' | 's3';
  s3?: { settings: S3ClientSettings; reader: () => S3Reader };
}

/** Records per transaction: large enough that commits and index page writes amortise (measured). */
const COMMIT_ROWS = 50_000;
/**
 * Rows per message to the writer thread, and messages in flight per reader: enough to keep the
 * writer busy. Small messages keep rows from living long in a reader: 5,000-row messages made
 * each reader's old generation grow to ~45 MB between collections (peak RSS 293 MB on 1M
 * records), 256-row ones ~200 MB in all, for less CPU (measured). The writer takes messages
 * as they come but writes 5,000 rows at a time; 32 in flight (8,192 rows a reader) keep the
 * readers parsing while it writes (4 in flight: 46k records/s; 32: 56k, measured).
 */
const MESSAGE_ROWS = 256;
const MAX_IN_FLIGHT = 32;
const IN_THREAD_MAX_BYTES = 1024 * 1024;
/** Jobs a reader holds (one in hand, one queued), so it never waits for the next. */
const JOBS_AHEAD = 2;
const PROGRESS_INTERVAL_MS = 100;

export function defaultReaderThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/** Groups items into jobs of at most `maxItems` items and about `maxBytes` bytes. */
export async function* intoJobs(items: AsyncIterable<ReadItem[]> | Iterable<ReadItem[]>, maxItems: number, maxBytes: number): AsyncGenerator<ReadItem[]> {
  let job: ReadItem[] = [];
  let bytes = 0;
  for await (const group of items) {
    for (const item of group) {
      job.push(item);
      bytes += item.size;
      if (job.length >= maxItems || bytes >= maxBytes) {
        yield job;
        job = [];
        bytes = 0;
      }
    }
  }
  if (job.length) yield job;
}

class Tally {
  readonly counts = emptyCounts();
  items = 0;
  withElements = 0;
  bytes = 0;
  stopped = false;
  readonly problems: FileProblem[] = [];
  private lastProgress = -Infinity;

  constructor(
    private readonly o: IngestOptions,
    private readonly source: ItemSource,
  ) {}

  add(r: JobReport): void {
    addCounts(this.counts, r.counts);
    this.items += r.items;
    this.withElements += r.withElements;
    this.bytes += r.bytes;
    if (r.stopped) this.stopped = true;
    for (const p of r.problems) {
      this.problems.push(p);
      this.o.onProblem?.(p);
    }
    for (const [reason, file] of r.rejected) this.o.onRejected?.(reason, file);
    this.progress(false);
  }

  progress(force: boolean): void {
    if (!this.o.onProgress) return;
    const now = performance.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    const known = this.source.known();
    this.o.onProgress({
      filesDone: this.items,
      filesTotal: known.items,
      bytesRead: this.bytes,
      bytesTotal: known.bytes,
      records: this.counts.read,
      ...(known.complete ? {} : { listing: true }),
    });
  }
}

/** Runs an import of `source` into `o.store`; see the module comment for how. */
export async function runIngest(source: ItemSource, o: InternalIngestOptions, result: Pick<IngestResult, 'skipped' | 'alreadyIngested'>): Promise<IngestResult> {
  const settings: ReaderSettings = {
    prefilter: o.prefilter !== false,
    messageRows: o.messageRows ?? MESSAGE_ROWS,
    maxInFlight: MAX_IN_FLIGHT,
    s3: source.s3?.settings,
    smallFileBytes: o.smallFileBytes,
    chunkSize: o.chunkSize,
  };
  const tally = new Tally(o, source);
  tally.progress(true);
  const known = source.known();
  const readers = canWriteFromThread(o.store) ? (o.readers ?? defaultReaderThreads()) : 0;
  const threaded = readers > 0 && (!known.complete || known.bytes > (o.inThreadMaxBytes ?? IN_THREAD_MAX_BYTES));

  let listingError: unknown;
  const jobs = source.jobs[Symbol.asyncIterator]();
  let exhausted = false;
  /** The next job, or null when there is none, the import was stopped, or the listing failed. */
  const nextJob = async (): Promise<ReadItem[] | null> => {
    if (exhausted || o.signal?.aborted) return null;
    try {
      const r = await jobs.next();
      if (!r.done) return r.value;
    } catch (err) {
      listingError ??= err;
    }
    exhausted = true;
    return null;
  };

  const written = threaded ? await readInThreads(o, settings, readers, tally, nextJob) : await readHere(o, settings, source, tally, nextJob);
  // What was read before the listing failed is stored; the failure is the command's answer.
  if (listingError) throw listingError;
  tally.progress(true);
  o.metrics?.recordsIngested.inc({ source: source.source }, written.inserted);
  o.metrics?.recordsRejected.inc({ source: source.source }, tally.counts.rejected);
  const byName = (a: { file: string }, b: { file: string }) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
  return {
    files: tally.withElements,
    read: tally.counts.read,
    inserted: written.inserted,
    duplicates: written.duplicates,
    ignored: tally.counts.ignored,
    insights: tally.counts.insights,
    rejected: tally.counts.rejected,
    problems: tally.problems.sort(byName),
    skipped: result.skipped,
    alreadyIngested: result.alreadyIngested,
    writerThread: threaded,
    readerThreads: threaded ? readers : 0,
    interrupted: tally.stopped || (o.signal?.aborted ?? false),
  };
}

type Written = { inserted: number; duplicates: number };

/** The small-import path: the same reader, writing to the store in this thread. */
async function readHere(o: InternalIngestOptions, settings: ReaderSettings, source: ItemSource, tally: Tally, nextJob: () => Promise<ReadItem[] | null>): Promise<Written> {
  const written: Written = { inserted: 0, duplicates: 0 };
  const writer = storeWriter(o.store, (rows, inserted) => {
    written.inserted += inserted;
    written.duplicates += rows - inserted;
  });
  const reader = createItemReader({
    writer,
    // In this thread rows are written per commit-sized batch: one transaction each.
    settings: { ...settings, messageRows: o.commitRows ?? COMMIT_ROWS },
    clock: o.clock,
    shouldStop: () => o.signal?.aborted ?? false,
    s3: source.s3?.reader,
  });
  for (let job = await nextJob(); job; job = await nextJob()) tally.add(await reader.read(job));
  await reader.finish();
  return written;
}

/** The bulk path: reader threads and the writer thread. */
async function readInThreads(o: InternalIngestOptions, settings: ReaderSettings, count: number, tally: Tally, nextJob: () => Promise<ReadItem[] | null>): Promise<Written> {
  const writer: WriterThread = startWriterThread({ databasePath: o.store.db.name, commitRows: o.commitRows ?? COMMIT_ROWS, readers: count });
  const stop = new SharedArrayBuffer(4);
  const stopFlag = new Int32Array(stop);
  const onAbort = () => Atomics.store(stopFlag, 0, 1);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  const readers = writer.readerPorts.map((port) => {
    const data: ReaderThreadData = { port, stop, settings };
    const worker: Worker = startWorker(import.meta.url, 'reader-thread', { workerData: data, transferList: [port], resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    return { worker, outstanding: 0, ended: false, finished: false };
  });
  let rows = 0;
  let inserted = 0;
  let writerFailure: Error | undefined;

  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        Atomics.store(stopFlag, 0, 1);
        reject(err);
      };
      writer.failed.catch((err: Error) => {
        writerFailure = err;
        fail(err);
      });
      const feed = async (r: (typeof readers)[number]) => {
        try {
          while (r.outstanding < JOBS_AHEAD && !r.ended && !settled) {
            const job = await nextJob();
            if (r.ended || settled) return;
            if (!job) {
              if (r.outstanding === 0) {
                r.ended = true;
                r.worker.postMessage({ kind: 'end' } satisfies ToReader);
              }
              return;
            }
            r.outstanding++;
            // Fetched S3 objects move to the reader rather than being copied.
            const transfer = new Set<ArrayBuffer>();
            for (const item of job) if (item.kind === 's3' && item.bytes) transfer.add(item.bytes.buffer as ArrayBuffer);
            r.worker.postMessage({ kind: 'job', items: job } satisfies ToReader, [...transfer]);
          }
        } catch (err) {
          fail(err as Error);
        }
      };
      for (const r of readers) {
        r.worker.on('message', (m: FromReader) => {
          if (m.kind === 'done') {
            r.outstanding--;
            tally.add(m.report);
            void feed(r);
          } else if (m.kind === 'finished') {
            r.finished = true;
            rows += m.rows;
            if (readers.every((x) => x.finished)) writer.finish().then((n) => {
              inserted = n;
              settled = true;
              resolve();
            }, fail);
          } else {
            fail(m.storeError ? new StoreError(m.message) : new Error(`ingest reader thread: ${m.message}`));
          }
        });
        r.worker.on('error', (err) => fail(new Error(`ingest reader thread: ${err.message}`)));
        r.worker.on('exit', (code) => {
          if (!r.finished) fail(new Error(`ingest reader thread stopped unexpectedly (exit code ${code})`));
        });
        void feed(r);
      }
    });
  } catch (err) {
    await Promise.all([...readers.map((r) => r.worker.terminate()), writer.abort()]);
    // The writer's own failure says most (a StoreError), whoever noticed first.
    throw writerFailure ?? err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  return { inserted, duplicates: rows - inserted };
}
