/**
 * Proof: the live feed and the Slack actions survive SIGKILL (issue 10, "Done when").
 *
 * The real built `start` runs with FEED_CHANNEL, ALERT_CHANNEL and ACTIONS_ENABLED against the
 * AWS fake (Stop/Terminate play out on it; every call it serves is in its trail at once) and the
 * Slack fake, and is killed over and over: by failpoints just after a post reaches Slack, just
 * after an edit reaches Slack, between recording a Stop/Terminate and asking Athena, and between
 * Athena's answer and its record — and by plain kills. On-call presses Stop and Terminate (signed
 * block_actions) while sessions start, end and calculations finish between the trials. Every
 * restart uses the same store. A last clean run drains everything and stops on SIGTERM; then:
 *  - every feed item and every other message exists in Slack exactly once;
 *  - every session started after the feed's floor was announced, and the message of every session
 *    that ended shows its end (edits went on after the restarts);
 *  - no Stop or Terminate reached Athena twice, none is left under way, and each is reported in
 *    its alert's thread exactly once;
 *  - every failpoint was reached.
 *
 * PROOF_SEED=<n> replays another schedule.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { athenaCalculation, athenaSession, awsEnvFor, mulberry32, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type FakeMessage, type SlackFake } from '../fakes/slack-fake.js';
import { startDaemon } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { call, executor, fakeUuid, human, importNotebook, startCalculation, startSession, terminateSession } from '../support/cloudtrail-records.js';
import { blockActionsBody, freePort, postInteraction, SIGNING_SECRET, until } from '../support/slack-requests.js';

const SEED = Number(process.env.PROOF_SEED ?? 20261210);
const TOKEN = 'xoxb-oncall-crash-token';
const REGION = 'us-east-1';
const FEED = 'C0LIVEFEED';
const ALERTS = 'C0ALERTS';
const ONCALL = 'U0ONCALL';
const MIN = 60_000;

type Mode = 'kill' | 'slack.after-send' | 'slack.after-update' | 'action.before-call' | 'action.after-call';
/** A fixed order that reaches every window; the seed moves the kills and what happens between trials. */
const SCHEDULE: Mode[] = ['kill', 'slack.after-send', 'action.before-call', 'slack.after-update', 'action.after-call', 'kill', 'action.before-call', 'slack.after-update', 'action.after-call', 'kill'];

let aws: AwsFake;
let slack: SlackFake;
let db: string;
const rng = mulberry32(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

interface Calc {
  sessionId: string;
  calculationId: string;
  pressed: boolean;
}
const calcs: Calc[] = [];
/** Sessions given to the fake, and whether they ended. */
const sessions = new Map<string, { startedAt: number; ended: boolean }>();

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
      LOOKBACK_MINUTES: '90',
      BACKFILL_HOURS: '3',
      LONG_RUNNING_MINUTES: '30',
      ALERT_CHANNEL: ALERTS,
      FEED_CHANNEL: FEED,
      FEED_BACKFILL_MINUTES: '120',
      ACTIONS_ENABLED: 'true',
      ACTION_USER_IDS: ONCALL,
      LOG_LEVEL: 'info',
      ...extra,
    },
  };
}

async function listening(base: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(`${base}/healthz`).then(() => true, () => false)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A short session that starts and ends now: a feed item, announced and then edited to its end. */
function shortSession(): void {
  const sid = fakeUuid();
  const now = Date.now();
  sessions.set(sid, { startedAt: now - 2000, ended: true });
  aws.addEvents([
    startSession({ sessionId: sid, eventTime: now - 2000, actor: human(['ana', 'bo', 'cy'][int(0, 2)]!), workGroup: 'adhoc' }),
    startCalculation({ sessionId: sid, calculationId: fakeUuid(), eventTime: now - 1000 }),
    terminateSession({ sessionId: sid, eventTime: now }),
  ]);
}

/** Where the Stop button of a calculation is: the alert message in Slack whose post the bot has recorded. */
function stopButtonOf(c: Calc): { message: FakeMessage; value: string } | undefined {
  for (const m of slack.messages(ALERTS).filter((x) => !x.thread_ts)) {
    for (const b of m.blocks ?? []) {
      const els = ((b as { type: string }).type === 'actions' ? (b as { elements: Array<{ action_id: string; value?: string }> }).elements : []) ?? [];
      const stop = els.find((e) => e.action_id === 'alert_stop_calculation' && e.value?.includes(c.calculationId));
      if (!stop) continue;
      const recorded = readDb((d) => d.prepare('SELECT 1 FROM slack_posts WHERE channel = ? AND ts = ?').get(ALERTS, m.ts)) !== undefined;
      if (recorded) return { message: m, value: stop.value! };
    }
  }
  return undefined;
}

/** On-call presses Stop (or Terminate) for the next calculation nobody pressed yet; twice, as people do. */
async function press(base: string, terminate: boolean): Promise<string | undefined> {
  const target = calcs.find((c) => !c.pressed && stopButtonOf(c));
  if (!target) return undefined;
  const { message, value } = stopButtonOf(target)!;
  target.pressed = true;
  const actionId = terminate ? 'alert_terminate_session' : 'alert_stop_calculation';
  const body = blockActionsBody({
    actionId,
    value: terminate ? JSON.stringify({ s: target.sessionId }) : value,
    userId: ONCALL,
    channelId: ALERTS,
    messageTs: message.ts,
    responseUrl: slack.responseUrl(undefined, { channel: ALERTS, messageTs: message.ts, userId: ONCALL }),
  });
  await Promise.all([postInteraction(base, body).catch(() => undefined), postInteraction(base, body).catch(() => undefined)]);
  return `${actionId} ${terminate ? target.sessionId : target.calculationId}`;
}

beforeAll(async () => {
  aws = await startAwsFake({ callLogDelayMs: 0 });
  slack = await startSlackFake({ token: TOKEN, channels: [FEED, ALERTS] });
  db = path.join(tempDir('asb-oncall-crash-'), 'oncall.sqlite');
});
afterAll(async () => {
  await slack.close();
  await aws.close();
});

describe('crash test: feed and actions under SIGKILL, restart on the same store', () => {
  it(`announces once, acts once and keeps editing across ${SCHEDULE.length} kills (seed ${SEED})`, async () => {
    const T0 = Date.now();
    // Six open sessions whose calculations have run 45 minutes (Athena: RUNNING), and notebook imports.
    for (let i = 0; i < 6; i++) {
      const sid = fakeUuid();
      const cid = fakeUuid();
      sessions.set(sid, { startedAt: T0 - 50 * MIN, ended: false });
      calcs.push({ sessionId: sid, calculationId: cid, pressed: false });
      aws.setSession(REGION, athenaSession({ SessionId: sid, WorkGroup: 'prod-notebooks', Status: { State: 'BUSY', StartDateTime: T0 - 50 * MIN } }));
      aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: T0 - 45 * MIN } }));
      aws.addEvents([
        startSession({ sessionId: sid, eventTime: T0 - 50 * MIN, actor: human(['heidi', 'ivan', 'judy'][i % 3]!), workGroup: 'prod-notebooks', idleTimeoutMinutes: 240 }),
        startCalculation({ sessionId: sid, calculationId: cid, eventTime: T0 - 45 * MIN }),
        call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0 - MIN, params: { calculationExecutionId: cid } }),
      ]);
    }
    for (let i = 0; i < 3; i++) aws.addEvents([importNotebook({ notebookId: fakeUuid(), eventTime: T0 - (10 + i) * MIN, actor: human('kim'), name: `nb-${i}` })]);

    const lines: string[] = [];
    const reached = new Map<Mode, number>();
    try {
      for (let n = 1; n <= SCHEDULE.length; n++) {
        const mode = SCHEDULE[n - 1]!;
        if (n > 1) {
          shortSession();
          // Now and then a calculation nobody pressed finishes on its own.
          const idle = calcs.filter((c) => !c.pressed);
          if (idle.length > 2 && rng() < 0.3) {
            const c = idle[int(0, idle.length - 1)]!;
            c.pressed = true;
            aws.updateCalculation(REGION, c.calculationId, { Status: { State: 'COMPLETED', CompletionDateTime: Date.now() } });
          }
        }
        const armed = mode === 'kill' ? undefined : `${mode}:1`;
        const { env: e, port } = await env(armed ? { ATHENA_BOT_FAILPOINTS: armed } : {});
        const base = `http://127.0.0.1:${port}`;
        const started = Date.now();
        const d = startDaemon(e);
        let detail = armed ?? '';
        if (mode === 'kill') {
          const delay = int(1500, 4000);
          detail = `after ${delay} ms`;
          await new Promise((r) => setTimeout(r, delay));
          d.child.kill('SIGKILL');
        } else if (mode.startsWith('action.') && (await listening(base, 8000))) {
          const pressed = await until(async () => (await press(base, n >= 6)) ?? false, 12_000, 100).catch(() => undefined);
          detail += pressed ? ` (pressed ${pressed})` : ' (nothing to press)';
        }
        let exit = await Promise.race([d.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
        if (!exit) {
          d.child.kill('SIGKILL');
          exit = await d.exited;
        }
        const hit = Boolean(armed && d.stderr().includes(`failpoint ${armed} reached`));
        if (hit) reached.set(mode, (reached.get(mode) ?? 0) + 1);
        lines.push(`trial ${String(n).padStart(2)}  ${mode.padEnd(19)} ${detail.padEnd(70)} exit ${exit.signal ?? exit.code}${armed ? (hit ? ' (failpoint reached)' : ' (not reached: killed after 15 s)') : ''}  ${Date.now() - started} ms`);
        expect(exit.signal, d.stderr().slice(-2000)).toBe('SIGKILL');
      }
    } finally {
      console.log(`on-call crash trials (seed ${SEED}):\n${lines.join('\n')}`);
    }

    // --- a last clean run drains everything; SIGTERM -------------------------------------------
    shortSession();
    const { env: e } = await env();
    const d = startDaemon(e);
    const finalStart = Date.now();
    let drained = false;
    try {
      drained = await until(
        () => {
          const s = readDb((x) => ({
            pending: (x.prepare(`SELECT count(*) AS n FROM slack_posts WHERE status = 'pending'`).get() as { n: number }).n,
            edits: (x.prepare(`SELECT count(*) AS n FROM slack_updates WHERE status = 'pending'`).get() as { n: number }).n,
            started: (x.prepare(`SELECT count(*) AS n FROM slack_actions WHERE status = 'started'`).get() as { n: number }).n,
            unsettled: (x.prepare(`SELECT count(*) AS n FROM feed_items f WHERE live = 1 AND session_id IN (${[...sessions].filter(([, v]) => v.ended).map(([k]) => `'${k}'`).join(',') || "''"})`).get() as { n: number }).n,
            cursorAt: (x.prepare('SELECT updated_at AS u FROM poll_cursors WHERE region = ?').get(REGION) as { u: number } | undefined)?.u ?? 0,
          }));
          return Boolean(s && s.pending === 0 && s.edits === 0 && s.started === 0 && s.unsettled === 0 && s.cursorAt > finalStart + 1500);
        },
        60_000,
        250,
      ).then(
        () => true,
        () => false,
      );
    } finally {
      const exit = await d.stop('SIGTERM');
      expect(exit.code, d.stderr().slice(-3000)).toBe(0);
    }
    console.log(`final clean run: ${drained ? 'drained' : 'NOT drained'} in ${Date.now() - finalStart} ms`);

    const store = new Database(db, { readonly: true });
    try {
      // --- every message once -------------------------------------------------------------------
      const posts = store.prepare('SELECT key, kind, status, ts FROM slack_posts').all() as Array<{ key: string; kind: string; status: string; ts: string | null }>;
      const byKey = new Map<string, FakeMessage[]>();
      for (const m of slack.messages().filter((x) => x.bot_id)) {
        const key = String(m.metadata?.event_payload.key ?? '');
        byKey.set(key, [...(byKey.get(key) ?? []), m]);
      }
      expect([...byKey].filter(([, ms]) => ms.length !== 1).map(([k, ms]) => `${k} ×${ms.length}`)).toEqual([]);
      expect(posts.filter((p) => p.status !== 'posted')).toEqual([]);
      expect(new Set(byKey.keys())).toEqual(new Set(posts.map((p) => p.key)));

      // --- the feed: every session after the floor announced once; every ended one shows its end ---
      const floor = Number((store.prepare(`SELECT value FROM meta WHERE key = 'feed_floor'`).get() as { value: string }).value);
      for (const [sid, s] of sessions) {
        if (s.startedAt < floor) continue;
        const msg = byKey.get(`feed:session:${sid}`)?.[0];
        expect(msg, `feed message of ${sid}`).toBeDefined();
        if (s.ended) expect(msg!.text, `last edit of ${sid}`).toMatch(/ended: TERMINATED/);
      }
      expect(posts.filter((p) => p.kind === 'feed-notebook')).toHaveLength(3);

      // --- actions: none twice at Athena, none left under way, each reported once in its thread ---
      const actions = store.prepare('SELECT id, action, target, status, post_key AS postKey FROM slack_actions').all() as Array<{ id: number; action: string; target: string; status: string; postKey: string }>;
      expect(actions.filter((a) => a.status === 'started')).toEqual([]);
      const athenaCalls = (op: string, field: string, id: string) => aws.athenaCalls(op).filter((r) => r.status === 200 && r.body[field] === id).length;
      for (const a of actions) {
        const n = a.action === 'stop-calculation' ? athenaCalls('StopCalculationExecution', 'CalculationExecutionId', a.target) : athenaCalls('TerminateSession', 'SessionId', a.target);
        expect(n, `${a.action} ${a.target} reached Athena ${n} times`).toBeLessThanOrEqual(1);
        if (a.status === 'done') {
          const reply = byKey.get(`action:${a.id}`)?.[0];
          expect(reply, `thread reply of action ${a.id}`).toBeDefined();
          expect(reply!.thread_ts).toBe(byKey.get(a.postKey)![0]!.ts);
        }
      }
      const done = actions.filter((a) => a.status === 'done');
      console.log(
        `messages: ${byKey.size} once each (${posts.filter((p) => p.kind === 'feed-session').length} feed sessions, ${posts.filter((p) => p.kind === 'alert').length} alerts, ` +
          `${posts.filter((p) => p.kind === 'action-reply').length} action replies); edits sent: ${slack.calls.filter((c) => c.method === 'chat.update' && c.ok).length}; ` +
          `actions: ${actions.length} recorded, ${done.length} done, Stop/Terminate calls at Athena: ${aws.athenaCalls('StopCalculationExecution').length + aws.athenaCalls('TerminateSession').length}`,
      );
      // Not vacuous: actions ran, edits were made, every failpoint fired.
      expect(done.length).toBeGreaterThanOrEqual(3);
      expect(slack.calls.filter((c) => c.method === 'chat.update' && c.ok).length).toBeGreaterThan(5);
      for (const fp of ['slack.after-send', 'slack.after-update', 'action.before-call', 'action.after-call'] as const) expect(reached.get(fp) ?? 0, `${fp} reached`).toBeGreaterThanOrEqual(1);
      expect(drained, 'the final run drained everything within 60 s').toBe(true);
      expect(store.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      store.close();
    }
  }, 300_000);
});
