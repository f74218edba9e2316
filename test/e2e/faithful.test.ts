/**
 * Issue 9 on a faithful account: the AWS fake logs every Athena call the bot makes back into
 * CloudTrail (its principal, its user agent, AccessDenied when refused), five minutes later, as
 * a real account does. The bot must give the same answers after its own calls come back, count no
 * failed call for its refused look-ups, and, with Athena reachable, agree with Athena on every
 * calculation.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { tempDir, TestClock, useAwsFakeEnv } from '../support/harness.js';
import { planWorkload, type Workload } from '../support/workload.js';
import { createRuntime, operatorAdvice, type Runtime } from '../../src/runtime/runtime.js';
import { createPollLoop } from '../../src/runtime/watchers.js';
import { learnBotIdentity } from '../../src/sources/aws-identity.js';
import { confirmDigestDay } from '../../src/sources/athena/confirm-digest.js';
import { buildDigestReport, digestJson } from '../../src/reports/digest-report.js';
import { buildSessionReport, sessionJson } from '../../src/reports/session-report.js';
import { dayBounds } from '../../src/model/zoned-day.js';
import { isSparkEventName } from '../../src/records/athena-events.js';

const REGION = 'us-east-1';
const END = Date.parse('2026-11-23T00:00:00Z');
const DAY = '2026-11-22';
const MINUTE = 60_000;
const BOT_ARN = 'arn:aws:sts::123456789012:assumed-role/athena-session-bot/bot';

let aws: AwsFake;
let workload: Workload;
const clock = new TestClock(END + 60 * MINUTE);
let rt: Runtime | undefined;

let restoreEnv: () => void;

beforeAll(async () => {
  // Console polls every few minutes rather than seconds: the same shapes, and LookupEvents (2/s) pages through them quickly.
  workload = planWorkload({ seed: 9, end: END, days: 1, sessionsPerDay: 14, regions: [REGION], failureRate: 0.02, pollIntervalSeconds: [120, 240] });
  aws = await startAwsFake({ now: clock.now, ratePerSecond: Infinity });
  // The SDK reads endpoints and credentials from the process environment, as it does for a user.
  restoreEnv = useAwsFakeEnv(aws, REGION);
});
afterAll(async () => {
  restoreEnv();
  await aws.close();
});
beforeEach(() => {
  aws.reset();
  aws.setRatePerSecond(Infinity);
  clock.t = END + 60 * MINUTE;
  aws.addEvents([...workload.records()], { visibleAt: 0 });
  for (const { region, session } of workload.truth.athena.sessions) aws.setSession(region, session);
  for (const { region, calculation } of workload.truth.athena.calculations) aws.setCalculation(region, calculation);
});
afterEach(() => {
  rt?.close();
  rt = undefined;
});

function runtime(): Runtime {
  const env = { ...process.env, DATABASE_PATH: path.join(tempDir('asb-faithful-'), 'store.sqlite'), BACKFILL_HOURS: '48', LOG_LEVEL: 'silent', POLL_INTERVAL_SECONDS: '60' };
  rt = createRuntime({ env, clock }, { oneShot: false });
  return rt;
}

const OPTS = { date: DAY, timezone: 'UTC', longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
const ANSWER_NOW = END + 60 * MINUTE;

/** Every answer a user reads about the day: the digest and each session's report, at one fixed "now". */
function answers(r: Runtime) {
  const digest = digestJson(buildDigestReport(r.store, { ...OPTS, now: ANSWER_NOW }));
  delete digest.generatedAt;
  const sessions = workload.truth.sessions.map((s) => {
    const j = sessionJson(buildSessionReport(r.store, s.sessionId, { now: ANSWER_NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!);
    // When Athena last answered changes with every refresh; what it said does not.
    for (const c of j.calculations as Array<Record<string, unknown>>) delete c.confirmedAt;
    return j;
  });
  return { digest, sessions };
}

/** Failed Spark calls the workload really made in the day (none of them the bot's). */
function trueFailures(): number {
  const { start, end } = dayBounds(DAY, 'UTC');
  let n = 0;
  for (const r of workload.records()) {
    const t = Date.parse(r.eventTime);
    if (t >= start && t < end && r.errorCode && r.eventSource === 'athena.amazonaws.com' && isSparkEventName(r.eventName)) n++;
  }
  return n;
}

const botRecordsIn = (r: Runtime, table: 'records' | 'reads') => (r.store.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE principal_arn = ?`).get(BOT_ARN) as { n: number }).n;

describe('the bot on an account that logs its own calls', () => {
  it('gives the same answers after its own calls come back through CloudTrail, and agrees with Athena on every calculation', async () => {
    const r = runtime();
    expect(await learnBotIdentity({ store: r.store, logger: r.logger, region: REGION })).toEqual({ account: '123456789012', arn: BOT_ARN });
    const loop = createPollLoop(r, { clock });
    await loop.cycle();
    expect((await confirmDigestDay(r.store, r.enricher!, { ...OPTS, now: clock.now() }, 60_000)).reachable).toBe(true);
    const before = answers(r);

    // Its GetSession / ListCalculationExecutions / ListSessions calls are in the trail five minutes on.
    clock.advance(10 * MINUTE);
    expect(aws.callRecords().filter((c) => c.visibleAt <= clock.now()).length).toBeGreaterThan(10);
    await loop.cycle();
    await confirmDigestDay(r.store, r.enricher!, { ...OPTS, now: clock.now() }, 60_000);
    clock.advance(10 * MINUTE);
    await loop.cycle();

    const own = r.store.setApartSummary(0);
    expect(own.reduce((n, x) => n + x.count, 0)).toBeGreaterThan(10);
    expect(own.every((x) => x.reason === 'bot')).toBe(true);
    expect(botRecordsIn(r, 'records') + botRecordsIn(r, 'reads')).toBe(0);
    expect(answers(r)).toEqual(before);

    // Athena is the truth for every calculation of the day: states, ends, and the long-running list.
    const { start, end } = dayBounds(DAY, 'UTC');
    const expectedLong: string[] = [];
    for (const { calculation: c } of workload.truth.athena.calculations) {
      const session = buildSessionReport(r.store, c.SessionId, { now: ANSWER_NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!.view;
      const view = session.calculations.find((x) => x.calculationId === c.CalculationExecutionId);
      expect(view, c.CalculationExecutionId).toBeDefined();
      expect({ id: c.CalculationExecutionId, state: view!.state, confirmed: view!.confirmed, endedAt: view!.endedAt }).toEqual({
        id: c.CalculationExecutionId,
        state: c.Status.State,
        confirmed: true,
        endedAt: c.Status.CompletionDateTime ?? null,
      });
      const runMs = (c.Status.CompletionDateTime ?? ANSWER_NOW) - c.Status.SubmissionDateTime;
      if (c.Status.SubmissionDateTime >= start && c.Status.SubmissionDateTime < end && runMs >= 30 * MINUTE) expectedLong.push(c.CalculationExecutionId);
    }
    const digest = before.digest as { longRunningCalculations: Array<{ calculationId: string; confirmed: boolean }>; possiblyLongRunningCalculations: unknown[]; failedCalls: number };
    expect(digest.longRunningCalculations.map((c) => c.calculationId).sort()).toEqual(expectedLong.sort());
    expect(digest.longRunningCalculations.every((c) => c.confirmed)).toBe(true);
    expect(digest.possiblyLongRunningCalculations).toEqual([]);
    expect(digest.failedCalls).toBe(trueFailures());
  });

  it('counts no failed call for the look-ups Athena refused, and says once which permissions are missing', async () => {
    aws.denyAthena(true);
    const r = runtime();
    await learnBotIdentity({ store: r.store, logger: r.logger, region: REGION });
    const loop = createPollLoop(r, { clock });
    await loop.cycle();
    expect((await confirmDigestDay(r.store, r.enricher!, { ...OPTS, now: clock.now() }, 60_000)).reachable).toBe(false);
    const before = answers(r);
    for (let i = 0; i < 3; i++) {
      clock.advance(10 * MINUTE);
      await loop.cycle();
    }
    // Refused Spark calls (ListWorkGroups and GetResourceDashboard are not Spark/notebook operations: never stored).
    const refused = aws.callRecords().filter((c) => c.errorCode === 'AccessDeniedException' && isSparkEventName(c.eventName));
    expect(refused.length).toBeGreaterThan(0);
    // Each refused operation was asked once, then left alone for the hour: no refusal every cycle.
    expect(aws.callRecords().filter((c) => c.eventName === 'ListWorkGroups')).toHaveLength(1);
    // The refusals came back as the bot's own AccessDenied records: set apart, not failed calls.
    const own = r.store.setApartSummary(0).filter((x) => x.errorCode === 'AccessDeniedException');
    expect(own.reduce((n, x) => n + x.count, 0)).toBeGreaterThanOrEqual(refused.filter((c) => c.visibleAt <= clock.now()).length);
    expect(answers(r)).toEqual(before);
    const digest = buildDigestReport(r.store, { ...OPTS, now: ANSWER_NOW });
    expect(digest.failedCalls).toBe(trueFailures());
    for (const s of workload.truth.sessions) {
      const view = buildSessionReport(r.store, s.sessionId, { now: ANSWER_NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 })!.view;
      expect(view.failedCalls.filter((f) => f.principal === 'bot')).toEqual([]);
    }
    // Advice, once per permission, wherever the operator looks.
    const advice = operatorAdvice(r, 0);
    expect(advice.filter((l) => l.includes('grant athena:GetSession'))).toHaveLength(1);
    expect(advice.some((l) => l.includes('grant athena:ListCalculationExecutions'))).toBe(true);
    const fullDay = buildDigestReport(r.store, { ...OPTS, date: '2026-11-23', now: clock.now() });
    expect(fullDay.advice.some((l) => l.startsWith('answers unconfirmed: grant athena:GetSession'))).toBe(true);
  });
});
