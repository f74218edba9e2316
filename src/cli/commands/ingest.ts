import { parseArgs } from 'node:util';
import { ingestFiles, type IngestProgress, type IngestResult } from '../../ingest/ingest-files.js';
import { ingestS3, ingestS3InThread } from '../../ingest/ingest-s3.js';
import { canWriteFromThread } from '../../ingest/record-writer.js';
import type { FileProblem } from '../../sources/files/index.js';
import { isS3Url, parseS3Url, type DayRange } from '../../sources/s3/index.js';
import { UsageError } from '../../util/errors.js';
import { PROGRAM, type CliIO } from '../io.js';
import { createRuntime } from '../../runtime/runtime.js';

export const INGEST_USAGE = `usage: ${PROGRAM} ingest FILE_OR_DIRECTORY...
       ${PROGRAM} ingest s3://BUCKET/PREFIX [--since YYYY-MM-DD] [--until YYYY-MM-DD]`;

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
const n0 = (x: number) => x.toLocaleString('en-US');

function day(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(`${v}T00:00:00Z`);
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(v) && Number.isFinite(t) && new Date(t).toISOString().startsWith(v);
  if (!ok) throw new UsageError(`${flag} must be a date as YYYY-MM-DD, got ${JSON.stringify(v.slice(0, 40))}`);
  return v;
}

function parse(argv: string[]): { paths: string[]; s3?: ReturnType<typeof parseS3Url>; range: DayRange } {
  const { positionals, values } = parseArgs({
    args: argv,
    options: { since: { type: 'string' }, until: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError(INGEST_USAGE);
  const range: DayRange = { since: day('--since', values.since), until: day('--until', values.until) };
  if (range.since && range.until && range.since > range.until) throw new UsageError(`--since ${range.since} is after --until ${range.until}`);
  const urls = positionals.filter(isS3Url);
  if (urls.length === 0) {
    if (range.since || range.until) throw new UsageError('--since and --until apply to an s3:// trail only');
    return { paths: positionals, range };
  }
  if (positionals.length > 1) throw new UsageError(`ingest one s3:// location at a time, without local paths\n${INGEST_USAGE}`);
  return { paths: [], s3: parseS3Url(urls[0]!), range };
}

export async function ingestCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv);
  const rt = createRuntime(io, { aws: false, defaultLogLevel: 'warn' });
  const started = io.clock.now();
  const tty = io.stderr.isTTY === true;
  let progressShown = false;
  const rejectReasons = new Map<string, number>();
  const what = args.s3 ? 'objects' : 'files';
  try {
    const callbacks = {
      store: rt.store,
      clock: io.clock,
      metrics: rt.metrics,
      signal: io.stopSignal,
      onProgress: (p: IngestProgress) => {
        if (!tty) return;
        const secs = Math.max(0.001, (io.clock.now() - started) / 1000);
        const pct = p.bytesTotal && !p.listing ? ` ${Math.floor((100 * p.bytesRead) / p.bytesTotal)}%` : '';
        const total = `${n0(p.filesTotal)}${p.listing ? '+ (listing)' : ''}`;
        io.stderr.write(
          `\r${PROGRAM}: ingest${pct} — ${n0(p.filesDone)}/${total} ${what}, ${mb(p.bytesRead)} of ${mb(p.bytesTotal)}, ${n0(p.records)} records (${n0(Math.round(p.records / secs))}/s)\x1b[K`,
        );
        progressShown = true;
      },
      onProblem: (p: FileProblem) => {
        if (progressShown) io.stderr.write('\n');
        progressShown = false;
        io.stderr.write(`${PROGRAM}: ${p.file}: ${p.reason}\n`);
      },
      onRejected: (reason: string) => rejectReasons.set(reason, (rejectReasons.get(reason) ?? 0) + 1),
    };
    const s3 = { region: rt.config.regions[0] ?? io.env.AWS_REGION ?? 'us-east-1', forcePathStyle: rt.config.s3ForcePathStyle };
    // An S3 import runs in a thread of its own (bounded heap) when the store can be shared with one.
    const result = !args.s3
      ? await ingestFiles(args.paths, callbacks)
      : canWriteFromThread(rt.store)
        ? await ingestS3InThread(args.s3, { ...callbacks, databasePath: rt.store.db.name, range: args.range, s3 })
        : await ingestS3(args.s3, { ...callbacks, range: args.range, s3 });
    if (progressShown) io.stderr.write('\n');
    progressShown = false;
    for (const [reason, n] of rejectReasons) io.stderr.write(`${PROGRAM}: skipped ${n} malformed record${n === 1 ? '' : 's'}: ${reason}\n`);
    io.stdout.write(summary(result, (io.clock.now() - started) / 1000, what) + '\n');
    if (result.interrupted) {
      io.stderr.write(`${PROGRAM}: interrupted; what was read is stored. Run the same command again to finish: stored records${args.s3 ? ' and objects read' : ''} are skipped.\n`);
      return 130;
    }
    return result.problems.length ? 1 : 0;
  } finally {
    if (progressShown) io.stderr.write('\n');
    rt.close();
  }
}

function summary(r: IngestResult, seconds: number, what: 'files' | 'objects'): string {
  const plural = (n: number, one: string, many = `${one}s`) => `${n0(n)} ${n === 1 ? one : many}`;
  const parts = [`${n0(r.read)} read`];
  if (r.ignored) parts.push(`${n0(r.ignored)} not Athena Spark/notebook calls`);
  if (r.insights) parts.push(plural(r.insights, 'CloudTrail Insights event'));
  if (r.duplicates) parts.push(`${n0(r.duplicates)} already stored`);
  if (r.rejected) parts.push(`${n0(r.rejected)} malformed (kept in rejected_records)`);
  if (r.alreadyIngested) parts.push(`${plural(r.alreadyIngested, 'object')} read by an earlier run`);
  if (r.skipped.length) parts.push(`${plural(r.skipped.length, what === 'files' ? 'file' : 'key')} skipped (digest or not JSON)`);
  if (r.problems.length) parts.push(`${plural(r.problems.length, what === 'files' ? 'file' : 'object')} unreadable`);
  const rate = seconds > 0 ? `, ${n0(Math.round(r.read / seconds))} records/s` : '';
  return `ingested ${plural(r.inserted, 'new record')} from ${plural(r.files, what === 'files' ? 'file' : 'object')} (${parts.join(', ')}) in ${seconds.toFixed(1)} s${rate}`;
}
