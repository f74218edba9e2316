/**
 * Figure 1 — ingest: `node dist/main.js ingest DIR` over 1,000,000 records of gzipped S3
 * CloudTrail log files (seed 42) into a fresh store: records/s and the child's peak RSS;
 * compared with what a user does today (zcat | jq for one session's records).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureWorkload, median, mb, n0, rmDb, runCliTimed, runShell, secs, type BenchContext, type CachedWorkload, type Figure, type FigureResult } from './lib.js';
import { WORK } from './lib.js';

export const INGEST_TARGET_RPS = 50_000;
export const PEAK_TARGET_BYTES = 300 * 1e6;

export function bigWorkloadOptions(quick: boolean) {
  return { records: quick ? 100_000 : 1_000_000, seed: 42 };
}

export function bigWorkloadName(quick: boolean): string {
  return quick ? 's3-100k-seed42' : 's3-1m-seed42';
}

export function bigStorePath(quick: boolean): string {
  return path.join(WORK, quick ? 'store-100k.sqlite' : 'store-1m.sqlite');
}

export async function bigWorkload(ctx: BenchContext): Promise<CachedWorkload> {
  return ensureWorkload(bigWorkloadName(ctx.quick), bigWorkloadOptions(ctx.quick), ctx.log);
}

/** The sessions a user would ask about: the biggest (most calculations, then most records) first. */
export function sessionsBySize(w: CachedWorkload): Array<{ sessionId: string; calculations: number; region: string }> {
  return [...w.truth().sessions]
    .map((s) => ({ sessionId: s.sessionId, calculations: s.calculations.length, region: s.region }))
    .sort((a, b) => b.calculations - a.calculations || (a.sessionId < b.sessionId ? -1 : 1));
}

/** The store ingested from the big workload; ingested now (through the CLI) if missing. */
export async function ensureBigStore(ctx: BenchContext): Promise<{ db: string; workload: CachedWorkload }> {
  const workload = await bigWorkload(ctx);
  const db = bigStorePath(ctx.quick);
  const marker = db + '.json';
  const key = JSON.stringify(workload.summary);
  if (fs.existsSync(db) && fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === key) return { db, workload };
  ctx.log(`ingesting ${workload.summary.records.toLocaleString('en-US')} records into ${path.relative(process.cwd(), db)} …`);
  rmDb(db);
  const r = await runCliTimed(['ingest', workload.logs], { DATABASE_PATH: db });
  if (r.code !== 0) throw new Error(`ingest failed (${r.code}): ${r.stderr}`);
  fs.writeFileSync(marker, key);
  return { db, workload };
}

function parseIngestSummary(stdout: string): { inserted: number; files: number; read: number } {
  const m = /ingested ([\d,]+) new records? from (\d+) files? \(([\d,]+) read/.exec(stdout);
  if (!m) throw new Error(`unexpected ingest output: ${stdout}`);
  const num = (s: string) => Number(s.replace(/,/g, ''));
  return { inserted: num(m[1]!), files: num(m[2]!), read: num(m[3]!) };
}

export const ingestFigure: Figure = {
  name: 'ingest',
  async run(ctx): Promise<FigureResult> {
    const workload = await bigWorkload(ctx);
    const db = bigStorePath(ctx.quick);
    rmDb(db);
    fs.rmSync(db + '.json', { force: true });
    ctx.log(`timing: node dist/main.js ingest ${path.relative(process.cwd(), workload.logs)} (${workload.summary.logFiles} files) …`);
    const run = await runCliTimed(['ingest', workload.logs], { DATABASE_PATH: db }, { memory: true });
    if (run.code !== 0) throw new Error(`ingest failed (${run.code}): ${run.stderr}`);
    fs.writeFileSync(db + '.json', JSON.stringify(workload.summary));
    const summary = parseIngestSummary(run.stdout);
    const rps = summary.read / (run.wallMs / 1000);
    const dbBytes = fs.statSync(db).size;

    // The same question answered with the tools a user has today: zcat | jq.
    const session = sessionsBySize(workload)[0]!;
    const jqOut = path.join(WORK, 'jq-session.out');
    const filter = `.Records[] | select(.requestParameters.sessionId == "${session.sessionId}" or .responseElements.sessionId == "${session.sessionId}" or (.userIdentity.arn // "" | endswith("AthenaExecutor-${session.sessionId}")))`;
    const script = `find '${workload.dir}' -name '*.json.gz' -path '*CloudTrail/*' -print0 | xargs -0 zcat | /usr/bin/jq -c '${filter}' > '${jqOut}'`;
    ctx.log(`timing: zcat | jq for session ${session.sessionId} (${session.calculations} calculations) …`);
    const jq = await runShell(script);
    if (jq.code !== 0) throw new Error(`jq pipeline failed (${jq.code}): ${jq.stderr.slice(0, 500)}`);
    const jqRecords = fs.readFileSync(jqOut, 'utf8').split('\n').filter(Boolean).length;
    fs.rmSync(jqOut, { force: true });

    // `session ID` on the ingested store: 3 runs (the first may pay for a cold page cache).
    const sessionRuns: number[] = [];
    let storeRecords = NaN;
    for (let i = 0; i < 3; i++) {
      const r = await runCliTimed(['session', session.sessionId], { DATABASE_PATH: db });
      if (r.code !== 0) throw new Error(`session failed: ${r.stderr}`);
      sessionRuns.push(r.wallMs);
      const m = /(\d+) CloudTrail records/.exec(r.stdout);
      if (m) storeRecords = Number(m[1]);
    }
    const sessionMs = median(sessionRuns);
    const ratioAll = jq.wallMs / (run.wallMs + sessionMs);
    const ratioSession = jq.wallMs / sessionMs;

    return {
      rows: [
        { figure: `ingest ${n0(summary.read)} records (${summary.files} .json.gz files)`, value: `${n0(rps)} records/s (${secs(run.wallMs)})`, target: `≥ ${n0(INGEST_TARGET_RPS)} records/s`, ok: rps >= INGEST_TARGET_RPS },
        {
          figure: 'ingest peak memory (RSS of the child)',
          value: run.peakRssBytes === null ? 'n/a' : `${mb(run.peakRssBytes)} (${(run.peakRssBytes / 1e6).toFixed(0)} MB)`,
          target: '< 300 MB',
          ok: run.peakRssBytes === null ? null : run.peakRssBytes < PEAK_TARGET_BYTES,
        },
        { figure: `zcat | jq, one session (${jqRecords} records)`, value: secs(jq.wallMs), target: '—', ok: null },
        { figure: 'jq ÷ (ingest + session ID)', value: `${ratioAll.toFixed(2)}×`, target: '—', ok: null },
        { figure: 'jq ÷ session ID on the ingested store', value: `${ratioSession.toFixed(0)}× (session ${Math.round(sessionMs)} ms)`, target: '—', ok: null },
      ],
      raw: {
        workload: { ...bigWorkloadOptions(ctx.quick), dir: workload.dir, reused: workload.reused, files: workload.summary.logFiles, gzBytes: workload.summary.bytes, jsonBytes: workload.summary.uncompressedBytes },
        ingest: { ...summary, wallMs: run.wallMs, recordsPerSecond: rps, peakRssBytes: run.peakRssBytes, rssMethod: run.rssMethod, stdout: run.stdout.trim(), storeBytes: dbBytes },
        jq: { sessionId: session.sessionId, calculations: session.calculations, wallMs: jq.wallMs, records: jqRecords, script },
        sessionCli: { wallMs: sessionRuns, medianMs: sessionMs, recordsInReport: storeRecords },
        ratios: { jqOverIngestPlusSession: ratioAll, jqOverSession: ratioSession },
      },
      notes: jqRecords === storeRecords ? [] : [`jq found ${jqRecords} records, the session report counts ${storeRecords}`],
    };
  },
};
