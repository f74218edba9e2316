/**
 * Figure 5 — slash-command acknowledgement: the REAL bot (`node dist/main.js start`) over a
 * copy of the 1M-record store, against the AWS and Slack fakes; bursts of 100 concurrent
 * signed `/athena-session …` POSTs (known ids, unknown-but-well-formed ids, garbage); the HTTP
 * round trip to the 200 ack of each, and every answer checked at the fake's response_url.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { awsEnvFor, startAwsFake } from '../test/fakes/aws-fake.js';
import { startSlackFake } from '../test/fakes/slack-fake.js';
import { startDaemon } from '../test/support/cli.js';
import { freePort, postCommand, SIGNING_SECRET } from '../test/support/slack-requests.js';
import { ensureBigStore, sessionsBySize } from './ingest.bench.js';
import { bucketQuantile, histogramBuckets, ms, percentile, rmDb, sleep, subtractBuckets, waitFor, WORK, type Figure, type FigureResult } from './lib.js';

const TOKEN = 'xoxb-bench-token';
const TARGET_P99_MS = 200;
const GARBAGE = ['hello', 'DROP TABLE records;', '12345', 'a2c1ebba-ad01-865f', 'session please', `${'x'.repeat(300)}`, '<@U0BOT> ?', '9cc1ebb2-aac5-b1ca-8247-5d827bd8232g'];

type Kind = 'known' | 'unknown' | 'garbage';

export const slashFigure: Figure = {
  name: 'slash',
  async run(ctx): Promise<FigureResult> {
    const { db, workload } = await ensureBigStore(ctx);
    const rounds = ctx.quick ? 1 : 3;
    const perRound = 100;
    const copy = path.join(WORK, 'store-slash.sqlite');
    rmDb(copy);
    fs.copyFileSync(db, copy);
    if (fs.existsSync(db + '-wal')) fs.copyFileSync(db + '-wal', copy + '-wal');

    const aws = await startAwsFake();
    const slack = await startSlackFake({ token: TOKEN });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const daemon = startDaemon({
      ...awsEnvFor(aws),
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      DATABASE_PATH: copy,
      POLL_INTERVAL_SECONDS: '3600',
      LOG_LEVEL: 'info',
    });
    try {
      const startedAt = Date.now();
      await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200, 60_000, 100, '/healthz');
      // Let the start-up cycle (24 h backfill + Athena enrichment of open sessions) finish first.
      await waitFor(() => daemon.stderr().includes('"msg":"poll cycle done"'), 60_000, 50, 'the first poll cycle');
      const cycleDoneAt = Date.now();
      let last = -1;
      // (--quick: measured while the start-up enrichment may still run; a smoke run only.)
      if (!ctx.quick) await waitFor(
        async () => {
          const n = aws.requests.length;
          const quiet = n === last;
          last = n;
          return quiet;
        },
        60_000,
        1500,
        'the start-up enrichment to finish',
      );
      const readyMs = Date.now() - startedAt;
      const firstCycleMs = cycleDoneAt - startedAt;
      ctx.log(`slash: bot ready in ${(readyMs / 1000).toFixed(1)} s (first poll cycle done after ${(firstCycleMs / 1000).toFixed(1)} s; start-up cycle: ${aws.lookupCount()} LookupEvents, ${aws.requests.filter((r) => r.service === 'athena').length} Athena calls)`);

      // Controls: what 100 concurrent requests cost this client and host without report work.
      const burst = async (fn: (i: number) => Promise<number>) => Promise.all(Array.from({ length: perRound }, (_, i) => fn(i)));
      const healthz = await burst(async () => {
        const t0 = performance.now();
        await (await fetch(`${url}/healthz`)).text();
        return performance.now() - t0;
      });
      await sleep(500);
      const help = await burst(async (i) => (await postCommand(url, { text: i % 2 ? 'help' : 'not-an-id', responseUrl: slack.responseUrl(`help-${i}`) })).ms);
      await sleep(500);
      const histogramBefore = await histogramBuckets(url, 'athena_bot_command_ack_seconds');

      const sessions = sessionsBySize(workload);
      const known = [...sessions.slice(0, 30), ...sessions.slice(30).filter((_, i) => i % 7 === 0)].map((s) => s.sessionId);
      const acks: Array<{ round: number; kind: Kind; ms: number; status: number }> = [];
      const roundStats: Array<{ round: number; burstMs: number; lastAnswerMs: number; expectedAnswers: number; answers: number; wrong: string[] }> = [];
      let k = 0;
      for (let round = 1; round <= rounds; round++) {
        const cmds: Array<{ kind: Kind; text: string; rid: string; id?: string }> = [];
        for (let i = 0; i < perRound; i++) {
          const rid = `r${round}-${i}`;
          if (i % 20 === 7) cmds.push({ kind: 'unknown', text: randomUUID(), rid });
          else if (i % 20 === 13) cmds.push({ kind: 'garbage', text: GARBAGE[(k++ + round) % GARBAGE.length]!, rid });
          else {
            const id = known[(k++ * 7 + round) % known.length]!;
            cmds.push({ kind: 'known', text: i % 10 === 0 ? `${id.toUpperCase()} public` : id, rid, id });
          }
        }
        const wall0 = Date.now();
        const t0 = performance.now();
        const results = await Promise.all(
          cmds.map(async (c) => {
            const r = await postCommand(url, { text: c.text, responseUrl: slack.responseUrl(c.rid), userId: 'U0ALICE', channelId: 'C0GENERAL' });
            return { c, r };
          }),
        );
        const burstMs = performance.now() - t0;
        const wrong: string[] = [];
        for (const { c, r } of results) {
          acks.push({ round, kind: c.kind, ms: r.ms, status: r.status });
          if (r.status !== 200) wrong.push(`${c.rid}: HTTP ${r.status}`);
          if (c.kind === 'garbage' && !r.text.includes('not a session id')) wrong.push(`${c.rid}: garbage ack ${r.text.slice(0, 80)}`);
        }
        const expect = cmds.filter((c) => c.kind !== 'garbage');
        const answered = await waitFor(
          () => {
            const got = new Set(slack.responses().map((x) => x.id));
            return expect.every((c) => got.has(c.rid)) ? got : undefined;
          },
          120_000,
          25,
          'every answer at the response_url',
        ).catch(() => new Set(slack.responses().map((x) => x.id)));
        const lastAnswerMs = Math.max(...slack.responses().filter((x) => x.id.startsWith(`r${round}-`)).map((x) => x.at)) - wall0;
        for (const c of expect) {
          const resp = slack.responses(c.rid)[0];
          if (!resp) {
            wrong.push(`${c.rid}: no answer`);
            continue;
          }
          const text = String(resp.body?.text ?? '');
          if (c.kind === 'known' && !text.includes(c.id!)) wrong.push(`${c.rid}: known id answered ${text.slice(0, 80)}`);
          if (c.kind === 'unknown' && !text.includes('was not found')) wrong.push(`${c.rid}: unknown id answered ${text.slice(0, 80)}`);
        }
        for (const c of cmds.filter((c) => c.kind === 'garbage')) if (slack.responses(c.rid).length) wrong.push(`${c.rid}: garbage got a response_url post`);
        roundStats.push({ round, burstMs, lastAnswerMs, expectedAnswers: expect.length, answers: expect.filter((c) => answered.has(c.rid)).length, wrong });
        ctx.log(`slash: round ${round}: acks p50 ${percentile(acks.filter((a) => a.round === round).map((a) => a.ms), 50).toFixed(1)} ms, max ${Math.max(...acks.filter((a) => a.round === round).map((a) => a.ms)).toFixed(1)} ms; answers ${roundStats.at(-1)!.answers}/${expect.length}, last after ${(lastAnswerMs / 1000).toFixed(1)} s`);
        await sleep(500);
      }
      const histogram = subtractBuckets(await histogramBuckets(url, 'athena_bot_command_ack_seconds'), histogramBefore);
      const serverP99 = bucketQuantile(histogram, 0.99);
      const times = acks.map((a) => a.ms);
      const p50 = percentile(times, 50);
      const p99 = percentile(times, 99);
      const max = Math.max(...times);
      const expected = roundStats.reduce((n, r) => n + r.expectedAnswers, 0);
      const answers = roundStats.reduce((n, r) => n + r.answers, 0);
      const wrong = roundStats.flatMap((r) => r.wrong);
      const ok200 = acks.filter((a) => a.status === 200).length;
      const garbageAcks = acks.filter((a) => a.kind === 'garbage').length;
      return {
        rows: [
          { figure: `slash ack, ${acks.length} commands (${rounds}×${perRound} concurrent), p50`, value: ms(p50), target: '—', ok: null },
          { figure: 'slash ack p99', value: ms(p99), target: `< ${TARGET_P99_MS} ms`, ok: p99 < TARGET_P99_MS },
          { figure: 'slash ack max', value: ms(max), target: '< 3 s (Slack)', ok: max < 3000 },
          {
            figure: 'slash answers delivered',
            value: `${ok200}/${acks.length} acked 200; ${answers}/${expected} at response_url + ${garbageAcks} garbage answered in the ack; ${wrong.length} wrong`,
            target: 'all',
            ok: ok200 === acks.length && answers === expected && wrong.length === 0,
          },
          { figure: '  bot-side ack time (its own histogram), p99 ≤', value: serverP99 === null ? 'n/a' : `${serverP99 * 1000} ms bucket`, target: '—', ok: null },
          { figure: `  control: ${perRound} concurrent GET /healthz, p50 / p99`, value: `${ms(percentile(healthz, 50))} / ${ms(percentile(healthz, 99))}`, target: '—', ok: null },
          { figure: `  control: ${perRound} concurrent help/garbage commands (no report), p50 / p99`, value: `${ms(percentile(help, 50))} / ${ms(percentile(help, 99))}`, target: '—', ok: null },
          { figure: 'slash: burst of 100 fully answered after (max)', value: `${(Math.max(...roundStats.map((r) => r.lastAnswerMs)) / 1000).toFixed(1)} s`, target: '—', ok: null },
        ],
        raw: {
          store: copy,
          readyMs,
          firstCycleMs,
          p50Ms: p50,
          p90Ms: percentile(times, 90),
          p99Ms: p99,
          maxMs: max,
          byKind: Object.fromEntries(
            (['known', 'unknown', 'garbage'] as const).map((kind) => {
              const t = acks.filter((a) => a.kind === kind).map((a) => a.ms);
              return [kind, { n: t.length, p50Ms: percentile(t, 50), p99Ms: percentile(t, 99), maxMs: Math.max(...t) }];
            }),
          ),
          rounds: roundStats,
          botAckHistogram: histogram,
          botAckP99BucketSeconds: serverP99,
          controlHealthzMs: healthz.map((x) => Number(x.toFixed(2))),
          controlHelpCommandMs: help.map((x) => Number(x.toFixed(2))),
          acksMs: acks.map((a) => [a.round, a.kind, Number(a.ms.toFixed(2)), a.status]),
          athenaCalls: aws.requests.filter((r) => r.service === 'athena').length,
          lookupCalls: aws.lookupCount(),
        },
        notes: wrong.length ? [`${wrong.slice(0, 5).join('; ')}`] : [],
      };
    } finally {
      await daemon.stop('SIGTERM');
      await slack.close();
      await aws.close();
      rmDb(copy);
    }
  },
};
