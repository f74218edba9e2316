import { listCloudTrailFiles } from '../sources/files/index.js';
import { intoJobs, runIngest, type IngestOptions, type IngestProgress, type InternalIngestOptions } from './run-ingest.js';
import type { IngestResult } from './types.js';

export type { IngestResult, IngestOptions, IngestProgress };

/** Files per job, and about how many bytes: small enough to balance the readers, big enough that messages are rare. */
const JOB_FILES = 64;
const JOB_BYTES = 4 * 1024 * 1024;

/**
 * Streams CloudTrail files (S3 log files, LookupEvents output, bare arrays, JSON Lines, and
 * directories of them) into the store. Records of other services are set aside before
 * parsing; malformed records are kept in the rejects table with their reason; good records
 * beside them are never lost. A bulk import runs on every core (see run-ingest.ts).
 */
export async function ingestFiles(paths: string[], o: IngestOptions): Promise<IngestResult> {
  const problems: IngestResult['problems'] = [];
  const skipped: IngestResult['skipped'] = [];
  const files = await listCloudTrailFiles(paths, {
    onProblem: (p) => {
      problems.push(p);
      o.onProblem?.(p);
    },
    onSkipped: (file, why) => skipped.push({ file, why }),
  });
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  const result = await runIngest(
    {
      jobs: intoJobs([files.map((f) => ({ kind: 'file' as const, file: f.file, size: f.size }))], (o as InternalIngestOptions).jobItems ?? JOB_FILES, JOB_BYTES),
      known: () => ({ items: files.length, bytes, complete: true }),
      source: 'file',
    },
    o as InternalIngestOptions,
    { skipped, alreadyIngested: 0 },
  );
  result.problems = [...problems, ...result.problems];
  return result;
}
