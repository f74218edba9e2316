import type { FileProblem, ReadProgress } from '../sources/files/index.js';
import type { IngestResult } from './types.js';
import type { RecordValue, Rejection } from '../store/store.js';

/** What the ingest thread sends the writer thread. */
export type ToWriter =
  | { kind: 'rows'; values: RecordValue[]; now: number }
  | { kind: 'rejections'; rejections: Rejection[]; now: number }
  | { kind: 'end' };

/** What the writer thread answers. */
export type FromWriter =
  /** A message was written (not yet committed): `rows` of it, `inserted` of them new. */
  | { kind: 'ack'; rows: number; inserted: number }
  /** Everything is committed and the store is closed. */
  | { kind: 'done' }
  /** Writing failed; nothing after the last commit is stored. */
  | { kind: 'failed'; message: string; storeError: boolean };

export interface WriterThreadData {
  databasePath: string;
  /** Rows per transaction. */
  commitRows: number;
}

/** What the ingest thread is given. */
export interface IngestThreadData {
  paths: string[];
  databasePath: string;
}

/** What the main thread may send the ingest thread. */
export type ToIngest = { kind: 'stop' };

/** What the ingest thread reports. */
export type FromIngest =
  | { kind: 'progress'; progress: ReadProgress & { records: number } }
  | { kind: 'problem'; problem: FileProblem }
  /** Malformed records since the last report: [reason, file] pairs. */
  | { kind: 'rejected'; rejected: Array<[string, string]> }
  | { kind: 'result'; result: IngestResult }
  | { kind: 'failed'; message: string; storeError: boolean };
