import { createS3Reader, listTrailObjects, S3SourceError, type DayRange, type S3Location, type S3Reader, type S3Settings } from '../sources/s3/index.js';
import { StoreError } from '../store/store.js';
import { startWorker } from '../util/start-worker.js';
import { alreadyIngested } from './ingested-objects.js';
import { intoJobs, runIngest, type IngestOptions, type InternalIngestOptions } from './run-ingest.js';
import type { FromS3Thread, ReadItem, S3ThreadData, ToS3Thread } from './thread-protocol.js';
import type { IngestResult } from './types.js';

export interface IngestS3Options extends IngestOptions {
  /** Days of the CloudTrail layout to read (delivery days, UTC); others are neither listed nor fetched. */
  range?: DayRange;
  s3: S3Settings;
  /** The S3 client of this thread (default: one made from `s3` and the environment). */
  reader?: S3Reader;
}

/** Objects per job, and about how many bytes. */
const JOB_OBJECTS = 24;
const JOB_BYTES = 8 * 1024 * 1024;
/** Objects up to this size are fetched whole here and handed to a reader with their job; a reader streams bigger ones itself. */
export const WHOLE_OBJECT_BYTES = 8 * 1024 * 1024;
/** GetObject calls in flight, and jobs fetched ahead of the readers (bounding memory). */
const FETCH_CONCURRENCY = 16;
const JOBS_FETCHED_AHEAD = 6;

/** Bytes that own their whole ArrayBuffer, so it can be transferred to a reader (never a slice of Node's shared pool). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/**
 * Fetches the objects of each job before it is handed out, a few jobs ahead and
 * FETCH_CONCURRENCY calls at a time. The SDK lives in this thread only: in each reader it cost
 * ~40 MB of heap (peak RSS 351 MB for a 1M-record trail), and its per-request work is the
 * same wherever it runs. A refused or failed fetch travels with the item as its problem.
 */
async function* fetchAhead(jobs: AsyncIterable<ReadItem[]>, reader: S3Reader, wholeObjectBytes: number): AsyncGenerator<ReadItem[]> {
  let active = 0;
  const waiting: Array<() => void> = [];
  const slot = async () => {
    while (active >= FETCH_CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
  };
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  const fetchJob = (job: ReadItem[]) =>
    Promise.all(
      job.map(async (item): Promise<ReadItem> => {
        if (item.kind !== 's3' || item.size > wholeObjectBytes) return item;
        await slot();
        try {
          return { ...item, bytes: owned(await reader.getBytes(item.bucket, item.key)) };
        } catch (err) {
          return { ...item, problem: (err as Error).message.replace(`s3://${item.bucket}/${item.key}: `, '') };
        } finally {
          release();
        }
      }),
    );
  const ahead: Array<Promise<ReadItem[]>> = [];
  for await (const job of jobs) {
    ahead.push(fetchJob(job));
    if (ahead.length >= JOBS_FETCHED_AHEAD) yield await ahead.shift()!;
  }
  while (ahead.length) yield await ahead.shift()!;
}

/**
 * Imports a CloudTrail trail straight from S3 (`s3://bucket/prefix`): lists it along the
 * CloudTrail layout (digest folders and days outside `range` are never listed), skips objects
 * an earlier run read completely (same key and ETag, remembered in the store), fetches the rest
 * here and reads them on every core like local files. The first listing call is made before
 * anything starts, so a missing bucket, a refusal or missing credentials end the command at
 * once with one line.
 */
export async function ingestS3(at: S3Location, o: IngestS3Options): Promise<IngestResult> {
  const reader = o.reader ?? createS3Reader(o.s3);
  const skipped: IngestResult['skipped'] = [];
  let listed = 0;
  let listedBytes = 0;
  let complete = false;
  let already = 0;
  const db = o.store.db;
  async function* items(): AsyncGenerator<ReadItem[]> {
    for await (const page of listTrailObjects(reader, at, { range: o.range, onSkipped: (file, why) => skipped.push({ file, why }) })) {
      const fresh: ReadItem[] = [];
      for (const obj of page) {
        if (alreadyIngested(db, obj.bucket, obj.key, obj.etag)) {
          already++;
          continue;
        }
        fresh.push({ kind: 's3', ...obj });
        listed++;
        listedBytes += obj.size;
      }
      if (fresh.length) yield fresh;
    }
    complete = true;
  }
  const pages = items();
  // The first page (or the end) before anything else: errors reaching S3 surface here.
  const first = await pages.next();
  async function* all(): AsyncGenerator<ReadItem[]> {
    if (first.done) return;
    yield first.value;
    yield* pages;
  }
  const result = await runIngest(
    {
      jobs: fetchAhead(intoJobs(all(), (o as InternalIngestOptions).jobItems ?? JOB_OBJECTS, JOB_BYTES), reader, (o as InternalIngestOptions).wholeObjectBytes ?? WHOLE_OBJECT_BYTES),
      known: () => ({ items: listed, bytes: listedBytes, complete }),
      source: 's3',
      s3: { settings: o.s3, reader: () => reader },
    },
    o as InternalIngestOptions,
    { skipped, alreadyIngested: 0 },
  );
  result.alreadyIngested = already;
  return result;
}

export interface IngestS3InThreadOptions extends Pick<IngestS3Options, 'range' | 's3' | 'onProgress' | 'onProblem' | 'onRejected' | 'signal'> {
  /** A store file the thread opens itself (created and migrated already). */
  databasePath: string;
  metrics?: IngestOptions['metrics'];
}

/**
 * `ingestS3` in a thread with a bounded young generation (see s3-ingest-thread.ts): same
 * result, callbacks and errors (S3SourceError and StoreError keep their exit status), and the
 * signal stops it the same way.
 */
export function ingestS3InThread(at: S3Location, o: IngestS3InThreadOptions): Promise<IngestResult> {
  const data: S3ThreadData = { databasePath: o.databasePath, location: at, range: o.range, s3: o.s3 };
  // Its live heap is ~25 MB (the SDK, a listing page); unbounded, the SDK's per-request garbage let
  // the old generation reach ~80 MB before V8 collected it (1M-record trail, measured).
  const worker = startWorker(import.meta.url, 's3-ingest-thread', { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 64 } });
  const onAbort = () => worker.postMessage({ kind: 'stop' } satisfies ToS3Thread);
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  return new Promise<IngestResult>((resolve, reject) => {
    let outcome: { result: IngestResult } | { error: Error } | undefined;
    worker.on('message', (m: FromS3Thread) => {
      if (m.kind === 'progress') o.onProgress?.(m.progress);
      else if (m.kind === 'problem') o.onProblem?.(m.problem);
      else if (m.kind === 'rejected') for (const [reason, file] of m.rejected) o.onRejected?.(reason, file);
      else if (m.kind === 'result') outcome = { result: m.result };
      else if (m.name === 'StoreError') outcome = { error: new StoreError(m.message) };
      else outcome = { error: m.exitCode ? new S3SourceError(m.message, m.exitCode) : new Error(m.message) };
    });
    worker.on('error', (err) => {
      outcome ??= { error: new Error(`ingest thread: ${err.message}`) };
    });
    worker.on('exit', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (!outcome) return reject(new Error(`ingest thread stopped unexpectedly (exit code ${code})`));
      if ('error' in outcome) return reject(outcome.error);
      o.metrics?.recordsIngested.inc({ source: 's3' }, outcome.result.inserted);
      o.metrics?.recordsRejected.inc({ source: 's3' }, outcome.result.rejected);
      resolve(outcome.result);
    });
  });
}
