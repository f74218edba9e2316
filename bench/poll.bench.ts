/**
 * Figure 4 — LookupEvents calls per poll cycle, against the AWS fake with CloudTrail's
 * 2 requests/second limit ON, with the real poller (`pollRegion`) and the real SDK client
 * (`createCloudTrailSource`).
 *
 * Two accounts — quiet (a day of Spark activity, no SQL noise) and busy (the same plus heavy
 * Athena SQL read traffic) — each polled three ways: adaptive (the default: no cursor row),
 * forced per-event-name (cursor row strategy 'event-names', strategyCycles 30) and forced
 * single EventSource query (cursor row 'event-source', strategyCycles 0, re-set before every
 * cycle). The six pollers run concurrently, each in its own region of the fake (CloudTrail's
 * limit is per account and region; the client's limiter is per region too), so the six
 * measurements never share a rate-limit bucket. One controllable clock drives the fake and
 * the pollers: cycle 0 reads the last 24 h (the backfill); then the clock moves one poll
 * interval (60 s), the records of that minute are added to the fake (visible at once), and
 * a steady cycle reads cursor − 20 min → now.
 *
 * After every cycle the adaptive pollers also run the Athena side as `start` does (the
 * Enricher: GetSession of open sessions, ListCalculationExecutions of sessions with work past
 * the threshold, the active listing ListWorkGroups → ListSessions, Spark UI links), against the
 * fake's Athena state for the workload, and the Athena calls of each cycle are counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startAwsFake } from '../test/fakes/aws-fake.js';
import { useAwsFakeEnv } from '../test/support/harness.js';
import { generateRecords, planWorkload } from '../test/support/workload.js';
import { createAthenaSource } from '../src/sources/athena/athena-source.js';
import { Enricher } from '../src/sources/athena/enrich.js';
import { ACCOUNT_ID, type CloudTrailRecord } from '../test/support/cloudtrail-records.js';
import { createCloudTrailSource, type CloudTrailSource } from '../src/sources/cloudtrail/lookup-client.js';
import { createAccounts } from '../src/sources/accounts/accounts.js';
import { DEFAULT_ACCOUNT, defaultTargets, type AwsTarget } from '../src/sources/accounts/targets.js';
import { PollLoop } from '../src/schedule/poll-loop.js';
import { pollRegion, STRATEGY_HOLD_CYCLES, type PollResult } from '../src/sources/cloudtrail/poll.js';
import { ATHENA_EVENT_SOURCE, isSparkEventName, SPARK_EVENT_NAMES } from '../src/records/athena-events.js';
import { Store, type PollStrategy } from '../src/store/store.js';
import { silentLogger } from '../src/util/logger.js';
import { mean, n0, rmDb, secs, WORK, type Figure, type FigureResult } from './lib.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const INTERVAL_MS = 60_000; // POLL_INTERVAL_SECONDS default
const LOOKBACK_MIN = 20; // LOOKBACK_MINUTES default
/** A weekday afternoon (UTC), when the simulated team is at work. */
const T0 = Date.parse('2026-11-18T15:00:00Z');

type Account = 'quiet' | 'busy';
type Mode = 'adaptive' | 'event-names' | 'event-source';

interface Run {
  account: Account;
  mode: Mode;
  region: string;
  store: Store;
  cycles: Array<PollResult & { wallMs: number }>;
  /** Athena calls made after each cycle, by operation (adaptive pollers only). */
  athena: Array<Record<string, number>>;
  enricher?: Enricher;
}

const REGIONS: Record<Account, Record<Mode, string>> = {
  quiet: { adaptive: 'us-east-1', 'event-names': 'us-east-2', 'event-source': 'us-west-2' },
  busy: { adaptive: 'eu-west-1', 'event-names': 'eu-west-2', 'event-source': 'eu-central-1' },
};

function force(run: Run, cursorMs: number, now: number): void {
  if (run.mode === 'adaptive') return;
  const strategy: PollStrategy = run.mode;
  run.store.commitPoll({ region: run.region, cursorMs, strategy, strategyCycles: strategy === 'event-names' ? STRATEGY_HOLD_CYCLES : 0 }, [], now);
}

const isAthena = (r: CloudTrailRecord) => r.eventSource === ATHENA_EVENT_SOURCE;
const isSpark = (r: CloudTrailRecord) => isAthena(r) && isSparkEventName(r.eventName);

export const pollFigure: Figure = {
  name: 'poll',
  async run(ctx): Promise<FigureResult> {
    const steadyCycles = ctx.quick ? 1 : 3;
    const backfillHours = ctx.quick ? 1 : 24;
    const sessionsPerDay = ctx.quick ? 10 : 20;
    const sqlNoisePerMinute = ctx.quick ? 200 : 2000;
    const genEnd = T0 + (steadyCycles + 1) * INTERVAL_MS;
    const base = { seed: 42, days: 1, end: genEnd, regions: ['us-east-1'], sessionsPerDay };

    // Windows read by the cycles, for the "what a pure EventSource query would cost" figure.
    const windows = [{ start: T0 - backfillHours * HOUR, end: T0 }];
    for (let k = 1; k <= steadyCycles; k++) windows.push({ start: T0 + (k - 1) * INTERVAL_MS - LOOKBACK_MIN * MINUTE, end: T0 + k * INTERVAL_MS });
    const athenaInWindow: Record<Account, number[]> = { quiet: windows.map(() => 0), busy: windows.map(() => 0) };
    const sparkInWindow: Record<Account, number[]> = { quiet: windows.map(() => 0), busy: windows.map(() => 0) };
    const count = (account: Account, r: CloudTrailRecord, t: number) => {
      windows.forEach((w, i) => {
        if (t >= w.start && t <= w.end) {
          if (isAthena(r)) athenaInWindow[account][i]!++;
          if (isSpark(r)) sparkInWindow[account][i]!++;
        }
      });
    };

    ctx.log(`poll: generating the quiet account (${sessionsPerDay} sessions/day, us-east-1) and the busy one (+${n0(sqlNoisePerMinute)} Athena SQL calls/min) …`);
    const records: Record<Account, Array<{ t: number; r: CloudTrailRecord }>> = { quiet: [], busy: [] };
    for (const r of generateRecords(base)) {
      const t = Date.parse(r.eventTime);
      count('quiet', r, t);
      records.quiet.push({ t, r });
    }
    // The busy account's SQL noise is kept from 45 minutes before T0 on (older noise cannot be in
    // any window but the backfill's, where a single EventSource query has given up long before).
    let busyTotal = 0;
    const keepNoiseFrom = T0 - 45 * MINUTE;
    for (const r of generateRecords({ ...base, sqlNoisePerMinute })) {
      busyTotal++;
      const t = Date.parse(r.eventTime);
      count('busy', r, t);
      if (isSpark(r) || t >= keepNoiseFrom) records.busy.push({ t, r });
    }

    const clock = { t: T0, now: () => clock.t };
    const fake = await startAwsFake({ now: () => clock.t });
    const restoreEnv = useAwsFakeEnv(fake);
    const source = createCloudTrailSource({ logger: silentLogger });
    const runs: Run[] = [];
    try {
      for (const account of ['quiet', 'busy'] as const) {
        for (const mode of ['adaptive', 'event-names', 'event-source'] as const) {
          const region = REGIONS[account][mode];
          const file = path.join(WORK, 'poll', `${account}-${mode}.sqlite`);
          fs.mkdirSync(path.dirname(file), { recursive: true });
          rmDb(file);
          const store = Store.open(file);
          const enricher =
            mode === 'adaptive'
              ? new Enricher({ store, athena: createAthenaSource({ logger: silentLogger }), clock, logger: silentLogger, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, refreshMs: INTERVAL_MS })
              : undefined;
          runs.push({ account, mode, region, store, cycles: [], athena: [], enricher });
        }
      }
      // The Athena API as it stands at the end of the simulated span, in both adaptive pollers' regions.
      const truth = planWorkload(base).truth.athena;
      for (const region of [REGIONS.quiet.adaptive, REGIONS.busy.adaptive]) {
        for (const { session } of truth.sessions) fake.setSession(region, session);
        for (const { calculation } of truth.calculations) fake.setCalculation(region, calculation);
      }
      const addUpTo = (from: number, to: number) => {
        for (const run of runs) {
          const batch = records[run.account].filter((x) => x.t > from && x.t <= to).map((x) => x.r);
          if (batch.length) fake.addEvents(batch, { region: run.region });
        }
      };
      addUpTo(-Infinity, T0);

      const cycle = async (label: string) => {
        const began = Date.now();
        const results = await Promise.all(
          runs.map(async (run) => {
            const t0 = performance.now();
            const r = await pollRegion(run.region, { store: run.store, source, clock, logger: silentLogger, lookbackMinutes: LOOKBACK_MIN, backfillHours });
            const result = { ...r, wallMs: performance.now() - t0 };
            run.cycles.push(result);
            if (run.enricher) run.athena.push((await run.enricher.enrichOpenWork([], undefined, [{ account: DEFAULT_ACCOUNT, region: run.region }])).callsByOperation);
            return result;
          }),
        );
        ctx.log(`  ${label}: ${results.map((r, i) => `${runs[i]!.account}/${runs[i]!.mode} ${r.calls}`).join(', ')} calls (${((Date.now() - began) / 1000).toFixed(0)} s)`);
      };

      // Cycle 0: the backfill. Forced strategies get a cursor whose window is the same 24 h.
      for (const run of runs) force(run, T0 - backfillHours * HOUR + LOOKBACK_MIN * MINUTE, clock.t);
      ctx.log(`poll: backfill of ${backfillHours} h for 6 pollers (2 LookupEvents/s each) …`);
      await cycle('backfill');
      for (let k = 1; k <= steadyCycles; k++) {
        const prev = clock.t;
        clock.t += INTERVAL_MS;
        addUpTo(prev, clock.t);
        for (const run of runs) force(run, run.store.getCursor(run.region)!.cursorMs, clock.t);
        await cycle(`steady cycle ${k}`);
      }

      const perRegion = runs.map((run) => ({
        account: run.account,
        mode: run.mode,
        region: run.region,
        lookupRequests: fake.lookupCount(run.region),
        throttled: fake.requests.filter((q) => q.region === run.region && q.errorType === 'ThrottlingException').length,
        busiestSecond: fake.maxRequestsInAnyWindow(run.region, 1000),
        backfill: run.cycles[0]!,
        steady: run.cycles.slice(1),
      }));
      const busiest = Math.max(...perRegion.map((r) => r.busiestSecond));
      const throttled = perRegion.reduce((n, r) => n + r.throttled, 0);
      const get = (a: Account, m: Mode) => perRegion.find((r) => r.account === a && r.mode === m)!;
      const steadyMean = (a: Account, m: Mode) => mean(get(a, m).steady.map((c) => c.calls));
      const steadyList = (a: Account, m: Mode) => get(a, m).steady.map((c) => c.calls).join('/');
      const strategyNote = (a: Account, m: Mode) => {
        const c = get(a, m).steady;
        const used = [...new Set(c.map((x) => x.strategy + (x.switchedFrom ? ` after giving up on ${x.switchedFrom}` : '')))];
        return used.join('; ');
      };
      const pureSource = (a: Account, i: number) => Math.max(1, Math.ceil(athenaInWindow[a][i]! / 50));
      const pureSourceSteady = (a: Account) => mean(windows.slice(1).map((_, i) => pureSource(a, i + 1)));

      const rows: FigureResult['rows'] = [];
      for (const a of ['quiet', 'busy'] as const) {
        const adaptiveBackfill = get(a, 'adaptive').backfill;
        rows.push({
          figure: `poll ${a}: backfill calls (${backfillHours} h, ${n0(sparkInWindow[a][0]!)} Spark records${a === 'busy' ? ' + SQL noise' : ''}), adaptive`,
          value:
            `${adaptiveBackfill.calls} (${adaptiveBackfill.switchedFrom ? `${adaptiveBackfill.switchedFrom} → ` : ''}${adaptiveBackfill.strategy}); ` +
            `forced names ${get(a, 'event-names').backfill.calls}, pure EventSource would be ${n0(pureSource(a, 0))}`,
          target: '—',
          ok: null,
        });
        for (const m of ['event-source', 'event-names', 'adaptive'] as const) {
          const label = m === 'event-source' ? 'forced EventSource' : m === 'event-names' ? 'forced per-event-name' : 'adaptive (default)';
          rows.push({
            figure: `poll ${a}: calls per steady cycle, ${label}`,
            value: `${steadyMean(a, m).toFixed(1)} (${steadyList(a, m)}; ${strategyNote(a, m)})`,
            target: '—',
            ok: null,
          });
        }
      }
      const athenaTotal = (c: Record<string, number>) => Object.values(c).reduce((n, x) => n + x, 0);
      const athenaOps = (cs: Array<Record<string, number>>) => {
        const sum: Record<string, number> = {};
        for (const c of cs) for (const [op, n] of Object.entries(c)) sum[op] = (sum[op] ?? 0) + n;
        return Object.entries(sum).map(([op, n]) => `${op} ${(n / cs.length).toFixed(1)}`).join(', ');
      };
      for (const a of ['quiet', 'busy'] as const) {
        const run = runs.find((r) => r.account === a && r.mode === 'adaptive')!;
        const steady = run.athena.slice(1);
        rows.push({
          figure: `poll ${a}: Athena calls per steady cycle (next to ${steadyMean(a, 'adaptive').toFixed(1)} LookupEvents)`,
          value: `${mean(steady.map(athenaTotal)).toFixed(1)} (${athenaOps(steady) || 'none'}); backfill cycle ${athenaTotal(run.athena[0] ?? {})}`,
          target: '—',
          ok: null,
        });
      }
      rows.push({ figure: 'poll: busiest second, any poller (LookupEvents)', value: `${busiest} req/s, ${throttled} throttled`, target: '≤ 2', ok: busiest <= 2 });

      return {
        rows,
        raw: {
          setup: {
            t0: new Date(T0).toISOString(),
            intervalSeconds: INTERVAL_MS / 1000,
            lookbackMinutes: LOOKBACK_MIN,
            backfillHours,
            steadyCycles,
            quietWorkload: base,
            busyWorkload: { ...base, sqlNoisePerMinute },
            busyRecordsGenerated: busyTotal,
            busyNoiseKeptFrom: new Date(keepNoiseFrom).toISOString(),
            sparkEventNames: SPARK_EVENT_NAMES.length,
            strategyHoldCycles: STRATEGY_HOLD_CYCLES,
            regions: REGIONS,
          },
          windows: windows.map((w, i) => ({
            start: new Date(w.start).toISOString(),
            end: new Date(w.end).toISOString(),
            quietAthenaRecords: athenaInWindow.quiet[i],
            quietSparkRecords: sparkInWindow.quiet[i],
            busyAthenaRecords: athenaInWindow.busy[i],
            busySparkRecords: sparkInWindow.busy[i],
            pureEventSourceCallsQuiet: pureSource('quiet', i),
            pureEventSourceCallsBusy: pureSource('busy', i),
          })),
          pureEventSourceCallsPerSteadyCycle: { quiet: pureSourceSteady('quiet'), busy: pureSourceSteady('busy') },
          busiestSecond: busiest,
          throttled,
          athenaCallsPerCycle: Object.fromEntries(runs.filter((r) => r.enricher).map((r) => [r.account, r.athena])),
          perRegion,
        },
        notes: [
          ...(get('quiet', 'adaptive').steady.every((c) => c.strategy === 'event-names') && steadyMean('quiet', 'event-source') < steadyMean('quiet', 'event-names')
            ? [
                `quiet account: the backfill's ${backfillHours} h window overflowed ${SPARK_EVENT_NAMES.length} EventSource pages, so the adaptive poller switched to per-event-name queries and holds them for ${STRATEGY_HOLD_CYCLES} cycles: ${steadyMean('quiet', 'event-names').toFixed(0)} calls/cycle where EventSource needs ${steadyMean('quiet', 'event-source').toFixed(0)}.`,
              ]
            : []),
          `busy account, a single EventSource query over one steady window would need ${n0(pureSourceSteady('busy'))} calls (${n0(athenaInWindow.busy[1] ?? 0)} Athena records / 50 per page); the poller gives up after ${SPARK_EVENT_NAMES.length}.`,
        ],
      };
    } finally {
      for (const run of runs) run.store.close();
      restoreEnv();
      await fake.close();
    }
  },
};

/**
 * Figure 4b — many accounts (AWS_ROLE_ARNS): N accounts × R regions polled by the real
 * `PollLoop` through the real credential provider (one STS AssumeRole per account, against the
 * fake's STS) and the real CloudTrail source, with CloudTrail's 2 requests/s limit ON per
 * account × region. Every account gets the same quiet workload, so every target costs the same
 * calls. The ceiling, measured in the same run: one account (all its regions) polled alone with
 * that workload; the ratio is what watching N accounts costs in wall time when each
 * account-region has its own budget (ideal: 1×).
 */
export const pollAccountsFigure: Figure = {
  name: 'poll-accounts',
  async run(ctx): Promise<FigureResult> {
    const accountsN = ctx.quick ? 3 : 10;
    const regions = ctx.quick ? ['us-east-1'] : ['us-east-1', 'eu-west-1'];
    const steadyCycles = ctx.quick ? 1 : 3;
    const backfillHours = ctx.quick ? 1 : 6;
    const accountIds = Array.from({ length: accountsN }, (_, i) => String(100000000001 + i));
    const roleOf = (a: string) => `arn:aws:iam::${a}:role/athena-session-bot-reader`;
    const genEnd = T0 + (steadyCycles + 1) * INTERVAL_MS;
    const workload = [...generateRecords({ seed: 42, days: 1, end: genEnd, regions, sessionsPerDay: 20 })].map((r) => ({ t: Date.parse(r.eventTime), r }));

    const clock = { t: T0, now: () => clock.t };
    // The SDK and the credential cache judge expiry by the real clock, the fake issues by its own
    // (T0, in the past): credentials that last until an hour after the real now.
    const fake = await startAwsFake({ now: () => clock.t, credentialLifetimeMs: Date.now() - T0 + HOUR });
    const restoreEnv = useAwsFakeEnv(fake);
    for (const a of accountIds) fake.addRole(roleOf(a), { externalId: 'bench' });
    // The ceiling's account: the fake's default one, reached with the default credentials.
    const addUpTo = (from: number, to: number) => {
      const batch = workload.filter((x) => x.t > from && x.t <= to).map((x) => x.r);
      if (batch.length === 0) return;
      for (const account of [...accountIds, ACCOUNT_ID]) fake.addEvents(batch, { account });
    };
    const storeFile = (name: string) => {
      const file = path.join(WORK, 'poll-accounts', `${name}.sqlite`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      rmDb(file);
      return file;
    };
    const manyStore = Store.open(storeFile('many'));
    const aloneStore = Store.open(storeFile('alone'));
    try {
      addUpTo(-Infinity, T0);
      const accounts = createAccounts({ regions, roleArns: accountIds.map(roleOf), externalId: 'bench', logger: silentLogger });
      const loopOf = (store: Store, targets: readonly AwsTarget[], source: CloudTrailSource) =>
        new PollLoop({ store, source, clock, logger: silentLogger, targets, intervalSeconds: INTERVAL_MS / 1000, lookbackMinutes: LOOKBACK_MIN, backfillHours, retentionDays: 90 });
      const many = loopOf(manyStore, accounts.targets, createCloudTrailSource({ logger: silentLogger, accounts }));
      const alone = loopOf(aloneStore, defaultTargets(regions), createCloudTrailSource({ logger: silentLogger }));

      interface Cycle {
        calls: number;
        wallMs: number;
        failures: number;
      }
      const timed = async (loop: PollLoop): Promise<Cycle> => {
        const t0 = performance.now();
        const r = await loop.cycle();
        return { calls: r.results.reduce((n, x) => n + x.calls, 0), wallMs: performance.now() - t0, failures: r.failures.length };
      };
      ctx.log(`poll-accounts: backfill of ${backfillHours} h for ${accountsN} accounts × ${regions.length} regions (2 LookupEvents/s each), then one account alone …`);
      const backfill = await timed(many);
      const aloneBackfill = await timed(alone);
      const steady: Cycle[] = [];
      const aloneSteady: Cycle[] = [];
      for (let k = 1; k <= steadyCycles; k++) {
        const prev = clock.t;
        clock.t += INTERVAL_MS;
        addUpTo(prev, clock.t);
        steady.push(await timed(many));
        aloneSteady.push(await timed(alone));
        ctx.log(`  steady cycle ${k}: ${steady.at(-1)!.calls} calls in ${(steady.at(-1)!.wallMs / 1000).toFixed(1)} s; one account alone ${aloneSteady.at(-1)!.calls} calls in ${(aloneSteady.at(-1)!.wallMs / 1000).toFixed(1)} s`);
      }

      const busiest = Math.max(...accounts.targets.map((t) => fake.maxRequestsInAnyWindow(t.region, 1000, t.account)));
      // All the watched accounts together (not the ceiling's run, which comes after each cycle).
      const watched = new Set(accountIds);
      const times = fake.requests.filter((q) => q.operation === 'LookupEvents' && watched.has(q.account)).map((q) => q.at).sort((x, y) => x - y);
      let busiestAll = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while (j < times.length && times[j]! < times[i]! + 1000) j++;
        busiestAll = Math.max(busiestAll, j - i);
      }
      const throttled = fake.requests.filter((q) => q.errorType === 'ThrottlingException').length;
      const assumeRoles = fake.stsCalls('AssumeRole').length;
      const targets = accounts.targets.length;
      const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
      const steadyWall = mean(steady.map((c) => c.wallMs));
      const aloneWall = mean(aloneSteady.map((c) => c.wallMs));
      const failures = backfill.failures + steady.reduce((n, c) => n + c.failures, 0);
      const label = `${accountsN} accounts × ${regions.length} region${regions.length === 1 ? '' : 's'}`;
      const rows: FigureResult['rows'] = [
        {
          figure: `poll ${label}: backfill (${backfillHours} h), calls / wall time vs one account alone (same run)`,
          value: `${backfill.calls} calls in ${secs(backfill.wallMs)} vs ${aloneBackfill.calls} in ${secs(aloneBackfill.wallMs)} (${ratio(backfill.wallMs, aloneBackfill.wallMs)})`,
          target: '—',
          ok: null,
        },
        { figure: `poll ${label}: LookupEvents calls per steady cycle, all targets / per target`, value: `${mean(steady.map((c) => c.calls)).toFixed(0)} / ${(mean(steady.map((c) => c.calls)) / targets).toFixed(1)}`, target: '—', ok: null },
        {
          figure: `poll ${label}: steady cycle wall time vs one account alone (ceiling, same run)`,
          value: `${secs(steadyWall)} vs ${secs(aloneWall)} (${ratio(steadyWall, aloneWall)})`,
          target: '< 2× (own budget per account×region)',
          ok: steadyWall / aloneWall < 2,
        },
        { figure: `poll ${label}: busiest second per account×region / all accounts together`, value: `${busiest} / ${busiestAll} requests, ${throttled} throttled`, target: '≤ 2 per account×region', ok: busiest <= 2 && throttled === 0 },
        { figure: `poll ${label}: STS AssumeRole calls (whole run)`, value: `${assumeRoles} (${failures} failed target cycles)`, target: `${accountsN} (one per account)`, ok: assumeRoles === accountsN && failures === 0 },
      ];
      return {
        rows,
        raw: {
          setup: { t0: new Date(T0).toISOString(), accounts: accountsN, regions, backfillHours, steadyCycles, intervalSeconds: INTERVAL_MS / 1000, lookbackMinutes: LOOKBACK_MIN, workload: { seed: 42, days: 1, sessionsPerDay: 20, records: workload.length } },
          backfill,
          aloneBackfill,
          steady,
          aloneSteady,
          busiestSecondPerTarget: busiest,
          busiestSecondAllAccounts: busiestAll,
          throttled,
          assumeRoles,
          lookupRequests: fake.lookupCount(),
        },
        notes: [`each of the ${targets} account-region targets spends its own 2 requests/s; ${label} take about as long per cycle as one account, ${busiestAll} LookupEvents requests in the busiest second between them.`],
      };
    } finally {
      manyStore.close();
      aloneStore.close();
      restoreEnv();
      await fake.close();
    }
  },
};
