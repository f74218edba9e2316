import { createS3Reader, listTrailObjects, type DayRange, type S3Location, type S3Reader, type S3Settings } from '../sources/s3/index.js';
import { alreadyIngested } from './ingested-objects.js';
import { intoJobs, runIngest, type IngestOptions, type InternalIngestOptions } from './run-ingest.js';
import type { ReadItem } from './thread-protocol.js';
import type { IngestResult } from './types.js';

export interface IngestS3Options extends IngestOptions {
  /** Days of the CloudTrail layout to read (delivery days, UTC); others are neither listed nor fetched. */
  range?: DayRange;
  s3: S3Settings;
  /** The S3 client of this thread (default: one made from `s3` and the environment). */
  reader?: S3Reader;
}

/** Objects per job: each reader fetches a job's objects a few at a time while it reads them. */
const JOB_OBJECTS = 24;
const JOB_BYTES = 8 * 1024 * 1024;

/**
 * Imports a CloudTrail trail straight from S3 (`s3://bucket/prefix`): lists it along the
 * CloudTrail layout (digest folders and days outside `range` are never listed), skips objects
 * an earlier run read completely (same key and ETag, remembered in the store), and reads the
 * rest on every core like local files. The first listing call is made before anything starts,
 * so a missing bucket, a refusal or missing credentials end the command at once with one line.
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
      jobs: intoJobs(all(), (o as InternalIngestOptions).jobItems ?? JOB_OBJECTS, JOB_BYTES),
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
