import type { FileProblem } from '../sources/files/index.js';

/** What an ingest did: counts, files skipped or unreadable, and whether it was stopped early. */
export interface IngestResult {
  files: number;
  read: number;
  inserted: number;
  duplicates: number;
  ignored: number;
  rejected: number;
  problems: FileProblem[];
  skipped: Array<{ file: string; why: string }>;
  /** Whether the rows were written by a worker thread (imports bigger than one message). */
  writerThread: boolean;
  /** Stopped early by the signal: what was read so far is stored; a re-run does the rest. */
  interrupted: boolean;
}
