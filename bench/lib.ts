/**
 * Shared helpers of the benchmark modules: paths, cached workloads, timed child processes
 * (wall time + peak RSS), percentiles and machine information.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeS3LogFiles, type WorkloadOptions, type WorkloadTruth, type WriteSummary } from '../test/support/workload.js';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH_DIR);
export const WORK = path.join(BENCH_DIR, '.work');
export const CLI = path.join(ROOT, 'dist', 'main.js');

/** One line of the printed table. */
export interface Row {
  figure: string;
  value: string;
  target: string;
  /** true / false, or null when the figure has no target (informational). */
  ok: boolean | null;
}

export interface BenchContext {
  quick: boolean;
  log: (msg: string) => void;
}

export interface FigureResult {
  rows: Row[];
  raw: Record<string, unknown>;
  notes?: string[];
}

export interface Figure {
  name: string;
  run(ctx: BenchContext): Promise<FigureResult>;
}

export function workDir(...parts: string[]): string {
  const p = path.join(WORK, ...parts);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  return p;
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}

/** Removes a SQLite database and its WAL/SHM companions. */
export function rmDb(file: string): void {
  for (const s of ['', '-wal', '-shm']) fs.rmSync(file + s, { force: true });
}

// ---------------------------------------------------------------------------------------------
// Cached workloads

export interface CachedWorkload {
  dir: string;
  /** The S3 log tree (what a user downloads: AWSLogs/<acct>/CloudTrail/...). */
  logs: string;
  summary: WriteSummary;
  truth: () => WorkloadTruth;
  reused: boolean;
}

const GENERATOR = path.join(ROOT, 'test', 'support', 'workload.ts');

/**
 * S3 log files of a seeded workload under bench/.work/<name>, reused between runs when the
 * marker file says they were written with the same parameters by the same generator.
 */
export async function ensureWorkload(name: string, opts: WorkloadOptions, log: (m: string) => void): Promise<CachedWorkload> {
  const dir = path.join(WORK, name);
  const marker = path.join(dir, '.params.json');
  const generatorStamp = `${fs.statSync(GENERATOR).size}:${fs.statSync(GENERATOR).mtimeMs}`;
  const want = JSON.stringify({ opts, generatorStamp });
  let reused = false;
  let summary: WriteSummary;
  if (fs.existsSync(marker) && JSON.parse(fs.readFileSync(marker, 'utf8')).key === want) {
    summary = JSON.parse(fs.readFileSync(marker, 'utf8')).summary as WriteSummary;
    reused = true;
  } else {
    rmrf(dir);
    fs.mkdirSync(dir, { recursive: true });
    log(`generating workload ${name} ${JSON.stringify(opts)} …`);
    summary = await writeS3LogFiles(opts, dir);
    fs.writeFileSync(marker, JSON.stringify({ key: want, summary }));
    log(`  ${summary.records.toLocaleString('en-US')} records in ${summary.logFiles} files, ${(summary.bytes / 1e6).toFixed(0)} MB gzipped, ${(summary.elapsedMs / 1000).toFixed(1)} s`);
  }
  let truth: WorkloadTruth | undefined;
  return {
    dir,
    logs: path.join(dir, 'AWSLogs'),
    summary,
    truth: () => (truth ??= JSON.parse(fs.readFileSync(path.join(dir, 'athena-state.json'), 'utf8')) as WorkloadTruth),
    reused,
  };
}

/** A generated data set cached under bench/.work/<name>: its files and what the generator said of them. */
export interface CachedDataset<S> {
  dir: string;
  /** The S3 log tree under `dir`. */
  logs: string;
  summary: S;
  reused: boolean;
}

/**
 * A data set written by `write(dir)` under bench/.work/<name>, reused between runs when the
 * marker says it was written with the same parameters by the same generator files.
 */
export async function ensureDataset<S>(name: string, params: unknown, generators: string[], log: (m: string) => void, write: (dir: string) => Promise<S>): Promise<CachedDataset<S>> {
  const dir = path.join(WORK, name);
  const marker = path.join(dir, '.params.json');
  const stamps = generators.map((g) => `${fs.statSync(g).size}:${fs.statSync(g).mtimeMs}`);
  const want = JSON.stringify({ params, stamps });
  if (fs.existsSync(marker)) {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8')) as { key: string; summary: S };
    if (m.key === want) return { dir, logs: path.join(dir, 'AWSLogs'), summary: m.summary, reused: true };
  }
  rmrf(dir);
  fs.mkdirSync(dir, { recursive: true });
  log(`generating ${name} ${JSON.stringify(params)} …`);
  const t0 = performance.now();
  const summary = await write(dir);
  fs.writeFileSync(marker, JSON.stringify({ key: want, summary }));
  log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { dir, logs: path.join(dir, 'AWSLogs'), summary, reused: false };
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface TimedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak resident set size of the child in bytes (GNU time's "Maximum resident set size", or /proc polling). */
  peakRssBytes: number | null;
  rssMethod: 'gnu-time' | 'proc-poll' | 'none';
}

const GNU_TIME = '/usr/bin/time';
let gnuTimeOk: boolean | undefined;

async function hasGnuTime(): Promise<boolean> {
  if (gnuTimeOk !== undefined) return gnuTimeOk;
  if (!fs.existsSync(GNU_TIME)) return (gnuTimeOk = false);
  const r = await runPlain(GNU_TIME, ['-v', 'true'], {});
  return (gnuTimeOk = r.code === 0 && /Maximum resident set size/.test(r.stderr));
}

function runPlain(cmd: string, args: string[], env: Record<string, string | undefined>, cwd = WORK): Promise<{ code: number | null; stdout: string; stderr: string; pid: number | undefined; wallMs: number }> {
  return new Promise((resolve, reject) => {
    fs.mkdirSync(cwd, { recursive: true });
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid, wallMs: performance.now() - t0 }));
  });
}

/**
 * Runs the built CLI (`node dist/main.js ARGS`) as a user would, from bench/.work (so no
 * developer .env is picked up), with only PATH, HOME and `env`. Measures the wall time and
 * the peak RSS (via /usr/bin/time -v when present, else by polling /proc/<pid>/status).
 */
export async function runCliTimed(args: string[], env: Record<string, string | undefined>, o: { memory?: boolean } = {}): Promise<TimedRun> {
  if (o.memory && (await hasGnuTime())) {
    const r = await runPlain(GNU_TIME, ['-v', process.execPath, CLI, ...args], env);
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    const stderr = r.stderr.replace(/\n?\tCommand being timed:[\s\S]*$/, '');
    return { code: r.code, stdout: r.stdout, stderr, wallMs: r.wallMs, peakRssBytes: m ? Number(m[1]) * 1024 : null, rssMethod: 'gnu-time' };
  }
  if (!o.memory) {
    const r = await runPlain(process.execPath, [CLI, ...args], env);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, wallMs: r.wallMs, peakRssBytes: null, rssMethod: 'none' };
  }
  // Fallback: poll VmHWM (peak) / VmRSS every 50 ms.
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: WORK, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    const sample = () => {
      try {
        const s = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const hwm = /VmHWM:\s+(\d+) kB/.exec(s) ?? /VmRSS:\s+(\d+) kB/.exec(s);
        if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
      } catch {
        /* exited */
      }
    };
    const timer = setInterval(sample, 50);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', () => sample());
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, wallMs: performance.now() - t0, peakRssBytes: peak || null, rssMethod: 'proc-poll' });
    });
  });
}

/** Runs a bench script (TypeScript, through tsx) in its own process; returns its JSON output and wall time. */
export async function runBenchScript<T>(script: string, args: string[]): Promise<T & { wallMs: number }> {
  const r = await runPlain(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, script), ...args], {});
  if (r.code !== 0) throw new Error(`${script} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(0, 500)}`);
  return { ...(JSON.parse(r.stdout) as T), wallMs: r.wallMs };
}

/** Runs a shell pipeline with bash; returns wall time and output. */
export async function runShell(script: string): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  const r = await runPlain('/bin/bash', ['-o', 'pipefail', '-c', script], { LC_ALL: 'C' });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, wallMs: r.wallMs };
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export const median = (v: readonly number[]) => percentile(v, 50);
export const mean = (v: readonly number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
export const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
export const ms = (x: number, digits = x < 10 ? 2 : x < 100 ? 1 : 0) => `${x.toFixed(digits)} ms`;
export const secs = (x: number) => `${(x / 1000).toFixed(1)} s`;
export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export function machineInfo(): Record<string, string | number> {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1]!.trim();
  } catch {
    /* not Linux */
  }
  return {
    cpu,
    cores: os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

export const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, stepMs = 20, what = 'a condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

// ---------------------------------------------------------------------------------------------
// The bot's own Prometheus histograms

/** Cumulative buckets of one of the bot's histograms (e.g. athena_bot_command_ack_seconds), from /metrics. */
export async function histogramBuckets(url: string, name: string): Promise<Array<[number, number]>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Array<[number, number]> = [];
  const line = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm');
  for (const m of text.matchAll(line)) out.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  return out;
}

/** The observations between two readings of the same histogram. */
export function subtractBuckets(after: Array<[number, number]>, before: Array<[number, number]>): Array<[number, number]> {
  return after.map(([le, n]) => [le, n - (before.find((b) => b[0] === le)?.[1] ?? 0)]);
}

/** The upper bound of the bucket holding quantile q (null without observations). */
export function bucketQuantile(buckets: Array<[number, number]>, q: number): number | null {
  const total = buckets.find(([le]) => le === Infinity)?.[1] ?? 0;
  if (!total) return null;
  return buckets.find(([, n]) => n >= q * total)?.[0] ?? null;
}

/** Wall times of `node -e 0` run `runs` times the way the CLI is run (same spawn, same cwd). */
export async function nodeStartMs(runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push((await runPlain(process.execPath, ['-e', '0'], {})).wallMs);
  return out;
}

/**
 * Wall times of a CLI command that has nothing to do (`args` name something absent): what the
 * command costs before its work, its modules loaded, its configuration read, its store opened.
 */
export async function cliStartMs(args: string[], env: Record<string, string | undefined>, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push((await runCliTimed(args, env)).wallMs);
  return out;
}
