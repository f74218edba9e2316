import { parseArgs } from 'node:util';
import { ingestFiles, type IngestResult } from '../../ingest/ingest-files.js';
import { ingestFilesInWorker } from '../../ingest/ingest-in-worker.js';
import { canWriteFromThread } from '../../ingest/record-writer.js';
import type { FileProblem, ReadProgress } from '../../sources/files/index.js';
import { UsageError } from '../../util/errors.js';
import { PROGRAM, type CliIO } from '../io.js';
import { createRuntime } from '../../runtime/runtime.js';

export const INGEST_USAGE = 'usage: athena-session-bot ingest FILE_OR_DIRECTORY...';

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

export async function ingestCommand(argv: string[], io: CliIO): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
  if (positionals.length === 0) throw new UsageError(INGEST_USAGE);
  const rt = createRuntime(io, { aws: false, defaultLogLevel: 'warn' });
  const started = io.clock.now();
  const tty = io.stderr.isTTY === true;
  let progressShown = false;
  const rejectReasons = new Map<string, number>();
  try {
    const callbacks = {
      onProgress: (p: ReadProgress & { records: number }) => {
        if (!tty) return;
        const secs = Math.max(0.001, (io.clock.now() - started) / 1000);
        const pct = p.bytesTotal ? ` ${Math.floor((100 * p.bytesRead) / p.bytesTotal)}%` : '';
        io.stderr.write(
          `\r${PROGRAM}: ingest${pct} — ${p.filesDone}/${p.filesTotal} files, ${mb(p.bytesRead)} of ${mb(p.bytesTotal)}, ${p.records.toLocaleString('en-US')} records (${Math.round(p.records / secs).toLocaleString('en-US')}/s)\x1b[K`,
        );
        progressShown = true;
      },
      onProblem: (p: FileProblem) => {
        if (progressShown) io.stderr.write('\n');
        progressShown = false;
        io.stderr.write(`${PROGRAM}: ${p.file}: ${p.reason}\n`);
      },
      onRejected: (reason: string) => rejectReasons.set(reason, (rejectReasons.get(reason) ?? 0) + 1),
      signal: io.stopSignal,
      metrics: rt.metrics,
    };
    // A store file is ingested on a worker thread (bounded heap); an in-memory one cannot be shared.
    const result = canWriteFromThread(rt.store)
      ? await ingestFilesInWorker(positionals, { databasePath: rt.store.db.name, ...callbacks })
      : await ingestFiles(positionals, { store: rt.store, clock: io.clock, ...callbacks });
    if (progressShown) io.stderr.write('\n');
    for (const [reason, n] of rejectReasons) io.stderr.write(`${PROGRAM}: skipped ${n} malformed record${n === 1 ? '' : 's'}: ${reason}\n`);
    io.stdout.write(summary(result, (io.clock.now() - started) / 1000) + '\n');
    if (result.interrupted) {
      io.stderr.write(`${PROGRAM}: interrupted; what was read is stored. Run the same command again to finish: stored records are skipped.\n`);
      return 130;
    }
    return result.problems.length ? 1 : 0;
  } finally {
    rt.close();
  }
}

function summary(r: IngestResult, seconds: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [`${n(r.read)} read`];
  if (r.ignored) parts.push(`${n(r.ignored)} not Athena Spark/notebook calls`);
  if (r.duplicates) parts.push(`${n(r.duplicates)} already stored`);
  if (r.rejected) parts.push(`${n(r.rejected)} malformed (kept in rejected_records)`);
  if (r.skipped.length) parts.push(`${r.skipped.length} file${r.skipped.length === 1 ? '' : 's'} skipped (digest or not JSON)`);
  if (r.problems.length) parts.push(`${r.problems.length} file${r.problems.length === 1 ? '' : 's'} unreadable`);
  const rate = seconds > 0 ? `, ${n(Math.round(r.read / seconds))} records/s` : '';
  return `ingested ${n(r.inserted)} new record${r.inserted === 1 ? '' : 's'} from ${r.files} file${r.files === 1 ? '' : 's'} (${parts.join(', ')}) in ${seconds.toFixed(1)} s${rate}`;
}
