import type { FileProblem, ReadProgress } from '../sources/files/index.js';

/** Progress over the whole import; `records` are elements read so far. */
export type IngestProgress = ReadProgress & {
  records: number;
  /** The listing is still running: totals are what is known so far. */
  listing?: boolean;
};

/** What an ingest did: counts, files skipped or unreadable, and whether it was stopped early. */
export interface IngestResult {
  /** Files (or S3 objects) that held at least one record. */
  files: number;
  read: number;
  inserted: number;
  duplicates: number;
  /** Not Athena Spark/notebook calls: other services' records and Athena SQL calls (never stored). */
  ignored: number;
  /** CloudTrail Insights events: valid, not API calls, never stored. */
  insights: number;
  rejected: number;
  problems: FileProblem[];
  skipped: Array<{ file: string; why: string }>;
  /** S3 objects skipped because an earlier run read them completely. */
  alreadyIngested: number;
  /** Whether the rows were written by the writer thread (bulk imports). */
  writerThread: boolean;
  /** Reader threads used; 0 when the import was read in the calling thread. */
  readerThreads: number;
  /** Stopped early by the signal: what was read so far is stored; a re-run does the rest. */
  interrupted: boolean;
}
