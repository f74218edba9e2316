import { readCloudTrailFiles, type FileProblem, type ReadProgress } from '../sources/files/index.js';
import { ATHENA_EVENT_SOURCE } from '../records/athena-events.js';
import { normaliseText } from '../records/normalise.js';
import type { NotebookEvent } from '../records/types.js';
import type { Rejection, Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Metrics } from '../observability/metrics.js';

export interface IngestResult {
  files: number;
  read: number;
  inserted: number;
  duplicates: number;
  ignored: number;
  rejected: number;
  problems: FileProblem[];
  skipped: Array<{ file: string; why: string }>;
}

export interface IngestOptions {
  store: Store;
  clock: Clock;
  metrics?: Metrics;
  onProgress?: (p: ReadProgress & { records: number }) => void;
  onProblem?: (p: FileProblem) => void;
  onRejected?: (reason: string, file: string) => void;
}

/** Records per transaction: large enough that commits and index page writes amortise (measured). */
const WRITE_BATCH = 50_000;

/**
 * Streams CloudTrail files (S3 log files, LookupEvents output, directories of them) into the
 * store. Records of other services are skipped before parsing; malformed records are kept
 * in the rejects table with their reason; good records beside them are never lost.
 */
export async function ingestFiles(paths: string[], o: IngestOptions): Promise<IngestResult> {
  const result: IngestResult = { files: 0, read: 0, inserted: 0, duplicates: 0, ignored: 0, rejected: 0, problems: [], skipped: [] };
  let pending: NotebookEvent[] = [];
  let rejections: Rejection[] = [];
  const flush = () => {
    const now = o.clock.now();
    if (pending.length) {
      const inserted = o.store.insertEvents(pending, now);
      result.inserted += inserted;
      result.duplicates += pending.length - inserted;
      o.metrics?.recordsIngested.inc({ source: 'file' }, inserted);
      pending = [];
    }
    if (rejections.length) {
      o.store.recordRejections(rejections, now);
      o.metrics?.recordsRejected.inc({ source: 'file' }, rejections.length);
      rejections = [];
    }
  };
  const files = new Set<string>();
  for await (const batch of readCloudTrailFiles(paths, {
    onProblem: (p) => {
      result.problems.push(p);
      o.onProblem?.(p);
    },
    onSkipped: (file, why) => result.skipped.push({ file, why }),
    onProgress: (p) => o.onProgress?.({ ...p, records: result.read }),
  })) {
    files.add(batch.file);
    for (const text of batch.items) {
      result.read++;
      // Most of an account's trail is other services: skip those without parsing them.
      // A record with no eventSource at all is malformed, not another service's: parse it.
      if (batch.format === 'records' && !text.includes(ATHENA_EVENT_SOURCE) && text.includes('"eventSource"')) {
        result.ignored++;
        continue;
      }
      const n = normaliseText(text, batch.format);
      if (n.kind === 'event') pending.push(n.event);
      else if (n.kind === 'ignored') result.ignored++;
      else {
        result.rejected++;
        rejections.push({ reason: n.reason, source: batch.file, raw: text });
        o.onRejected?.(n.reason, batch.file);
      }
    }
    if (pending.length >= WRITE_BATCH || rejections.length >= WRITE_BATCH) flush();
  }
  flush();
  result.files = files.size;
  return result;
}
