import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEnvFor, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { spawn } from 'node:child_process';
import { ingestCommand } from '../../src/cli/commands/ingest.js';
import { systemClock } from '../../src/util/clock.js';
import { CLI, ROOT, runCli } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { call, executor, fakeUuid, human, referenceRecords, startCalculation, startSession, terminateSession, toLookupEvent } from '../support/cloudtrail-records.js';

const SESSION = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
let dir: string;
let db: string;

beforeAll(() => {
  dir = tempDir('asb-cli-');
  db = path.join(dir, 'store.sqlite');
});

const env = (extra: Record<string, string> = {}) => ({ DATABASE_PATH: db, ...extra });

describe('CLI', () => {
  it('demo works with no credentials and prints a session report and a digest', async () => {
    const r = await runCli(['demo'], {});
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Athena session a2c1ebba-ad01-865f-ed2d-a142b7451f7e');
    expect(r.stdout).toContain('Athena Spark digest — 2026-11-02');
    expect(r.stdout).toContain('revenue-forecast');
  });

  it('ingests S3 log files (plain and gzipped), LookupEvents output and directories, skipping digest files', async () => {
    const files = path.join(dir, 'AWSLogs', '123456789012');
    const logs = path.join(files, 'CloudTrail', 'us-east-1', '2022', '10', '14');
    const digests = path.join(files, 'CloudTrail-Digest', 'us-east-1', '2022', '10', '14');
    fs.mkdirSync(logs, { recursive: true });
    fs.mkdirSync(digests, { recursive: true });
    const [start, terminate, imp, update, calc] = referenceRecords();
    fs.writeFileSync(path.join(logs, 'a.json.gz'), zlib.gzipSync(JSON.stringify({ Records: [start, imp] })));
    fs.writeFileSync(path.join(logs, 'b.json'), JSON.stringify({ Records: [update, calc, { eventVersion: '1.08' }] }));
    fs.writeFileSync(path.join(digests, '123456789012_CloudTrail-Digest_us-east-1_x.json.gz'), zlib.gzipSync('{"digestStartTime":"x"}'));
    const cliOutput = path.join(dir, 'lookup.json');
    const ev = toLookupEvent(terminate!);
    fs.writeFileSync(cliOutput, JSON.stringify({ Events: [{ ...ev, EventTime: '2022-10-14T17:21:03+00:00' }], NextToken: 'abc' }, null, 4));
    const r = await runCli(['ingest', path.join(dir, 'AWSLogs'), cliOutput], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ingested 5 new records from 3 files/);
    expect(r.stdout).toContain('1 malformed');
    expect(r.stderr).toContain('skipped 1 malformed record: invalid record: eventID');
    const again = await runCli(['ingest', path.join(dir, 'AWSLogs')], env());
    expect(again.stdout).toMatch(/ingested 0 new records/);
  });

  it('a reader that closes the pipe early (`demo | head -1`) ends the command quietly, with no EPIPE trace', async () => {
    const child = spawn(process.execPath, [CLI, 'demo'], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });

  it('ingest stopped by SIGINT/SIGTERM says so, keeps what it read and exits 130', async () => {
    const stop = new AbortController();
    stop.abort();
    let out = '';
    let err = '';
    const code = await ingestCommand([path.join(dir, 'AWSLogs')], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      env: { DATABASE_PATH: path.join(dir, 'interrupted.sqlite'), LOG_LEVEL: 'silent' },
      clock: systemClock,
      stopSignal: stop.signal,
    });
    expect(code).toBe(130);
    expect(out).toMatch(/^ingested 0 new records/);
    expect(err).toContain('interrupted; what was read is stored. Run the same command again to finish: stored records are skipped.');
  });

  it('session --json has the SPEC keys', async () => {
    const r = await runCli(['session', SESSION.toUpperCase(), '--json'], env());
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['sessionId', 'state', 'stateSource', 'owner', 'ownerArn', 'workgroup', 'startedAt', 'endedAt', 'region', 'calculations', 'notebookId', 'failedCalls', 'events', 'account', 'tags', 'sparkUiUrl', 'consoleUrl']) {
      expect(j).toHaveProperty(k);
    }
    expect(j).toMatchObject({ account: '123456789012', tags: {}, sparkUiUrl: null });
    expect(j.consoleUrl).toMatch(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/athena\/home\?region=us-east-1#/);
    expect(j).toMatchObject({ sessionId: SESSION, state: 'TERMINATED', stateSource: 'cloudtrail', owner: 'alias', workgroup: 'notebook-workgroup', startedAt: '2022-10-14T17:05:36.000Z', endedAt: '2022-10-14T17:21:03.000Z', region: 'us-east-1', notebookId: 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04', events: 2 });
    const human = await runCli(['session', SESSION], env());
    expect(human.stdout).toMatch(/Owner: +alias\n/);
    expect(human.stdout).not.toContain('203.0.113');
  });

  it('digest --json has the SPEC keys', async () => {
    const r = await runCli(['digest', '--date', '2022-10-14', '--json'], env());
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['date', 'timezone', 'sessionsStarted', 'sessionsEnded', 'notebookImports', 'notebooksCreated', 'calculationsStarted', 'longRunningCalculations', 'failedCalls', 'failedCallsByCode', 'dpuHours', 'dpuHoursIsUpperBound', 'estimatedCostUsd', 'byUser', 'byWorkgroup', 'byAccount']) {
      expect(j).toHaveProperty(k);
    }
    // 9cc1ebb2… has only calls from inside it; it ended (inferred, idle timeout) the same day.
    expect(j).toMatchObject({ date: '2022-10-14', timezone: 'UTC', sessionsStarted: 1, sessionsEnded: 2, notebookImports: 1, calculationsStarted: 1, dpuHoursIsUpperBound: true });
  });

  it('digest --chart FILE writes the chart as PNG; --week covers the 7 days ending the date; DIGEST_GROUP_TAGS adds tag tables', async () => {
    const png = path.join(dir, 'digest.png');
    const r = await runCli(['digest', '--date', '2022-10-14', '--chart', png], env({ DIGEST_GROUP_TAGS: 'team' }));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout).toContain(`chart written to ${png}`);
    expect(r.stdout).toContain('no session started in this period carried the tag key "team"');
    const bytes = fs.readFileSync(png);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.readUInt32BE(16)).toBeGreaterThan(600); // IHDR width

    const week = await runCli(['digest', '--date', '2022-10-16', '--week', '--json'], env());
    expect(week.code).toBe(0);
    expect(JSON.parse(week.stdout)).toMatchObject({ period: 'week', from: '2022-10-10', to: '2022-10-16', date: '2022-10-16', sessionsStarted: 1, notebookImports: 1 });
    const text = await runCli(['digest', '--date', '2022-10-16', '--week'], env());
    expect(text.stdout).toContain('Athena Spark weekly digest — 2022-10-10 to 2022-10-16 (UTC)');
  });

  it('loads the drawing libraries only for a command that draws (start-up time of the others)', async () => {
    // A module hook that names every Vega, Vega-Lite or resvg module the process loads.
    const hooks = path.join(dir, 'trace-hooks.mjs');
    fs.writeFileSync(
      hooks,
      `export async function resolve(specifier, context, next) {
        const r = await next(specifier, context);
        if (/node_modules\\/(vega|vega-lite|@resvg)\\//.test(r.url)) console.error('drawing library loaded: ' + r.url);
        return r;
      }`,
    );
    const trace = path.join(dir, 'trace.mjs');
    fs.writeFileSync(trace, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const traced = env({ NODE_OPTIONS: `--import=${trace}` });
    for (const args of [['digest', '--date', '2022-10-14', '--json'], ['digest', '--date', '2022-10-14'], ['help']]) {
      const r = await runCli(args, traced);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
    const drawing = await runCli(['digest', '--date', '2022-10-14', '--chart', path.join(dir, 'traced.png')], traced);
    expect(drawing.code).toBe(0);
    expect(drawing.stderr).toContain('drawing library loaded');
  });

  it('digest --chart to a path it cannot write: one clear line, exit 1, nothing else', async () => {
    for (const target of [path.join(dir, 'no-such-dir', 'x.png'), dir]) {
      const r = await runCli(['digest', '--date', '2022-10-14', '--chart', target], env());
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^athena-session-bot: cannot write the chart to ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (no such directory|it is a directory)\n$`));
    }
  });

  it('a digest of a day before the store begins says so, and a DST day in New York has its 25 hours', async () => {
    const before = await runCli(['digest', '--date', '2022-09-01'], env());
    expect(before.code).toBe(0);
    expect(before.stdout).toContain("No records for this period: the store's records begin 2022-10-14");
    const fall = await runCli(['digest', '--date', '2022-11-06', '--json'], env({ DIGEST_TIMEZONE: 'America/New_York' }));
    const j = JSON.parse(fall.stdout) as { chart: { buckets: Array<{ label: string }> }; periodNote: string };
    expect(j.chart.buckets.map((b) => b.label).slice(0, 3)).toEqual(['00', '01 EDT', '01 EST']);
    expect(j.chart.buckets).toHaveLength(25);
    expect(j.periodNote).toBe('25-hour day: clocks went back');
  });

  it('exit status: 2 for usage, malformed ids and bad configuration; 1 for not found; one line on stderr', async () => {
    const cases: Array<[string[], Record<string, string>, number, RegExp]> = [
      [['session', 'not-a-session'], env(), 2, /malformed session id "not-a-session"/],
      [['session', '00000000-0000-0000-0000-000000000000'], env(), 1, /not found/],
      [['digest', '--date', '2026-02-30'], env(), 2, /--date must be a calendar date/],
      [['digest', '--bogus'], env(), 2, /Unknown option '--bogus'/],
      [['digest', '--chart'], env(), 2, /Option '--chart <value>' argument missing/],
      [['frobnicate'], env(), 2, /unknown command "frobnicate"/],
      [['poll'], env(), 2, /usage: athena-session-bot poll --once/],
      [['poll', '--once'], env(), 2, /AWS_REGIONS: is required/],
      [['session', SESSION], env({ POLL_INTERVAL_SECONDS: 'soon' }), 2, /^athena-session-bot: POLL_INTERVAL_SECONDS: must be a whole number/],
      [['digest'], env({ SLACK_BOT_TOKEN: 'SECRET-abc123' }), 2, /SLACK_BOT_TOKEN: must be a bot token/],
      [['ingest', path.join(dir, 'missing.json')], env(), 1, /missing\.json: no such file or directory/],
    ];
    for (const [args, e, code, pattern] of cases) {
      const r = await runCli(args, e);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('SECRET-abc123');
    }
  });

  describe('against the CloudTrail/Athena fake', () => {
    let fake: AwsFake;
    beforeAll(async () => {
      fake = await startAwsFake();
    });
    afterAll(() => fake.close());

    it('poll --once backfills, prints what it ingested and leaves stderr clean', async () => {
      const sid = fakeUuid();
      const now = Date.now();
      fake.addEvents([
        startSession({ sessionId: sid, eventTime: now - 3_600_000, actor: human('erin') }),
        startCalculation({ sessionId: sid, calculationId: fakeUuid(), eventTime: now - 3_500_000 }),
        call('GetSessionStatus', { actor: executor(sid), eventTime: now - 600_000, params: { sessionId: sid } }),
        terminateSession({ sessionId: sid, eventTime: now - 60_000 }),
      ]);
      const file = path.join(dir, 'poll.sqlite');
      const r = await runCli(['poll', '--once'], { ...awsEnvFor(fake), DATABASE_PATH: file });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/us-east-1: backfilled .* 1 LookupEvents call \(event-source\), 4 records fetched, 4 new/);
      const s = await runCli(['session', sid, '--json'], { ...awsEnvFor(fake), DATABASE_PATH: file });
      expect(JSON.parse(s.stdout)).toMatchObject({ owner: 'erin', state: 'TERMINATED', stateSource: 'cloudtrail' });
    });

    it('session ID looks an unknown session up in CloudTrail before saying not found', async () => {
      const sid = fakeUuid();
      const now = Date.now();
      fake.addEvents([startSession({ sessionId: sid, eventTime: now - 7_200_000, actor: human('frank') }), call('GetSessionStatus', { actor: executor(sid), eventTime: now - 7_000_000, params: { sessionId: sid } })]);
      const file = path.join(dir, 'live.sqlite');
      const r = await runCli(['session', sid, '--json'], { ...awsEnvFor(fake), DATABASE_PATH: file });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ sessionId: sid, owner: 'frank' });
      const missing = await runCli(['session', fakeUuid()], { ...awsEnvFor(fake), DATABASE_PATH: file });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/not found in the store nor in CloudTrail/);
    });

    it('answers from the store, marked unconfirmed, when AWS cannot be reached', async () => {
      const file = path.join(dir, 'offline.sqlite');
      await runCli(['ingest', path.join(dir, 'AWSLogs')], { DATABASE_PATH: file });
      const started = Date.now();
      const r = await runCli(['session', SESSION], { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_CLOUDTRAIL: 'http://127.0.0.1:9', AWS_ENDPOINT_URL_ATHENA: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'AKIDFAKE', AWS_SECRET_ACCESS_KEY: 'x', DATABASE_PATH: file });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Athena API not consulted or not reachable');
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  });
});
