import path from 'node:path';
import zlib from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../src/ingest/ingest-files.js';
import { ingestS3, ingestS3InThread, type IngestS3Options } from '../../src/ingest/ingest-s3.js';
import type { InternalIngestOptions } from '../../src/ingest/run-ingest.js';
import { createS3Reader } from '../../src/sources/s3/index.js';
import type { Store } from '../../src/store/store.js';
import { systemClock } from '../../src/util/clock.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { storedRows, variedDay, writeGzippedLogs } from '../support/log-files.js';
import { writeOrgTrail, type OrgTrailSummary } from '../support/org-trail.js';
import { denying, startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';
import { storesClosedAfterEach } from '../support/stores.js';

const open = storesClosedAfterEach();
let s3: S3Emulator;
let trail: OrgTrailSummary;
let logKeys: string[];
let local: ReturnType<typeof storedRows>;
const BUCKET = 'org-trail';

const SETTINGS = { region: 'us-east-1', forcePathStyle: true };
const ingest = (store: Store, o: Partial<IngestS3Options & InternalIngestOptions> = {}, prefix = 'AWSLogs/') =>
  ingestS3({ bucket: BUCKET, prefix }, { store, clock: systemClock, s3: SETTINGS, ...o } as IngestS3Options);
const objectsRemembered = (store: Store) => store.db.prepare('SELECT count(*) FROM ingested_objects').pluck().get() as number;

beforeAll(async () => {
  s3 = await startS3Emulator();
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
  trail = await writeOrgTrail({ records: 4_000, sparkShare: 0.1, accounts: 3, regions: 2, sessionsPerDay: 600 }, tempDir('asb-s3-trail-'));
  const keys = await s3.uploadTree(BUCKET, path.join(trail.dir, 'AWSLogs'), 'AWSLogs/');
  logKeys = keys.filter((k) => !k.includes('CloudTrail-Digest'));
  const store = open(':memory:');
  await ingestFiles([path.join(trail.dir, 'AWSLogs')], { store, clock: systemClock });
  local = storedRows(store);
}, 120_000);
afterAll(async () => {
  await s3?.stop();
});

describe('ingest s3://', () => {
  it('stores what the same files give locally, on reader threads or in this thread, and a second run reads nothing again', async () => {
    const dir = tempDir('asb-s3-ingest-');
    const threaded = open(path.join(dir, 'store.sqlite'));
    const r = await ingest(threaded, { readers: 2, jobItems: 5 });
    expect(r).toMatchObject({ writerThread: true, readerThreads: 2, problems: [], alreadyIngested: 0, files: logKeys.length, inserted: trail.sparkRecords, insights: trail.insightRecords });
    expect(r.skipped.every((s) => s.why === 'CloudTrail digest files (not listed)')).toBe(true);
    expect(storedRows(threaded)).toEqual(local);
    expect(objectsRemembered(threaded)).toBe(logKeys.length);

    const again = await ingest(threaded, { readers: 2 });
    expect(again).toMatchObject({ read: 0, inserted: 0, files: 0, alreadyIngested: logKeys.length });

    const here = open(':memory:');
    const h = await ingest(here);
    expect({ ...h, writerThread: null, readerThreads: null }).toEqual({ ...r, writerThread: null, readerThreads: null });
    expect(storedRows(here)).toEqual(local);
  });

  it('streams objects too big to hold, with the same result', async () => {
    const store = open(':memory:');
    const r = await ingest(store, { wholeObjectBytes: 0, chunkSize: 4096 });
    expect(r).toMatchObject({ problems: [], inserted: trail.sparkRecords });
    expect(storedRows(store)).toEqual(local);
  });

  it('stopped part-way, it remembers the objects it read; the next run reads only the others', async () => {
    const dir = tempDir('asb-s3-ingest-');
    const store = open(path.join(dir, 'store.sqlite'));
    const stop = new AbortController();
    const r = await ingest(store, { readers: 2, jobItems: 3, signal: stop.signal, onProgress: (p) => p.filesDone >= 6 && stop.abort() });
    expect(r.interrupted).toBe(true);
    const done = objectsRemembered(store);
    expect(done).toBeGreaterThanOrEqual(6);
    expect(done).toBeLessThan(logKeys.length);

    const rest = await ingest(store, { readers: 2 });
    expect(rest).toMatchObject({ interrupted: false, alreadyIngested: done, problems: [] });
    expect(rest.files).toBe(logKeys.length - done);
    expect(objectsRemembered(store)).toBe(logKeys.length);
    expect(storedRows(store)).toEqual(local);
  });

  it('in a thread of its own (as the CLI runs it), it gives the same result, and stops on the signal', async () => {
    const dir = tempDir('asb-s3-thread-');
    const file = path.join(dir, 'store.sqlite');
    open(file).close(); // created and migrated, as the CLI's runtime does
    const stop = new AbortController();
    const first = await ingestS3InThread({ bucket: BUCKET, prefix: 'AWSLogs/' }, { databasePath: file, s3: SETTINGS, signal: stop.signal, onProgress: (p) => p.filesDone > 0 && stop.abort() });
    expect(first.interrupted).toBe(true);
    const rest = await ingestS3InThread({ bucket: BUCKET, prefix: 'AWSLogs/' }, { databasePath: file, s3: SETTINGS });
    expect(rest).toMatchObject({ interrupted: false, problems: [] });
    expect(rest.alreadyIngested + rest.files).toBe(logKeys.length);
    const store = open(file);
    expect(storedRows(store)).toEqual(local);
    await expect(ingestS3InThread({ bucket: 'no-such-trail', prefix: '' }, { databasePath: file, s3: SETTINGS })).rejects.toMatchObject({ message: 's3://no-such-trail: no such bucket', exitCode: 1 });
  });

  it('an object it may not read (SSE-KMS without kms:Decrypt) is one problem with the reason; the rest is stored, and the next run reads only that one', async () => {
    const victim = logKeys.find((k) => k.includes('/CloudTrail/'))!;
    const proxy = await denying(
      s3.endpoint,
      (method, url) => method === 'GET' && url.startsWith(`/${BUCKET}/${victim}`),
      'User: arn:aws:sts::123456789012:assumed-role/reader/bot is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/x',
    );
    process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
    const store = open(':memory:');
    try {
      const r = await ingest(store);
      expect(r.problems).toEqual([
        { file: `s3://${BUCKET}/${victim}`, reason: expect.stringMatching(/^access denied \(the trail is encrypted with SSE-KMS: kms:Decrypt on its key is needed too\); reading a trail needs s3:ListBucket on the bucket and s3:GetObject on its objects$/) },
      ]);
      expect(r.files).toBe(logKeys.length - 1);
      expect(objectsRemembered(store)).toBe(logKeys.length - 1);
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
      await proxy.stop();
    }
    const rest = await ingest(store);
    expect(rest).toMatchObject({ alreadyIngested: logKeys.length - 1, problems: [] });
    expect(rest.files).toBeLessThanOrEqual(1);
    expect(storedRows(store)).toEqual(local);
  });

  it('a damaged object keeps the records before the damage, is reported, and is read again next time', async () => {
    const bucket = 'damaged';
    s3.server.createBucket(bucket);
    const good = JSON.stringify({ Records: Array.from({ length: 300 }, (_, i) => ({ eventVersion: '1.08', eventSource: 's3.amazonaws.com', eventName: 'GetObject', n: i, pad: 'x'.repeat(200) })) });
    const gz = zlib.gzipSync(good);
    const key = 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/123456789012_CloudTrail_us-east-1_20261121T0000Z_x.json.gz';
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gz.subarray(0, Math.floor(gz.length * 0.6)) }));
    const store = open(':memory:');
    const run = () => ingestS3({ bucket, prefix: '' }, { store, clock: systemClock, s3: SETTINGS });
    const r = await run();
    expect(r.problems).toEqual([{ file: `s3://${bucket}/${key}`, reason: 'gzip: unexpected end of file' }]);
    expect(r.read).toBeGreaterThan(0);
    expect(r.ignored).toBe(r.read);
    expect(objectsRemembered(store)).toBe(0);
    expect((await run()).problems).toHaveLength(1);
  });

  it('refusals and a missing bucket are one clear error before anything is read', async () => {
    const store = open(':memory:');
    await expect(ingestS3({ bucket: 'no-such-trail', prefix: '' }, { store, clock: systemClock, s3: SETTINGS })).rejects.toThrow(/^s3:\/\/no-such-trail: no such bucket$/);
    const proxy = await denying(s3.endpoint, () => true);
    try {
      const reader = createS3Reader(SETTINGS, { AWS_ENDPOINT_URL_S3: proxy.endpoint });
      process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
      await expect(ingestS3({ bucket: BUCKET, prefix: 'AWSLogs/' }, { store, clock: systemClock, s3: SETTINGS, reader })).rejects.toThrow(
        `s3://${BUCKET}/AWSLogs/: access denied; reading a trail needs s3:ListBucket on the bucket and s3:GetObject on its objects`,
      );
      expect(proxy.refused).toHaveLength(1);
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
      await proxy.stop();
    }
    expect(store.recordCount()).toBe(0);
  });
});

describe('athena-session-bot ingest s3:// (the built CLI)', () => {
  const env = (dir: string) => ({ ...s3.env, DATABASE_PATH: path.join(dir, 'store.sqlite') });

  it('imports a day range, says what it did on one line, keeps standard error clean, and resumes', async () => {
    const dir = tempDir('asb-s3-cli-');
    const r = await runCli(['ingest', `s3://${BUCKET}/AWSLogs/`, '--since', trail.start.slice(0, 10), '--until', trail.end.slice(0, 10)], env(dir));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ingested ${trail.sparkRecords.toLocaleString('en-US')} new records from ${logKeys.length.toLocaleString('en-US')} objects \\(`));
    const again = await runCli(['ingest', `s3://${BUCKET}/AWSLogs/`], env(dir));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^ingested 0 new records from 0 objects \\(0 read, ${logKeys.length.toLocaleString('en-US')} objects read by an earlier run, `));
    // A range before the trail lists nothing.
    const none = await runCli(['ingest', `s3://${BUCKET}`, '--until', '2001-01-01'], env(dir));
    expect(none.stdout).toMatch(/^ingested 0 new records from 0 objects \(0 read/);
  });

  it('SIGKILL after a commit with rows uncommitted: objects are remembered only with their records, and the re-run stores every record once', async () => {
    const dir = tempDir('asb-s3-crash-');
    const records = variedDay(3400); // ~58k: more than one 50k-row transaction of the real CLI
    writeGzippedLogs(dir, records, 1000);
    await s3.uploadTree('crash', path.join(dir, 'AWSLogs'), 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/02/');
    const cliEnv = { ...s3.env, DATABASE_PATH: path.join(dir, 'store.sqlite') };
    // The writer writes ten batches of 5,000 rows, commits, and dies having written the eleventh.
    const killed = await runCli(['ingest', 's3://crash/AWSLogs/'], { ...cliEnv, ATHENA_BOT_FAILPOINTS: 'ingest.rows-written:11' });
    expect(killed.code).toBeNull();
    expect(killed.stderr).toContain('failpoint ingest.rows-written:11 reached: SIGKILL');

    const after = open(cliEnv.DATABASE_PATH);
    const kept = after.recordCount();
    expect(kept).toBeGreaterThanOrEqual(50_000);
    const remembered = after.db.prepare('SELECT key FROM ingested_objects').pluck().all() as string[];
    expect(remembered.length).toBeGreaterThan(0);
    expect(remembered.length * 1000).toBeLessThanOrEqual(kept);
    // Every object remembered has all of its records stored.
    const stored = new Set(after.db.prepare('SELECT event_id FROM all_records').pluck().all() as string[]);
    for (const key of remembered) {
      const n = Number(/(\d{4})\.json\.gz$/.exec(key)![1]);
      expect(records.slice(n * 1000, (n + 1) * 1000).every((r) => stored.has(r.eventID)), key).toBe(true);
    }
    after.close();

    const rerun = await runCli(['ingest', 's3://crash/AWSLogs/'], cliEnv);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`${remembered.length} objects read by an earlier run`);
    const store = open(cliEnv.DATABASE_PATH);
    expect(store.recordCount()).toBe(records.length);
    expect(objectsRemembered(store)).toBe(Math.ceil(records.length / 1000));
  }, 90_000);

  it.each([
    [['ingest', 's3://'], 2, /^athena-session-bot: no bucket in "s3:\/\/" \(expected s3:\/\/bucket\/prefix\)\n$/],
    [['ingest', 's3://Not_A*Bucket/x'], 2, /^athena-session-bot: not a valid S3 bucket name: "Not_A\*Bucket"\n$/],
    [['ingest', `s3://${BUCKET}`, '--since', '2026-13-01'], 2, /^athena-session-bot: --since must be a date as YYYY-MM-DD, got "2026-13-01"\n$/],
    [['ingest', `s3://${BUCKET}`, '--since', '2026-11-22', '--until', '2026-11-21'], 2, /^athena-session-bot: --since 2026-11-22 is after --until 2026-11-21\n$/],
    [['ingest', 'some/dir', '--since', '2026-11-21'], 2, /^athena-session-bot: --since and --until apply to an s3:\/\/ trail only\n$/],
    [['ingest', `s3://${BUCKET}`, 'other.json'], 2, /^athena-session-bot: ingest one s3:\/\/ location at a time, without local paths\n/],
    [['ingest', 's3://no-such-trail/AWSLogs/'], 1, /^athena-session-bot: s3:\/\/no-such-trail: no such bucket\n$/],
  ])('%j exits %i with one line', async (args, code, stderr) => {
    const r = await runCli(args as string[], env(tempDir('asb-s3-cli-')));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(stderr);
    expect(r.stdout).toBe('');
  });

  it('without credentials, or refused, it says so in one line', async () => {
    const dir = tempDir('asb-s3-cli-');
    const noCreds = { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_EC2_METADATA_DISABLED: 'true', HOME: dir, DATABASE_PATH: path.join(dir, 'store.sqlite') };
    const r = await runCli(['ingest', `s3://${BUCKET}/`], noCreds);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('athena-session-bot: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an instance or task role\n');
    const proxy = await denying(s3.endpoint, () => true);
    try {
      const denied = await runCli(['ingest', `s3://${BUCKET}/AWSLogs/`], { ...env(dir), AWS_ENDPOINT_URL_S3: proxy.endpoint });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toBe(`athena-session-bot: s3://${BUCKET}/AWSLogs/: access denied; reading a trail needs s3:ListBucket on the bucket and s3:GetObject on its objects\n`);
    } finally {
      await proxy.stop();
    }
  });
});

