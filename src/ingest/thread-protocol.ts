import type { MessagePort } from 'node:worker_threads';
import type { FileProblem } from '../sources/files/index.js';
import type { DayRange, S3Location, S3Settings } from '../sources/s3/index.js';
import type { IngestProgress, IngestResult } from './types.js';
import type { RecordValue, Rejection } from '../store/store.js';
import type { ParseCounts } from './element-parser.js';

/** An S3 object read completely: remembered so that the next run skips it. */
export interface IngestedObject {
  bucket: string;
  key: string;
  etag: string;
  size: number;
}

/**
 * One thing to read: a local file, or an S3 object — fetched by the coordinator (its bytes
 * travel with the job, transferred, not copied), refused on the way (`problem`), or left for
 * the reader to stream when it is too big to hold (neither).
 */
export type ReadItem =
  | { kind: 'file'; file: string; size: number }
  | { kind: 's3'; bucket: string; key: string; size: number; etag: string; bytes?: Uint8Array; problem?: string };

/** How a reader reaches S3 (the client is built in the thread from this and the environment). */
export interface S3ClientSettings {
  region: string;
  forcePathStyle: boolean;
}

/** What each reader (thread or not) is configured with. */
export interface ReaderSettings {
  prefilter: boolean;
  /** Rows per message to the writer. */
  messageRows: number;
  /** Messages in flight to the writer before a reader waits for it. */
  maxInFlight: number;
  s3?: S3ClientSettings;
  /** @internal Testing knobs of the file reader. */
  smallFileBytes?: number;
  chunkSize?: number;

}

/** What a reader sends the writer thread, on its own port. */
export type ToWriter =
  | { kind: 'rows'; values: RecordValue[]; now: number }
  | { kind: 'rejections'; rejections: Rejection[]; now: number }
  | { kind: 'objects'; objects: IngestedObject[]; now: number };

/** What the writer thread answers a reader. */
export type FromWriterPort =
  /** A message was taken (to be written, and committed, with the next ones): `rows` of it. */
  | { kind: 'ack'; rows: number }
  /** Writing failed; nothing after the last commit is stored. */
  | { kind: 'failed'; message: string; storeError: boolean };

/** What the coordinator sends the writer thread. */
export type ToWriterControl = { kind: 'end' };

/** What the writer thread tells the coordinator. */
export type FromWriterControl =
  /** Everything is committed: `inserted` rows were new. */
  | { kind: 'done'; inserted: number }
  | { kind: 'failed'; message: string; storeError: boolean };

export interface WriterThreadData {
  databasePath: string;
  /** Rows per transaction. */
  commitRows: number;
  /** One port per reader (transferred). */
  ports: MessagePort[];
}

export interface ReaderThreadData {
  /** This reader's port to the writer thread (transferred). */
  port: MessagePort;
  /** Int32Array over it: non-zero asks every reader to stop between items. */
  stop: SharedArrayBuffer;
  settings: ReaderSettings;
}

/** What a reader reports after a job. */
export interface JobReport {
  /** Items read (completely or not). */
  items: number;
  /** Items that held at least one element. */
  withElements: number;
  /** On-disk (or listed) bytes of the items read. */
  bytes: number;
  counts: ParseCounts;
  problems: FileProblem[];
  /** [reason, source] of each malformed element. */
  rejected: Array<[string, string]>;
  /** Whether the stop flag cut the job short. */
  stopped: boolean;
}

/** What the coordinator sends a reader thread. */
export type ToReader = { kind: 'job'; items: ReadItem[] } | { kind: 'end' };

/** What a reader thread reports. */
export type FromReader =
  | { kind: 'done'; report: JobReport }
  /** After 'end': the writer has taken everything it sent, `rows` in all. */
  | { kind: 'finished'; rows: number }
  | { kind: 'failed'; message: string; storeError: boolean };

/** What the S3 ingest thread is given. */
export interface S3ThreadData {
  databasePath: string;
  location: S3Location;
  range?: DayRange;
  s3: S3Settings;
}

/** What the main thread may send the S3 ingest thread. */
export type ToS3Thread = { kind: 'stop' };

/** What the S3 ingest thread reports. */
export type FromS3Thread =
  | { kind: 'progress'; progress: IngestProgress }
  | { kind: 'problem'; problem: FileProblem }
  /** Malformed records since the last report: [reason, file] pairs. */
  | { kind: 'rejected'; rejected: Array<[string, string]> }
  | { kind: 'result'; result: IngestResult }
  /** `exitCode` for the program's own errors (a refusal, no credentials, a store failure). */
  | { kind: 'failed'; message: string; name: string; exitCode?: 1 | 2 };
