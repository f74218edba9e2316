/**
 * Soak test of the real `athena-session-bot start` process (not part of `npm test`).
 *
 *   npm run soak                       # 10 minutes
 *   npm run soak -- --minutes 30
 *   npm run soak -- --quick            # 2 minutes, a smoke run
 *   npm run soak -- --heap-snapshots   # also write heap snapshots at the end of warm-up and of the run
 *
 * The bot runs as a child process (dist/main.js start, POLL_INTERVAL_SECONDS=2, two regions,
 * ALERT_CHANNEL, DIGEST_CHANNEL, DIGEST_CRON every minute) against the AWS and Slack fakes,
 * which run in THIS process (so their memory is not the child's). Meanwhile:
 *   - CloudTrail records of live Athena Spark activity are added continuously (sessions,
 *     calculations — some long-running, to raise alerts and follow-ups — status polls,
 *     notebook updates, terminations and idle timeouts), on top of a seeded day of history;
 *   - signed slash commands (known, unknown and upper-case ids, the active list, help,
 *     garbage text), app mentions (some redelivered as Slack retries) and garbage HTTP
 *     (bad signatures, stale timestamps, broken bodies) arrive about every second.
 * Measured from outside every 5 s: VmRSS (/proc/<pid>/status), open descriptors and sockets
 * (/proc/<pid>/fd), and from the bot's /metrics: active handles/requests, event-loop lag,
 * heap. Pass/fail (exit 0/1) with a one-screen summary; details in bench/soak-results.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startAwsFake, awsEnvFor, type AwsFake, type AthenaSession as FakeSession, type AthenaCalculation as FakeCalculation } from '../test/fakes/aws-fake.js';
import { startSlackFake, type FakeMessage, type SlackFake } from '../test/fakes/slack-fake.js';
import { CLI, ROOT } from '../test/support/cli.js';
import { freePort, mentionBody, postCommand, postEvent, SIGNING_SECRET, signedHeaders, commandBody } from '../test/support/slack-requests.js';
import { planWorkload } from '../test/support/workload.js';
import { Activity } from './soak/activity.js';
import { metricSeries, metricSum, scrape, takeSample, type Sample } from './soak/sampler.js';
import { fmt, median, percentile, perMinute, trend, type Trend } from './soak/stats.js';

// ---------------------------------------------------------------------------------------------
// Options

const { values: argv } = parseArgs({
  options: {
    minutes: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'heap-snapshots': { type: 'boolean', default: false },
    seed: { type: 'string', default: '42' },
  },
  strict: true,
});
const minutes = argv.quick ? 2 : Number(argv.minutes ?? 10);
if (!Number.isFinite(minutes) || minutes <= 0) {
  console.error('usage: npm run soak -- [--minutes N | --quick] [--heap-snapshots]');
  process.exit(2);
}
const RUN_MS = Math.round(minutes * 60_000);
const WARMUP_S = Math.min(120, 0.2 * (RUN_MS / 1000));
const SAMPLE_MS = 5000;
const TOKEN = 'xoxb-soak-token';
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const LONG_RUNNING_MINUTES = 1;
const CHANNELS = { alerts: 'C0ALERTS', digest: 'C0DIGEST', general: 'C0GENERAL', oncall: 'C0ONCALL' } as const;
const RESULTS_FILE = path.join(ROOT, 'bench', 'soak-results.json');
const seed = Number(argv.seed);

const CHILD_ENV_EXTRA = {
  POLL_INTERVAL_SECONDS: '2',
  LOOKBACK_MINUTES: '2',
  BACKFILL_HOURS: '48',
  LONG_RUNNING_MINUTES: String(LONG_RUNNING_MINUTES),
  ALERT_CHANNEL: CHANNELS.alerts,
  DIGEST_CHANNEL: CHANNELS.digest,
  DIGEST_CRON: '* * * * *',
  DIGEST_TIMEZONE: 'UTC',
  LOG_LEVEL: 'info',
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + (b - a) * Math.random();
const log = (msg: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Seeded history: yesterday (UTC) of a small team, so the digest has something to say and
// the first poll back-fills a real day. Kept under ~1000 records per region so the bot's
// back-fill stays on its cheap single-query strategy (the switch is tested elsewhere).

function seedHistory(aws: AwsFake): { records: number; sessionIds: string[]; byRegion: Record<string, number> } {
  const today = new Date();
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const wl = planWorkload({ seed, end, days: 1, regions: REGIONS, sessionsPerDay: 16, pollIntervalSeconds: [60, 120] });
  const perRegion: Record<string, number> = {};
  const batch: Parameters<AwsFake['addEvents']>[0] = [];
  for (const r of wl.records()) {
    const n = perRegion[r.awsRegion] ?? 0;
    if (n >= 1000 && r.eventName === 'GetCalculationExecutionStatus') continue;
    perRegion[r.awsRegion] = n + 1;
    batch.push(r);
  }
  aws.addEvents(batch, { visibleAt: 0 });
  // Athena's answer today: yesterday's sessions are long over.
  for (const { region, session } of wl.truth.athena.sessions) {
    const s = structuredClone(session) as unknown as FakeSession;
    if (!['TERMINATED', 'FAILED'].includes(s.Status.State)) s.Status = { ...s.Status, State: 'TERMINATED', EndDateTime: end, StateChangeReason: 'Session timed out' };
    aws.setSession(region, s);
  }
  for (const { region, calculation } of wl.truth.athena.calculations) {
    const c = structuredClone(calculation) as unknown as FakeCalculation;
    if (!['COMPLETED', 'FAILED', 'CANCELED'].includes(c.Status.State)) c.Status = { ...c.Status, State: 'COMPLETED', CompletionDateTime: end };
    aws.setCalculation(region, c);
  }
  return { records: batch.length, sessionIds: wl.truth.sessions.map((s) => s.sessionId), byRegion: perRegion };
}

// ---------------------------------------------------------------------------------------------
// The child

interface ChildLog {
  lines: number;
  byLevel: Record<string, number>;
  /** warn/error/fatal messages → count */
  messages: Record<string, number>;
  lastProblems: string[];
  nonJson: number;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function startChild(env: Record<string, string>, logFile: string, execArgv: string[]): { child: ChildProcess; log: ChildLog; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [...execArgv, CLI, 'start'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = fs.createWriteStream(logFile);
  const clog: ChildLog = { lines: 0, byLevel: {}, messages: {}, lastProblems: [], nonJson: 0 };
  for (const stream of [child.stdout!, child.stderr!]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      out.write(line + '\n');
      clog.lines++;
      let j: { level?: number; msg?: string } | undefined;
      try {
        j = JSON.parse(line) as { level?: number; msg?: string };
      } catch {
        clog.nonJson++;
        return;
      }
      const level = LEVELS[j.level ?? 0] ?? String(j.level);
      clog.byLevel[level] = (clog.byLevel[level] ?? 0) + 1;
      if ((j.level ?? 0) >= 40) {
        const key = `${level}: ${String(j.msg ?? '').slice(0, 90)}`;
        clog.messages[key] = (clog.messages[key] ?? 0) + 1;
        clog.lastProblems.push(line.slice(0, 400));
        if (clog.lastProblems.length > 20) clog.lastProblems.shift();
      }
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      out.end();
      resolve({ code, signal });
    }),
  );
  return { child, log: clog, exited };
}

// ---------------------------------------------------------------------------------------------
// Slack traffic

type CommandKind = 'known' | 'known-public' | 'known-upper' | 'history' | 'active' | 'active-public' | 'unknown' | 'help' | 'malformed';
const COMMAND_WEIGHTS: Array<[CommandKind, number]> = [
  ['known', 25],
  ['known-public', 5],
  ['known-upper', 5],
  ['history', 10],
  ['active', 15],
  ['active-public', 3],
  ['unknown', 8],
  ['help', 5],
  ['malformed', 14],
];
const GARBAGE_TEXT = [
  'hello bot',
  'DROP TABLE sessions; --',
  'a2c1ebba-ad01-865f-ed2d',
  'a2c1ebba-ad01-865f-ed2d-a142b7451f7e-extra',
  '`rm -rf /`',
  'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz',
  'ünïcødé ☃ 🚀 <script>alert(1)</script>',
  'two ids a2c1ebba-ad01-865f-ed2d-a142b7451f7e a2c1ebba-ad01-865f-ed2d-a142b7451f7f',
  'x'.repeat(4000),
];

interface SentCommand {
  id: string;
  kind: CommandKind;
  text: string;
  sessionId?: string;
  sentAt: number;
  status: number;
  ackMs: number;
  ackText: string;
  expectRespond: boolean;
  error?: string;
}

interface SentMention {
  channel: string;
  ts: string;
  kind: 'known' | 'unknown' | 'none' | 'garbage';
  sessionId?: string;
  sentAt: number;
  status: number;
  retried: boolean;
  error?: string;
}

type GarbageKind = 'bad-signature' | 'stale-timestamp' | 'no-signature' | 'broken-json' | 'broken-form' | 'unknown-command' | 'url-verification' | 'wrong-path';
const GARBAGE_KINDS: GarbageKind[] = ['bad-signature', 'stale-timestamp', 'no-signature', 'broken-json', 'broken-form', 'unknown-command', 'url-verification', 'wrong-path'];

function pickWeighted<T>(xs: ReadonlyArray<[T, number]>): T {
  const total = xs.reduce((a, [, w]) => a + w, 0);
  let r = Math.random() * total;
  for (const [v, w] of xs) {
    r -= w;
    if (r < 0) return v;
  }
  return xs[xs.length - 1]![0];
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const startedWall = new Date();
  log(`soak: ${minutes} min (warm-up ${WARMUP_S} s), sampling every ${SAMPLE_MS / 1000} s`);
  const aws = await startAwsFake({ ratePerSecond: 2 });
  const slack = await startSlackFake({ token: TOKEN, channels: Object.values(CHANNELS) });
  const history = seedHistory(aws);
  log(`seeded ${history.records} history records (${JSON.stringify(history.byRegion)}), ${history.sessionIds.length} sessions`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asb-soak-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ...awsEnvFor(aws),
    AWS_REGIONS: REGIONS.join(','),
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: String(port),
    DATABASE_PATH: path.join(dir, 'soak.sqlite'),
    ...CHILD_ENV_EXTRA,
  };
  const execArgv = argv['heap-snapshots'] ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : [];

  // Start early in a minute, so the back-fill is in the store before the first digest fires.
  const sec = new Date().getUTCSeconds();
  if (sec > 40) {
    log(`waiting ${60 - sec} s for the next minute to begin`);
    await sleep((60 - sec) * 1000 + 200);
  }

  const logFile = path.join(dir, 'child.log');
  const { child, log: childLog, exited } = startChild(env, logFile, execArgv);
  const pid = child.pid!;
  const t0 = Date.now();
  let childExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let childExitAt = 0;
  void exited.then((e) => {
    childExit = e;
    childExitAt = Date.now();
  });
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  log(`child pid ${pid} on ${baseUrl}; log ${logFile}`);

  // Wait for the receiver.
  let up = false;
  for (let i = 0; i < 150 && !childExit; i++) {
    const r = await fetch(`${baseUrl}/healthz`).catch(() => undefined);
    if (r) {
      await r.text();
      up = true;
      break;
    }
    await sleep(200);
  }
  if (!up) {
    log('the bot never came up');
    console.error(fs.readFileSync(logFile, 'utf8').slice(-4000));
    child.kill('SIGKILL');
    await Promise.all([aws.close(), slack.close()]);
    return 1;
  }
  log(`bot up after ${Date.now() - t0} ms`);

  // ------------------------------------------------------------------------------------------
  // Load

  const activity = new Activity(aws, {
    regions: REGIONS,
    sessionEverySeconds: 12,
    longShare: 0.12,
    longSeconds: [75, 140],
    shortSeconds: [5, 40],
    deliveryDelayMs: [1000, 15000],
  });
  activity.start();

  let stopping = false;
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    return p;
  };
  const loops: Promise<void>[] = [];
  const every = (range: [number, number], fn: () => Promise<unknown>) => {
    loops.push(
      (async () => {
        while (!stopping) {
          await sleep(rand(range[0], range[1]));
          if (stopping) break;
          void track(fn().catch((err: Error) => log(`load error: ${err.message}`)));
        }
      })(),
    );
  };

  /** Session ids the bot has had time to see (started ≥ 30 s ago), else history ones. */
  const knownId = (): string => {
    const ripe = [...activity.sessions.values()].filter((s) => Date.now() - s.startedAt > 30_000).slice(-40);
    if (ripe.length === 0) return history.sessionIds[Math.floor(Math.random() * history.sessionIds.length)]!;
    return ripe[Math.floor(Math.random() * ripe.length)]!.sessionId;
  };

  const commands: SentCommand[] = [];
  let cmdN = 0;
  every([800, 2200], async () => {
    const kind = pickWeighted(COMMAND_WEIGHTS);
    let text = '';
    let sessionId: string | undefined;
    switch (kind) {
      case 'known':
        text = sessionId = knownId();
        break;
      case 'known-public':
        sessionId = knownId();
        text = `${sessionId} public`;
        break;
      case 'known-upper':
        sessionId = knownId();
        text = sessionId.toUpperCase();
        break;
      case 'history':
        text = sessionId = history.sessionIds[Math.floor(Math.random() * history.sessionIds.length)]!;
        break;
      case 'active':
        text = '';
        break;
      case 'active-public':
        text = 'public';
        break;
      case 'unknown':
        text = sessionId = randomUUID();
        break;
      case 'help':
        text = 'help';
        break;
      case 'malformed':
        text = GARBAGE_TEXT[Math.floor(Math.random() * GARBAGE_TEXT.length)]!;
        break;
    }
    const id = `cmd${++cmdN}`;
    const c: SentCommand = { id, kind, text, sessionId, sentAt: Date.now(), status: 0, ackMs: 0, ackText: '', expectRespond: !['help', 'malformed'].includes(kind) };
    commands.push(c);
    try {
      const r = await postCommand(baseUrl, { text, responseUrl: slack.responseUrl(id), channelId: Math.random() < 0.5 ? CHANNELS.general : CHANNELS.oncall });
      c.status = r.status;
      c.ackMs = r.ms;
      c.ackText = r.text.slice(0, 300);
    } catch (err) {
      c.error = (err as Error).message;
    }
  });

  const mentions: SentMention[] = [];
  every([2000, 4000], async () => {
    const roll = Math.random();
    const kind: SentMention['kind'] = roll < 0.5 ? 'known' : roll < 0.6 ? 'unknown' : roll < 0.85 ? 'none' : 'garbage';
    const sessionId = kind === 'known' ? knownId() : kind === 'unknown' ? randomUUID() : undefined;
    const text =
      kind === 'none' ? '<@U0BOT> what is running?' : kind === 'garbage' ? `<@U0BOT> ${GARBAGE_TEXT[Math.floor(Math.random() * 8)]!}` : `<@U0BOT> what about ${sessionId}?`;
    const channel = Math.random() < 0.5 ? CHANNELS.general : CHANNELS.oncall;
    const msg = slack.injectMessage({ channel, text, user: 'U0ALICE' });
    const m: SentMention = { channel, ts: msg.ts, kind, sessionId, sentAt: Date.now(), status: 0, retried: false };
    mentions.push(m);
    const body = mentionBody({ text, channel, ts: msg.ts, eventId: `Ev${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}` });
    try {
      m.status = (await postEvent(baseUrl, body)).status;
      if (Math.random() < 0.1) {
        // Slack redelivers when it thinks the first delivery timed out.
        await sleep(rand(200, 1500));
        m.retried = true;
        await postEvent(baseUrl, body, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
      }
    } catch (err) {
      m.error = (err as Error).message;
    }
  });

  const garbage: Array<{ kind: GarbageKind; status: number; ok: boolean; error?: string }> = [];
  let garbageN = 0;
  every([3000, 5000], async () => {
    const kind = GARBAGE_KINDS[garbageN++ % GARBAGE_KINDS.length]!;
    const url = `${baseUrl}/slack/events`;
    let res: Response | undefined;
    const entry: { kind: GarbageKind; status: number; ok: boolean; error?: string } = { kind, status: 0, ok: false };
    garbage.push(entry);
    try {
      const cmd = commandBody({ text: randomUUID(), responseUrl: slack.responseUrl(`garbage${garbageN}`) });
      switch (kind) {
        case 'bad-signature':
          res = await fetch(url, { method: 'POST', headers: signedHeaders(cmd, 'application/x-www-form-urlencoded', { secret: 'not-the-secret-0123456789' }), body: cmd });
          break;
        case 'stale-timestamp':
          res = await fetch(url, { method: 'POST', headers: signedHeaders(cmd, 'application/x-www-form-urlencoded', { timestamp: Math.floor(Date.now() / 1000) - 600 }), body: cmd });
          break;
        case 'no-signature':
          res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: cmd });
          break;
        case 'broken-json': {
          const body = '{"type":"event_callback","event":{"type":"app_mention",';
          res = await fetch(url, { method: 'POST', headers: signedHeaders(body, 'application/json'), body });
          break;
        }
        case 'broken-form': {
          const body = 'payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A&&&=%%%';
          res = await fetch(url, { method: 'POST', headers: signedHeaders(body, 'application/x-www-form-urlencoded'), body });
          break;
        }
        case 'unknown-command': {
          const body = cmd.replace('command=%2Fathena-session', 'command=%2Fsomething-else');
          res = await fetch(url, { method: 'POST', headers: signedHeaders(body, 'application/x-www-form-urlencoded'), body });
          break;
        }
        case 'url-verification': {
          const challenge = randomUUID();
          const body = JSON.stringify({ token: 'x', challenge, type: 'url_verification' });
          res = await fetch(url, { method: 'POST', headers: signedHeaders(body, 'application/json'), body });
          const text = await res.text();
          entry.status = res.status;
          entry.ok = res.status === 200 && text.includes(challenge);
          return;
        }
        case 'wrong-path':
          res = await fetch(`${baseUrl}/slack/${randomUUID()}`, { method: 'POST', headers: signedHeaders(cmd, 'application/x-www-form-urlencoded'), body: cmd });
          break;
      }
      await res.text();
      entry.status = res.status;
      // Refused, never served: anything but a success or a server error.
      entry.ok = kind === 'bad-signature' || kind === 'stale-timestamp' || kind === 'no-signature' ? res.status === 401 : res.status >= 400 && res.status < 500;
      if (kind === 'unknown-command') entry.ok = res.status < 500;
    } catch (err) {
      entry.error = (err as Error).message;
    }
  });

  // ------------------------------------------------------------------------------------------
  // Sampling

  const samples: Sample[] = [];
  const health: Array<{ t: number; status: number }> = [];
  const snapshots: string[] = [];
  let warmupSnapshotTaken = false;
  const sampler = (async () => {
    for (let k = 0; ; k++) {
      const due = t0 + k * SAMPLE_MS;
      if (due > t0 + RUN_MS) break;
      await sleep(Math.max(0, due - Date.now()));
      if (childExit) break;
      const t = (Date.now() - t0) / 1000;
      const s = await takeSample(pid, baseUrl, Math.round(t * 10) / 10);
      samples.push(s);
      const h = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
        async (r) => (await r.text(), r.status),
        () => 0,
      );
      health.push({ t: s.t, status: h });
      if (k % 12 === 0) {
        log(
          `t=${Math.round(t)}s rss=${fmt((s.rssKb ?? NaN) / 1024)}MB heap=${fmt((s.heapUsed ?? NaN) / 2 ** 20)}MB handles=${s.handles} fds=${s.fds} sockets=${s.sockets} ` +
            `records=${activity.records} cmds=${commands.length} mentions=${mentions.length} alerts=${slack.messages(CHANNELS.alerts).length}`,
        );
      }
      if (argv['heap-snapshots'] && !warmupSnapshotTaken && t >= WARMUP_S) {
        warmupSnapshotTaken = true;
        child.kill('SIGUSR2');
        snapshots.push(`warm-up end (t=${Math.round(t)}s)`);
      }
    }
  })();

  await sampler;
  const loadEnd = Date.now();
  if (argv['heap-snapshots'] && !childExit) {
    child.kill('SIGUSR2');
    snapshots.push(`run end (t=${Math.round((loadEnd - t0) / 1000)}s)`);
  }
  stopping = true;
  log('load stopped; draining');
  await Promise.all(loops);
  await activity.stop();
  await Promise.allSettled([...inflight]);

  // ------------------------------------------------------------------------------------------
  // Drain: answers, replies and the outbox.

  const respondIds = () => new Set(slack.responses().map((r) => r.id));
  const mentionKey = (m: SentMention) => `mention:${m.channel}:${m.ts}`;
  const postedKeys = () => new Set(slack.messages().map((m) => m.metadata?.event_payload?.key).filter((k): k is string => typeof k === 'string'));
  let outbox: Record<string, number> | undefined;
  const drainDeadline = Date.now() + 60_000;
  while (Date.now() < drainDeadline && !childExit) {
    const ids = respondIds();
    const keys = postedKeys();
    const cmdsLeft = commands.filter((c) => c.expectRespond && c.status === 200 && !ids.has(c.id)).length;
    const mentionsLeft = mentions.filter((m) => m.status === 200 && !keys.has(mentionKey(m))).length;
    const h = await fetch(`${baseUrl}/healthz`).then((r) => r.json() as Promise<{ outbox?: Record<string, number> }>).catch(() => undefined);
    outbox = h?.outbox;
    if (cmdsLeft === 0 && mentionsLeft === 0 && (outbox?.pending ?? 1) === 0) break;
    await sleep(500);
  }
  const drainMs = Date.now() - loadEnd;
  const finalScrape = await scrape(baseUrl, 5000);
  const finalHealth = await fetch(`${baseUrl}/healthz`)
    .then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }))
    .catch((err: Error) => ({ status: 0, body: { error: err.message } as Record<string, unknown> }));

  // Stop the bot: SIGTERM, expect a clean exit.
  const stopAt = Date.now();
  if (!childExit) child.kill('SIGTERM');
  const exit = await Promise.race([exited, sleep(30_000).then(() => undefined)]);
  const stopMs = Date.now() - stopAt;
  if (!exit) child.kill('SIGKILL');
  const aliveUntilEnd = exit !== undefined && childExitAt >= stopAt;

  // ------------------------------------------------------------------------------------------
  // Analysis

  const endS = (loadEnd - t0) / 1000;
  const rss = trend(samples, 'rssKb', WARMUP_S, endS);
  const fds = trend(samples, 'fds', WARMUP_S, endS);
  const sockets = trend(samples, 'sockets', WARMUP_S, endS);
  const handles = trend(samples, 'handles', WARMUP_S, endS);
  const requests = trend(samples, 'requests', WARMUP_S, endS);
  const heap = trend(samples, 'heapUsed', WARMUP_S, endS);
  const rows = perMinute(samples, WARMUP_S);
  const lagP99s = samples.filter((s) => s.t >= WARMUP_S && s.lagP99 !== null).map((s) => s.lagP99! * 1000);
  const lagMeans = samples.filter((s) => s.t >= WARMUP_S && s.lag !== null).map((s) => s.lag! * 1000);

  const responses = slack.responses();
  const responsesById = new Map<string, typeof responses>();
  for (const r of responses) responsesById.set(r.id, [...(responsesById.get(r.id) ?? []), r]);
  const messages: FakeMessage[] = slack.messages();
  const keyCounts = new Map<string, number>();
  for (const m of messages) {
    const k = m.metadata?.event_payload?.key;
    if (typeof k === 'string') keyCounts.set(k, (keyCounts.get(k) ?? 0) + 1);
  }
  const duplicateKeys = [...keyCounts].filter(([, n]) => n > 1).map(([k, n]) => `${k}×${n}`);

  // Commands
  const cmdAcked = commands.filter((c) => c.status === 200);
  const cmdExpect = commands.filter((c) => c.expectRespond);
  const cmdAnswered = cmdExpect.filter((c) => responsesById.has(c.id));
  const cmdMissing = cmdExpect.filter((c) => c.status === 200 && !responsesById.has(c.id));
  const cmdTwice = [...responsesById].filter(([id, rs]) => id.startsWith('cmd') && rs.length > 1).map(([id]) => id);
  const textOf = (body: unknown) => JSON.stringify(body ?? '');
  const cmdWrong: string[] = [];
  for (const c of commands) {
    if (c.status !== 200) continue;
    const answer = responsesById.get(c.id)?.[0];
    const ans = answer ? textOf(answer.body) : '';
    if (c.kind === 'help' && !c.ackText.includes('Usage')) cmdWrong.push(`${c.id} help: ${c.ackText.slice(0, 60)}`);
    if (c.kind === 'malformed' && !c.ackText.includes('not a session id')) cmdWrong.push(`${c.id} malformed: ${c.ackText.slice(0, 60)}`);
    if (!answer) continue;
    if (c.kind === 'unknown' && !ans.includes('not found')) cmdWrong.push(`${c.id} unknown id answered as found`);
    if ((c.kind === 'known' || c.kind === 'known-public' || c.kind === 'known-upper' || c.kind === 'history') && (ans.includes('was not found') || !ans.includes(c.sessionId!.toLowerCase())))
      cmdWrong.push(`${c.id} ${c.kind} ${c.sessionId}: ${ans.slice(0, 80)}`);
    if ((c.kind === 'known-public' || c.kind === 'active-public') && (answer.body as { response_type?: string }).response_type !== 'in_channel') cmdWrong.push(`${c.id} ${c.kind} not in_channel`);
  }
  const ackMs = cmdAcked.map((c) => c.ackMs);
  const answerMs = cmdAnswered.map((c) => responsesById.get(c.id)![0]!.at - c.sentAt);

  // Mentions
  const byKey = new Map(messages.filter((m) => m.metadata?.event_payload?.key).map((m) => [m.metadata!.event_payload.key as string, m]));
  const mentionsOk = mentions.filter((m) => m.status === 200);
  const mentionReplied = mentionsOk.filter((m) => {
    const reply = byKey.get(mentionKey(m));
    return reply !== undefined && reply.thread_ts === m.ts;
  });
  const mentionMissing = mentionsOk.filter((m) => !byKey.has(mentionKey(m)));
  const mentionReplyMs = mentionReplied.map((m) => Number(byKey.get(mentionKey(m))!.ts) * 1000 - m.sentAt);

  // Alerts, follow-ups, digests
  const alertsTop = messages.filter((m) => m.channel === CHANNELS.alerts && !m.thread_ts);
  const alertKeys = alertsTop.map((m) => String(m.metadata?.event_payload?.key ?? ''));
  const followUps = messages.filter((m) => m.channel === CHANNELS.alerts && m.thread_ts && String(m.metadata?.event_payload?.key ?? '').startsWith('followup:'));
  const followUpIds = new Set(followUps.map((m) => String(m.metadata!.event_payload.key).slice('followup:'.length)));
  const calcs = [...activity.calculations.values()];
  const longCalcs = calcs.filter((c) => c.kind === 'long');
  const alertText = alertsTop.map((m) => JSON.stringify([m.text, m.blocks, m.metadata])).join('\n');
  // Long calculations that had run ≥ 75 s (threshold 60 s + a cycle or two) before the load stopped.
  const shouldAlert = longCalcs.filter((c) => (c.endedAt ?? loadEnd) - c.startedAt >= 75_000);
  const alertMissing = shouldAlert.filter((c) => !alertText.includes(c.calculationId)).map((c) => c.calculationId);
  // ...and those of them that ended ≥ 20 s before it: each must have had its follow-up.
  const shouldFollowUp = shouldAlert.filter((c) => c.endedAt !== null && c.endedAt <= loadEnd - 20_000);
  const followUpMissing = shouldFollowUp.filter((c) => !followUpIds.has(c.calculationId)).map((c) => c.calculationId);
  const shortIds = new Set(calcs.filter((c) => c.kind === 'short').map((c) => c.calculationId));
  const falseAlerts = [...shortIds].filter((id) => alertText.includes(id) || followUpIds.has(id));
  const digestTop = messages.filter((m) => m.channel === CHANNELS.digest && !m.thread_ts);
  const digestReplies = messages.filter((m) => m.channel === CHANNELS.digest && m.thread_ts);

  const metrics = finalScrape?.metrics;
  const counters = metrics
    ? {
        recordsIngested: metricSum(metrics, 'athena_bot_records_ingested_total'),
        recordsRejected: metricSum(metrics, 'athena_bot_records_rejected_total'),
        lookupCalls: metricSeries(metrics, 'athena_bot_lookup_events_calls_total'),
        throttles: metricSum(metrics, 'athena_bot_lookup_events_throttles_total'),
        athenaCalls: metricSum(metrics, 'athena_bot_athena_calls_total'),
        pollCycles: metricSeries(metrics, 'athena_bot_poll_cycles_total'),
        slackPosts: metricSeries(metrics, 'athena_bot_slack_posts_total'),
        slackErrors: metricSeries(metrics, 'athena_bot_slack_errors_total'),
        commandAcks: metricSum(metrics, 'athena_bot_command_ack_seconds_count'),
      }
    : undefined;
  const awsLookups = aws.lookupCount();
  const awsThrottled = aws.requests.filter((r) => r.errorType === 'ThrottlingException').length;
  const awsMaxPerSecond = Math.max(...REGIONS.map((r) => aws.maxRequestsInAnyWindow(r, 1000)));
  const healthBad = health.filter((h) => h.t >= WARMUP_S && h.status !== 200);
  const garbageBad = garbage.filter((g) => !g.ok);

  // ------------------------------------------------------------------------------------------
  // Checks

  interface Check {
    name: string;
    value: string;
    limit: string;
    pass: boolean | null;
  }
  const checks: Check[] = [];
  const add = (name: string, value: string, limit: string, pass: boolean | null) => checks.push({ name, value, limit, pass });
  const noGrowth = (t: Trend | undefined, absTol: number) => t !== undefined && t.growth <= Math.max(absTol, 0.1 * t.firstMinuteMedian);
  const trendText = (t: Trend | undefined, unit = '', scale = 1, d = 0) =>
    t ? `${fmt(t.first / scale, d)}/${fmt(t.last / scale, d)}/${fmt(t.max / scale, d)}${unit}  Δmed ${t.growth >= 0 ? '+' : ''}${fmt(t.growth / scale, d === 0 ? 1 : d)}` : 'no data';

  add('RSS growth after warm-up', rss ? `${rss.growthPct >= 0 ? '+' : ''}${fmt(rss.growthPct)}% (${fmt(rss.firstMinuteMedian / 1024)} → ${fmt(rss.lastMinuteMedian / 1024)} MB)` : 'no data', '≤ 10%', rss !== undefined && rss.growthPct <= 10);
  add('open fds first/last/max', trendText(fds), 'Δ≤max(3,10%)', noGrowth(fds, 3));
  add('sockets first/last/max', trendText(sockets), 'Δ≤max(3,10%)', noGrowth(sockets, 3));
  add('active handles first/last/max', trendText(handles), 'Δ≤max(3,10%)', noGrowth(handles, 3));
  add('active requests first/last/max', trendText(requests), 'info', null);
  add('heap used first/last/max', heap ? `${trendText(heap, ' MB', 2 ** 20, 1)} (${heap.growthPct >= 0 ? '+' : ''}${fmt(heap.growthPct)}%)` : 'no data', 'info', null);
  add('event-loop lag p99 med/max', lagP99s.length ? `${fmt(median(lagP99s))} / ${fmt(Math.max(...lagP99s))} ms (mean ${fmt(median(lagMeans))} ms)` : 'no data', 'info', null);
  add(
    'slash commands',
    `${commands.length} sent, ${cmdAcked.length} acked; ${cmdAnswered.length}/${cmdExpect.length} answered, ${cmdTwice.length} twice, ${cmdWrong.length} wrong`,
    'all, once, right',
    cmdAcked.length === commands.length && cmdMissing.length === 0 && cmdTwice.length === 0 && cmdWrong.length === 0,
  );
  add('command ack ms p50/p95/max', `${fmt(percentile(ackMs, 50), 0)} / ${fmt(percentile(ackMs, 95), 0)} / ${fmt(Math.max(0, ...ackMs), 0)}`, '< 3000 ms', ackMs.length > 0 && Math.max(...ackMs) < 3000);
  add('command answer ms p50/p95/max', `${fmt(percentile(answerMs, 50), 0)} / ${fmt(percentile(answerMs, 95), 0)} / ${fmt(Math.max(0, ...answerMs), 0)}`, 'info', null);
  add(
    'mentions (reply in thread)',
    `${mentions.length} sent (${mentions.filter((m) => m.retried).length} redelivered), ${mentionReplied.length}/${mentionsOk.length} replied; p95 ${fmt(percentile(mentionReplyMs, 95) / 1000)} s`,
    'all, once',
    mentionsOk.length === mentions.length && mentionMissing.length === 0 && mentionReplied.length === mentionsOk.length,
  );
  add('garbage HTTP refused (4xx)', `${garbage.length - garbageBad.length}/${garbage.length}${garbageBad.length ? ` bad: ${[...new Set(garbageBad.map((g) => `${g.kind}=${g.error ?? g.status}`))].join(', ')}` : ''}`, 'all', garbageBad.length === 0);
  add(
    'alerts / follow-ups',
    `${alertsTop.length} (${alertKeys.filter((k) => k.startsWith('alert-group:')).length} grouped) / ${followUps.length}; missed ${alertMissing.length}/${shouldAlert.length} & ${followUpMissing.length}/${shouldFollowUp.length}, false ${falseAlerts.length}`,
    '≥1, none missed',
    alertsTop.length > 0 && followUps.length > 0 && alertMissing.length === 0 && followUpMissing.length === 0 && falseAlerts.length === 0,
  );
  add('digests (cron * * * * *)', `${digestTop.length} + ${digestReplies.length} thread replies: ${digestTop.map((m) => m.metadata?.event_payload?.key).join(', ')}`, '≥ 1, once per day', digestTop.length >= 1 && new Set(digestTop.map((m) => m.metadata?.event_payload?.key)).size === digestTop.length);
  add('message keys posted twice', duplicateKeys.length ? duplicateKeys.slice(0, 4).join(', ') : `none of ${keyCounts.size}`, '0', duplicateKeys.length === 0);
  add('outbox after drain', outbox ? `pending ${outbox.pending}, posted ${outbox.posted}, failed ${outbox.failed} (drain ${fmt(drainMs / 1000)} s)` : 'unknown', '0 pending/fail', outbox !== undefined && outbox.pending === 0 && outbox.failed === 0);
  add('/healthz after warm-up', `${health.filter((h) => h.t >= WARMUP_S).length - healthBad.length}/${health.filter((h) => h.t >= WARMUP_S).length} ok; final ${finalHealth.status}`, 'all 200', healthBad.length === 0 && finalHealth.status === 200);
  add(
    'child lifetime and exit',
    !aliveUntilEnd && exit ? `DIED at t=${Math.round((childExitAt - t0) / 1000)}s: code ${exit.code} signal ${exit.signal}` : exit ? `alive whole run; SIGTERM → code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''} in ${stopMs} ms` : `did not exit within 30 s of SIGTERM`,
    'exit 0',
    aliveUntilEnd && exit !== undefined && exit.code === 0,
  );
  add('child log lines by level', Object.entries(childLog.byLevel).map(([k, v]) => `${k} ${v}`).join(', '), 'info', null);

  const pass = checks.every((c) => c.pass !== false);

  // ------------------------------------------------------------------------------------------
  // Report

  const lines: string[] = [];
  const w = (s = '') => lines.push(s);
  w(`athena-session-bot soak — ${minutes} min, warm-up ${WARMUP_S} s, POLL_INTERVAL_SECONDS=2, regions ${REGIONS.join('+')}, AWS fake ≤2 req/s, pid ${pid}`);
  w(
    `load: ${activity.records} CloudTrail records added (+${history.records} seeded, ${activity.rawGarbage} malformed), ${activity.sessions.size} sessions, ${calcs.length} calculations (${longCalcs.length} long); ` +
      `${commands.length} commands, ${mentions.length} mentions, ${garbage.length} garbage requests`,
  );
  if (counters) {
    w(
      `bot: ${counters.recordsIngested} records ingested, ${counters.recordsRejected} rejected; LookupEvents ${Object.values(counters.lookupCalls).reduce((a, b) => a + b, 0)} calls ` +
        `(fake saw ${awsLookups}, ${awsThrottled} throttled, max ${awsMaxPerSecond}/s/region); Athena ${counters.athenaCalls} calls; Slack posts ${Object.entries(counters.slackPosts).map(([k, v]) => `${k.replace(/^kind="(.*)"$/, '$1')} ${v}`).join(', ')}`,
    );
  }
  w();
  w('min  RSS MB min / med / max   heap MB  handles  fds  sockets  lag p99 ms');
  for (const r of rows) {
    w(
      `${String(r.minute).padStart(3)}${r.warmup ? '*' : ' '} ${fmt(r.rssMinMb).padStart(7)} ${fmt(r.rssMedMb).padStart(6)} ${fmt(r.rssMaxMb).padStart(6)}   ${fmt(r.heapMedMb).padStart(7)}  ${fmt(r.handlesMed, 0).padStart(7)}  ${fmt(r.fdsMed, 0).padStart(3)}  ${fmt(r.socketsMed, 0).padStart(7)}  ${fmt(r.lagP99MaxMs).padStart(10)}`,
    );
  }
  w('(* = warm-up; per-minute medians except RSS min/max and lag max)');
  w();
  const nameW = Math.max(...checks.map((c) => c.name.length));
  const valW = Math.min(66, Math.max(...checks.map((c) => c.value.length)));
  for (const c of checks) {
    const v = c.value.length > valW ? c.value.slice(0, valW - 1) + '…' : c.value;
    w(`${c.name.padEnd(nameW)}  ${v.padEnd(valW)}  ${c.limit.padEnd(15)} ${c.pass === null ? 'info' : c.pass ? 'PASS' : 'FAIL'}`);
  }
  w();
  if (RUN_MS < 5 * 60_000) w(`note: a ${minutes}-min run is mostly warm-up (RSS settles after ~2 min); judge memory on a 10-min run`);
  w(`RESULT: ${pass ? 'PASS' : 'FAIL'}   (details: ${path.relative(process.cwd(), RESULTS_FILE)}; child log: ${logFile})`);
  console.log(lines.join('\n'));

  const problems = Object.entries(childLog.messages).sort((a, b) => b[1] - a[1]);
  if (problems.length) {
    console.log('\nchild warn/error messages:');
    for (const [k, n] of problems.slice(0, 12)) console.log(`  ${String(n).padStart(5)}  ${k}`);
  }
  if (cmdWrong.length || cmdMissing.length || mentionMissing.length || alertMissing.length || followUpMissing.length || falseAlerts.length) {
    console.log('\nproblems:');
    for (const x of cmdWrong.slice(0, 5)) console.log(`  wrong answer: ${x}`);
    for (const c of cmdMissing.slice(0, 5)) console.log(`  unanswered command: ${c.id} ${c.kind} "${c.text.slice(0, 50)}" sent t=${Math.round((c.sentAt - t0) / 1000)}s`);
    for (const m of mentionMissing.slice(0, 5)) console.log(`  unanswered mention: ${mentionKey(m)} ${m.kind} sent t=${Math.round((m.sentAt - t0) / 1000)}s`);
    for (const id of alertMissing.slice(0, 5)) console.log(`  missed alert: ${id} ${JSON.stringify(activity.calculations.get(id))}`);
    for (const id of followUpMissing.slice(0, 5)) console.log(`  missed follow-up: ${id} ${JSON.stringify(activity.calculations.get(id))}`);
    for (const id of falseAlerts.slice(0, 5)) {
      const c = activity.calculations.get(id)!;
      const key = alertKeys.find((k) => k === `alert:${id}`) ?? 'in a grouped alert';
      console.log(`  false alert (${key}): ${c.kind} calculation ran ${fmt((c.endedAt! - c.startedAt) / 1000)} s from t=${Math.round((c.startedAt - t0) / 1000)}s, outcome ${c.outcome}`);
      // A report asked for while it ran stores Athena's RUNNING answer (Enricher.enrichSessionNow).
      const asked = [...commands.filter((x) => x.sessionId === c.sessionId).map((x) => ({ what: `/athena-session (${x.kind})`, at: x.sentAt })), ...mentions.filter((x) => x.sessionId === c.sessionId).map((x) => ({ what: 'mention', at: x.sentAt }))]
        .filter((x) => x.at >= c.startedAt && x.at <= (c.endedAt ?? loadEnd))
        .map((x) => `${x.what} at +${fmt((x.at - c.startedAt) / 1000)} s`);
      console.log(`    reports on its session while it ran: ${asked.length ? asked.join(', ') : 'none'}`);
    }
  }
  if (snapshots.length) console.log(`\nheap snapshots (${snapshots.join(', ')}) in ${dir}: ${fs.readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')).join(', ')}`);

  const results = {
    startedAt: startedWall.toISOString(),
    pass,
    config: { minutes, warmupSeconds: WARMUP_S, sampleSeconds: SAMPLE_MS / 1000, regions: REGIONS, awsRatePerSecond: 2, childEnv: CHILD_ENV_EXTRA, node: process.version, pid, dir, logFile },
    summary: lines,
    checks,
    trends: { rssKb: rss, fds, sockets, handles, requests, heapUsed: heap },
    perMinute: rows,
    activity: {
      recordsAdded: activity.records,
      recordsByName: Object.fromEntries(activity.recordsByName),
      malformedAdded: activity.rawGarbage,
      seeded: history,
      sessions: activity.sessions.size,
      sessionEnds: [...activity.sessions.values()].reduce<Record<string, number>>((a, s) => ((a[s.end] = (a[s.end] ?? 0) + 1), a), {}),
      calculations: calcs.length,
      longCalculations: longCalcs.length,
      calcOutcomes: calcs.reduce<Record<string, number>>((a, c) => ((a[`${c.kind}:${c.outcome}`] = (a[`${c.kind}:${c.outcome}`] ?? 0) + 1), a), {}),
    },
    slack: {
      commands: {
        sent: commands.length,
        acked: cmdAcked.length,
        byKind: commands.reduce<Record<string, number>>((a, c) => ((a[c.kind] = (a[c.kind] ?? 0) + 1), a), {}),
        expectingAnswer: cmdExpect.length,
        answered: cmdAnswered.length,
        missing: cmdMissing.map((c) => ({ id: c.id, kind: c.kind, text: c.text.slice(0, 60) })),
        answeredTwice: cmdTwice,
        wrong: cmdWrong,
        ackMs: { p50: percentile(ackMs, 50), p95: percentile(ackMs, 95), max: Math.max(0, ...ackMs) },
        answerMs: { p50: percentile(answerMs, 50), p95: percentile(answerMs, 95), max: Math.max(0, ...answerMs) },
        errors: commands.filter((c) => c.error).map((c) => `${c.id}: ${c.error}`),
      },
      log: {
        commands: commands.map((c) => ({ id: c.id, kind: c.kind, t: Math.round((c.sentAt - t0) / 100) / 10, session: c.sessionId, status: c.status, ackMs: Math.round(c.ackMs), answered: responsesById.has(c.id) })),
        mentions: mentions.map((m) => ({ key: mentionKey(m), kind: m.kind, t: Math.round((m.sentAt - t0) / 100) / 10, session: m.sessionId, status: m.status, retried: m.retried })),
        calculations: calcs.map((c) => ({ ...c, startedAt: Math.round((c.startedAt - t0) / 100) / 10, endedAt: c.endedAt === null ? null : Math.round((c.endedAt - t0) / 100) / 10 })),
      },
      mentions: { sent: mentions.length, accepted: mentionsOk.length, redelivered: mentions.filter((m) => m.retried).length, replied: mentionReplied.length, missing: mentionMissing.map(mentionKey) },
      garbage: { sent: garbage.length, statuses: garbage.reduce<Record<string, number>>((a, g) => ((a[`${g.kind}:${g.error ? 'error' : g.status}`] = (a[`${g.kind}:${g.error ? 'error' : g.status}`] ?? 0) + 1), a), {}) },
      alerts: { posted: alertsTop.length, keys: alertKeys, followUps: followUps.length, missedAlerts: alertMissing, missedFollowUps: followUpMissing, falseAlerts },
      digests: { posted: digestTop.length, replies: digestReplies.length, keys: digestTop.map((m) => m.metadata?.event_payload?.key) },
      messageKeys: keyCounts.size,
      duplicateKeys,
      outbox,
    },
    bot: { counters, finalHealth, healthNon200: healthBad, log: childLog, exit, stopMs, drainMs },
    aws: { lookups: awsLookups, throttled: awsThrottled, maxPerSecondPerRegion: awsMaxPerSecond, requests: aws.requests.length },
    samples,
  };
  fs.writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 1) + '\n');

  await Promise.all([aws.close(), slack.close()]);
  return pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
