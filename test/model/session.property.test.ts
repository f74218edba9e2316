import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  call,
  createNotebook,
  executor,
  fakeUuid,
  human,
  iamUser,
  importNotebook,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  updateNotebook,
  type Actor,
  type CloudTrailRecord,
} from '../support/cloudtrail-records.js';
import { normaliseRecord } from '../../src/records/normalise.js';
import type { NotebookEvent } from '../../src/records/types.js';
import { canonicalOrder, foldSession, splitReads } from '../../src/model/session.js';
import { buildDigest, type Digest } from '../../src/model/digest.js';
import { dayBounds } from '../../src/model/zoned-day.js';
import type {
  AthenaAnswer,
  AthenaCalculationFacts,
  AthenaSessionFacts,
  EnrichmentLookup,
  ModelOptions,
  SessionView,
} from '../../src/model/types.js';

/**
 * Order independence and idempotence (SPEC §2): random session histories, folded in their
 * original order, in a random permutation and with every record repeated 1–3 times (and
 * shuffled again), must give deep-equal session views and digests.
 */

const MINUTE = 60_000;
// Two days that include America/New_York's spring-forward day (2026-03-08 is 23 hours long).
const T0 = Date.parse('2026-03-07T00:00:00Z');
const SPAN_MINUTES = 48 * 60;
const NOW = T0 + SPAN_MINUTES * MINUTE + 30 * MINUTE;
const OPTS: ModelOptions = { now: NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
const DAYS = ['2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09'];
const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata'];

/** A time in the span: coarse (whole minutes, so ties are common) or to the second. */
const timeArb = fc.oneof(
  fc.integer({ min: 0, max: SPAN_MINUTES }).map((m) => T0 + m * MINUTE),
  fc.integer({ min: 0, max: SPAN_MINUTES * 60 }).map((s) => T0 + s * 1000),
  // A few shared instants, so unrelated records often carry the very same eventTime.
  fc.constantFrom(T0 + 10 * 60 * MINUTE, T0 + 29 * 60 * MINUTE, T0 + 29 * 60 * MINUTE + 1000),
);
const errorCodeArb = fc.constantFrom('AccessDeniedException', 'InvalidRequestException', 'ThrottlingException', 'ResourceNotFoundException');
const principalArb = fc.constantFrom('alias', 'bob', 'carol');
const actorArb = (name: string, iam: boolean): Actor => (iam ? iamUser(name) : human(name));

const calcFactsArb = fc.record({
  state: fc.constantFrom('RUNNING', 'QUEUED', 'COMPLETED', 'FAILED', 'CANCELED'),
  completedAfterMin: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
  dpuExecutionMillis: fc.option(fc.integer({ min: 0, max: 10 * 3_600_000 }), { nil: undefined }),
});

const calcPlanArb = fc.record({
  at: timeArb,
  failed: fc.boolean(),
  stop: fc.option(
    fc.record({ afterMin: fc.integer({ min: -5, max: 90 }), failed: fc.boolean(), byHuman: fc.boolean() }),
    { nil: null },
  ),
  polls: fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 4 }),
  athena: fc.option(calcFactsArb, { nil: null }),
});

const sessionFactsArb = fc.record({
  state: fc.constantFrom('IDLE', 'BUSY', 'TERMINATED', 'FAILED', 'CREATED'),
  startedAtShiftS: fc.option(fc.integer({ min: -5, max: 5 }), { nil: undefined }),
  endedAfterMin: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
  dpuExecutionMillis: fc.option(fc.integer({ min: 0, max: 50 * 3_600_000 }), { nil: undefined }),
  engineVersion: fc.option(fc.constantFrom('PySpark engine version 3', 'Apache Spark version 3.5'), { nil: undefined }),
});

const sessionPlanArb = fc.record({
  upper: fc.boolean(),
  start: fc.option(
    fc.record({
      at: timeArb,
      failed: fc.boolean(),
      owner: principalArb,
      iam: fc.boolean(),
      idle: fc.constantFrom(5, 15, 20, 60),
      dpus: fc.integer({ min: 2, max: 60 }),
      workGroup: fc.constantFrom('notebook-workgroup', 'spark-wg'),
      spark35: fc.boolean(),
    }),
    { nil: null },
  ),
  calcs: fc.array(calcPlanArb, { maxLength: 4 }),
  updates: fc.array(timeArb, { maxLength: 4 }),
  statusPolls: fc.array(timeArb, { maxLength: 3 }),
  terminate: fc.option(fc.record({ at: timeArb, failed: fc.boolean(), by: principalArb }), { nil: null }),
  failures: fc.array(fc.record({ at: timeArb, code: errorCodeArb, by: principalArb, name: fc.constantFrom('GetSession', 'StartCalculationExecution', 'UpdateNotebook') }), { maxLength: 3 }),
  athena: fc.option(sessionFactsArb, { nil: null }),
});

const worldPlanArb = fc.record({
  sessions: fc.array(sessionPlanArb, { minLength: 1, maxLength: 3 }),
  notebooks: fc.array(
    fc.record({
      // Notebook calls often share a second: the digest must not depend on how ties arrive.
      at: fc.oneof({ arbitrary: timeArb, weight: 1 }, { arbitrary: fc.constant(T0 + 10 * 60 * MINUTE), weight: 2 }),
      kind: fc.constantFrom('import', 'create'),
      by: principalArb,
      failed: fc.boolean(),
      code: errorCodeArb,
    }),
    { maxLength: 5 },
  ),
});

type WorldPlan = typeof worldPlanArb extends fc.Arbitrary<infer T> ? T : never;

interface World {
  records: CloudTrailRecord[];
  sessionIds: string[];
  enrichment: EnrichmentLookup;
}

let seedCounter = 0x5000_0000;
const nextId = () => fakeUuid(++seedCounter);

/** Turns a plan into CloudTrail records (with unique event ids) and the Athena answers. */
function buildWorld(plan: WorldPlan): World {
  const records: CloudTrailRecord[] = [];
  const sessionIds: string[] = [];
  const sessionAnswers = new Map<string, AthenaAnswer<AthenaSessionFacts>>();
  const calcAnswers = new Map<string, AthenaAnswer<AthenaCalculationFacts>>();

  for (const s of plan.sessions) {
    const sid = nextId();
    sessionIds.push(sid);
    const named = s.upper ? sid.toUpperCase() : sid;
    const startAt = s.start?.at ?? T0;
    if (s.start) {
      records.push(
        startSession({
          sessionId: named,
          eventTime: s.start.at,
          actor: actorArb(s.start.owner, s.start.iam),
          idleTimeoutMinutes: s.start.idle,
          maxConcurrentDpus: s.start.dpus,
          workGroup: s.start.workGroup,
          ...(s.start.spark35 ? { notebookId: null } : {}),
          ...(s.start.failed ? { errorCode: 'InvalidRequestException' } : {}),
        }),
      );
      if (s.start.spark35) records.push(call('GetSessionEndpoint', { actor: actorArb(s.start.owner, s.start.iam), eventTime: s.start.at + MINUTE, params: { sessionId: named } }));
    }
    for (const c of s.calcs) {
      const cid = nextId();
      records.push(startCalculation({ sessionId: named, calculationId: cid, eventTime: c.at, ...(c.failed ? { errorCode: 'InvalidRequestException' } : {}) }));
      if (c.stop) {
        records.push(
          stopCalculation({
            calculationId: cid,
            eventTime: c.at + c.stop.afterMin * MINUTE,
            ...(c.stop.byHuman ? { actor: human('alias') } : { sessionId: named }),
            ...(c.stop.failed ? { errorCode: 'InvalidRequestException' } : {}),
          }),
        );
      }
      for (const p of c.polls) {
        records.push(call('GetCalculationExecutionStatus', { actor: executor(named), eventTime: c.at + p * MINUTE, params: { calculationExecutionId: cid } }));
      }
      if (c.athena) {
        calcAnswers.set(cid, {
          status: 'ok',
          fetchedAt: NOW,
          facts: {
            state: c.athena.state,
            sessionId: sid,
            submittedAt: c.at,
            ...(c.athena.completedAfterMin !== undefined ? { completedAt: c.at + c.athena.completedAfterMin * MINUTE } : {}),
            ...(c.athena.dpuExecutionMillis !== undefined ? { dpuExecutionMillis: c.athena.dpuExecutionMillis } : {}),
          },
        });
      }
    }
    for (const at of s.updates) records.push(updateNotebook({ notebookId: 'c87553ff-e740-44b5-884f-a70e575e08b9', sessionId: named, eventTime: at }));
    for (const at of s.statusPolls) records.push(call('GetSessionStatus', { actor: human('alias'), eventTime: at, params: { sessionId: named } }));
    if (s.terminate) {
      records.push(terminateSession({ sessionId: named, eventTime: s.terminate.at, actor: human(s.terminate.by), ...(s.terminate.failed ? { errorCode: 'InvalidRequestException' } : {}) }));
    }
    for (const f of s.failures) {
      records.push(call(f.name, { actor: human(f.by), eventTime: f.at, errorCode: f.code, params: { sessionId: named } }));
    }
    if (s.athena) {
      sessionAnswers.set(sid, {
        status: 'ok',
        fetchedAt: NOW,
        facts: {
          state: s.athena.state,
          ...(s.athena.startedAtShiftS !== undefined ? { startedAt: startAt + s.athena.startedAtShiftS * 1000 } : {}),
          ...(s.athena.endedAfterMin !== undefined ? { endedAt: startAt + s.athena.endedAfterMin * MINUTE } : {}),
          ...(s.athena.dpuExecutionMillis !== undefined ? { dpuExecutionMillis: s.athena.dpuExecutionMillis } : {}),
          ...(s.athena.engineVersion !== undefined ? { engineVersion: s.athena.engineVersion } : {}),
        },
      });
    }
  }
  for (const n of plan.notebooks) {
    const make = n.kind === 'import' ? importNotebook : createNotebook;
    records.push(make({ notebookId: nextId(), eventTime: n.at, actor: human(n.by), ...(n.failed ? { errorCode: n.code } : {}) }));
  }
  return {
    records,
    sessionIds,
    enrichment: { session: (id) => sessionAnswers.get(id), calculation: (id) => calcAnswers.get(id) },
  };
}

function normaliseAll(records: readonly CloudTrailRecord[]): NotebookEvent[] {
  return records.map((r) => {
    const n = normaliseRecord(r);
    if (n.kind !== 'event') throw new Error(`fixture did not normalise: ${JSON.stringify(n)}`);
    return n.event;
  });
}

/** What the store gives for a session: its records, plus calls naming only one of its calculations. */
function eventsFor(sessionId: string, events: readonly NotebookEvent[]): NotebookEvent[] {
  const own = events.filter((e) => e.sessionId === sessionId);
  const calcs = new Set(own.filter((e) => e.eventName === 'StartCalculationExecution' && e.calculationId).map((e) => e.calculationId));
  return [...own, ...events.filter((e) => e.sessionId === null && e.calculationId !== null && calcs.has(e.calculationId))];
}

function views(world: World, events: readonly NotebookEvent[]): SessionView[] {
  return world.sessionIds.map((id) => {
    const v = foldSession(id, eventsFor(id, events), world.enrichment, OPTS);
    if (!v) throw new Error(`no view for ${id}`);
    return v;
  });
}

const BOUNDS = ZONES.flatMap((timezone) => DAYS.map((date) => ({ timezone, date, ...dayBounds(date, timezone) })));

function digests(sessions: readonly SessionView[], events: readonly NotebookEvent[]): Digest[] {
  return BOUNDS.map(({ timezone, date, start, end }) =>
    buildDigest({
      date,
      timezone,
      start,
      end,
      now: NOW,
      dayEvents: events.filter((e) => e.eventTime >= start && e.eventTime < end),
      sessions,
      dpuHourPriceUsd: OPTS.dpuHourPriceUsd,
    }),
  );
}

/** Deterministic Fisher–Yates driven by a fast-check seed. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const scenarioArb = worldPlanArb
  .map(buildWorld)
  .chain((world) => {
    const n = world.records.length;
    const indices = Array.from({ length: n }, (_, i) => i);
    return fc.record({
      world: fc.constant(world),
      permutation: fc.shuffledSubarray(indices, { minLength: n, maxLength: n }),
      repeats: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
      seed: fc.integer(),
    });
  });

describe('foldSession and buildDigest are order-independent and idempotent (property)', () => {
  it('gives deep-equal views and digests for the original, a shuffled and a repeated order', () => {
    fc.assert(
      fc.property(scenarioArb, ({ world, permutation, repeats, seed }) => {
        const events = normaliseAll(world.records);
        const shuffled = permutation.map((i) => events[i]!);
        const repeated = shuffle(
          events.flatMap((e, i) => Array.from({ length: repeats[i]! }, () => e)),
          seed,
        );

        const original = views(world, events);
        const fromShuffled = views(world, shuffled);
        const fromRepeated = views(world, repeated);
        expect(fromShuffled).toEqual(original);
        expect(fromRepeated).toEqual(original);

        // Invariants every view keeps, whatever the history.
        for (const [i, v] of original.entries()) {
          const id = world.sessionIds[i]!;
          const own = eventsFor(id, events);
          expect(v.sessionId).toBe(id);
          expect(v.events).toBe(new Set(own.map((e) => e.eventId)).size);
          expect(v.failedCalls).toHaveLength(own.filter((e) => e.errorCode !== null).length);
          const okStarts = own.filter((e) => e.eventName === 'StartCalculationExecution' && e.errorCode === null);
          expect(v.calculations.map((c) => c.calculationId).sort()).toEqual(okStarts.map((e) => e.calculationId!).sort());
          const start = own.find((e) => e.eventName === 'StartSession' && e.errorCode === null);
          expect(v.owner).toBe(start?.principal ?? null);
          if (v.stateSource !== 'athena') expect(v.state === 'TERMINATED').toBe(v.endedAt !== null);
          for (const c of v.calculations) {
            expect(c.runMs).toBeGreaterThanOrEqual(0);
            // Past the threshold is long-running when the run time is known, "possibly" when only bounded.
            expect(c.longRunning || c.possiblyLongRunning).toBe(c.runMs >= OPTS.longRunningMinutes * MINUTE);
            expect(c.longRunning && c.endIsUpperBound).toBe(false);
            expect(c.possiblyLongRunning && !c.endIsUpperBound).toBe(false);
          }
          // Reads given as the store gives them (a summary) fold exactly like reads given one by one.
          const { notable, reads } = splitReads(canonicalOrder(own));
          expect(foldSession(id, notable, world.enrichment, OPTS, reads)).toEqual(v);
          if (v.dpuHours !== null) expect(v.estimatedCostUsd).toBeCloseTo(v.dpuHours * OPTS.dpuHourPriceUsd, 9);
        }

        // Digests: events and views in any order, with repeats, give the same answer.
        const expected = digests(original, events);
        expect(digests([...fromShuffled].reverse(), shuffled)).toEqual(expected);
        expect(digests(shuffle([...fromRepeated, ...original, ...fromShuffled], seed), repeated)).toEqual(expected);
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 300) },
    );
  });
});
