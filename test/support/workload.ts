/**
 * A seeded, realistic workload generator for Amazon Athena Spark/notebook activity.
 *
 * It simulates people using Athena notebooks (PySpark engine) and Spark Connect sessions
 * (Apache Spark 3.5) in several workgroups and two regions, and produces
 *   (a) the CloudTrail records of that activity, streamed in eventTime order, and
 *   (b) the truth: what Athena's API would report about every session and calculation at
 *       `end` (PascalCase shapes for the AWS fake) plus per-session facts for test oracles.
 *
 * Design: planning is cheap and eager (a "unit" is one session, one browsing burst, one
 * rename, one failed call or ten minutes of noise; each holds only its plan); records are
 * built lazily from each unit's event list while the active units are merged by time, so a
 * million-record run never holds more than the few hundred units that overlap in time.
 * Everything is a pure function of the options: randomness comes from counter-free seeded
 * generators keyed by (seed, stream, day, unit), so the same seed gives the same records
 * (ids, times, order) every time, in any process.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzip } from 'node:zlib';

import {
  ACCOUNT_ID,
  EXECUTION_ROLE,
  call,
  createNotebook,
  executor,
  human,
  iamUser,
  importNotebook,
  record,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  toLookupEvent,
  updateNotebook,
  type Actor,
  type CloudTrailRecord,
} from './cloudtrail-records.js';

// ---------------------------------------------------------------------------------------
// Athena API shapes (what GetSession / GetCalculationExecution would return), times in ms.
// ---------------------------------------------------------------------------------------

// Athena's state names, as the fake serves them.
export type { SessionState as AthenaSessionState, CalculationState as AthenaCalculationState } from '../fakes/aws-fake.js';
import type { SessionState as AthenaSessionState, CalculationState as AthenaCalculationState } from '../fakes/aws-fake.js';


export interface AthenaSession {
  SessionId: string;
  WorkGroup: string;
  EngineVersion: { SelectedEngineVersion: string; EffectiveEngineVersion: string };
  EngineConfiguration: { CoordinatorDpuSize: number; MaxConcurrentDpus: number; DefaultExecutorDpuSize: number };
  NotebookVersion?: string;
  SessionConfiguration: { IdleTimeoutSeconds: number };
  Status: {
    StartDateTime: number;
    EndDateTime?: number;
    IdleSinceDateTime?: number;
    LastModifiedDateTime?: number;
    State: AthenaSessionState;
  };
  Statistics: { DpuExecutionInMillis: number };
}

export interface AthenaCalculation {
  CalculationExecutionId: string;
  SessionId: string;
  Description?: string;
  Status: { SubmissionDateTime: number; CompletionDateTime?: number; State: AthenaCalculationState };
  Statistics: { DpuExecutionInMillis: number };
}

export const PYSPARK_ENGINE = 'PySpark engine version 3';
export const SPARK35_ENGINE = 'Apache Spark version 3.5';
export const NOTEBOOK_VERSION = 'KeplerJupyter-1.x';
export const CALCULATION_DESCRIPTION = 'Calculation started via Jupyter notebook';
export const DEFAULT_WORKLOAD_END = '2026-11-23T00:00:00Z';
export const DEFAULT_REGIONS = ['us-east-1', 'eu-west-1'] as const;
export const TRAIL_NAME = 'management-events';
export const LOG_BUCKET = 'athena-session-bot-cloudtrail';

/** Workgroups of the simulated account (present in every region); the engine is a workgroup setting. */
export const WORKLOAD_WORKGROUPS: readonly { name: string; engine: string }[] = [
  { name: 'analytics', engine: PYSPARK_ENGINE },
  { name: 'ml-team', engine: PYSPARK_ENGINE },
  { name: 'prod-notebooks', engine: PYSPARK_ENGINE },
  { name: 'spark-connect', engine: SPARK35_ENGINE },
];
const SPARK35_WORKGROUP = 'spark-connect';

// ---------------------------------------------------------------------------------------
// Options, truth and summary types
// ---------------------------------------------------------------------------------------

export interface WorkloadOptions {
  /** PRNG seed (integer). Default 1. */
  seed?: number;
  /** Exclusive end of the simulated span; the API state is taken at this instant. Default 2026-11-23T00:00:00Z. */
  end?: Date | string | number;
  /** Span in days before `end` (rate mode). Default 7. Ignored when `records` is set. */
  days?: number;
  /** Target record count: days are added backwards from `end` until reached; the result is exact. */
  records?: number;
  /** Sessions started on a weekday, all people and regions together (weekends are quieter). Default 60. */
  sessionsPerDay?: number;
  /** Regions; people have a home region (indexes wrap). Default us-east-1, eu-west-1. */
  regions?: readonly string[];
  /** Console polling of GetCalculationExecutionStatus while a calculation runs, [min, max] seconds. Default [5, 15]. */
  pollIntervalSeconds?: readonly [number, number];
  /** Athena SQL API calls (GetQueryExecution, ...) per minute for the whole account, spread over regions. Default 0. */
  sqlNoisePerMinute?: number;
  /** Non-Athena calls (s3 GetBucketAcl, sts AssumeRole) per minute for the whole account. Default 0. */
  otherNoisePerMinute?: number;
  /** Share of Spark calls that fail (mostly throttled reads, plus failed starts/terminates/deletes). Default 0.01. */
  failureRate?: number;
  /** Share of sessions that are Apache Spark 3.5 (Spark Connect, no notebook). Default 0.15. */
  spark35Share?: number;
}

export interface ResolvedWorkloadOptions {
  seed: number;
  /** epoch ms */
  end: number;
  /** days actually planned */
  days: number;
  records: number | null;
  sessionsPerDay: number;
  regions: readonly string[];
  pollIntervalSeconds: readonly [number, number];
  sqlNoisePerMinute: number;
  otherNoisePerMinute: number;
  failureRate: number;
  spark35Share: number;
}

export type SessionEngine = 'pyspark' | 'spark-3.5';
export type SessionEnd = 'terminated' | 'idle-timeout' | 'open';

export interface CalculationFacts {
  calculationId: string;
  sessionId: string;
  region: string;
  /** StartCalculationExecution record time (ms). */
  startedAt: number;
  /** CompletionDateTime (ms); null while still running (or canceling) at `end`. */
  endedAt: number | null;
  state: AthenaCalculationState;
  /** StopCalculationExecution record time, when one was issued before `end`. */
  stopRequestedAt: number | null;
  dpuExecutionInMillis: number;
}

export interface SessionFacts {
  sessionId: string;
  region: string;
  workGroup: string;
  /** Role session name or IAM user name of whoever called StartSession. */
  owner: string;
  ownerArn: string;
  ownerType: 'AssumedRole' | 'IAMUser';
  engine: SessionEngine;
  engineVersion: string;
  notebookId: string | null;
  maxConcurrentDpus: number;
  idleTimeoutMinutes: number;
  /** StartSession record time (ms). */
  startedAt: number;
  /** When the session became usable (IDLE) (ms). */
  readyAt: number;
  /** Last calculation completion (or readyAt) before `end`; for Spark 3.5 the end of client activity. */
  lastActivityAt: number;
  /** TerminateSession record time, or lastActivity + idle timeout; null when still open at `end`. */
  endedAt: number | null;
  endedBy: SessionEnd;
  state: AthenaSessionState;
  /** Coordinator DPU × lifetime + Σ calculation DPU time (Spark 3.5: + executor DPU × activity). */
  dpuExecutionInMillis: number;
  calculations: CalculationFacts[];
}

export interface NotebookFacts {
  notebookId: string;
  region: string;
  workGroup: string;
  /** Name at `end` (after UpdateNotebookMetadata renames). */
  name: string;
  createdVia: 'pre-existing' | 'CreateNotebook' | 'ImportNotebook';
  createdBy: string | null;
  createdAt: number | null;
  deletedAt: number | null;
}

export interface FailedStartFacts {
  at: number;
  region: string;
  workGroup: string;
  owner: string;
  errorCode: string;
}

export interface WorkloadTruth {
  seed: number;
  accountId: string;
  regions: string[];
  /** First record time (ms). */
  start: number;
  /** Exclusive end (ms): the instant the Athena state describes. */
  end: number;
  recordCount: number;
  byRegion: Record<string, number>;
  sessions: SessionFacts[];
  notebooks: NotebookFacts[];
  failedStartSessions: FailedStartFacts[];
  athena: {
    sessions: { region: string; session: AthenaSession }[];
    calculations: { region: string; calculation: AthenaCalculation }[];
  };
}

export interface Workload {
  options: ResolvedWorkloadOptions;
  truth: WorkloadTruth;
  /** Exact number of records `records()` yields. */
  recordCount: number;
  /** A fresh generator of all records in eventTime order (ties in a fixed order). */
  records(): Generator<CloudTrailRecord, void, undefined>;
}

export interface WriteSummary {
  dir: string;
  /** Log files + digest files. */
  files: number;
  logFiles: number;
  digestFiles: number;
  records: number;
  /** Gzipped bytes written (logs + digests). */
  bytes: number;
  /** JSON bytes before compression (logs only). */
  uncompressedBytes: number;
  byRegion: Record<string, { files: number; records: number; bytes: number }>;
  sessions: number;
  calculations: number;
  truthFile: string;
  start: string;
  end: string;
  elapsedMs: number;
}

// ---------------------------------------------------------------------------------------
// Seeded PRNG: sfc32 (128-bit state) seeded by hashing (seed, stream, ...) into four lanes.
// ---------------------------------------------------------------------------------------

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function hashParts(parts: readonly number[], lane: number): number {
  let h = fmix32(Math.imul(lane + 1, 0x9e3779b9));
  for (const p of parts) {
    const n = Math.trunc(p);
    h = mixWord(h, n | 0);
    h = mixWord(h, Math.floor(n / 4294967296) | 0);
  }
  return fmix32(h ^ parts.length);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const hex8 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');
const hex4 = (x: number): string => (x & 0xffff).toString(16).padStart(4, '0');

/** Small, fast, deterministic PRNG (sfc32); `new Rng(seed, stream, ...)` gives independent streams. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...parts: number[]) {
    this.a = hashParts(parts, 0) | 0;
    this.b = hashParts(parts, 1) | 0;
    this.c = hashParts(parts, 2) | 0;
    this.d = hashParts(parts, 3) | 0;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1) */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  uniform(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const v = items[Math.floor(this.next() * items.length)];
    if (v === undefined) throw new Error('Rng.pick on an empty list');
    return v;
  }

  /** Index chosen with the given (non-negative) weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** UUID v4 layout (event ids, request ids, notebook ids). */
  uuid(): string {
    const a = this.uint32();
    const b = this.uint32();
    const c = this.uint32();
    const d = this.uint32();
    return `${hex8(a)}-${hex4(b >>> 16)}-4${hex4(b).slice(1)}-${hex4(((c >>> 16) & 0x3fff) | 0x8000)}-${hex4(c)}${hex8(d)}`;
  }

  /** Athena-style 8-4-4-4-12 hex id without version bits (session and calculation ids). */
  hexId(): string {
    const a = this.uint32();
    const b = this.uint32();
    const c = this.uint32();
    const d = this.uint32();
    return `${hex8(a)}-${hex4(b >>> 16)}-${hex4(b)}-${hex4(c >>> 16)}-${hex4(c)}${hex8(d)}`;
  }

  chars(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += ALNUM[this.uint32() % ALNUM.length];
    return s;
  }
}

// Stream tags (any distinct integers).
const S_DAY = 11;
const S_UNIT = 12;
const S_IDS = 13;
const S_POOL = 14;
const S_FILL = 15;
const S_FILES = 16;

// ---------------------------------------------------------------------------------------
// People, notebooks
// ---------------------------------------------------------------------------------------

interface Person {
  name: string;
  actor: Actor;
  arn: string;
  type: 'AssumedRole' | 'IAMUser';
  home: number;
  weight: number;
  hours: readonly [number, number];
  weekend: number;
  workGroups: readonly string[];
  ci: boolean;
}

function assumed(
  name: string,
  role: string,
  home: number,
  weight: number,
  hours: readonly [number, number],
  workGroups: readonly string[],
): Person {
  return {
    name,
    actor: human(name, role),
    arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/${name}`,
    type: 'AssumedRole',
    home,
    weight,
    hours,
    weekend: 0.2,
    workGroups,
    ci: false,
  };
}

function iam(
  name: string,
  home: number,
  weight: number,
  hours: readonly [number, number],
  workGroups: readonly string[],
  ci = false,
): Person {
  return {
    name,
    actor: iamUser(name),
    arn: `arn:aws:iam::${ACCOUNT_ID}:user/${name}`,
    type: 'IAMUser',
    home,
    weight,
    hours,
    weekend: ci ? 1 : 0.2,
    workGroups,
    ci,
  };
}

/** The people of the simulated account; `home` indexes `regions` (wrapping). Hours are UTC. */
const PEOPLE: readonly Person[] = [
  assumed('alice', 'DataScientist', 0, 1.4, [13, 23], ['ml-team', 'analytics']),
  assumed('bob', 'DataScientist', 0, 1.0, [13, 22], ['ml-team']),
  assumed('carol', 'Analyst', 0, 1.0, [14, 23], ['analytics']),
  assumed('dave', 'DataEngineer', 0, 0.8, [12, 22], ['prod-notebooks', 'analytics']),
  assumed('erik', 'DataScientist', 1, 1.2, [7, 17], ['ml-team', 'analytics']),
  assumed('fatima', 'Analyst', 1, 0.9, [8, 18], ['analytics']),
  assumed('giulia', 'DataEngineer', 1, 0.7, [7, 16], ['prod-notebooks', 'ml-team']),
  iam('hiro', 1, 0.5, [6, 15], ['analytics', 'ml-team']),
  iam('svc-notebook-runner', 0, 0.5, [1, 5], ['prod-notebooks'], true),
];
const TOTAL_WEIGHT = PEOPLE.reduce((s, p) => s + p.weight, 0);
const BROWSERS = PEOPLE.filter((p) => !p.ci);

/** Names exported so tests can tell people from executors. */
export const WORKLOAD_PEOPLE: readonly { name: string; arn: string; type: 'AssumedRole' | 'IAMUser' }[] = PEOPLE.map(
  (p) => ({ name: p.name, arn: p.arn, type: p.type }),
);

const NOTEBOOK_NAMES: Record<string, readonly string[]> = {
  analytics: ['weekly-kpis', 'sales-dashboard-prep', 'adhoc-exploration', 'marketing-attribution', 'data-quality-checks'],
  'ml-team': ['churn-model-training', 'feature-engineering', 'embedding-backfill', 'hyperparam-sweep', 'model-eval'],
  'prod-notebooks': ['nightly-etl', 'billing-aggregation', 'inventory-sync', 'gdpr-deletions', 'partition-repair'],
};
const NEW_NOTEBOOK_WORDS = ['scratch', 'spike', 'eda', 'prototype', 'backfill', 'report', 'debug', 'poc'];

interface PoolNotebook {
  id: string;
  name: string;
  region: string;
  workGroup: string;
}

const DPU_CHOICES = [4, 8, 10, 12, 16, 20, 24, 32, 40, 48, 60];
const IDLE_CHOICES = [15, 20, 20, 30, 30, 45, 60];

// ---------------------------------------------------------------------------------------
// Plans (units) and their events
// ---------------------------------------------------------------------------------------

interface CalcPlan {
  id: string;
  submit: number;
  complete: number;
  state: 'COMPLETED' | 'FAILED' | 'CANCELED';
  stopAt: number | null;
  dpus: number;
  failedAttemptBefore: boolean;
}

interface SessionPlan {
  engine: SessionEngine;
  sessionId: string;
  executorActor: Actor;
  person: Person;
  workGroup: string;
  notebook: { id: string; name: string } | null;
  newNotebook: { via: 'CreateNotebook' | 'ImportNotebook'; at: number; deleteAt: number | null } | null;
  maxDpus: number;
  idleTimeoutMin: number;
  start: number;
  ready: number;
  calcs: CalcPlan[];
  lastActivity: number;
  endAt: number;
  endedBy: 'terminated' | 'idle-timeout';
  leftAt: number;
  execDpus: number;
}

type BrowseOp = 'ListSessions' | 'ListNotebookMetadata' | 'GetNotebookMetadata' | 'ListNotebookSessions';

interface UnitBase {
  day: number;
  idx: number;
  region: string;
  regionIdx: number;
  /** first event time (s), set when counted */
  start: number;
  /** number of records (events before `end`), set when counted */
  count: number;
}

interface SessionUnit extends UnitBase {
  kind: 'session';
  p: SessionPlan;
}
interface BrowseUnit extends UnitBase {
  kind: 'browse';
  person: Person;
  steps: { t: number; op: BrowseOp; workGroup: string; notebookId: string }[];
}
interface RenameUnit extends UnitBase {
  kind: 'rename';
  person: Person;
  notebook: PoolNotebook;
  newName: string;
  lookAt: number;
  renameAt: number;
}
interface FailedCallUnit extends UnitBase {
  kind: 'failed';
  person: Person;
  op: 'StartSession' | 'DeleteNotebook' | 'ImportNotebook';
  at: number;
  workGroup: string;
  notebookId: string;
  errorCode: string;
}
interface NoiseUnit extends UnitBase {
  kind: 'noise';
  windowStart: number;
  n: number;
}
type Unit = SessionUnit | BrowseUnit | RenameUnit | FailedCallUnit | NoiseUnit;

/** One event of a unit: time (s), operation, calculation index, error code. */
interface Ev {
  t: number;
  op: string;
  i: number;
  e: string | null;
}

interface Ctx {
  seed: number;
  endSec: number;
  regions: readonly string[];
  sessionsPerDay: number;
  pollMin: number;
  pollMax: number;
  sqlNoise: number;
  otherNoise: number;
  failureRate: number;
  readFail: number;
  /** failureRate relative to the default 1 %: scales the semantic failures */
  failScale: number;
  spark35Share: number;
  pool: Map<string, PoolNotebook[]>;
  poolList: PoolNotebook[];
  ids: Set<string>;
}

const DAY = 86400;
const NOISE_WINDOW = 600;
const MAX_DAYS = 3660;

function resolve(opts: WorkloadOptions): Ctx & { days: number | null; records: number | null } {
  const seed = Math.trunc(opts.seed ?? 1);
  const endMs = opts.end === undefined ? Date.parse(DEFAULT_WORKLOAD_END) : new Date(opts.end).getTime();
  if (!Number.isFinite(endMs)) throw new Error(`bad end: ${String(opts.end)}`);
  const regions = opts.regions && opts.regions.length > 0 ? [...opts.regions] : [...DEFAULT_REGIONS];
  const [pollMin, pollMax] = opts.pollIntervalSeconds ?? [5, 15];
  if (!(pollMin >= 1 && pollMax >= pollMin)) throw new Error('pollIntervalSeconds must be [min>=1, max>=min]');
  const failureRate = opts.failureRate ?? 0.01;
  const ctx: Ctx & { days: number | null; records: number | null } = {
    seed,
    endSec: Math.floor(endMs / 1000),
    regions,
    sessionsPerDay: opts.sessionsPerDay ?? 60,
    pollMin: Math.round(pollMin),
    pollMax: Math.round(pollMax),
    sqlNoise: opts.sqlNoisePerMinute ?? 0,
    otherNoise: opts.otherNoisePerMinute ?? 0,
    failureRate,
    // semantic failures (start/terminate/delete/calc start) add roughly 0.1 %; reads make up the rest
    readFail: Math.max(0, failureRate * 0.9),
    failScale: Math.max(0, failureRate / 0.01),
    spark35Share: opts.spark35Share ?? 0.15,
    pool: new Map(),
    poolList: [],
    ids: new Set(),
    days: opts.records === undefined ? Math.max(1, Math.trunc(opts.days ?? 7)) : null,
    records: opts.records === undefined ? null : Math.max(0, Math.trunc(opts.records)),
  };
  const rng = new Rng(seed, S_POOL);
  regions.forEach((region, r) => {
    for (const wg of WORKLOAD_WORKGROUPS) {
      const names = NOTEBOOK_NAMES[wg.name];
      if (!names) continue;
      const list = names.map((name) => ({ id: rng.uuid(), name, region, workGroup: wg.name }));
      ctx.pool.set(`${r}/${wg.name}`, list);
      ctx.poolList.push(...list);
    }
  });
  return ctx;
}

function uniqueId(ctx: Ctx, id: string): string {
  if (ctx.ids.has(id)) throw new Error(`workload id collision: ${id}`);
  ctx.ids.add(id);
  return id;
}

function poolFor(ctx: Ctx, regionIdx: number, wg: string): PoolNotebook[] {
  const list = ctx.pool.get(`${regionIdx}/${wg}`);
  if (!list || list.length === 0) throw new Error(`no notebooks for ${regionIdx}/${wg}`);
  return list;
}

/** A start time inside [dayStart, dayStart + 1 day) at the person's working hours (10 % off-hours). */
function sampleStart(rng: Rng, person: Person, dayStart: number): number {
  const offset = rng.chance(0.1)
    ? rng.int(0, DAY - 1)
    : Math.floor((person.hours[0] + rng.next() * (person.hours[1] - person.hours[0])) * 3600);
  const dayOffset = ((dayStart % DAY) + DAY) % DAY;
  return dayStart + ((((offset - dayOffset) % DAY) + DAY) % DAY);
}

function pickRegion(ctx: Ctx, rng: Rng, person: Person): number {
  const n = ctx.regions.length;
  const home = person.home % n;
  return n > 1 && rng.chance(0.1) ? (home + 1) % n : home;
}

function calcDuration(rng: Rng): number {
  const x = rng.next();
  if (x < 0.05) return rng.int(1800, 10800); // long-running: 30-180 min
  if (x < 0.15) return rng.int(120, 1200); // a few minutes
  return Math.max(1, Math.min(600, Math.round(rng.lognormal(8, 1.0)))); // seconds
}

type Force = 'running' | 'idle' | 'spark35-open' | undefined;

function planSession(
  ctx: Ctx,
  rng: Rng,
  day: number,
  idx: number,
  person: Person,
  start: number,
  force: Force,
): SessionUnit {
  const regionIdx = pickRegion(ctx, rng, person);
  const region = ctx.regions[regionIdx] ?? 'us-east-1';
  const engine: SessionEngine =
    force === 'spark35-open' || (!person.ci && force === undefined && rng.chance(ctx.spark35Share)) ? 'spark-3.5' : 'pyspark';
  const sessionId = uniqueId(ctx, rng.hexId());
  const maxDpus = rng.pick(DPU_CHOICES);
  const idleTimeoutMin = force === 'idle' ? 60 : rng.pick(IDLE_CHOICES);
  const p: SessionPlan = {
    engine,
    sessionId,
    executorActor: executor(sessionId),
    person,
    workGroup: SPARK35_WORKGROUP,
    notebook: null,
    newNotebook: null,
    maxDpus,
    idleTimeoutMin,
    start,
    ready: start,
    calcs: [],
    lastActivity: start,
    endAt: start,
    endedBy: 'terminated',
    leftAt: start,
    execDpus: 0,
  };
  if (engine === 'pyspark') {
    p.workGroup = rng.pick(person.workGroups);
    if (!person.ci && force === undefined && rng.chance(0.12)) {
      const via = rng.chance(0.45) ? 'ImportNotebook' : 'CreateNotebook';
      if (via === 'ImportNotebook' && rng.chance(0.5)) p.workGroup = 'prod-notebooks';
      const id = uniqueId(ctx, rng.uuid());
      p.notebook = { id, name: `${rng.pick(NEW_NOTEBOOK_WORDS)}-${person.name}-${rng.int(1, 999)}` };
      p.newNotebook = { via, at: start - rng.int(20, 300), deleteAt: null };
    } else {
      const nb = rng.pick(poolFor(ctx, regionIdx, p.workGroup));
      p.notebook = { id: nb.id, name: nb.name };
    }
    p.ready = start + rng.int(5, 20);
    const maxThink = Math.min(900, idleTimeoutMin * 60 - 120);
    const think = (): number => Math.max(3, Math.min(maxThink, Math.round(rng.lognormal(45, 1.0))));
    let n: number;
    if (force === 'running') n = rng.int(1, 3);
    else if (force === 'idle') n = rng.int(2, 4);
    else if (rng.chance(0.05)) n = 0;
    else n = Math.min(60, 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(0.9)));
    let t = p.ready + think();
    for (let k = 0; k < n; k++) {
      const submit = t;
      const dur = force === 'idle' ? rng.int(2, 30) : calcDuration(rng);
      const x = rng.next();
      const c: CalcPlan = {
        id: uniqueId(ctx, rng.hexId()),
        submit,
        complete: submit + dur,
        state: 'COMPLETED',
        stopAt: null,
        dpus: rng.int(2, maxDpus),
        failedAttemptBefore: rng.chance(0.01 * ctx.failScale),
      };
      if (force === undefined && x < 0.06) c.state = 'FAILED';
      else if (force === undefined && x < 0.09 && dur >= 4) {
        c.state = 'CANCELED';
        c.stopAt = submit + Math.max(2, Math.floor(dur * rng.uniform(0.1, 0.9)));
        c.complete = c.stopAt + rng.int(1, 4);
      }
      p.calcs.push(c);
      t = c.complete + think();
    }
    if (force === 'running') {
      const submit = t;
      p.calcs.push({
        id: uniqueId(ctx, rng.hexId()),
        submit,
        complete: submit + rng.int(3 * 3600, 5 * 3600),
        state: 'COMPLETED',
        stopAt: null,
        dpus: rng.int(2, maxDpus),
        failedAttemptBefore: false,
      });
    }
    const last = p.calcs[p.calcs.length - 1];
    p.lastActivity = last ? last.complete : p.ready;
  } else {
    p.ready = start + rng.int(20, 60);
    p.lastActivity = p.ready + (force === 'spark35-open' ? rng.int(7200, 10800) : rng.int(600, 4 * 3600));
    p.execDpus = rng.int(1, maxDpus - 1);
  }
  const terminated = force === 'idle' ? false : person.ci || force !== undefined || rng.chance(0.7);
  if (terminated) {
    p.endedBy = 'terminated';
    p.endAt = p.lastActivity + rng.int(10, 600);
    p.leftAt = p.endAt;
  } else {
    p.endedBy = 'idle-timeout';
    p.endAt = p.lastActivity + idleTimeoutMin * 60;
    p.leftAt = p.lastActivity + rng.int(0, 180);
  }
  if (p.newNotebook && rng.chance(0.3)) p.newNotebook.deleteAt = p.endAt + rng.int(60, 1800);
  return { kind: 'session', day, idx, region, regionIdx, start, count: 0, p };
}

function planBrowse(ctx: Ctx, rng: Rng, day: number, idx: number, at: number, steps: number): BrowseUnit {
  const person = rng.pick(BROWSERS);
  const regionIdx = pickRegion(ctx, rng, person);
  const region = ctx.regions[regionIdx] ?? 'us-east-1';
  const out: BrowseUnit['steps'] = [];
  let t = at;
  for (let k = 0; k < steps; k++) {
    const workGroup = rng.pick(person.workGroups);
    const nb = rng.pick(poolFor(ctx, regionIdx, workGroup));
    const op = rng.pick<BrowseOp>(['ListSessions', 'ListNotebookMetadata', 'ListNotebookMetadata', 'GetNotebookMetadata', 'ListNotebookSessions']);
    out.push({ t, op, workGroup, notebookId: nb.id });
    t += rng.int(2, 40);
  }
  return { kind: 'browse', day, idx, region, regionIdx, start: at, count: 0, person, steps: out };
}

function planDay(ctx: Ctx, day: number): Unit[] {
  const rng = new Rng(ctx.seed, S_DAY, day);
  const dayStart = ctx.endSec - (day + 1) * DAY;
  const dow = new Date((dayStart + DAY / 2) * 1000).getUTCDay();
  const weekend = dow === 0 || dow === 6;
  const quiet = weekend ? 0.2 : 1;
  const units: Unit[] = [];
  let idx = 0;

  for (const person of PEOPLE) {
    const lambda = ((ctx.sessionsPerDay * person.weight) / TOTAL_WEIGHT) * (weekend ? person.weekend : 1);
    const n = rng.poisson(lambda);
    for (let k = 0; k < n; k++) {
      units.push(planSession(ctx, rng, day, idx++, person, sampleStart(rng, person, dayStart), undefined));
    }
  }
  // console browsing without starting anything
  const browses = rng.poisson(ctx.sessionsPerDay * 0.3 * quiet);
  for (let k = 0; k < browses; k++) {
    const at = sampleStart(rng, rng.pick(BROWSERS), dayStart);
    units.push(planBrowse(ctx, rng, day, idx++, at, rng.int(1, 3)));
  }
  // renames of existing notebooks
  const renames = rng.poisson(1.5 * quiet);
  for (let k = 0; k < renames; k++) {
    const person = rng.pick(BROWSERS);
    const regionIdx = pickRegion(ctx, rng, person);
    const notebook = rng.pick(poolFor(ctx, regionIdx, rng.pick(person.workGroups)));
    const lookAt = sampleStart(rng, person, dayStart);
    units.push({
      kind: 'rename',
      day,
      idx: idx++,
      region: ctx.regions[regionIdx] ?? 'us-east-1',
      regionIdx,
      start: lookAt,
      count: 0,
      person,
      notebook,
      newName: `${notebook.name.replace(/-v\d+$/, '')}-v${rng.int(2, 9)}`,
      lookAt,
      renameAt: lookAt + rng.int(5, 30),
    });
  }
  // failed calls with consequences: StartSession, DeleteNotebook, ImportNotebook
  const failures = rng.poisson(0.6 * quiet * ctx.failScale) + (day === 0 && ctx.failScale > 0 ? 1 : 0);
  for (let k = 0; k < failures; k++) {
    const forced = day === 0 && k === failures - 1;
    const person = rng.pick(BROWSERS);
    const regionIdx = pickRegion(ctx, rng, person);
    const at = forced ? ctx.endSec - rng.int(600, 3600) : sampleStart(rng, person, dayStart);
    const kind = forced ? 0 : rng.weighted([6, 2, 1]);
    const op = kind === 0 ? 'StartSession' : kind === 1 ? 'DeleteNotebook' : 'ImportNotebook';
    const workGroup = op === 'ImportNotebook' ? rng.pick(person.workGroups) : 'prod-notebooks';
    const nb = rng.pick(poolFor(ctx, regionIdx, workGroup));
    const errorCode =
      op === 'StartSession'
        ? rng.pick(['AccessDeniedException', 'InvalidRequestException', 'ThrottlingException'])
        : op === 'DeleteNotebook'
          ? 'AccessDeniedException'
          : 'InvalidRequestException';
    units.push({
      kind: 'failed',
      day,
      idx: idx++,
      region: ctx.regions[regionIdx] ?? 'us-east-1',
      regionIdx,
      start: at,
      count: 0,
      person,
      op,
      at,
      workGroup,
      notebookId: nb.id,
      errorCode,
    });
  }
  // the most recent day always ends with work in progress at `end`
  if (day === 0) {
    const byName = (name: string): Person => PEOPLE.find((p) => p.name === name) ?? BROWSERS[0]!;
    units.push(planSession(ctx, rng, day, idx++, byName('alice'), ctx.endSec - rng.int(40, 100) * 60, 'running'));
    units.push(planSession(ctx, rng, day, idx++, byName('erik'), ctx.endSec - rng.int(45, 120) * 60, 'running'));
    units.push(planSession(ctx, rng, day, idx++, byName('carol'), ctx.endSec - rng.int(30, 45) * 60, 'idle'));
    units.push(planSession(ctx, rng, day, idx++, byName('dave'), ctx.endSec - rng.int(20, 40) * 60, 'spark35-open'));
  }
  // noise: ten-minute windows per region
  const noise = ctx.sqlNoise + ctx.otherNoise;
  if (noise > 0) {
    const perRegionWindow = (noise * (NOISE_WINDOW / 60)) / ctx.regions.length;
    for (let w = 0; w < DAY / NOISE_WINDOW; w++) {
      for (let r = 0; r < ctx.regions.length; r++) {
        const n = rng.poisson(perRegionWindow);
        if (n === 0) continue;
        const windowStart = dayStart + w * NOISE_WINDOW;
        units.push({
          kind: 'noise',
          day,
          idx: idx++,
          region: ctx.regions[r] ?? 'us-east-1',
          regionIdx: r,
          start: windowStart,
          count: 0,
          windowStart,
          n,
        });
      }
    }
  }
  return units;
}

const POLL_ERRORS = ['ThrottlingException', 'InvalidRequestException', 'ResourceNotFoundException'];
const POLL_ERROR_WEIGHTS = [80, 10, 10];
const READ_ERRORS = ['ThrottlingException', 'ThrottlingException', 'AccessDeniedException', 'ResourceNotFoundException', 'InvalidRequestException'];

function sessionEvents(ctx: Ctx, u: SessionUnit, rng: Rng, out: Ev[]): void {
  const p = u.p;
  const E = ctx.endSec;
  // the executor's calls stop when the session ends
  const add = (t: number, op: string, i = -1, e: string | null = null): void => {
    if (t < E && (t < p.endAt || OWNER_OPS.has(op))) out.push({ t, op, i, e });
  };
  const readErr = (): string | null => (rng.chance(ctx.readFail) ? rng.pick(READ_ERRORS) : null);
  const pollErr = (): string | null => (rng.chance(ctx.readFail) ? (POLL_ERRORS[rng.weighted(POLL_ERROR_WEIGHTS)] ?? null) : null);

  if (p.newNotebook) {
    add(p.newNotebook.at, p.newNotebook.via);
    add(p.newNotebook.at + rng.int(1, 5), 'GetNotebookMetadata:human', -1, readErr());
  }
  if (p.engine === 'pyspark' && rng.chance(0.5)) {
    const earliest = p.newNotebook ? p.newNotebook.at + 6 : p.start - 60;
    add(rng.int(Math.min(earliest, p.start - 3), p.start - 3), 'ListNotebookMetadata', -1, readErr());
  }
  if (p.engine === 'pyspark' && rng.chance(0.15)) add(p.start - rng.int(1, 2), 'ListNotebookSessions', -1, readErr());
  add(p.start, 'StartSession');
  for (let t = p.start + rng.int(1, 3); t < p.ready; t += rng.int(2, 5)) add(t, 'GetSessionStatus', -1, readErr());
  add(p.ready, 'GetSessionStatus', -1, readErr());

  if (p.engine === 'pyspark') {
    add(p.ready + rng.int(1, 3), 'CreatePresignedNotebookUrl');
    add(p.ready + rng.int(2, 6), 'GetNotebookMetadata', -1, readErr());
    if (rng.chance(0.5)) add(p.ready + rng.int(3, 8), 'ListCalculationExecutions', -1, readErr());
    const saveUntil = Math.min(p.leftAt, p.endAt);
    for (let t = p.ready + rng.int(60, 240); t < saveUntil && t < E; t += rng.int(120, 300)) {
      add(t, 'UpdateNotebook', -1, rng.chance(ctx.readFail / 3) ? 'ThrottlingException' : null);
    }
    p.calcs.forEach((c, i) => {
      if (c.failedAttemptBefore) {
        add(c.submit - rng.int(1, 3), 'StartCalculationExecution:failed', i, rng.chance(0.7) ? 'InvalidRequestException' : 'ThrottlingException');
      }
      add(c.submit, 'StartCalculationExecution', i);
      let t = c.submit + rng.int(1, 3);
      while (t < c.complete && t < E) {
        add(t, 'GetCalculationExecutionStatus', i, pollErr());
        t += rng.int(ctx.pollMin, ctx.pollMax);
      }
      add(t, 'GetCalculationExecutionStatus', i, null); // observes the final state
      if (c.stopAt !== null) add(c.stopAt, 'StopCalculationExecution', i);
      if (rng.chance(0.15)) add(c.complete + rng.int(1, 4), 'GetCalculationExecution', i, readErr());
      if (rng.chance(0.03)) add(c.complete + rng.int(2, 10), 'GetCalculationExecutionCode', i, readErr());
      if (rng.chance(0.08)) add(c.complete + rng.int(3, 20), 'ListCalculationExecutions', -1, readErr());
    });
    if (rng.chance(0.1)) add(Math.min(p.lastActivity + rng.int(5, 60), p.endAt - 1), 'ExportNotebook', -1, readErr());
  } else {
    for (let t = p.ready + rng.int(1, 5); t < p.lastActivity && t < E; t += rng.int(600, 2700)) {
      add(t, 'GetSessionEndpoint', -1, readErr());
    }
    if (rng.chance(0.3)) add(p.ready + rng.int(5, 60), 'GetSession', -1, readErr());
    if (rng.chance(0.2)) add(Math.min(p.ready + rng.int(60, 600), p.lastActivity), 'ListExecutors', -1, readErr());
  }
  if (p.endedBy === 'terminated') add(p.endAt, 'TerminateSession');
  else if (rng.chance(0.1 * ctx.failScale)) {
    add(p.endAt + rng.int(60, 3600), 'TerminateSession:failed', -1, 'InvalidRequestException');
  }
  if (p.newNotebook && p.newNotebook.deleteAt !== null) add(p.newNotebook.deleteAt, 'DeleteNotebook');
}

const SQL_OPS = ['GetQueryExecution', 'GetQueryResults', 'StartQueryExecution', 'ListQueryExecutions', 'GetWorkGroup'];
const SQL_WEIGHTS = [45, 25, 10, 10, 10];

/** The unit's events before `end`, sorted by time (stable). */
function unitEvents(ctx: Ctx, u: Unit): Ev[] {
  const rng = new Rng(ctx.seed, S_UNIT, u.day, u.idx);
  const out: Ev[] = [];
  const E = ctx.endSec;
  switch (u.kind) {
    case 'session':
      sessionEvents(ctx, u, rng, out);
      break;
    case 'browse':
      for (const s of u.steps) if (s.t < E) out.push({ t: s.t, op: s.op, i: -1, e: null });
      break;
    case 'rename':
      if (u.lookAt < E) out.push({ t: u.lookAt, op: 'GetNotebookMetadata', i: -1, e: null });
      if (u.renameAt < E) out.push({ t: u.renameAt, op: 'UpdateNotebookMetadata', i: -1, e: null });
      break;
    case 'failed':
      if (u.at < E) out.push({ t: u.at, op: u.op, i: -1, e: u.errorCode });
      break;
    case 'noise': {
      const sqlShare = ctx.sqlNoise / (ctx.sqlNoise + ctx.otherNoise);
      for (let k = 0; k < u.n; k++) {
        const t = u.windowStart + rng.int(0, NOISE_WINDOW - 1);
        const op = rng.chance(sqlShare)
          ? (SQL_OPS[rng.weighted(SQL_WEIGHTS)] ?? 'GetQueryExecution')
          : rng.chance(0.6)
            ? 'GetBucketAcl'
            : 'AssumeRole';
        if (t < E) out.push({ t, op, i: -1, e: null });
      }
      break;
    }
  }
  out.sort((a, b) => a.t - b.t);
  return out;
}

// ---------------------------------------------------------------------------------------
// Record building
// ---------------------------------------------------------------------------------------

function errorMessage(code: string, eventName: string, arn: string, region: string, workGroup: string): string {
  switch (code) {
    case 'AccessDeniedException':
      return `User: ${arn} is not authorized to perform: athena:${eventName} on resource: arn:aws:athena:${region}:${ACCOUNT_ID}:workgroup/${workGroup} because no identity-based policy allows the athena:${eventName} action`;
    case 'ThrottlingException':
      return 'Rate exceeded';
    case 'ResourceNotFoundException':
      return 'The resource could not be found';
    case 'InvalidRequestException':
      if (eventName === 'TerminateSession') return 'Session is in the TERMINATED state';
      if (eventName === 'StartCalculationExecution') return 'Session is busy';
      if (eventName === 'StartSession') return 'MaxConcurrentDpus exceeds the account limit';
      if (eventName === 'ImportNotebook') return 'Notebook payload is not a valid IPYNB document';
      return 'The request is not valid';
    default:
      return `${code} for ${eventName}`;
  }
}

function setToken(r: CloudTrailRecord, ids: Rng): void {
  const params = r.requestParameters as Record<string, unknown> | null;
  if (params && 'clientRequestToken' in params) params.clientRequestToken = ids.uuid();
}

/** Session ops signed by the person; the rest are signed by `AthenaExecutor-<sessionId>`. */
const OWNER_OPS: ReadonlySet<string> = new Set([
  'StartSession',
  'TerminateSession',
  'TerminateSession:failed',
  'CreateNotebook',
  'ImportNotebook',
  'GetNotebookMetadata:human',
  'ListNotebookMetadata',
  'ListNotebookSessions',
  'GetSessionStatus',
  'GetSession',
  'GetSessionEndpoint',
  'ListExecutors',
  'CreatePresignedNotebookUrl',
  'DeleteNotebook',
]);

function buildSession(u: SessionUnit, ev: Ev, ids: Rng): CloudTrailRecord {
  const p = u.p;
  const region = u.region;
  const eventTime = ev.t * 1000;
  const eventId = ids.uuid();
  const owner = p.person.actor;
  const ex = p.executorActor;
  const sessionId = p.sessionId;
  const notebookId = p.notebook?.id ?? '';
  const c = ev.i >= 0 ? p.calcs[ev.i] : undefined;
  const calculationExecutionId = c?.id ?? '';
  const errorCode = ev.e ?? undefined;
  let errorMessageText: string | undefined;
  if (errorCode) {
    const eventName = ev.op.split(':')[0] ?? ev.op;
    const arn = OWNER_OPS.has(ev.op)
      ? p.person.arn
      : `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${EXECUTION_ROLE}/AthenaExecutor-${sessionId}`;
    errorMessageText = errorMessage(errorCode, eventName, arn, region, p.workGroup);
  }
  const common = { eventTime, region, eventId, errorCode, errorMessage: errorMessageText };
  // `record` directly (no spreads) for the plain calls: this is the hot path (polls are ~90 %)
  const plain = (
    eventName: string,
    actor: Actor,
    requestParameters: Record<string, unknown>,
    responseElements: Record<string, unknown> | null = null,
  ): CloudTrailRecord =>
    record({ eventName, eventTime, actor, region, eventId, requestParameters, responseElements, errorCode, errorMessage: errorMessageText });
  let r: CloudTrailRecord;
  switch (ev.op) {
    case 'StartSession':
      r = startSession({
        ...common,
        sessionId,
        actor: owner,
        workGroup: p.workGroup,
        maxConcurrentDpus: p.maxDpus,
        coordinatorDpuSize: 1,
        defaultExecutorDpuSize: 1,
        notebookId: p.engine === 'pyspark' ? notebookId : null,
        idleTimeoutMinutes: p.idleTimeoutMin,
        notebookVersion: NOTEBOOK_VERSION,
      });
      setToken(r, ids);
      break;
    case 'TerminateSession':
    case 'TerminateSession:failed':
      r = terminateSession({ ...common, sessionId, actor: owner });
      break;
    case 'CreateNotebook':
      r = createNotebook({ ...common, notebookId, actor: owner, workGroup: p.workGroup, name: p.notebook?.name });
      setToken(r, ids);
      break;
    case 'ImportNotebook':
      r = importNotebook({ ...common, notebookId, actor: owner, workGroup: p.workGroup, name: p.notebook?.name });
      break;
    case 'GetNotebookMetadata:human':
      r = plain('GetNotebookMetadata', owner, { notebookId });
      break;
    case 'ListNotebookMetadata':
      r = plain(ev.op, owner, { workGroup: p.workGroup, maxResults: 50 });
      break;
    case 'ListNotebookSessions':
      r = plain(ev.op, owner, { notebookId });
      break;
    case 'GetSessionStatus':
    case 'GetSession':
    case 'GetSessionEndpoint':
    case 'ListExecutors':
      r = plain(ev.op, owner, { sessionId });
      break;
    case 'CreatePresignedNotebookUrl':
      r = plain(
        ev.op,
        owner,
        { sessionId },
        {
          notebookUrl: 'HIDDEN_FOR_SECURITY_REASONS',
          authToken: 'HIDDEN_FOR_SECURITY_REASONS',
          authTokenExpirationTime: ev.t + 3600,
        },
      );
      break;
    case 'GetNotebookMetadata':
    case 'ExportNotebook':
      r = plain(ev.op, ex, { notebookId });
      break;
    case 'ListCalculationExecutions':
      r = plain(ev.op, ex, { sessionId, maxResults: 100 });
      break;
    case 'UpdateNotebook':
      r = updateNotebook({ ...common, notebookId, sessionId, actor: ex });
      break;
    case 'StartCalculationExecution':
    case 'StartCalculationExecution:failed':
      r = startCalculation({
        ...common,
        sessionId,
        calculationId: calculationExecutionId,
        actor: ex,
        description: CALCULATION_DESCRIPTION,
      });
      setToken(r, ids);
      break;
    case 'GetCalculationExecutionStatus':
    case 'GetCalculationExecution':
    case 'GetCalculationExecutionCode':
      r = plain(ev.op, ex, { calculationExecutionId });
      break;
    case 'StopCalculationExecution':
      r = stopCalculation({ ...common, calculationId: calculationExecutionId, sessionId, actor: ex });
      break;
    case 'DeleteNotebook':
      r = plain(ev.op, owner, { notebookId });
      break;
    default:
      throw new Error(`unknown session op ${ev.op}`);
  }
  return r;
}

const NOISE_ACTORS: readonly { actor: Actor; arn: string }[] = [
  { actor: human('quicksight-refresh', 'aws-quicksight-service-role-v0'), arn: '' },
  { actor: human('airflow-worker', 'AirflowExecutionRole'), arn: '' },
  ...PEOPLE.filter((p) => !p.ci).map((p) => ({ actor: p.actor, arn: p.arn })),
];
const SQL_WORKGROUPS = ['primary', 'analytics', 'dashboards'];
const SQL_QUERIES = [
  'SELECT * FROM "sales"."orders" WHERE dt = current_date LIMIT 100',
  'SELECT count(*) FROM "web"."clickstream" WHERE dt >= date_add(\'day\', -7, current_date)',
  'SELECT customer_id, sum(amount) FROM "sales"."payments" GROUP BY 1 ORDER BY 2 DESC LIMIT 50',
  'MSCK REPAIR TABLE "logs"."alb_access"',
];

function buildNoise(u: NoiseUnit, ev: Ev, ids: Rng): CloudTrailRecord {
  const region = u.region;
  const eventTime = ev.t * 1000;
  const eventId = ids.uuid();
  const who = NOISE_ACTORS[ids.uint32() % NOISE_ACTORS.length] ?? NOISE_ACTORS[0]!;
  const actor = who.actor;
  let r: CloudTrailRecord;
  switch (ev.op) {
    case 'GetBucketAcl': {
      const bucketName = `analytics-datalake-${region}`;
      r = record({
        eventName: 'GetBucketAcl',
        eventTime,
        actor,
        region,
        eventId,
        eventSource: 's3.amazonaws.com',
        requestParameters: { bucketName, Host: `${bucketName}.s3.${region}.amazonaws.com`, acl: '' },
        readOnly: true,
      });
      (r.tlsDetails as Record<string, unknown>).clientProvidedHostHeader = `${bucketName}.s3.${region}.amazonaws.com`;
      break;
    }
    case 'AssumeRole': {
      const role = 'AthenaQueryRunner';
      const roleSessionName = `session-${ids.chars(8)}`;
      r = record({
        eventName: 'AssumeRole',
        eventTime,
        actor,
        region,
        eventId,
        eventSource: 'sts.amazonaws.com',
        requestParameters: {
          roleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${role}`,
          roleSessionName,
          durationSeconds: 3600,
        },
        responseElements: {
          credentials: {
            accessKeyId: `ASIA${ids.chars(16).toUpperCase()}`,
            sessionToken: 'HIDDEN_FOR_SECURITY_REASONS',
            expiration: new Date((ev.t + 3600) * 1000).toUTCString(),
          },
          assumedRoleUser: {
            assumedRoleId: `AROAEXAMPLEQUERYRUNNER:${roleSessionName}`,
            arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/${roleSessionName}`,
          },
        },
        readOnly: true,
      });
      (r.tlsDetails as Record<string, unknown>).clientProvidedHostHeader = `sts.${region}.amazonaws.com`;
      break;
    }
    default: {
      const workGroup = SQL_WORKGROUPS[ids.uint32() % SQL_WORKGROUPS.length] ?? 'primary';
      let requestParameters: Record<string, unknown>;
      let responseElements: Record<string, unknown> | null = null;
      if (ev.op === 'GetQueryExecution') requestParameters = { queryExecutionId: ids.uuid() };
      else if (ev.op === 'GetQueryResults') requestParameters = { queryExecutionId: ids.uuid(), maxResults: 1000 };
      else if (ev.op === 'StartQueryExecution') {
        requestParameters = {
          queryString: SQL_QUERIES[ids.uint32() % SQL_QUERIES.length],
          clientRequestToken: ids.uuid(),
          queryExecutionContext: { database: 'sales', catalog: 'AwsDataCatalog' },
          workGroup,
        };
        responseElements = { queryExecutionId: ids.uuid() };
      } else if (ev.op === 'ListQueryExecutions') requestParameters = { workGroup, maxResults: 50 };
      else requestParameters = { workGroup };
      r = record({
        eventName: ev.op,
        eventTime,
        actor,
        region,
        eventId,
        eventSource: 'athena.amazonaws.com',
        requestParameters,
        responseElements,
      });
    }
  }
  return r;
}

function buildRecord(u: Unit, ev: Ev, ids: Rng): CloudTrailRecord {
  let r: CloudTrailRecord;
  const eventTime = ev.t * 1000;
  switch (u.kind) {
    case 'session':
      r = buildSession(u, ev, ids);
      break;
    case 'noise':
      r = buildNoise(u, ev, ids);
      break;
    case 'browse': {
      const step = u.steps.find((s) => s.t === ev.t && s.op === ev.op) ?? u.steps[0]!;
      const params: Record<string, unknown> =
        step.op === 'ListSessions'
          ? { workGroup: step.workGroup, maxResults: 50 }
          : step.op === 'ListNotebookMetadata'
            ? { workGroup: step.workGroup, maxResults: 50 }
            : { notebookId: step.notebookId };
      r = call(step.op, { eventTime, region: u.region, eventId: ids.uuid(), actor: u.person.actor, params });
      break;
    }
    case 'rename': {
      const eventId = ids.uuid();
      if (ev.op === 'GetNotebookMetadata') {
        r = call(ev.op, { eventTime, region: u.region, eventId, actor: u.person.actor, params: { notebookId: u.notebook.id } });
      } else {
        r = call('UpdateNotebookMetadata', {
          eventTime,
          region: u.region,
          eventId,
          actor: u.person.actor,
          params: { notebookId: u.notebook.id, name: u.newName, clientRequestToken: ids.uuid() },
        });
      }
      break;
    }
    case 'failed': {
      const common = {
        eventTime,
        region: u.region,
        eventId: ids.uuid(),
        errorCode: u.errorCode,
        errorMessage: errorMessage(u.errorCode, u.op, u.person.arn, u.region, u.workGroup),
        actor: u.person.actor,
      };
      if (u.op === 'StartSession') {
        // the builder needs a sessionId for its response, which a failed call drops
        r = startSession({ ...common, sessionId: '', workGroup: u.workGroup, notebookId: u.notebookId, maxConcurrentDpus: 60 });
        setToken(r, ids);
      } else if (u.op === 'ImportNotebook') {
        r = importNotebook({ ...common, notebookId: '', workGroup: u.workGroup, name: 'uploaded-notebook' });
      } else {
        r = call('DeleteNotebook', { ...common, params: { notebookId: u.notebookId } });
      }
      break;
    }
  }
  r.requestID = ids.uuid();
  return r;
}

// ---------------------------------------------------------------------------------------
// Planning, selection to a target count, truth
// ---------------------------------------------------------------------------------------

function countUnit(ctx: Ctx, u: Unit): void {
  const evs = unitEvents(ctx, u);
  u.count = evs.length;
  u.start = evs[0]?.t ?? u.start;
}

const byStart = (a: Unit, b: Unit): number => a.start - b.start || a.day - b.day || a.idx - b.idx;

function fillerUnits(ctx: Ctx, n: number, from: number): Unit[] {
  const rng = new Rng(ctx.seed, S_FILL);
  const lo = Math.min(from, ctx.endSec - 1);
  const out: Unit[] = [];
  for (let k = 0; k < n; k++) {
    const u = planBrowse(ctx, rng, -1, k, rng.int(lo, ctx.endSec - 1), 1);
    u.count = 1;
    out.push(u);
  }
  return out;
}

function selectUnits(ctx: Ctx & { days: number | null; records: number | null }): { units: Unit[]; days: number } {
  const all: Unit[] = [];
  let total = 0;
  let day = 0;
  if (ctx.records === null) {
    for (; day < (ctx.days ?? 7); day++) {
      for (const u of planDay(ctx, day)) {
        countUnit(ctx, u);
        if (u.count > 0) {
          all.push(u);
          total += u.count;
        }
      }
    }
    all.sort(byStart);
    return { units: all, days: day };
  }
  const target = ctx.records;
  while (total < target && day < MAX_DAYS) {
    for (const u of planDay(ctx, day)) {
      countUnit(ctx, u);
      if (u.count > 0) {
        all.push(u);
        total += u.count;
      }
    }
    day++;
  }
  all.sort(byStart);
  // drop the earliest units until at or below the target, then put back whatever fits
  let cut = 0;
  while (total > target && cut < all.length) total -= all[cut++]!.count;
  const kept = all.slice(cut);
  let deficit = target - total;
  for (let j = cut - 1; j >= 0 && deficit > 0; j--) {
    const u = all[j]!;
    if (u.count <= deficit) {
      kept.push(u);
      deficit -= u.count;
    }
  }
  if (deficit > 0) {
    const from = kept.length > 0 ? Math.min(...kept.map((u) => u.start)) : ctx.endSec - 3600;
    kept.push(...fillerUnits(ctx, deficit, from));
  }
  kept.sort(byStart);
  return { units: kept, days: day };
}

function sessionTruth(
  ctx: Ctx,
  u: SessionUnit,
): { facts: SessionFacts; session: AthenaSession; calculations: AthenaCalculation[] } {
  const p = u.p;
  const E = ctx.endSec;
  const ms = (s: number): number => s * 1000;
  const calcFacts: CalculationFacts[] = [];
  const calculations: AthenaCalculation[] = [];
  let running: CalcPlan | null = null;
  let lastDone = p.ready;
  let calcDpuMs = 0;
  for (const c of p.calcs) {
    if (c.submit >= E) continue;
    const done = c.complete < E;
    const state: AthenaCalculationState = done ? c.state : c.stopAt !== null && c.stopAt < E ? 'CANCELING' : 'RUNNING';
    if (done) lastDone = Math.max(lastDone, c.complete);
    else running = c;
    const dpuMs = c.dpus * ms((done ? c.complete : E) - c.submit);
    calcDpuMs += dpuMs;
    calcFacts.push({
      calculationId: c.id,
      sessionId: p.sessionId,
      region: u.region,
      startedAt: ms(c.submit),
      endedAt: done ? ms(c.complete) : null,
      state,
      stopRequestedAt: c.stopAt !== null && c.stopAt < E ? ms(c.stopAt) : null,
      dpuExecutionInMillis: dpuMs,
    });
    calculations.push({
      CalculationExecutionId: c.id,
      SessionId: p.sessionId,
      Description: CALCULATION_DESCRIPTION,
      Status: { SubmissionDateTime: ms(c.submit), ...(done ? { CompletionDateTime: ms(c.complete) } : {}), State: state },
      Statistics: { DpuExecutionInMillis: dpuMs },
    });
  }
  const ended = p.endAt < E;
  let state: AthenaSessionState;
  let lastActivity: number;
  if (p.engine === 'spark-3.5') {
    lastActivity = Math.min(p.lastActivity, E);
    state = ended ? 'TERMINATED' : E <= p.ready ? 'CREATING' : E < p.lastActivity ? 'BUSY' : 'IDLE';
  } else {
    lastActivity = lastDone;
    state = ended ? 'TERMINATED' : E <= p.ready ? 'CREATING' : running ? 'BUSY' : 'IDLE';
  }
  const life = (ended ? p.endAt : E) - p.start;
  const execMs = p.engine === 'spark-3.5' ? p.execDpus * ms(Math.max(0, Math.min(p.lastActivity, E) - p.ready)) : 0;
  const dpuMs = ms(life) + calcDpuMs + execMs; // coordinator DPU size is 1
  const status: AthenaSession['Status'] = { StartDateTime: ms(p.start), State: state };
  if (ended) status.EndDateTime = ms(p.endAt);
  if (state === 'TERMINATED' || state === 'IDLE') status.IdleSinceDateTime = ms(lastActivity);
  status.LastModifiedDateTime = ended
    ? ms(p.endAt)
    : state === 'BUSY'
      ? ms(running ? running.submit : p.ready)
      : state === 'CREATING'
        ? ms(p.start)
        : ms(lastActivity);
  const engineVersion = p.engine === 'pyspark' ? PYSPARK_ENGINE : SPARK35_ENGINE;
  const session: AthenaSession = {
    SessionId: p.sessionId,
    WorkGroup: p.workGroup,
    EngineVersion: { SelectedEngineVersion: engineVersion, EffectiveEngineVersion: engineVersion },
    EngineConfiguration: { CoordinatorDpuSize: 1, MaxConcurrentDpus: p.maxDpus, DefaultExecutorDpuSize: 1 },
    ...(p.engine === 'pyspark' ? { NotebookVersion: NOTEBOOK_VERSION } : {}),
    SessionConfiguration: { IdleTimeoutSeconds: p.idleTimeoutMin * 60 },
    Status: status,
    Statistics: { DpuExecutionInMillis: dpuMs },
  };
  const facts: SessionFacts = {
    sessionId: p.sessionId,
    region: u.region,
    workGroup: p.workGroup,
    owner: p.person.name,
    ownerArn: p.person.arn,
    ownerType: p.person.type,
    engine: p.engine,
    engineVersion,
    notebookId: p.notebook?.id ?? null,
    maxConcurrentDpus: p.maxDpus,
    idleTimeoutMinutes: p.idleTimeoutMin,
    startedAt: ms(p.start),
    readyAt: ms(p.ready),
    lastActivityAt: ms(lastActivity),
    endedAt: ended ? ms(p.endAt) : null,
    endedBy: ended ? p.endedBy : 'open',
    state,
    dpuExecutionInMillis: dpuMs,
    calculations: calcFacts,
  };
  return { facts, session, calculations };
}

function buildTruth(ctx: Ctx, units: readonly Unit[]): WorkloadTruth {
  const E = ctx.endSec;
  const sessions: SessionFacts[] = [];
  const athenaSessions: WorkloadTruth['athena']['sessions'] = [];
  const athenaCalcs: WorkloadTruth['athena']['calculations'] = [];
  const failedStartSessions: FailedStartFacts[] = [];
  const byRegion: Record<string, number> = {};
  for (const r of ctx.regions) byRegion[r] = 0;
  const notebooks = new Map<string, NotebookFacts>();
  for (const nb of ctx.poolList) {
    notebooks.set(nb.id, {
      notebookId: nb.id,
      region: nb.region,
      workGroup: nb.workGroup,
      name: nb.name,
      createdVia: 'pre-existing',
      createdBy: null,
      createdAt: null,
      deletedAt: null,
    });
  }
  const renames: { t: number; id: string; name: string }[] = [];
  let recordCount = 0;
  let start = E;
  for (const u of units) {
    recordCount += u.count;
    byRegion[u.region] = (byRegion[u.region] ?? 0) + u.count;
    start = Math.min(start, u.start);
    if (u.kind === 'session') {
      const t = sessionTruth(ctx, u);
      sessions.push(t.facts);
      athenaSessions.push({ region: u.region, session: t.session });
      for (const c of t.calculations) athenaCalcs.push({ region: u.region, calculation: c });
      const nn = u.p.newNotebook;
      if (nn && u.p.notebook) {
        notebooks.set(u.p.notebook.id, {
          notebookId: u.p.notebook.id,
          region: u.region,
          workGroup: u.p.workGroup,
          name: u.p.notebook.name,
          createdVia: nn.via,
          createdBy: u.p.person.name,
          createdAt: nn.at * 1000,
          deletedAt: nn.deleteAt !== null && nn.deleteAt < E ? nn.deleteAt * 1000 : null,
        });
      }
    } else if (u.kind === 'rename' && u.renameAt < E) {
      renames.push({ t: u.renameAt, id: u.notebook.id, name: u.newName });
    } else if (u.kind === 'failed' && u.op === 'StartSession') {
      failedStartSessions.push({
        at: u.at * 1000,
        region: u.region,
        workGroup: u.workGroup,
        owner: u.person.name,
        errorCode: u.errorCode,
      });
    }
  }
  renames.sort((a, b) => a.t - b.t);
  for (const r of renames) {
    const nb = notebooks.get(r.id);
    if (nb) nb.name = r.name;
  }
  return {
    seed: ctx.seed,
    accountId: ACCOUNT_ID,
    regions: [...ctx.regions],
    start: start * 1000,
    end: E * 1000,
    recordCount,
    byRegion,
    sessions,
    notebooks: [...notebooks.values()],
    failedStartSessions,
    athena: { sessions: athenaSessions, calculations: athenaCalcs },
  };
}

// ---------------------------------------------------------------------------------------
// Time-ordered merge of the units' events
// ---------------------------------------------------------------------------------------

interface Cursor {
  unit: Unit;
  order: number;
  evs: Ev[];
  pos: number;
  ids: Rng;
}

interface Emitted {
  /** event time, seconds */
  t: number;
  rec: CloudTrailRecord;
}

function less(a: Cursor, b: Cursor): boolean {
  const ta = a.evs[a.pos]!.t;
  const tb = b.evs[b.pos]!.t;
  return ta < tb || (ta === tb && a.order < b.order);
}

function* emit(ctx: Ctx, units: readonly Unit[]): Generator<Emitted, void, undefined> {
  const heap: Cursor[] = [];
  const push = (c: Cursor): void => {
    heap.push(c);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const siftDown = (): void => {
    let i = 0;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && less(heap[l]!, heap[m]!)) m = l;
      if (r < n && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  const out: Emitted = { t: 0, rec: undefined as unknown as CloudTrailRecord };
  let next = 0;
  for (;;) {
    while (next < units.length) {
      const top = heap[0];
      const u = units[next]!;
      if (top && u.start > top.evs[top.pos]!.t) break;
      const evs = unitEvents(ctx, u);
      if (evs.length > 0) push({ unit: u, order: next, evs, pos: 0, ids: new Rng(ctx.seed, S_IDS, u.day, u.idx) });
      next++;
    }
    const c = heap[0];
    if (!c) return;
    const ev = c.evs[c.pos]!;
    out.t = ev.t;
    out.rec = buildRecord(c.unit, ev, c.ids);
    c.pos++;
    if (c.pos >= c.evs.length) {
      const last = heap.pop()!;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown();
      }
    } else {
      siftDown();
    }
    yield out;
  }
}

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

function planAll(opts: WorkloadOptions): { ctx: Ctx; units: Unit[]; workload: Workload } {
  const ctx = resolve(opts);
  const { units, days } = selectUnits(ctx);
  const truth = buildTruth(ctx, units);
  const options: ResolvedWorkloadOptions = {
    seed: ctx.seed,
    end: ctx.endSec * 1000,
    days,
    records: ctx.records,
    sessionsPerDay: ctx.sessionsPerDay,
    regions: ctx.regions,
    pollIntervalSeconds: [ctx.pollMin, ctx.pollMax],
    sqlNoisePerMinute: ctx.sqlNoise,
    otherNoisePerMinute: ctx.otherNoise,
    failureRate: ctx.failureRate,
    spark35Share: ctx.spark35Share,
  };
  const workload: Workload = {
    options,
    truth,
    recordCount: truth.recordCount,
    *records() {
      for (const e of emit(ctx, units)) yield e.rec;
    },
  };
  return { ctx, units, workload };
}

/** Plans the whole workload (cheap) and returns its truth plus a lazy record stream. */
export function planWorkload(opts: WorkloadOptions = {}): Workload {
  return planAll(opts).workload;
}

/** All records of the workload in eventTime order (both regions interleaved, ties in a fixed order). */
export function* generateRecords(opts: WorkloadOptions = {}): Generator<CloudTrailRecord, void, undefined> {
  yield* planWorkload(opts).records();
}

/** The Athena API state at `end` and the per-session facts, without generating records. */
export function workloadTruth(opts: WorkloadOptions = {}): WorkloadTruth {
  return planWorkload(opts).truth;
}

/**
 * AWS CLI v2 `aws cloudtrail lookup-events` output: `{"Events":[...]}`, newest first (the API's
 * order), EventTime as `2022-10-14T17:05:36+00:00`.
 */
export function lookupEventsOutput(records: Iterable<CloudTrailRecord>): { Events: Record<string, unknown>[] } {
  const events: { t: string; e: Record<string, unknown> }[] = [];
  for (const r of records) {
    const e = toLookupEvent(r);
    e.EventTime = r.eventTime.replace(/Z$/, '+00:00');
    events.push({ t: r.eventTime, e });
  }
  events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  events.reverse();
  return { Events: events.map((x) => x.e) };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function parts(sec: number): { y: string; m: string; d: string; hh: string; mm: string; ss: string; iso: string } {
  const dt = new Date(sec * 1000);
  return {
    y: String(dt.getUTCFullYear()),
    m: pad2(dt.getUTCMonth() + 1),
    d: pad2(dt.getUTCDate()),
    hh: pad2(dt.getUTCHours()),
    mm: pad2(dt.getUTCMinutes()),
    ss: pad2(dt.getUTCSeconds()),
    iso: dt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

function gzipAsync(data: string): Promise<Buffer> {
  return new Promise((res, rej) => gzip(data, { level: 6 }, (err, buf) => (err ? rej(err) : res(buf))));
}

interface LogFileMeta {
  region: string;
  key: string;
  deliveredAt: number;
  oldest: number;
  newest: number;
  records: number;
  bytes: number;
  hash: string;
}

/**
 * Writes the workload as CloudTrail delivers it to S3 under `dir`: one gzipped log file per
 * region per five minutes of events at
 * `AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 chars>.json.gz`
 * (named after the end of its five-minute window, as a delivery would be), one digest file per
 * region per UTC day under `AWSLogs/<acct>/CloudTrail-Digest/...`, and `athena-state.json`
 * (the truth) in `dir`. Records are serialised as they stream; compression runs on the libuv
 * pool while generation continues.
 */
export async function writeS3LogFiles(opts: WorkloadOptions, dir: string): Promise<WriteSummary> {
  const t0 = performance.now();
  const { ctx, units, workload: wl } = planAll(opts);
  const names = new Rng(wl.options.seed, S_FILES);
  const buckets = new Map<string, { bucket: number; parts: string[]; oldest: number; newest: number }>();
  const metas: LogFileMeta[] = [];
  const inflight = new Set<Promise<void>>();
  const errors: unknown[] = [];
  const dirs = new Map<string, Promise<unknown>>();
  let uncompressed = 0;
  let bytes = 0;
  const MAX_INFLIGHT = 4;

  const ensureDir = (d: string): Promise<unknown> => {
    let p = dirs.get(d);
    if (!p) {
      p = mkdir(d, { recursive: true });
      dirs.set(d, p);
    }
    return p;
  };
  const put = (key: string, content: string, after?: (gz: Buffer) => void): void => {
    const path = join(dir, key);
    const task = (async () => {
      const gz = await gzipAsync(content);
      after?.(gz);
      bytes += gz.length;
      await ensureDir(dirname(path));
      await writeFile(path, gz);
    })();
    const tracked: Promise<void> = task.then(
      () => void inflight.delete(tracked),
      (err: unknown) => {
        inflight.delete(tracked);
        errors.push(err);
      },
    );
    inflight.add(tracked);
  };
  const flush = async (region: string, b: { bucket: number; parts: string[]; oldest: number; newest: number }) => {
    const deliveredAt = b.bucket + 300;
    const s = parts(deliveredAt);
    const key =
      `AWSLogs/${ACCOUNT_ID}/CloudTrail/${region}/${s.y}/${s.m}/${s.d}/` +
      `${ACCOUNT_ID}_CloudTrail_${region}_${s.y}${s.m}${s.d}T${s.hh}${s.mm}Z_${names.chars(16)}.json.gz`;
    const meta: LogFileMeta = { region, key, deliveredAt, oldest: b.oldest, newest: b.newest, records: b.parts.length, bytes: 0, hash: '' };
    metas.push(meta);
    const content = `{"Records":[${b.parts.join(',')}]}`;
    uncompressed += content.length;
    b.parts = [];
    put(key, content, (gz) => {
      meta.bytes = gz.length;
      meta.hash = createHash('sha256').update(gz).digest('hex');
    });
    while (inflight.size >= MAX_INFLIGHT) await Promise.race(inflight);
  };

  let records = 0;
  for (const { t, rec } of emit(ctx, units)) {
    const region = rec.awsRegion;
    const bucket = t - (t % 300);
    let b = buckets.get(region);
    if (b && b.bucket !== bucket && b.parts.length > 0) {
      await flush(region, b);
    }
    if (!b) {
      b = { bucket, parts: [], oldest: t, newest: t };
      buckets.set(region, b);
    }
    if (b.parts.length === 0) {
      b.bucket = bucket;
      b.oldest = t;
    }
    b.newest = t;
    b.parts.push(JSON.stringify(rec));
    records++;
  }
  for (const [region, b] of buckets) if (b.parts.length > 0) await flush(region, b);
  await Promise.all(inflight);
  if (errors.length > 0) throw errors[0];

  // digests: one per region per UTC day of delivery, chained like CloudTrail's
  const byRegionDay = new Map<string, LogFileMeta[]>();
  for (const m of metas) {
    const k = `${m.region}|${m.deliveredAt - (m.deliveredAt % DAY)}`;
    const list = byRegionDay.get(k) ?? [];
    list.push(m);
    byRegionDay.set(k, list);
  }
  const fingerprint = createHash('md5').update(`workload-${wl.options.seed}`).digest('hex');
  const previous = new Map<string, { key: string; hash: string }>();
  let digestFiles = 0;
  for (const [k, list] of byRegionDay) {
    const [region = '', dayStr = '0'] = k.split('|');
    const dayStart = Number(dayStr);
    // ends on the hour after the day's last delivery (a full day unless the span ends earlier)
    const lastDelivery = Math.max(...list.map((m) => m.deliveredAt));
    const digestEnd = Math.min(dayStart + DAY, lastDelivery - (lastDelivery % 3600) + 3600);
    const s = parts(digestEnd);
    const key =
      `AWSLogs/${ACCOUNT_ID}/CloudTrail-Digest/${region}/${s.y}/${s.m}/${s.d}/` +
      `${ACCOUNT_ID}_CloudTrail-Digest_${region}_${TRAIL_NAME}_${region}_${s.y}${s.m}${s.d}T${s.hh}${s.mm}${s.ss}Z.json.gz`;
    const prev = previous.get(region);
    const signature = createHash('sha256').update(key).digest('hex');
    const digest = {
      awsAccountId: ACCOUNT_ID,
      digestStartTime: parts(dayStart).iso,
      digestEndTime: s.iso,
      digestS3Bucket: LOG_BUCKET,
      digestS3Object: key,
      digestPublicKeyFingerprint: fingerprint,
      digestSignatureAlgorithm: 'SHA256withRSA',
      newestEventTime: parts(Math.max(...list.map((m) => m.newest))).iso,
      oldestEventTime: parts(Math.min(...list.map((m) => m.oldest))).iso,
      previousDigestS3Bucket: prev ? LOG_BUCKET : null,
      previousDigestS3Object: prev ? prev.key : null,
      previousDigestHashValue: prev ? prev.hash : null,
      previousDigestHashAlgorithm: prev ? 'SHA-256' : null,
      previousDigestSignature: prev ? createHash('sha256').update(prev.key).digest('hex') : null,
      logFiles: list.map((m) => ({
        s3Bucket: LOG_BUCKET,
        s3Object: m.key,
        hashValue: m.hash,
        hashAlgorithm: 'SHA-256',
        newestEventTime: parts(m.newest).iso,
        oldestEventTime: parts(m.oldest).iso,
      })),
    };
    previous.set(region, { key, hash: signature });
    put(key, JSON.stringify(digest));
    digestFiles++;
  }
  await Promise.all(inflight);
  if (errors.length > 0) throw errors[0];

  const truthFile = join(dir, 'athena-state.json');
  await mkdir(dir, { recursive: true });
  await writeFile(truthFile, JSON.stringify(wl.truth));

  const byRegion: WriteSummary['byRegion'] = {};
  for (const r of wl.options.regions) byRegion[r] = { files: 0, records: 0, bytes: 0 };
  for (const m of metas) {
    const e = (byRegion[m.region] ??= { files: 0, records: 0, bytes: 0 });
    e.files++;
    e.records += m.records;
    e.bytes += m.bytes;
  }
  return {
    dir,
    files: metas.length + digestFiles,
    logFiles: metas.length,
    digestFiles,
    records,
    bytes,
    uncompressedBytes: uncompressed,
    byRegion,
    sessions: wl.truth.sessions.length,
    calculations: wl.truth.athena.calculations.length,
    truthFile,
    start: new Date(wl.truth.start).toISOString(),
    end: new Date(wl.truth.end).toISOString(),
    elapsedMs: Math.round(performance.now() - t0),
  };
}
