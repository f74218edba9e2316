import type { Metrics } from '../observability/metrics.js';
import { StoreError } from '../store/store.js';
import { startWorker } from '../util/start-worker.js';
import type { IngestOptions, IngestResult } from './ingest-files.js';
import type { FromIngest, IngestThreadData, ToIngest } from './thread-protocol.js';

export interface IngestInWorkerOptions extends Pick<IngestOptions, 'onProgress' | 'onProblem' | 'onRejected' | 'signal'> {
  /** A store file the worker opens itself (created and migrated already). */
  databasePath: string;
  metrics?: Metrics;
}

/**
 * `ingestFiles` on a worker thread with a bounded young generation: same result, same
 * callbacks, same errors (StoreError where the store failed), and the signal stops it the
 * same way. Measured on 1,000,000 records: peak RSS about 215 MB, against 290 MB when the
 * parsing garbage accumulates in the main thread's heap.
 */
export function ingestFilesInWorker(paths: string[], o: IngestInWorkerOptions): Promise<IngestResult> {
  const data: IngestThreadData = { paths, databasePath: o.databasePath };
  const worker = startWorker(import.meta.url, 'ingest-thread', { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  const onAbort = () => worker.postMessage({ kind: 'stop' } satisfies ToIngest);
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });

  return new Promise<IngestResult>((resolve, reject) => {
    let outcome: { result: IngestResult } | { error: Error } | undefined;
    worker.on('message', (m: FromIngest) => {
      if (m.kind === 'progress') o.onProgress?.(m.progress);
      else if (m.kind === 'problem') o.onProblem?.(m.problem);
      else if (m.kind === 'rejected') for (const [reason, file] of m.rejected) o.onRejected?.(reason, file);
      else if (m.kind === 'result') outcome = { result: m.result };
      else outcome = { error: m.storeError ? new StoreError(m.message) : new Error(m.message) };
    });
    worker.on('error', (err) => {
      outcome ??= { error: new Error(`ingest thread: ${err.message}`) };
    });
    worker.on('exit', (code) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (!outcome) return reject(new Error(`ingest thread stopped unexpectedly (exit code ${code})`));
      if ('error' in outcome) return reject(outcome.error);
      o.metrics?.recordsIngested.inc({ source: 'file' }, outcome.result.inserted);
      o.metrics?.recordsRejected.inc({ source: 'file' }, outcome.result.rejected);
      resolve(outcome.result);
    });
  });
}
