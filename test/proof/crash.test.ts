/**
 * Proof: crash safety of `athena-session-bot start` (issue "Proof", item 1).
 *
 * The real built binary runs as a child process against the CloudTrail/Athena fake and the
 * Slack fake and is killed with SIGKILL, over and over, at seeded moments: armed failpoints
 * (mid-page, between the store commit and the cursor move, just before and just after a
 * Slack post) and plain kills after a seeded delay. Activity keeps arriving between the
 * trials. Every restart uses the same DATABASE_PATH. At the end a clean run drains
 * everything and stops on SIGTERM, and then:
 *  - every Spark record the fake served is in the store, exactly once;
 *  - every Slack post exists exactly once (by its metadata key), matches the outbox, and
 *    every alert's follow-ups (and every digest's replies and chart, every mention's answer)
 *    are in the right thread; the digest's chart is uploaded once.
 *
 * PROOF_SEED=<n> replays another schedule.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, awsEnvFor, mulberry32, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type FakeMessage, type SlackFake } from '../fakes/slack-fake.js';
import { startDaemon, type Daemon } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import {
  call,
  executor,
  fakeUuid,
  human,
  importNotebook,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  type CloudTrailRecord,
} from '../support/cloudtrail-records.js';
import { freePort, mentionBody, postEvent, SIGNING_SECRET, until } from '../support/slack-requests.js';

const SEED = Number(process.env.PROOF_SEED ?? 20261124);
const TOKEN = 'xoxb-crash-proof-token';
const REGION = 'us-east-1';
const MIN = 60_000;
const TRIALS = 22;

type Mode = 'poll.page-stored' | 'poll.before-cursor' | 'slack.before-send' | 'slack.after-send' | 'kill';

interface TrialLog {
  n: number;
  mode: Mode;
  detail: string;
  signal: string;
  reached: boolean;
  ms: number;
}

let aws: AwsFake;
let slack: SlackFake;
let dir: string;
let db: string;
const rng = mulberry32(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

/** eventIDs of every Spark record given to the fake (these must all end up stored, once). */
const sparkIds = new Set<string>();
/** eventIDs of Athena SQL records (same eventSource, not Spark): served, never stored. */
const sqlIds = new Set<string>();

interface AlertCalc {
  sessionId: string;
  calculationId: string;
  startedAt: number;
  ended: boolean;
}
const alertSessions: string[] = [];
const alertCalcs: AlertCalc[] = [];

function add(records: CloudTrailRecord[], delayMs = 0): void {
  for (const r of records) (r.eventName === 'GetQueryExecution' ? sqlIds : sparkIds).add(r.eventID);
  aws.addEvents(records, delayMs ? { delayMs } : undefined);
}

/** Seeded activity: notebook polling of the open sessions, short sessions, SQL noise. */
function activity(count: number, from: number, to: number): CloudTrailRecord[] {
  const out: CloudTrailRecord[] = [];
  const at = () => from + Math.floor(rng() * (to - from));
  while (out.length < count) {
    const r = rng();
    if (r < 0.45) {
      const c = pick(alertCalcs);
      out.push(call('GetCalculationExecutionStatus', { actor: executor(c.sessionId), eventTime: at(), params: { calculationExecutionId: c.calculationId } }));
    } else if (r < 0.7) {
      const sid = pick(alertSessions);
      out.push(call('GetSessionStatus', { actor: executor(sid), eventTime: at(), params: { sessionId: sid } }));
    } else if (r < 0.85) {
      // A short session, started and terminated inside the window (Athena does not know it).
      const sid = fakeUuid();
      const t = at();
      out.push(
        startSession({ sessionId: sid, eventTime: t, actor: human(pick(['ana', 'bo', 'cy'])), workGroup: 'adhoc' }),
        startCalculation({ sessionId: sid, calculationId: fakeUuid(), eventTime: t + 1000 }),
        terminateSession({ sessionId: sid, eventTime: t + 2000 }),
      );
    } else {
      out.push(call('GetQueryExecution', { actor: human('etl'), eventTime: at(), params: { queryExecutionId: fakeUuid() } }));
    }
  }
  return out;
}

function readDb<T>(fn: (d: Database.Database) => T): T | undefined {
  let d: Database.Database | undefined;
  try {
    d = new Database(db, { readonly: true, fileMustExist: true, timeout: 5000 });
    return fn(d);
  } catch {
    return undefined;
  } finally {
    d?.close();
  }
}

const alertedCalcIds = () => new Set(readDb((d) => (d.prepare('SELECT calculation_id FROM alerts').all() as Array<{ calculation_id: string }>).map((r) => r.calculation_id)) ?? []);

/** Ends an alerted calculation in Athena (and, seeded, with a StopCalculationExecution record). */
function endCalc(c: AlertCalc): void {
  const now = Date.now();
  aws.updateCalculation(REGION, c.calculationId, { Status: { State: rng() < 0.5 ? 'COMPLETED' : 'CANCELED', CompletionDateTime: now } });
  if (rng() < 0.5) add([stopCalculation({ calculationId: c.calculationId, sessionId: c.sessionId, eventTime: now })]);
  c.ended = true;
}

async function env(extra: Record<string, string> = {}) {
  const port = await freePort();
  return {
    port,
    env: {
      ...awsEnvFor(aws, REGION),
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      DATABASE_PATH: db,
      POLL_INTERVAL_SECONDS: '1',
      LONG_RUNNING_MINUTES: '30',
      BACKFILL_HOURS: '48',
      ALERT_CHANNEL: 'C0ALERTS',
      DIGEST_CHANNEL: 'C0DIGEST',
      DIGEST_CRON: '* * * * *',
      LOG_LEVEL: 'info',
      ...extra,
    },
  };
}

/** Mentions the bot (as a person would, in a real message) so the daemon has posts to make. */
async function mention(base: string): Promise<void> {
  const sid = pick(alertSessions);
  const text = rng() < 0.5 ? `<@U0BOT> what is ${sid} doing?` : '<@U0BOT> hello';
  const msg = slack.injectMessage({ channel: 'C0GENERAL', text, user: 'U0ALICE' });
  await postEvent(base, mentionBody({ text, channel: 'C0GENERAL', ts: msg.ts })).catch(() => undefined);
}

async function listening(base: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${base}/healthz`).then(
      () => true,
      () => false,
    );
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);

beforeAll(async () => {
  aws = await startAwsFake();
  slack = await startSlackFake({ token: TOKEN, channels: ['C0DIGEST', 'C0ALERTS', 'C0GENERAL'] });
  dir = tempDir('asb-crash-');
  db = path.join(dir, 'crash.sqlite');
});
afterAll(async () => {
  await slack.close();
  await aws.close();
});

describe('crash test: SIGKILL at seeded moments, restart on the same store', () => {
  it(`loses no record, duplicates no record and posts nothing twice across ${TRIALS} kills (seed ${SEED})`, async () => {
    const T0 = Date.now();

    // --- the account before the first start -------------------------------------------------
    // Three open notebook sessions whose six calculations cross the 30-minute threshold at
    // seeded moments from 30 s before the first start (alerted together, as one grouped
    // message) to ~20 s into the run (alerted one by one).
    for (let s = 0; s < 3; s++) {
      const sid = fakeUuid();
      alertSessions.push(sid);
      add([startSession({ sessionId: sid, eventTime: T0 - 40 * MIN, actor: human(['heidi', 'ivan', 'judy'][s]!), workGroup: 'prod-notebooks', maxConcurrentDpus: 20 })]);
      aws.setSession(REGION, athenaSession({ SessionId: sid, WorkGroup: 'prod-notebooks', Status: { State: 'BUSY', StartDateTime: T0 - 40 * MIN } }));
    }
    for (let i = 0; i < 6; i++) {
      const sessionId = alertSessions[i % 3]!;
      const calculationId = fakeUuid();
      const startedAt = T0 - 30 * MIN + (-30_000 + i * 9_000 + int(0, 3000));
      alertCalcs.push({ sessionId, calculationId, startedAt, ended: false });
      add([startCalculation({ sessionId, calculationId, eventTime: startedAt })]);
      aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: calculationId, SessionId: sessionId, Status: { State: 'RUNNING', SubmissionDateTime: startedAt } }));
    }
    // Yesterday's activity, so the digest has something in it.
    const y = new Date(T0 - 86_400_000);
    const yNoon = Date.UTC(y.getUTCFullYear(), y.getUTCMonth(), y.getUTCDate(), 12);
    const ySession = fakeUuid();
    add([
      importNotebook({ notebookId: fakeUuid(), eventTime: yNoon, actor: human('kim'), name: 'churn-model' }),
      startSession({ sessionId: ySession, eventTime: yNoon + MIN, actor: human('kim') }),
      terminateSession({ sessionId: ySession, eventTime: yNoon + 20 * MIN }),
    ]);
    // More than a page of activity inside the lookback window.
    add(activity(75, T0 - 15 * MIN, T0));

    // --- the trial schedule -----------------------------------------------------------------
    const modes: Mode[] = [
      ...Array<Mode>(4).fill('poll.page-stored'),
      ...Array<Mode>(4).fill('poll.before-cursor'),
      ...Array<Mode>(3).fill('slack.after-send'),
      ...Array<Mode>(3).fill('slack.before-send'),
      ...Array<Mode>(TRIALS - 14).fill('kill'),
    ];
    for (let i = modes.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [modes[i], modes[j]] = [modes[j]!, modes[i]!];
    }
    // The first start backfills: kill it mid-page.
    const first = modes.indexOf('poll.page-stored');
    [modes[0], modes[first]] = [modes[first]!, modes[0]!];

    const trials: TrialLog[] = [];
    const lines: string[] = [];
    try {
      for (let n = 1; n <= TRIALS; n++) {
        const mode = modes[n - 1]!;
        if (n > 1) {
          // Activity keeps arriving; a quarter of it is delivered late (visible after a delay).
          const now = Date.now();
          add(activity(int(6, 12), now - MIN, now), rng() < 0.25 ? int(500, 3000) : 0);
          // Some alerted calculations finish, so follow-ups are due.
          const alerted = alertedCalcIds();
          for (const c of alertCalcs) if (!c.ended && alerted.has(c.calculationId) && rng() < 0.35) endCalc(c);
        }
        let detail: string;
        let armed: string | undefined;
        let delay = 0;
        if (mode === 'kill') {
          delay = rng() < 0.2 ? int(100, 600) : int(600, 3500);
          detail = `after ${delay} ms`;
        } else {
          const k = mode === 'poll.page-stored' ? int(1, 5) : mode === 'poll.before-cursor' ? int(1, 2) : int(1, 3);
          armed = `${mode}:${k}`;
          detail = armed;
        }
        const { env: e, port } = await env(armed ? { ATHENA_BOT_FAILPOINTS: armed } : {});
        const base = `http://127.0.0.1:${port}`;
        const started = Date.now();
        const d: Daemon = startDaemon(e);
        if (mode === 'kill') {
          await new Promise((r) => setTimeout(r, delay));
          d.child.kill('SIGKILL');
        } else if (mode.startsWith('slack.')) {
          // Make sure there is something to post: K mentions (alerts, follow-ups, digests count too).
          if (await listening(base, 8000)) {
            const k = Number(armed!.split(':')[1]);
            for (let i = 0; i < k; i++) await mention(base);
          }
        }
        let exit = await withTimeout(d.exited, 15_000);
        if (!exit) {
          d.child.kill('SIGKILL');
          exit = await d.exited;
        }
        const reached = Boolean(armed && d.stderr().includes(`failpoint ${armed} reached`));
        const log: TrialLog = { n, mode, detail, signal: String(exit.signal ?? `exit ${exit.code}`), reached, ms: Date.now() - started };
        trials.push(log);
        lines.push(
          `trial ${String(n).padStart(2)}  ${mode.padEnd(18)} ${detail.padEnd(22)} exit ${log.signal}${armed ? (reached ? ' (failpoint reached)' : ' (failpoint not reached: killed after 15 s)') : ''}  ${log.ms} ms`,
        );
        expect(exit.signal, `trial ${n} must end by SIGKILL, stderr:\n${d.stderr().slice(-2000)}`).toBe('SIGKILL');
      }
    } finally {
      console.log(`crash trials (seed ${SEED}):\n${lines.join('\n')}`);
    }

    // --- a final clean run drains everything; SIGTERM ---------------------------------------
    const alerted = alertedCalcIds();
    for (const c of alertCalcs) if (!c.ended && alerted.has(c.calculationId)) endCalc(c);
    const { env: e } = await env();
    const finalStart = Date.now();
    const d = startDaemon(e);
    const cursors = new Set<number>();
    let drained = false;
    try {
      drained = await until(
        () => {
          const state = readDb((x) => {
            const ids = new Set((x.prepare('SELECT event_id FROM all_records').all() as Array<{ event_id: string }>).map((r) => r.event_id));
            const cursor = x.prepare('SELECT updated_at AS u FROM poll_cursors WHERE region = ?').get(REGION) as { u: number } | undefined;
            const pending = (x.prepare(`SELECT count(*) AS n FROM slack_posts WHERE status = 'pending'`).get() as { n: number }).n;
            const digest = x.prepare(`SELECT status FROM slack_posts WHERE key LIKE 'digest:%' AND kind = 'digest'`).get() as { status: string } | undefined;
            const openEnded = (x.prepare(`SELECT calculation_id AS c, status FROM alerts`).all() as Array<{ c: string; status: string }>).filter(
              (a) => a.status === 'open' && alertCalcs.find((c) => c.calculationId === a.c)?.ended,
            ).length;
            return { ids, cursor: cursor?.u, pending, digest: digest?.status, openEnded };
          });
          if (!state) return false;
          if (state.cursor && state.cursor > finalStart) cursors.add(state.cursor);
          const allStored = [...sparkIds].every((id) => state.ids.has(id));
          // Two cycles committed since the start, so the alerts of the last one are recorded too.
          return allStored && cursors.size >= 2 && state.pending === 0 && state.digest === 'posted' && state.openEnded === 0;
        },
        80_000,
        250,
      ).then(
        () => true,
        () => false, // the assertions below say what is missing
      );
    } finally {
      const exit = await d.stop('SIGTERM');
      expect(exit.code, d.stderr().slice(-3000)).toBe(0);
    }
    console.log(`final clean run: ${drained ? 'drained' : 'NOT drained'} in ${Date.now() - finalStart} ms, then SIGTERM → exit 0`);

    // --- every record the fake served is in the store exactly once --------------------------
    const store = new Database(db, { readonly: true });
    try {
      const stored = (store.prepare('SELECT event_id FROM all_records').all() as Array<{ event_id: string }>).map((r) => r.event_id);
      const counts = store.prepare('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM all_records').get() as { n: number; d: number };
      expect(counts.n).toBe(counts.d);
      const storedSet = new Set(stored);
      expect([...sparkIds].filter((id) => !storedSet.has(id)), 'records the fake served but the store lacks').toEqual([]);
      expect(stored.filter((id) => !sparkIds.has(id)), 'records stored that the fake never served').toEqual([]);
      for (const id of sqlIds) expect(stored).not.toContain(id);
      expect(store.pragma('integrity_check', { simple: true })).toBe('ok');

      // --- no Slack message was posted twice ------------------------------------------------
      const all = store.prepare('SELECT key, kind, channel, parent_key AS parentKey, thread_ts AS threadTs, status, ts, file_id AS fileId FROM slack_posts').all() as Array<{
        key: string;
        kind: string;
        channel: string;
        parentKey: string | null;
        threadTs: string | null;
        status: string;
        ts: string | null;
        fileId: string | null;
      }>;
      // Digest charts are files shared by the upload flow: Slack's share message carries the file, not our metadata.
      const charts = all.filter((p) => p.kind === 'digest-chart');
      const posts = all.filter((p) => p.kind !== 'digest-chart');
      const shared = slack.messages().filter((m) => m.bot_id && m.files);
      const messages = slack.messages().filter((m) => m.bot_id && !m.files);
      const byKey = new Map<string, FakeMessage[]>();
      for (const m of messages) {
        const key = String(m.metadata?.event_payload.key ?? '');
        expect(m.metadata?.event_type).toBe('athena_session_bot_post');
        byKey.set(key, [...(byKey.get(key) ?? []), m]);
      }
      const duplicated = [...byKey].filter(([, ms]) => ms.length !== 1).map(([k, ms]) => `${k} ×${ms.length}`);
      expect(duplicated).toEqual([]);
      // Slack and the outbox agree: every intent posted once, with the ts Slack gave it.
      expect(posts.filter((p) => p.status !== 'posted')).toEqual([]);
      expect(new Set(byKey.keys())).toEqual(new Set(posts.map((p) => p.key)));
      for (const p of posts) expect(byKey.get(p.key)![0]!.ts).toBe(p.ts);

      // Threads: follow-ups under their alert, digest replies under the digest, answers under the mention.
      const tsOf = (key: string) => byKey.get(key)?.[0]?.ts;
      for (const p of posts) {
        const m = byKey.get(p.key)![0]!;
        if (p.parentKey) expect({ key: p.key, thread: m.thread_ts }).toEqual({ key: p.key, thread: tsOf(p.parentKey) });
        else if (p.threadTs) expect({ key: p.key, thread: m.thread_ts }).toEqual({ key: p.key, thread: p.threadTs });
        else expect({ key: p.key, thread: m.thread_ts }).toEqual({ key: p.key, thread: undefined });
      }
      // Every chart uploaded once, into its digest's thread.
      expect(charts.filter((c) => c.status !== 'posted')).toEqual([]);
      expect(shared.map((m) => m.files![0]!.id).sort()).toEqual(charts.map((c) => c.fileId).sort());
      for (const c of charts) {
        const share = shared.filter((m) => m.files!.some((f) => f.id === c.fileId));
        expect({ key: c.key, shares: share.length, thread: share[0]?.thread_ts }).toEqual({ key: c.key, shares: 1, thread: tsOf(c.parentKey!) });
      }
      const alerts = store.prepare('SELECT calculation_id AS c, post_key AS k, status FROM alerts').all() as Array<{ c: string; k: string; status: string }>;
      for (const a of alerts) {
        expect(byKey.has(a.k)).toBe(true);
        const alert = byKey.get(a.k)![0]!;
        expect(alert.channel).toBe('C0ALERTS');
        expect(alert.text).toContain(a.k.startsWith('alert:') ? a.c : 'long-running');
        if (a.status === 'closed') {
          const followUp = byKey.get(`followup:${a.c}`)?.[0];
          expect(followUp, `follow-up of ${a.c}`).toBeDefined();
          expect(followUp!.thread_ts).toBe(alert.ts);
          expect(followUp!.text).toContain(a.c);
        }
      }
      // Alerted calculations are never alerted twice, and each alert is about a calculation we made.
      expect(new Set(alerts.map((a) => a.c)).size).toBe(alerts.length);
      for (const a of alerts) expect(alertCalcs.map((c) => c.calculationId)).toContain(a.c);

      const kinds = (k: string) => posts.filter((p) => p.kind === k).length;
      console.log(
        `records: ${stored.length} Spark records stored once each (${sqlIds.size} SQL records ignored); Slack: ${messages.length} posts, once each — ` +
          `${kinds('alert')} alerts, ${kinds('alert-followup')} follow-ups, ${kinds('digest')} digest + ${kinds('digest-reply')} replies + ${charts.length} chart, ${kinds('mention-reply')} mention answers`,
      );
      // Not vacuous: the run alerted, followed up, posted the digest, and the failpoints fired.
      expect(kinds('alert')).toBeGreaterThanOrEqual(1);
      expect(alerts.length).toBeGreaterThanOrEqual(3);
      expect(kinds('alert-followup')).toBeGreaterThanOrEqual(3);
      expect(kinds('digest')).toBe(1);
      expect(charts).toHaveLength(1);
      expect(kinds('mention-reply')).toBeGreaterThanOrEqual(3);
      for (const fp of ['poll.page-stored', 'poll.before-cursor', 'slack.before-send', 'slack.after-send'] as const) {
        expect(trials.filter((t) => t.mode === fp && t.reached).length, `${fp} reached`).toBeGreaterThanOrEqual(2);
      }
      expect(drained, 'the final run drained everything within 80 s').toBe(true);
    } finally {
      store.close();
    }
  }, 240_000);
});
