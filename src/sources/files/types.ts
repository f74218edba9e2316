/** Which CloudTrail container a file is: an S3 log file (`{"Records":[...]}`) or `aws cloudtrail lookup-events` output (`{"Events":[...]}`). */
export type FileFormat = 'records' | 'events';

/** Up to `batchSize` array elements of one file, each the exact JSON text found in the file. */
export interface RawBatch {
  file: string;
  format: FileFormat;
  items: string[];
}

/** A file (or directory) that could not be read completely. Elements found before the damage were still emitted. */
export interface FileProblem {
  file: string;
  reason: string;
}

/** Progress over the whole set; bytes are on-disk (compressed) bytes. */
export interface ReadProgress {
  filesDone: number;
  filesTotal: number;
  bytesRead: number;
  bytesTotal: number;
}

export interface ReadOptions {
  onProblem?: (p: FileProblem) => void;
  /** Called at most ~10 times a second, plus once at the start and once at the end. */
  onProgress?: (p: ReadProgress) => void;
  /** Elements per batch (default 1000). */
  batchSize?: number;
  onSkipped?: (file: string, why: string) => void;
  /**
   * @internal Testing/tuning knob: largest chunk handed to the JSON scanner (default 1 MiB).
   * Tiny values exercise elements that straddle chunk boundaries.
   */
  chunkSize?: number;
  /**
   * @internal An element larger than this (default 64 MiB) is not kept in memory: it is
   * skipped and the file gets a problem. Bounds memory on hostile input.
   */
  maxElementBytes?: number;
}

export interface ListedFile {
  file: string;
  size: number;
}
