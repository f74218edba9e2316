/**
 * The benchmark: `npm run bench` (builds first), or
 *
 *   npm run bench -- --quick            smaller sizes, a smoke run (< 2 minutes)
 *   npm run bench -- --only poll        one figure (names: ingest, org-trail, small-files, s3, busy-session,
 *                                       session, digest, poll, poll-accounts, slash, alert, sqs, oncall;
 *                                       comma-separated or repeated)
 *
 * Prints machine information and one table (| figure | value | target | ok |) and writes every
 * raw number to bench/results.json. Work files live in bench/.work (gitignored); generated
 * CloudTrail files are kept there for the next run (with a marker of their parameters), the
 * stores built from them are deleted at the end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, machineInfo, WORK, type BenchContext, type Figure, type FigureResult, type Row } from './lib.js';
import { busySessionFigure, ingestFigure, orgTrailFigure, s3Figure, smallFilesFigure } from './ingest.bench.js';
import { sessionFigure } from './session.bench.js';
import { digestFigure } from './digest.bench.js';
import { pollAccountsFigure, pollFigure } from './poll.bench.js';
import { slashFigure } from './slash.bench.js';
import { alertFigure } from './alert.bench.js';
import { sqsFigure } from './sqs.bench.js';
import { oncallFigure } from './oncall.bench.js';

// As in src/main.ts: the AWS SDK's Node-version notice is not a benchmark result.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'NodeVersionSupportWarning' && !w.message.includes('NodeVersionSupportWarning')) process.stderr.write(`${w.name}: ${w.message}\n`);
});

const FIGURES: Figure[] = [ingestFigure, orgTrailFigure, smallFilesFigure, s3Figure, busySessionFigure, sessionFigure, digestFigure, pollFigure, pollAccountsFigure, slashFigure, alertFigure, sqsFigure, oncallFigure];

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(`usage: npm run bench -- [--quick] [--only NAME[,NAME]] [--keep]\nfigures: ${FIGURES.map((f) => f.name).join(', ')}`);
  process.exit(0);
}

const only = (values.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
for (const name of only) {
  if (!FIGURES.some((f) => f.name === name)) {
    console.error(`unknown figure ${JSON.stringify(name)}; figures: ${FIGURES.map((f) => f.name).join(', ')}`);
    process.exit(2);
  }
}
const selected = only.length ? FIGURES.filter((f) => only.includes(f.name)) : FIGURES;
const quick = values.quick;
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const ctx: BenchContext = { quick, log };

fs.mkdirSync(WORK, { recursive: true });
const machine = machineInfo();
const results: Record<string, FigureResult & { seconds: number; error?: string }> = {};
for (const figure of selected) {
  log(`── ${figure.name}`);
  const t0 = performance.now();
  try {
    const r = await figure.run(ctx);
    results[figure.name] = { ...r, seconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    const message = (err as Error)?.stack ?? String(err);
    log(`${figure.name} FAILED: ${message}`);
    results[figure.name] = { rows: [{ figure: `${figure.name}: FAILED`, value: String((err as Error)?.message ?? err).slice(0, 120), target: '—', ok: false }], raw: {}, seconds: (performance.now() - t0) / 1000, error: message };
  }
  log(`${figure.name} done in ${results[figure.name]!.seconds.toFixed(0)} s`);
}
const totalSeconds = (performance.now() - started) / 1000;

if (!values.keep) {
  // Stores and copies are big and cheap to rebuild; the generated CloudTrail files stay (marker-checked).
  for (const entry of fs.readdirSync(WORK, { recursive: true }) as string[]) {
    if (/\.sqlite(-wal|-shm)?$|\.sqlite\.json$/.test(entry)) fs.rmSync(path.join(WORK, entry), { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const rows: Row[] = selected.flatMap((f) => results[f.name]?.rows ?? []);
const esc = (s: string) => s.replace(/\|/g, '\\|');
const okText = (ok: boolean | null) => (ok === null ? '' : ok ? 'yes' : '**NO**');
const widths = [
  Math.max(6, ...rows.map((r) => esc(r.figure).length)),
  Math.max(5, ...rows.map((r) => esc(r.value).length)),
  Math.max(6, ...rows.map((r) => esc(r.target).length)),
  Math.max(2, ...rows.map((r) => okText(r.ok).length)),
];
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
const out: string[] = [];
out.push(`athena-session-bot benchmark${quick ? ' (--quick: smaller sizes, smoke run only)' : ''}`);
out.push(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory} RAM, Node ${machine.node}, ${machine.os}`);
out.push(`date: ${machine.date}; total ${(totalSeconds / 60).toFixed(1)} min`);
out.push('');
out.push(line(['figure', 'value', 'target', 'ok']));
out.push(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) out.push(line([esc(r.figure), esc(r.value), esc(r.target), okText(r.ok)]));
const notes = selected.flatMap((f) => (results[f.name]?.notes ?? []).map((n) => `${f.name}: ${n}`));
if (notes.length) {
  out.push('');
  for (const n of notes) out.push(`- ${n}`);
}
console.log(out.join('\n'));

const file = path.join(BENCH_DIR, 'results.json');
let previous: Record<string, unknown> = {};
if (only.length && fs.existsSync(file)) {
  // --only updates its figures in an existing results file and keeps the others.
  try {
    previous = (JSON.parse(fs.readFileSync(file, 'utf8')) as { figures?: Record<string, unknown> }).figures ?? {};
  } catch {
    previous = {};
  }
}
fs.writeFileSync(
  file,
  JSON.stringify({ machine, quick, only: only.length ? only : null, totalSeconds, table: out.join('\n'), figures: { ...previous, ...results } }, null, 2) + '\n',
);
log(`wrote ${path.relative(process.cwd(), file)}`);
process.exitCode = Object.values(results).some((r) => r.error) ? 1 : 0;
