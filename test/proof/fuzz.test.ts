/**
 * Proof: fuzzing (issue "Proof", item 3), with fast-check.
 *
 *  - mutated CloudTrail records (fields dropped, types changed, 100k-character strings,
 *    unknown event names, invalid JSON in CloudTrailEvent, nested garbage) through
 *    normaliseRecord / normaliseLookupEvent / normaliseText never throw, and always come
 *    back as an event, ignored, or rejected with a non-empty reason; events stay small;
 *  - mixed files (good records interleaved with mutants) through ingestFiles: every good
 *    record stored, nothing crashes, every element accounted for;
 *  - random slash-command text through parseCommandText never throws and malformed input
 *    is `malformed`; a few dozen random texts as REAL signed commands to the running app
 *    all get HTTP 200 and a clear usage / refusal / answer;
 *  - random mention text through sessionIdInMention never throws.
 *
 * PROOF_SEED=<n> replays other inputs.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { tempDir, tempStore, useAwsFakeEnv } from '../support/harness.js';
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
  toLookupEvent,
  updateNotebook,
  type CloudTrailRecord,
} from '../support/cloudtrail-records.js';
import { freePort, postCommand, SIGNING_SECRET, until } from '../support/slack-requests.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { ingestFiles } from '../../src/ingest/ingest-files.js';
import { isWellFormedSessionId } from '../../src/records/athena-events.js';
import { normaliseLookupEvent, normaliseRecord, normaliseText, type Normalised } from '../../src/records/normalise.js';
import { createApp, type SlackBot } from '../../src/slack/app.js';
import { malformedText, parseCommandText, sessionIdInMention, USAGE_TEXT } from '../../src/slack/report-service.js';
import { Outbox } from '../../src/store/outbox.js';
import { systemClock } from '../../src/util/clock.js';

const SEED = Number(process.env.PROOF_SEED ?? 20261124);
const T0 = Date.parse('2026-11-20T10:00:00Z');

// ---------------------------------------------------------------------------------------------
// Record mutants

/** Builder records of every shape the bot reads, each with a fresh eventID. */
const BUILDERS: Array<(i: number) => CloudTrailRecord> = [
  (i) => startSession({ sessionId: fakeUuid(), eventTime: T0 + i * 1000, actor: human('alice'), workGroup: 'wg' }),
  (i) => terminateSession({ sessionId: fakeUuid(), eventTime: T0 + i * 1000 }),
  (i) => startCalculation({ sessionId: fakeUuid(), calculationId: fakeUuid(), eventTime: T0 + i * 1000 }),
  (i) => stopCalculation({ calculationId: fakeUuid(), eventTime: T0 + i * 1000 }),
  (i) => importNotebook({ notebookId: fakeUuid(), eventTime: T0 + i * 1000, actor: iamUser('bob') }),
  (i) => createNotebook({ notebookId: fakeUuid(), eventTime: T0 + i * 1000 }),
  (i) => updateNotebook({ notebookId: fakeUuid(), sessionId: fakeUuid(), eventTime: T0 + i * 1000 }),
  (i) => {
    const sid = fakeUuid();
    return call('GetSessionStatus', { actor: executor(sid), eventTime: T0 + i * 1000, params: { sessionId: sid } });
  },
  (i) => call('GetSessionEndpoint', { actor: human('carol'), eventTime: T0 + i * 1000, params: { sessionId: fakeUuid() }, errorCode: 'AccessDeniedException' }),
];

const PATHS = [
  'eventVersion',
  'eventID',
  'eventTime',
  'eventSource',
  'eventName',
  'awsRegion',
  'userIdentity',
  'userIdentity.type',
  'userIdentity.arn',
  'userIdentity.userName',
  'userIdentity.principalId',
  'userIdentity.accessKeyId',
  'userIdentity.invokedBy',
  'userIdentity.sessionContext.sessionIssuer',
  'sourceIPAddress',
  'requestParameters',
  'requestParameters.sessionId',
  'requestParameters.calculationExecutionId',
  'requestParameters.notebookId',
  'requestParameters.workGroup',
  'requestParameters.name',
  'requestParameters.type',
  'requestParameters.notebookVersion',
  'requestParameters.sessionIdleTimeoutInMinutes',
  'requestParameters.engineConfiguration',
  'requestParameters.engineConfiguration.maxConcurrentDpus',
  'requestParameters.engineConfiguration.coordinatorDpuSize',
  'requestParameters.engineConfiguration.additionalConfigs',
  'requestParameters.engineConfiguration.additionalConfigs.NotebookId',
  'responseElements',
  'responseElements.sessionId',
  'responseElements.calculationExecutionId',
  'responseElements.notebookId',
  'responseElements.state',
  'errorCode',
  'errorMessage',
  'readOnly',
  'tlsDetails',
];

/** ~100k characters: ASCII, accented, NUL, astral (surrogate pairs). */
const huge = fc.constantFrom('x', 'é', '\u0000', '🙂', 'a"\\').map((c) => c.repeat(Math.ceil(100_000 / c.length)));

/** 300 levels of nested garbage (deep, not stack-breaking). */
const deep = fc.constantFrom('obj', 'arr').map((k) => {
  let v: unknown = 'bottom';
  for (let i = 0; i < 300; i++) v = k === 'obj' ? { a: v, b: [i] } : [v, i];
  return v;
});

const garbage: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  huge,
  deep,
  fc.constantFrom(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER, '', ' ', '1.08', '2.0', 'athena.amazonaws.com', 'StartSession', 'not-a-date', '2026-13-45T99:99:99Z'),
  fc.constantFrom('TotallyUnknownEvent', 'StartQueryExecution', 'GetQueryExecution', 'startsession', 'StartSession\u0000', 'ListSessions'),
  fc.constantFrom(fakeUuid(), fakeUuid().toUpperCase(), 'a2c1ebba-ad01-865f-ed2d-a142b7451f7', 'a2c1ebba-ad01-865f-ed2d-a142b7451f7ez'),
  fc.double(),
  fc.integer(),
);

type Mutation = { op: 'drop'; path: string } | { op: 'set'; path: string; value: unknown } | { op: 'setRandomKey'; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...PATHS), value: garbage }),
  fc.record({ op: fc.constant('setRandomKey' as const), key: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), value: garbage }),
);

function apply(base: Record<string, unknown>, muts: readonly Mutation[]): Record<string, unknown> {
  const out = structuredClone(base);
  for (const m of muts) {
    if (m.op === 'setRandomKey') {
      Object.defineProperty(out, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const parts = m.path.split('.');
    let node: Record<string, unknown> = out;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        if (m.op === 'drop') {
          node = {};
          break;
        }
        node[p] = {};
      }
      node = node[p] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    if (m.op === 'drop') delete node[last];
    else node[last] = m.value;
  }
  return out;
}

const mutant = fc.record({
  base: fc.nat({ max: BUILDERS.length - 1 }),
  muts: fc.array(mutation, { minLength: 1, maxLength: 5 }),
});

let made = 0;
const build = (m: { base: number; muts: Mutation[] }) => apply(BUILDERS[m.base]!(made++), m.muts);

/** The contract of every normalise function: never throws, one of three outcomes, a usable reason. */
function checkOutcome(n: Normalised): void {
  expect(['event', 'ignored', 'rejected']).toContain(n.kind);
  if (n.kind === 'rejected') {
    expect(typeof n.reason).toBe('string');
    expect(n.reason.trim().length).toBeGreaterThan(0);
    // Reasons go to logs and the rejects table: never an echo of a 100k-character input.
    expect(n.reason.length).toBeLessThan(1000);
  }
  if (n.kind === 'event') {
    const e = n.event;
    expect(typeof e.eventId).toBe('string');
    expect(e.eventId.length).toBeGreaterThan(0);
    expect(Number.isFinite(e.eventTime)).toBe(true);
    expect(e.sessionId === null || isWellFormedSessionId(e.sessionId)).toBe(true);
    // Huge fields are cut: a stored event stays small whatever came in.
    expect(JSON.stringify(e).length).toBeLessThan(5000);
  }
}

/** Text of a LookupEvents item, made from a mutant, possibly broken in transit. */
const lookupItem = fc.record({
  m: mutant,
  how: fc.constantFrom('ok', 'truncated', 'not-a-string', 'garbage-text', 'outer-mutated', 'no-field'),
  cut: fc.double({ min: 0, max: 1, noNaN: true }),
  outer: mutation,
  junk: fc.string({ unit: 'binary', maxLength: 40 }),
});

function toItem(x: { m: { base: number; muts: Mutation[] }; how: string; cut: number; outer: Mutation; junk: string }): Record<string, unknown> {
  const rec = build(x.m) as CloudTrailRecord;
  let item: Record<string, unknown>;
  try {
    item = toLookupEvent(rec);
  } catch {
    item = { EventId: 'x', CloudTrailEvent: JSON.stringify(rec) };
  }
  const text = JSON.stringify(rec);
  switch (x.how) {
    case 'truncated':
      item.CloudTrailEvent = text.slice(0, Math.floor(text.length * x.cut));
      break;
    case 'not-a-string':
      item.CloudTrailEvent = rec;
      break;
    case 'garbage-text':
      item.CloudTrailEvent = x.junk;
      break;
    case 'outer-mutated':
      item = apply(item, [x.outer.op === 'setRandomKey' ? x.outer : { ...x.outer, path: ['EventTime', 'EventId', 'CloudTrailEvent', 'Resources', 'Username'][x.outer.path.length % 5]! }]);
      break;
    case 'no-field':
      delete item.CloudTrailEvent;
      break;
  }
  return item;
}

describe('normalise: mutated CloudTrail records', () => {
  it('normaliseRecord never throws; event / ignored / rejected with a reason', () => {
    const seen = { event: 0, ignored: 0, rejected: 0, huge: 0 };
    fc.assert(
      fc.property(mutant, (m) => {
        const rec = build(m);
        if (JSON.stringify(rec).length > 100_000) seen.huge++;
        const n = normaliseRecord(rec);
        seen[n.kind]++;
        checkOutcome(n);
      }),
      { seed: SEED, numRuns: 400 },
    );
    console.log(`normaliseRecord over 400 mutants: ${JSON.stringify(seen)}`);
    // Not vacuous: mutants reach every outcome, and many carry 100k-character strings.
    expect(seen.event).toBeGreaterThan(20);
    expect(seen.ignored).toBeGreaterThan(2);
    expect(seen.rejected).toBeGreaterThan(50);
    expect(seen.huge).toBeGreaterThan(20);
    // And any value at all, not only records.
    fc.assert(
      fc.property(fc.oneof(garbage, fc.anything()), (v) => {
        checkOutcome(normaliseRecord(v));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('normaliseLookupEvent never throws on mutated items, invalid JSON in CloudTrailEvent included', () => {
    fc.assert(
      fc.property(lookupItem, (x) => {
        const n = normaliseLookupEvent(toItem(x));
        checkOutcome(n);
        if (x.how === 'garbage-text' && n.kind === 'rejected') expect(n.reason).toMatch(/CloudTrailEvent|invalid|record/);
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(normaliseLookupEvent({ CloudTrailEvent: '{"eventVersion": "1.08", "eventID": ' })).toEqual({ kind: 'rejected', reason: 'CloudTrailEvent is not valid JSON' });
  });

  it('normaliseText never throws on either format, whatever the text', () => {
    const text = fc.oneof(
      mutant.map((m) => JSON.stringify(build(m))),
      lookupItem.map((x) => JSON.stringify(toItem(x))),
      fc.string({ unit: 'binary', maxLength: 200 }),
      mutant.chain((m) => {
        const t = JSON.stringify(build(m));
        return fc.nat({ max: t.length }).map((i) => t.slice(0, i));
      }),
      fc.constant('['.repeat(20_000) + ']'.repeat(20_000)), // deeper than any parser's stack
    );
    fc.assert(
      fc.property(text, fc.constantFrom('records' as const, 'events' as const), (t, format) => {
        checkOutcome(normaliseText(t, format));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('ingestFiles: good records interleaved with mutants, from a file on disk', () => {
  it('stores every good record, accounts for every element, never crashes', async () => {
    const dir = tempDir('asb-fuzz-');
    let fileNo = 0;
    const totals = { good: 0, bad: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.nat({ max: BUILDERS.length - 1 }).map((b) => ({ good: b })), mutant.map((m) => ({ bad: m }))), { minLength: 5, maxLength: 60 }),
        fc.constantFrom('records' as const, 'events' as const),
        async (plan, format) => {
          const { store } = tempStore();
          try {
            const goodIds: string[] = [];
            const elements: unknown[] = plan.map((p) => {
              if ('good' in p) {
                const r = BUILDERS[p.good]!(made++);
                goodIds.push(r.eventID);
                return format === 'records' ? r : toLookupEvent(r);
              }
              const bad = build(p.bad);
              return format === 'records' ? bad : { ...toLookupEventLoose(bad), CloudTrailEvent: JSON.stringify(bad) };
            });
            const file = path.join(dir, `mixed-${fileNo++}.json`);
            fs.writeFileSync(file, JSON.stringify(format === 'records' ? { Records: elements } : { Events: elements }));
            const r = await ingestFiles([file], { store, clock: systemClock });
            const stored = new Set((store.db.prepare('SELECT event_id FROM all_records').all() as Array<{ event_id: string }>).map((x) => x.event_id));
            expect(goodIds.filter((id) => !stored.has(id))).toEqual([]);
            expect(r.read).toBe(elements.length);
            expect(r.inserted + r.duplicates + r.ignored + r.rejected).toBe(r.read);
            expect(r.problems).toEqual([]);
            expect(store.rejectionCount()).toBe(r.rejected);
            totals.good += goodIds.length;
            totals.bad += plan.length - goodIds.length;
            totals.rejected += r.rejected;
          } finally {
            store.close();
          }
        },
      ),
      { seed: SEED, numRuns: 25 },
    );
    console.log(`ingestFiles over 25 files: ${totals.good} good records all stored; ${totals.bad} mutants, ${totals.rejected} rejected with a reason`);
    expect(totals.rejected).toBeGreaterThan(totals.bad / 4);
  }, 60_000);
});

/** toLookupEvent for a mutant whose userIdentity may be anything. */
function toLookupEventLoose(r: Record<string, unknown>): Record<string, unknown> {
  try {
    return toLookupEvent(r as CloudTrailRecord);
  } catch {
    return { EventId: String(r.eventID), EventTime: 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// Slash commands and mentions

const ID = fakeUuid();

/** Text a person (or a fuzzer) might type after /athena-session. */
const commandText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', minLength: 3000, maxLength: 8000 }),
  fc.constantFrom('', '   ', 'help', 'HELP public', 'public', 'Public', ID, ID.toUpperCase(), `${ID} public`, `${ID} PUBLIC extra`, `${ID},`, `<${ID}>`, `${ID}${ID}`),
  fc.tuple(fc.string(), fc.constantFrom(ID, ID.toUpperCase()), fc.string()).map(([a, id, b]) => `${a}${id}${b}`),
);

describe('slash-command and mention text', () => {
  it('parseCommandText never throws; garbage is `malformed`; ids and keywords are recognised', () => {
    fc.assert(
      fc.property(commandText, (text) => {
        const r = parseCommandText(text);
        expect(['active', 'session', 'help', 'malformed']).toContain(r.kind);
        const words = text.trim().split(/\s+/).filter(Boolean);
        const isPublic = words.length > 0 && words[words.length - 1]!.toLowerCase() === 'public';
        const rest = isPublic ? words.slice(0, -1) : words;
        if (r.kind === 'session') {
          expect(isWellFormedSessionId(r.sessionId)).toBe(true);
          expect(r.sessionId).toBe(r.sessionId.toLowerCase());
          expect(rest.map((w) => w.toLowerCase())).toEqual([r.sessionId]);
          expect(r.public).toBe(isPublic);
        }
        if (r.kind === 'active') expect(rest).toEqual([]);
        if (r.kind === 'help') expect(rest.map((w) => w.toLowerCase())).toEqual([expect.stringMatching(/^(help|-h|--help)$/)]);
        // Anything else, i.e. not "", "public", "help" or one well-formed id (+ "public"), is malformed.
        const recognised = rest.length === 0 || (rest.length === 1 && (isWellFormedSessionId(rest[0]!) || ['help', '-h', '--help'].includes(rest[0]!.toLowerCase())));
        if (!recognised) {
          expect(r.kind).toBe('malformed');
          const answer = malformedText((r as { text: string }).text);
          expect(answer).toMatch(/^That is not a session id/);
          expect(answer).toContain(USAGE_TEXT);
          expect(answer.length).toBeLessThan(600);
        }
      }),
      { seed: SEED, numRuns: 1500 },
    );
    // An id glued to other characters is not silently accepted.
    for (const t of [`${ID},`, `<${ID}>`, `${ID}${ID}`, `x${ID}`]) expect(parseCommandText(t).kind).toBe('malformed');
  });

  it('sessionIdInMention never throws and only returns a well-formed id found in the text', () => {
    const mentionText = fc.oneof(
      commandText,
      fc.tuple(fc.string({ unit: 'binary' }), fc.constantFrom(ID, ID.toUpperCase()), fc.string({ unit: 'binary' })).map(([a, id, b]) => `<@U0BOT> ${a} ${id} ${b}`),
      fc.string({ unit: 'binary' }).map((s) => `<@U0BOT|bot> ${s}`),
      fc.string({ unit: 'binary', minLength: 10_000, maxLength: 20_000 }),
    );
    fc.assert(
      fc.property(mentionText, (text) => {
        const id = sessionIdInMention(text);
        if (id !== undefined) {
          expect(isWellFormedSessionId(id)).toBe(true);
          expect(id).toBe(id.toLowerCase());
          expect(text.toLowerCase()).toContain(id);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
    expect(sessionIdInMention(`<@U0BOT> what is ${ID.toUpperCase()} doing?`)).toBe(ID);
  });

  describe('real signed slash commands to the running app', () => {
    const TOKEN = 'xoxb-fuzz-token';
    let aws: AwsFake;
    let slack: SlackFake;
    let restoreEnv: () => void;
    let rt: Runtime;
    let bot: SlackBot;
    let base: string;

    beforeAll(async () => {
      aws = await startAwsFake();
      aws.setRatePerSecond(Infinity);
      restoreEnv = useAwsFakeEnv(aws);
      slack = await startSlackFake({ token: TOKEN });
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      rt = createRuntime(
        {
          clock: systemClock,
          env: {
            ...process.env,
            SLACK_BOT_TOKEN: TOKEN,
            SLACK_SIGNING_SECRET: SIGNING_SECRET,
            SLACK_API_URL: slack.apiUrl,
            PORT: String(port),
            DATABASE_PATH: path.join(tempDir('asb-fuzz-app-'), 'app.sqlite'),
            ALLOWED_USER_IDS: 'U0ALICE',
            LOG_LEVEL: 'silent',
          },
        },
        { quickAws: true },
      );
      bot = createApp({ runtime: rt, outbox: new Outbox(rt.store), clock: systemClock });
      await bot.start();
      await until(() => bot.identity());
    });
    afterAll(async () => {
      await bot.stop();
      rt.close();
      restoreEnv();
      await slack.close();
      await aws.close();
    });

    it('a few dozen random texts: every one gets HTTP 200 and a clear usage, refusal or answer', async () => {
      const known = fakeUuid();
      rt.store.insertEvents([normaliseRecord(startSession({ sessionId: known, eventTime: Date.now() - 3_600_000, actor: human('alice') }))].flatMap((n) => (n.kind === 'event' ? [n.event] : [])), Date.now());
      const texts = [
        ...fc.sample(commandText, { seed: SEED, numRuns: 30 }),
        known,
        `  ${known.toUpperCase()}   public `,
        fakeUuid(),
        'DROP TABLE records; --',
        '<!channel> `rm -rf /`',
        '\u0000\u0001\u0002',
        '\ud800 lone surrogate',
        'a'.repeat(4000),
      ];
      const outcomes: Record<string, number> = {};
      let n = 0;
      for (const text of texts) {
        const refused = n % 7 === 6; // some from a user outside ALLOWED_USER_IDS
        const id = `fz${n++}`;
        const r = await postCommand(base, { text, userId: refused ? 'U0MALLORY' : 'U0ALICE', responseUrl: slack.responseUrl(id) });
        expect({ text: text.slice(0, 60), status: r.status }).toEqual({ text: text.slice(0, 60), status: 200 });
        const ack = r.text ? (JSON.parse(r.text) as { text?: string; response_type?: string }) : {};
        const parsed = parseCommandText(text);
        let outcome: string;
        if (refused) {
          expect(ack.text).toMatch(/^Sorry, this command is not available to you/);
          outcome = 'refusal';
        } else if (parsed.kind === 'malformed') {
          expect(ack.text).toMatch(/^That is not a session id/);
          expect(ack.text).toContain('Usage: `/athena-session <session-id>`');
          expect(ack.response_type).toBe('ephemeral');
          outcome = 'usage';
        } else if (parsed.kind === 'help') {
          expect(ack.text).toBe(USAGE_TEXT);
          outcome = 'usage';
        } else {
          // A real answer follows through the response_url: the active list or a session report.
          const answer = await until(() => slack.responses(id)[0], 15_000);
          expect(String(answer.body.text).length).toBeGreaterThan(0);
          if (parsed.kind === 'session') expect(answer.body.text).toMatch(parsed.sessionId === known ? `Session ${known}: ` : `Session ${parsed.sessionId} not found`);
          outcome = parsed.kind === 'active' ? 'active list' : 'session answer';
        }
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
      console.log(`signed slash commands: ${texts.length} sent, all HTTP 200 — ${JSON.stringify(outcomes)}`);
      expect(outcomes.usage).toBeGreaterThanOrEqual(10);
      expect(outcomes.refusal).toBeGreaterThanOrEqual(3);
      expect(outcomes['session answer']).toBeGreaterThanOrEqual(2);
    }, 60_000);
  });
});
