import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { EXECUTOR_PREFIX, SPARK_EVENT_NAMES, isWellFormedSessionId } from '../../src/records/athena-events.js';
import type { CloudTrailRecord } from './cloudtrail-records.js';
import {
  DEFAULT_WORKLOAD_END,
  Rng,
  SPARK35_ENGINE,
  generateRecords,
  lookupEventsOutput,
  planWorkload,
  workloadTruth,
  writeS3LogFiles,
  type WorkloadTruth,
} from './workload.js';

const END = Date.parse(DEFAULT_WORKLOAD_END);
const TARGET = 30_000;
const SEED = Number(process.env.WORKLOAD_TEST_SEED ?? 7);
const base = planWorkload({ seed: SEED, records: TARGET });
const recs: CloudTrailRecord[] = [...base.records()];
const truth: WorkloadTruth = base.truth;

type Params = Record<string, unknown>;
const params = (r: CloudTrailRecord): Params => (r.requestParameters ?? {}) as Params;
const response = (r: CloudTrailRecord): Params | null => r.responseElements as Params | null;
const arnOf = (r: CloudTrailRecord): string => String((r.userIdentity as Params).arn);
const ms = (r: CloudTrailRecord): number => Date.parse(r.eventTime);

function digest(records: Iterable<CloudTrailRecord>): string {
  const h = createHash('sha256');
  for (const r of records) h.update(JSON.stringify(r));
  return h.digest('hex');
}

function countNames(records: Iterable<CloudTrailRecord>): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) m.set(r.eventName, (m.get(r.eventName) ?? 0) + 1);
  return m;
}

describe('Rng', () => {
  it('is deterministic per seed and stream, and makes well-formed ids', () => {
    const a = new Rng(42, 1);
    const b = new Rng(42, 1);
    const c = new Rng(42, 2);
    const xs = Array.from({ length: 5 }, () => a.uint32());
    expect(Array.from({ length: 5 }, () => b.uint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uint32())).not.toEqual(xs);
    const id = new Rng(1).uuid();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isWellFormedSessionId(new Rng(1).hexId())).toBe(true);
    const r = new Rng(9);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(3, 5);
      expect(v >= 3 && v <= 5).toBe(true);
    }
  });
});

describe('workload generator', () => {
  it('is deterministic for a seed (ids, times, order) and differs across seeds', () => {
    const again = planWorkload({ seed: SEED, records: TARGET });
    expect(digest(again.records())).toBe(digest(recs));
    expect(JSON.stringify(again.truth)).toBe(JSON.stringify(truth));
    const other = [...generateRecords({ seed: SEED + 1, records: 2000 })];
    const otherIds = new Set(other.map((r) => r.eventID));
    expect(recs.slice(0, 2000).some((r) => otherIds.has(r.eventID))).toBe(false);
  });

  it('hits the requested record count and stays inside the span, in eventTime order', () => {
    expect(recs.length).toBe(TARGET);
    expect(base.recordCount).toBe(TARGET);
    expect(truth.recordCount).toBe(TARGET);
    for (const n of [1_234, 17_777]) {
      const count = [...generateRecords({ seed: 3, records: n })].length;
      expect(Math.abs(count - n)).toBeLessThanOrEqual(n * 0.01);
    }
    let prev = '';
    for (const r of recs) {
      expect(r.eventTime >= prev).toBe(true);
      prev = r.eventTime;
    }
    expect(ms(recs[recs.length - 1]!)).toBeLessThan(END);
    expect(ms(recs[0]!)).toBe(truth.start);
    const ids = new Set(recs.map((r) => r.eventID));
    expect(ids.size).toBe(recs.length);
  });

  it('spans the requested days in rate mode', () => {
    const wl = planWorkload({ seed: 5, days: 2 });
    expect(wl.options.days).toBe(2);
    for (const r of wl.records()) {
      expect(ms(r)).toBeGreaterThanOrEqual(END - 2 * 86_400_000 - 3_600_000);
      expect(ms(r)).toBeLessThan(END);
    }
  });

  it('covers two regions, several people, workgroups and both identity kinds', () => {
    const byRegion = new Map<string, number>();
    for (const r of recs) byRegion.set(r.awsRegion, (byRegion.get(r.awsRegion) ?? 0) + 1);
    expect([...byRegion.keys()].sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(Object.fromEntries(byRegion)).toEqual(truth.byRegion);
    for (const n of byRegion.values()) expect(n).toBeGreaterThan(TARGET * 0.15);
    expect(new Set(truth.sessions.map((s) => s.owner)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(truth.sessions.map((s) => s.workGroup)).size).toBeGreaterThanOrEqual(3);
    const types = new Set(recs.map((r) => (r.userIdentity as Params).type));
    expect(types).toEqual(new Set(['AssumedRole', 'IAMUser']));
    expect(recs.some((r) => arnOf(r).includes(`/${EXECUTOR_PREFIX}`))).toBe(true);
  });

  it('has a plausible mix of event names, all Spark API names over a week', () => {
    const names = countNames(recs);
    const share = (n: string): number => (names.get(n) ?? 0) / recs.length;
    for (const n of names.keys()) expect(SPARK_EVENT_NAMES as readonly string[]).toContain(n);
    expect(share('GetCalculationExecutionStatus')).toBeGreaterThan(0.6);
    expect(share('GetCalculationExecutionStatus')).toBeLessThan(0.97);
    expect(share('UpdateNotebook')).toBeGreaterThan(share('StartSession'));
    expect(share('StartCalculationExecution')).toBeGreaterThan(share('StartSession'));
    expect(share('StartSession')).toBeLessThan(0.03);
    expect(share('TerminateSession')).toBeLessThanOrEqual(share('StartSession'));

    const week = countNames(generateRecords({ seed: 7, days: 7 }));
    expect([...SPARK_EVENT_NAMES].filter((n) => !week.has(n))).toEqual([]);
  });

  it('only starts calculations in sessions that were started (and not yet terminated) in the same region', () => {
    const open = new Map<string, string>();
    let starts = 0;
    for (const r of recs) {
      const p = params(r);
      if (r.eventName === 'StartSession' && !r.errorCode) {
        const id = String(response(r)?.sessionId);
        expect(isWellFormedSessionId(id)).toBe(true);
        open.set(id, r.awsRegion);
      } else if (r.eventName === 'TerminateSession' && !r.errorCode) {
        expect(open.has(String(p.sessionId))).toBe(true);
        open.delete(String(p.sessionId));
      } else if (r.eventName === 'StartCalculationExecution') {
        starts++;
        const sid = String(p.sessionId);
        expect(open.get(sid)).toBe(r.awsRegion);
        expect(arnOf(r).endsWith(`/${EXECUTOR_PREFIX}${sid}`)).toBe(true);
      }
      if (arnOf(r).includes(`/${EXECUTOR_PREFIX}`)) {
        const sid = arnOf(r).slice(arnOf(r).indexOf(EXECUTOR_PREFIX) + EXECUTOR_PREFIX.length);
        expect(open.has(sid)).toBe(true);
      }
    }
    expect(starts).toBeGreaterThan(50);
  });

  it('truth matches the records (sessions, calculations, stops, terminations, idle timeouts)', () => {
    const sessions = new Map(truth.sessions.map((s) => [s.sessionId, s]));
    const calcs = new Map(truth.sessions.flatMap((s) => s.calculations.map((c) => [c.calculationId, c] as const)));
    const athenaSessions = new Map(truth.athena.sessions.map((x) => [x.session.SessionId, x]));
    const athenaCalcs = new Map(truth.athena.calculations.map((x) => [x.calculation.CalculationExecutionId, x]));
    expect(athenaSessions.size).toBe(sessions.size);
    expect(athenaCalcs.size).toBe(calcs.size);

    const seenCalcs = new Set<string>();
    const terminated = new Set<string>();
    let stops = 0;
    for (const r of recs) {
      const p = params(r);
      if (r.eventName === 'StartSession' && !r.errorCode) {
        const s = sessions.get(String(response(r)?.sessionId));
        expect(s).toBeDefined();
        expect(s!.startedAt).toBe(ms(r));
        expect(s!.region).toBe(r.awsRegion);
        expect(p.workGroup).toBe(s!.workGroup);
        expect((p.engineConfiguration as Params).maxConcurrentDpus).toBe(s!.maxConcurrentDpus);
        expect(p.sessionIdleTimeoutInMinutes).toBe(s!.idleTimeoutMinutes);
        expect(arnOf(r)).toBe(s!.ownerArn);
        const cfg = (p.engineConfiguration as Params).additionalConfigs as Params | undefined;
        expect(cfg?.NotebookId ?? null).toBe(s!.notebookId);
      } else if (r.eventName === 'StartCalculationExecution' && !r.errorCode) {
        const id = String(response(r)?.calculationExecutionId);
        const c = calcs.get(id);
        expect(c).toBeDefined();
        expect(c!.startedAt).toBe(ms(r));
        expect(c!.sessionId).toBe(p.sessionId);
        seenCalcs.add(id);
      } else if (r.eventName === 'StopCalculationExecution') {
        stops++;
        const c = calcs.get(String(p.calculationExecutionId))!;
        expect(c.stopRequestedAt).toBe(ms(r));
        expect(c.state).toBe(c.endedAt === null ? 'CANCELING' : 'CANCELED');
      } else if (r.eventName === 'TerminateSession' && !r.errorCode) {
        const s = sessions.get(String(p.sessionId))!;
        expect(s.endedBy).toBe('terminated');
        expect(s.endedAt).toBe(ms(r));
        terminated.add(s.sessionId);
      } else if (r.eventName === 'GetCalculationExecutionStatus') {
        const c = calcs.get(String(p.calculationExecutionId))!;
        expect(ms(r)).toBeGreaterThan(c.startedAt);
        if (c.endedAt !== null) expect(ms(r)).toBeLessThanOrEqual(c.endedAt + 15_000);
      }
    }
    expect(seenCalcs.size).toBe(calcs.size);
    expect(stops).toBeGreaterThan(0);

    const ends = new Map<string, number>();
    for (const s of truth.sessions) {
      ends.set(s.endedBy, (ends.get(s.endedBy) ?? 0) + 1);
      const a = athenaSessions.get(s.sessionId)!;
      expect(a.region).toBe(s.region);
      expect(a.session.Status.State).toBe(s.state);
      expect(a.session.Status.StartDateTime).toBe(s.startedAt);
      expect(a.session.Status.EndDateTime ?? null).toBe(s.endedAt);
      expect(a.session.SessionConfiguration.IdleTimeoutSeconds).toBe(s.idleTimeoutMinutes * 60);
      expect(a.session.EngineVersion.EffectiveEngineVersion).toBe(s.engineVersion);
      expect(a.session.Statistics.DpuExecutionInMillis).toBeGreaterThan(0);
      if (s.endedBy === 'terminated') expect(terminated.has(s.sessionId)).toBe(true);
      if (s.endedBy === 'idle-timeout') {
        expect(terminated.has(s.sessionId)).toBe(false);
        expect(s.state).toBe('TERMINATED');
        expect(s.endedAt).toBe(s.lastActivityAt + s.idleTimeoutMinutes * 60_000);
      }
      if (s.endedBy === 'open') {
        expect(['IDLE', 'BUSY', 'CREATING']).toContain(s.state);
        expect(s.endedAt).toBeNull();
      }
      for (const c of s.calculations) {
        const ac = athenaCalcs.get(c.calculationId)!;
        expect(ac.calculation.SessionId).toBe(s.sessionId);
        expect(ac.calculation.Status.State).toBe(c.state);
        expect(ac.calculation.Status.CompletionDateTime ?? null).toBe(c.endedAt);
        if (c.endedAt === null) expect(['RUNNING', 'CANCELING']).toContain(c.state);
        else expect(['COMPLETED', 'FAILED', 'CANCELED']).toContain(c.state);
        if (s.state === 'BUSY' && c.endedAt === null) expect(ac.calculation.Status.State).toBe('RUNNING');
      }
    }
    expect(ends.get('terminated')).toBeGreaterThan(0);
    expect(ends.get('idle-timeout')).toBeGreaterThan(0);
    expect(ends.get('open')).toBeGreaterThanOrEqual(2);
    expect(truth.sessions.some((s) => s.state === 'BUSY' && s.calculations.some((c) => c.state === 'RUNNING'))).toBe(true);
    expect(truth.sessions.filter((s) => s.engine === 'pyspark' && s.endedBy === 'open').length).toBeGreaterThanOrEqual(2);
    const byEnd = ends.get('idle-timeout')! / (ends.get('idle-timeout')! + ends.get('terminated')!);
    expect(byEnd).toBeGreaterThan(0.1);
    expect(byEnd).toBeLessThan(0.5);
    // long-running calculations exist
    expect(
      truth.sessions.some((s) => s.calculations.some((c) => (c.endedAt ?? END) - c.startedAt >= 30 * 60_000)),
    ).toBe(true);
  });

  it('Spark 3.5 sessions have no notebook and no calculations, and use GetSessionEndpoint', () => {
    const spark = truth.sessions.filter((s) => s.engine === 'spark-3.5');
    expect(spark.length).toBeGreaterThan(0);
    expect(spark.length / truth.sessions.length).toBeLessThan(0.4);
    const ids = new Set(spark.map((s) => s.sessionId));
    for (const s of spark) {
      expect(s.calculations).toEqual([]);
      expect(s.notebookId).toBeNull();
      expect(s.engineVersion).toBe(SPARK35_ENGINE);
    }
    for (const x of truth.athena.sessions) {
      if (ids.has(x.session.SessionId)) expect(x.session.NotebookVersion).toBeUndefined();
    }
    for (const x of truth.athena.calculations) expect(ids.has(x.calculation.SessionId)).toBe(false);
    let endpoints = 0;
    for (const r of recs) {
      const p = params(r);
      if (r.eventName === 'StartSession' && !r.errorCode && ids.has(String(response(r)?.sessionId))) {
        expect((p.engineConfiguration as Params).additionalConfigs).toBeUndefined();
        expect(p.notebookVersion).toBeUndefined();
      }
      if (r.eventName === 'GetSessionEndpoint') {
        expect(ids.has(String(p.sessionId))).toBe(true);
        expect(arnOf(r)).not.toContain(EXECUTOR_PREFIX);
        endpoints++;
      }
      if (ids.has(String(p.sessionId))) expect(r.eventName).not.toBe('StartCalculationExecution');
    }
    expect(endpoints).toBeGreaterThan(0);
  });

  it('includes about 1 % failed calls, with failed StartSession calls that return no session id', () => {
    const failed = recs.filter((r) => r.errorCode);
    expect(failed.length / recs.length).toBeGreaterThan(0.003);
    expect(failed.length / recs.length).toBeLessThan(0.025);
    const codes = new Set(failed.map((r) => r.errorCode));
    const week = [...generateRecords({ seed: 7, days: 3 })].filter((r) => r.errorCode);
    for (const r of week) codes.add(r.errorCode);
    for (const code of ['AccessDeniedException', 'InvalidRequestException', 'ThrottlingException', 'ResourceNotFoundException']) {
      expect(codes).toContain(code);
    }
    const failedStarts = recs.filter((r) => r.eventName === 'StartSession' && r.errorCode);
    expect(failedStarts.length).toBeGreaterThan(0);
    expect(failedStarts.length).toBe(truth.failedStartSessions.length);
    for (const r of failedStarts) {
      expect(r.responseElements).toBeNull();
      expect(typeof r.errorMessage).toBe('string');
    }
  });

  it('adds Athena SQL and non-Athena noise without changing the Spark records', () => {
    const quiet = [...generateRecords({ seed: 11, days: 1 })];
    const busy = [...generateRecords({ seed: 11, days: 1, sqlNoisePerMinute: 10, otherNoisePerMinute: 2 })];
    const sparkNames = new Set<string>(SPARK_EVENT_NAMES);
    const sparkOfBusy = busy.filter((r) => r.eventSource === 'athena.amazonaws.com' && sparkNames.has(r.eventName));
    expect(digest(sparkOfBusy)).toBe(digest(quiet));
    const noise = busy.length - quiet.length;
    expect(noise).toBeGreaterThan(12 * 1440 * 0.9);
    expect(noise).toBeLessThan(12 * 1440 * 1.1);
    const gqe = busy.filter((r) => r.eventName === 'GetQueryExecution');
    expect(gqe.length).toBeGreaterThan(1000);
    for (const r of gqe.slice(0, 50)) {
      expect(r.eventSource).toBe('athena.amazonaws.com');
      expect(params(r).queryExecutionId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const names = countNames(busy);
    for (const n of ['GetQueryResults', 'StartQueryExecution', 'ListQueryExecutions', 'GetWorkGroup', 'GetBucketAcl', 'AssumeRole']) {
      expect(names.get(n) ?? 0).toBeGreaterThan(0);
    }
    expect(busy.find((r) => r.eventName === 'GetBucketAcl')!.eventSource).toBe('s3.amazonaws.com');
    expect(busy.find((r) => r.eventName === 'AssumeRole')!.eventSource).toBe('sts.amazonaws.com');
    expect(new Set(busy.map((r) => r.awsRegion)).size).toBe(2);
  });

  it('truth is available without generating records, and records its notebooks', () => {
    const t = workloadTruth({ seed: SEED, records: TARGET });
    expect(t.sessions.length).toBe(truth.sessions.length);
    const nbIds = new Set(t.notebooks.map((n) => n.notebookId));
    for (const s of t.sessions) if (s.notebookId) expect(nbIds.has(s.notebookId)).toBe(true);
    const created = recs.filter((r) => (r.eventName === 'CreateNotebook' || r.eventName === 'ImportNotebook') && !r.errorCode);
    for (const r of created) {
      const id = String(response(r)?.notebookId);
      const nb = t.notebooks.find((n) => n.notebookId === id)!;
      expect(nb.createdVia).toBe(r.eventName);
      expect(nb.createdAt).toBe(ms(r));
    }
  });

  it('lookupEventsOutput produces AWS CLI v2 lookup-events JSON, newest first', () => {
    const out = lookupEventsOutput(recs.slice(0, 200));
    expect(out.Events).toHaveLength(200);
    const first = out.Events[0]!;
    expect(first.EventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    const times = out.Events.map((e) => Date.parse(String(e.EventTime)));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]!);
    const inner = JSON.parse(String(first.CloudTrailEvent)) as CloudTrailRecord;
    expect(inner.eventID).toBe(first.EventId);
    expect(Date.parse(inner.eventTime)).toBe(Date.parse(String(first.EventTime)));
  });
});

describe('writeS3LogFiles', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function walk(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) out.push(...(await walk(p)));
      else out.push(p);
    }
    return out;
  }

  it('writes gzipped CloudTrail log files with the S3 key layout, digests and the Athena truth', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'workload-'));
    dirs.push(dir);
    const summary = await writeS3LogFiles({ seed: 3, records: 4_000 }, dir);
    expect(summary.records).toBe(4_000);
    const files = (await walk(dir)).map((f) => relative(dir, f));
    const logRe =
      /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d\d)\/(\d\d)\/\1_CloudTrail_\2_(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)Z_[A-Za-z0-9]{16}\.json\.gz$/;
    const digestRe =
      /^AWSLogs\/(\d{12})\/CloudTrail-Digest\/([a-z0-9-]+)\/(\d{4})\/(\d\d)\/(\d\d)\/\1_CloudTrail-Digest_\2_[\w-]+_\2_(\d{8})T(\d{6})Z\.json\.gz$/;
    const logs = files.filter((f) => logRe.test(f));
    const digests = files.filter((f) => digestRe.test(f));
    expect(files.filter((f) => !logRe.test(f) && !digestRe.test(f))).toEqual(['athena-state.json']);
    expect(logs.length).toBe(summary.logFiles);
    expect(digests.length).toBe(summary.digestFiles);
    expect(digests.length).toBeGreaterThan(0);
    expect(summary.files).toBe(logs.length + digests.length);

    let total = 0;
    const regions = new Set<string>();
    for (const f of logs) {
      const m = logRe.exec(f)!;
      const [, , region, y, mo, d, y2, mo2, d2, hh, mm] = m;
      expect(`${y}${mo}${d}`).toBe(`${y2}${mo2}${d2}`);
      const delivered = Date.parse(`${y2}-${mo2}-${d2}T${hh}:${mm}:00Z`);
      const body = JSON.parse(gunzipSync(await readFile(join(dir, f))).toString('utf8')) as { Records: CloudTrailRecord[] };
      expect(body.Records.length).toBeGreaterThan(0);
      for (const r of body.Records) {
        expect(r.awsRegion).toBe(region);
        expect(ms(r)).toBeLessThan(delivered);
        expect(ms(r)).toBeGreaterThanOrEqual(delivered - 300_000);
      }
      regions.add(region!);
      total += body.Records.length;
    }
    expect(total).toBe(4_000);
    expect(regions.size).toBe(2);
    expect(Object.values(summary.byRegion).reduce((s, r) => s + r.records, 0)).toBe(4_000);

    for (const f of digests) {
      const body = JSON.parse(gunzipSync(await readFile(join(dir, f))).toString('utf8')) as Params & {
        logFiles: { s3Object: string }[];
      };
      expect(body.awsAccountId).toBe('123456789012');
      expect(typeof body.digestStartTime).toBe('string');
      expect(body.digestS3Object).toBe(f);
      for (const lf of body.logFiles) expect(logs).toContain(lf.s3Object);
    }

    const state = JSON.parse(await readFile(summary.truthFile, 'utf8')) as WorkloadTruth;
    expect(state.sessions.length).toBe(summary.sessions);
    expect(state.athena.calculations.length).toBe(summary.calculations);
    expect(state.recordCount).toBe(4_000);
  });
});
