/**
 * The ingest benchmarks' data sets, generated once (seeded) and cached under bench/.work:
 *
 *  - org-trail: an organization trail (40 accounts, 12 regions, ~1% Spark; S3 data events,
 *    KMS by AWS services, STS, EC2, Athena SQL, errors, very large and non-ASCII records,
 *    digest and Insights files) — test/support/org-trail.ts;
 *  - small-files: the bench's all-Athena workload delivered as quiet accounts deliver it, a
 *    handful of records per file (~19 on average): the per-file cost the big-file set hides;
 *  - busy-session: one 4-hour session of 52,202 records, 50,000 of them read-only status
 *    polls by its execution role, beside a small session.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { call, executor, fakeUuid, human, startCalculation, startSession, terminateSession, updateNotebook, type CloudTrailRecord } from '../test/support/cloudtrail-records.js';
import { writeOrgTrail, type OrgTrailSummary } from '../test/support/org-trail.js';
import { planWorkload } from '../test/support/workload.js';
import { ensureDataset, ROOT, type BenchContext, type CachedDataset } from './lib.js';

const SUPPORT = path.join(ROOT, 'test', 'support');
const GENERATORS = [path.join(SUPPORT, 'workload.ts'), path.join(SUPPORT, 'cloudtrail-records.ts'), path.join(ROOT, 'bench', 'datasets.ts')];

export function orgTrail(ctx: BenchContext): Promise<CachedDataset<OrgTrailSummary>> {
  const params = { records: ctx.quick ? 100_000 : 1_000_000, seed: 7 };
  return ensureDataset(`org-trail-${ctx.quick ? '100k' : '1m'}`, params, [...GENERATORS, path.join(SUPPORT, 'org-trail.ts')], ctx.log, (dir) => writeOrgTrail(params, dir));
}

export interface FilesSummary {
  records: number;
  files: number;
  bytes: number;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * Writes records as CloudTrail delivers them to S3 for `account`: per region and five-minute
 * window, in files of at most `perFile` records (a window's records are split across several
 * files, as several quiet accounts' would be).
 */
async function writeLogFiles(records: Iterable<CloudTrailRecord>, dir: string, perFile: number, account = '123456789012'): Promise<FilesSummary> {
  let files = 0;
  let bytes = 0;
  let count = 0;
  const pending = new Set<Promise<void>>();
  const windows = new Map<string, { window: number; parts: string[]; part: number }>();
  const flush = async (region: string, w: { window: number; parts: string[]; part: number }) => {
    const d = new Date((w.window + 300) * 1000);
    const [y, m, day, hh, mm] = [d.getUTCFullYear(), pad2(d.getUTCMonth() + 1), pad2(d.getUTCDate()), pad2(d.getUTCHours()), pad2(d.getUTCMinutes())];
    const name = `${account}_CloudTrail_${region}_${y}${m}${day}T${hh}${mm}Z_${createHash('md5').update(`${region}${w.window}${w.part}`).digest('hex').slice(0, 16)}.json.gz`;
    const file = path.join(dir, 'AWSLogs', account, 'CloudTrail', region, String(y), m, day, name);
    const text = `{"Records":[${w.parts.join(',')}]}`;
    w.parts = [];
    w.part++;
    files++;
    const task = (async () => {
      const gz = await new Promise<Buffer>((res, rej) => zlib.gzip(text, { level: 6 }, (err, out) => (err ? rej(err) : res(out))));
      bytes += gz.length;
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await fs.promises.writeFile(file, gz);
    })();
    const tracked = task.finally(() => pending.delete(tracked));
    pending.add(tracked);
    if (pending.size >= 8) await Promise.race(pending);
  };
  for (const r of records) {
    const t = Math.floor(Date.parse(r.eventTime) / 1000);
    const window = t - (t % 300);
    let w = windows.get(r.awsRegion);
    if (w && w.window !== window && w.parts.length) await flush(r.awsRegion, w);
    if (!w || w.window !== window) windows.set(r.awsRegion, (w = { window, parts: [], part: 0 }));
    w.parts.push(JSON.stringify(r));
    count++;
    if (w.parts.length >= perFile) await flush(r.awsRegion, w);
  }
  for (const [region, w] of windows) if (w.parts.length) await flush(region, w);
  await Promise.all(pending);
  return { records: count, files, bytes };
}

/**
 * At most 24 records a file: the bench's 1M records then come in 52,108 files, ~19 records
 * each — the shape quiet accounts deliver (issue 13: 1M records in 52,181 files).
 */
export const SMALL_FILE_RECORDS = 24;

export function smallFiles(ctx: BenchContext): Promise<CachedDataset<FilesSummary>> {
  const params = { records: ctx.quick ? 100_000 : 1_000_000, seed: 42, perFile: SMALL_FILE_RECORDS };
  return ensureDataset(`small-files-${ctx.quick ? '100k' : '1m'}`, params, GENERATORS, ctx.log, (dir) =>
    writeLogFiles(planWorkload({ records: params.records, seed: params.seed }).records(), dir, params.perFile),
  );
}

export interface BusySessionSummary extends FilesSummary {
  busy: { sessionId: string; records: number; polls: number; calculations: number };
  small: { sessionId: string; records: number };
}

/**
 * A busy session (issue 9 §4, issue 13): 4 hours, 200 calculations, 1,000 notebook saves,
 * 1,000 GetCalculationExecution reads and 50,000 read-only status polls by the execution
 * role — 52,202 records; and a small session of 37 records.
 */
export function busySession(ctx: BenchContext): Promise<CachedDataset<BusySessionSummary>> {
  const params = { polls: 50_000, calculations: 200, saves: 1_000, reads: 1_000 };
  return ensureDataset('busy-session', params, GENERATORS, ctx.log, async (dir) => {
    const t0 = Date.parse('2026-11-20T08:00:00Z');
    const busy = fakeUuid(0xb05e);
    const small = fakeUuid(0x5a11);
    const notebookId = fakeUuid(0x70b0);
    const recs: CloudTrailRecord[] = [];
    const at = (ms: number) => t0 + ms;
    const span = 4 * 3_600_000;
    recs.push(startSession({ sessionId: busy, eventTime: at(0), actor: human('ana'), notebookId, workGroup: 'analytics' }));
    const calcs = Array.from({ length: params.calculations }, (_, i) => ({ id: fakeUuid(0xc000 + i), at: 60_000 + Math.floor(((span - 120_000) * i) / params.calculations) }));
    for (const c of calcs) recs.push(startCalculation({ sessionId: busy, calculationId: c.id, eventTime: at(c.at) }));
    for (let i = 0; i < params.saves; i++) recs.push(updateNotebook({ notebookId, sessionId: busy, eventTime: at(30_000 + Math.floor((span * i) / params.saves)) }));
    for (let i = 0; i < params.reads; i++) {
      const c = calcs[i % calcs.length]!;
      recs.push(call('GetCalculationExecution', { actor: executor(busy), eventTime: at(c.at + 5_000 + (i % 7) * 1000), params: { calculationExecutionId: c.id } }));
    }
    for (let i = 0; i < params.polls; i++) {
      const c = calcs[Math.floor((i * calcs.length) / params.polls)]!;
      const t = at(60_000 + Math.floor(((span - 120_000) * i) / params.polls));
      recs.push(i % 5 === 0 ? call('GetSessionStatus', { actor: executor(busy), eventTime: t, params: { sessionId: busy } }) : call('GetCalculationExecutionStatus', { actor: executor(busy), eventTime: t, params: { calculationExecutionId: c.id } }));
    }
    recs.push(terminateSession({ sessionId: busy, eventTime: at(span) }));
    const busyCount = recs.length;

    recs.push(startSession({ sessionId: small, eventTime: at(60_000), actor: human('bo'), workGroup: 'analytics' }));
    for (let c = 0; c < 5; c++) {
      const id = fakeUuid(0xd000 + c);
      recs.push(startCalculation({ sessionId: small, calculationId: id, eventTime: at(120_000 + c * 600_000) }));
      for (let p = 0; p < 6; p++) recs.push(call('GetCalculationExecutionStatus', { actor: executor(small), eventTime: at(125_000 + c * 600_000 + p * 10_000), params: { calculationExecutionId: id } }));
    }
    recs.push(terminateSession({ sessionId: small, eventTime: at(3_600_000) }));
    recs.sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0));
    const files = await writeLogFiles(recs, dir, 1_000_000);
    return {
      ...files,
      busy: { sessionId: busy, records: busyCount, polls: params.polls, calculations: params.calculations },
      small: { sessionId: small, records: recs.length - busyCount },
    };
  });
}
