import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isCloudTrailDigestPath,
  listCloudTrailFiles,
  readCloudTrailFiles,
  type FileProblem,
  type RawBatch,
  type ReadOptions,
  type ReadProgress,
} from '../../../src/sources/files/index.js';
import { fakeUuid, human, record, referenceRecords, toLookupEvent, type CloudTrailRecord } from '../../support/cloudtrail-records.js';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-files-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let variant = 0;
function write(rel: string, content: string | Buffer, gzip = false): string {
  const file = path.join(dir, `v${variant}`, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  fs.writeFileSync(file, gzip ? zlib.gzipSync(data) : data);
  return file;
}

interface Collected {
  batches: RawBatch[];
  problems: FileProblem[];
  skipped: Array<[string, string]>;
  progress: ReadProgress[];
}

async function collectWith(paths: string[], opts: ReadOptions = {}): Promise<Collected> {
  const out: Collected = { batches: [], problems: [], skipped: [], progress: [] };
  for await (const b of readCloudTrailFiles(paths, {
    onProblem: (p) => out.problems.push(p),
    onSkipped: (f, why) => out.skipped.push([f, why]),
    onProgress: (p) => out.progress.push(p),
    ...opts,
  })) {
    out.batches.push(b);
  }
  return out;
}

const items = (c: Collected): unknown[] => c.batches.flatMap((b) => b.items.map((t) => JSON.parse(t)));

/** Records whose strings contain JSON structure characters and non-ASCII text. */
function trickyRecords(n: number): CloudTrailRecord[] {
  const out: CloudTrailRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      record({
        eventName: 'StartCalculationExecution',
        eventTime: Date.UTC(2022, 9, 14, 17, 5, 36) + i * 1000,
        actor: human(`user-${i}`),
        eventId: fakeUuid(1000 + i),
        requestParameters: {
          sessionId: `s-${i}`,
          codeBlock: `print("a}\\"]{ é 日本 ${i}")\n{[\\`,
          description: 'a}"]{ é 日本',
        },
        responseElements: { calculationExecutionId: `c-${i}`, state: 'CREATING' },
      }),
    );
  }
  return out;
}

describe.each([
  ['small files read whole', {}],
  ['every file streamed', { smallFileBytes: 0 }],
])('readCloudTrailFiles (%s)', (_name, pathOpts) => {
  beforeAll(() => {
    variant++;
  });
  const collect = (paths: string[], opts: ReadOptions = {}): Promise<Collected> => collectWith(paths, { ...pathOpts, ...opts });

  it('reads plain and gzipped S3 log files (minified and pretty-printed)', async () => {
    const recs = [...referenceRecords(), ...trickyRecords(5)];
    const plain = write('s3/plain.json', JSON.stringify({ Records: recs }));
    const gz = write('s3/gz.json.gz', JSON.stringify({ Records: recs }, null, 4), true);
    // gzip detection is by magic bytes, not extension
    const gzNoExt = write('s3/gzipped-but-named.json', JSON.stringify({ Records: recs }), true);
    const c = await collect([plain, gz, gzNoExt]);
    expect(c.problems).toEqual([]);
    expect(c.batches.map((b) => [b.file, b.format])).toEqual([
      [plain, 'records'],
      [gz, 'records'],
      [gzNoExt, 'records'],
    ]);
    expect(items(c)).toEqual([...recs, ...recs, ...recs]);
    // exact text of the minified file
    expect(c.batches[0]!.items).toEqual(recs.map((r) => JSON.stringify(r)));
  });

  it('reads LookupEvents output with numeric and ISO EventTime, Events before and after NextToken', async () => {
    const recs = referenceRecords();
    const events = recs.map(toLookupEvent);
    const iso = events.map((e) => ({ ...e, EventTime: new Date((e.EventTime as number) * 1000).toISOString().replace('.000Z', '+00:00') }));
    const before = write('lookup/before.json', JSON.stringify({ Events: events, NextToken: 'tok{"]' }, null, 4));
    const after = write('lookup/after.json', JSON.stringify({ NextToken: 'tok{"]', Events: iso }));
    const c = await collect([before, after]);
    expect(c.problems).toEqual([]);
    expect(c.batches.every((b) => b.format === 'events')).toBe(true);
    expect(items(c)).toEqual([...events, ...iso]);
    const first = JSON.parse(c.batches[0]!.items[0]!);
    expect(typeof first.EventTime).toBe('number');
    expect(JSON.parse(first.CloudTrailEvent)).toEqual(recs[0]);
    expect(JSON.parse(c.batches[1]!.items[0]!).EventTime).toMatch(/^2022-10-14T17:05:36\+00:00$/);
  });

  it('handles elements straddling chunk boundaries (tiny chunks, plain and gzip)', async () => {
    const recs = trickyRecords(7);
    const text = JSON.stringify({ NextToken: 'x', Records: recs }, null, 2);
    const plain = write('chunks/p.json', text);
    const gz = write('chunks/g.json.gz', text, true);
    for (const chunkSize of [1, 3, 64, 1000]) {
      const c = await collect([plain, gz], { chunkSize });
      expect(c.problems).toEqual([]);
      expect(items(c)).toEqual([...recs, ...recs]);
    }
  });

  it('splits into batches of batchSize, never mixing files', async () => {
    const recs = trickyRecords(25);
    const a = write('batch/a.json', JSON.stringify({ Records: recs }));
    const b = write('batch/b.json.gz', JSON.stringify({ Records: recs.slice(0, 3) }), true);
    const c = await collect([a, b], { batchSize: 10, chunkSize: 200 });
    expect(c.batches.map((x) => [path.basename(x.file), x.items.length])).toEqual([
      ['a.json', 10],
      ['a.json', 10],
      ['a.json', 5],
      ['b.json.gz', 3],
    ]);
    expect(items(c)).toEqual([...recs, ...recs.slice(0, 3)]);
  });

  it('walks directories recursively in sorted order, skipping digests and non-JSON files', async () => {
    const r = referenceRecords();
    const base = 'walk/AWSLogs/123456789012';
    const f2 = write(`${base}/CloudTrail/us-east-1/2022/10/14/b.json.gz`, JSON.stringify({ Records: [r[1]] }), true);
    const f1 = write(`${base}/CloudTrail/us-east-1/2022/10/14/a.json`, JSON.stringify({ Records: [r[0]] }));
    const f3 = write(`${base}/CloudTrail/us-west-2/2022/10/14/c.JSON`, JSON.stringify({ Records: [r[2]] }));
    const digest1 = write(
      `${base}/CloudTrail-Digest/us-east-1/2022/10/14/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20221014T170536Z.json.gz`,
      JSON.stringify({ digestStartTime: 'x' }),
      true,
    );
    const digest2 = write(`${base}/misc/123456789012_CloudTrail-Digest_us-east-1_x.json`, '{}');
    const txt = write(`${base}/CloudTrail/notes.txt`, 'hello');
    const c = await collect([path.join(dir, `v${variant}`, 'walk')]);
    expect(c.problems).toEqual([]);
    expect(c.batches.map((b) => b.file)).toEqual([f1, f2, f3]);
    expect(items(c)).toEqual([r[0], r[1], r[2]]);
    expect(c.skipped).toEqual([
      [txt, 'not a .json/.json.gz file'],
      [digest1, 'CloudTrail digest file'],
      [digest2, 'CloudTrail digest file'],
    ]);
    expect(isCloudTrailDigestPath(digest1)).toBe(true);
    expect(isCloudTrailDigestPath(f1)).toBe(false);

    // listing gives sizes on disk
    const listed = await listCloudTrailFiles([path.join(dir, `v${variant}`, 'walk')]);
    expect(listed).toEqual([f1, f2, f3].map((file) => ({ file, size: fs.statSync(file).size })));
  });

  it('reads a file named explicitly whatever its name, but still skips digests', async () => {
    const r = referenceRecords();
    const odd = write('explicit/records.log', JSON.stringify({ Records: [r[0]] }));
    const digest = write('explicit/123_CloudTrail-Digest_us-east-1_x.json.gz', '{}', true);
    const c = await collect([odd, digest, odd]);
    expect(items(c)).toEqual([r[0]]);
    expect(c.skipped).toEqual([
      [digest, 'CloudTrail digest file'],
      [odd, 'already listed'],
    ]);
  });

  it('follows symbolic links without looping and reports broken ones', async () => {
    const r = referenceRecords();
    const f = write('links/real/a.json', JSON.stringify({ Records: [r[0]] }));
    const root = path.dirname(path.dirname(f));
    fs.symlinkSync(root, path.join(root, 'real', 'loop'));
    fs.symlinkSync(path.join(root, 'nowhere.json'), path.join(root, 'real', 'broken.json'));
    const c = await collect([root]);
    expect(items(c)).toEqual([r[0]]);
    expect(c.problems).toEqual([
      { file: path.join(root, 'real', 'broken.json'), reason: 'no such file or directory (broken symbolic link)' },
    ]);
  });

  it('reports a missing path and goes on', async () => {
    const r = referenceRecords();
    const missing = path.join(dir, 'does-not-exist.json');
    const ok = write('missing/ok.json', JSON.stringify({ Records: [r[0]] }));
    const c = await collect([missing, ok]);
    expect(c.problems).toEqual([{ file: missing, reason: 'no such file or directory' }]);
    expect(items(c)).toEqual([r[0]]);
  });

  it('keeps good elements of a truncated JSON file and reports one problem', async () => {
    const recs = trickyRecords(4);
    const full = JSON.stringify({ Records: recs });
    const cut = full.slice(0, full.indexOf(JSON.stringify(recs[3])) + 30);
    const bad = write('trunc/bad.json', cut);
    const next = write('trunc/next.json', JSON.stringify({ Records: recs.slice(0, 1) }));
    const c = await collect([bad, next], { chunkSize: 50 });
    expect(items(c)).toEqual([...recs.slice(0, 3), recs[0]]);
    expect(c.problems).toEqual([{ file: bad, reason: `truncated JSON at byte ${Buffer.byteLength(cut)}` }]);
  });

  it('keeps good elements of a truncated gzip file and reports one gzip problem', async () => {
    const recs = trickyRecords(300);
    const gz = zlib.gzipSync(JSON.stringify({ Records: recs }));
    const bad = write('trunc/bad.json.gz', gz.subarray(0, Math.floor(gz.length * 0.6)));
    const next = write('trunc/next2.json', JSON.stringify({ Records: recs.slice(0, 1) }));
    const c = await collect([bad, next], { chunkSize: 4096 });
    const got = items(c);
    const fromBad = got.slice(0, -1);
    expect(fromBad.length).toBeGreaterThan(0);
    expect(fromBad.length).toBeLessThan(300);
    expect(fromBad).toEqual(recs.slice(0, fromBad.length));
    expect(got.at(-1)).toEqual(recs[0]);
    expect(c.problems).toEqual([{ file: bad, reason: 'gzip: unexpected end of file' }]);
  });

  it('reports corrupt gzip, non-JSON, scalar and array-less files', async () => {
    const corrupt = Buffer.from(zlib.gzipSync('{"Records":[{"a":1}]}'));
    corrupt.fill(0xff, 10, 20);
    const files = [
      write('bad/corrupt.json.gz', corrupt),
      write('bad/html.json', '<html>nope</html>'),
      write('bad/scalar.json', '"Records"'),
      write('bad/other.json', '{"digestStartTime":"x","logFiles":[]}'),
      write('bad/empty.json', ''),
      write('bad/empty-records.json.gz', '{"Records":[]}', true),
      write('bad/empty-array.json.gz', '[]', true),
    ];
    const c = await collect(files);
    expect(c.batches).toEqual([]);
    expect(c.problems.map((p) => [path.basename(p.file), p.reason.replace(/^gzip: .*/, 'gzip: …')])).toEqual([
      ['corrupt.json.gz', 'gzip: …'],
      ['html.json', 'not JSON'],
      ['scalar.json', 'not a CloudTrail file'],
      ['other.json', 'no Records or Events array'],
      ['empty.json', 'empty file'],
    ]);
  });

  it('reads bare arrays and JSON Lines of records and LookupEvents items, plain and gzipped', async () => {
    const recs = [...referenceRecords(), ...trickyRecords(3)];
    const events = recs.map(toLookupEvent);
    const files = [
      write('shapes/jq-records.json', JSON.stringify(recs, null, 2)),
      write('shapes/jq-events.json.gz', JSON.stringify(events, null, 2), true),
      write('shapes/records.jsonl.json', recs.map((r) => JSON.stringify(r)).join('\n') + '\n'),
      write('shapes/events.jsonl.json.gz', events.map((e) => JSON.stringify(e)).join('\r\n'), true),
      // zcat of several log files: containers one after the other, with or without a newline
      write('shapes/concatenated.json', `${JSON.stringify({ Records: recs.slice(0, 2) })}${JSON.stringify({ Records: recs.slice(2) })}\n`),
    ];
    const c = await collect(files, { chunkSize: 97 });
    expect(c.problems).toEqual([]);
    expect(items(c)).toEqual([...recs, ...events, ...recs, ...events, ...recs]);
    expect(c.batches.map((b) => [path.basename(b.file), b.format])).toEqual([
      ['jq-records.json', 'records'],
      ['jq-events.json.gz', 'events'],
      ['records.jsonl.json', 'records'],
      ['events.jsonl.json.gz', 'events'],
      ['concatenated.json', 'records'],
    ]);
  });

  it('emits non-object elements as text (the normaliser rejects them)', async () => {
    const f = write('nonobj/x.json', '{"Records":[{"a":1}, 7, "s", null, [1]]}');
    const c = await collect([f]);
    expect(c.batches[0]!.items).toEqual(['{"a":1}', '7', '"s"', 'null', '[1]']);
  });

  it('reports an unreadable file', async () => {
    if (process.getuid?.() === 0) return; // root can read anything
    const f = write('perm/locked.json', '{"Records":[]}');
    fs.chmodSync(f, 0o000);
    const c = await collect([f]);
    expect(c.problems).toEqual([{ file: f, reason: 'unreadable: EACCES' }]);
  });

  it('reports progress in on-disk bytes, ending at the total', async () => {
    const recs = trickyRecords(50);
    const a = write('progress/a.json.gz', JSON.stringify({ Records: recs }), true);
    const b = write('progress/b.json', JSON.stringify({ Records: recs }));
    const total = fs.statSync(a).size + fs.statSync(b).size;
    const c = await collect([path.join(dir, `v${variant}`, 'progress')]);
    expect(c.progress.length).toBeGreaterThanOrEqual(2);
    expect(c.progress.length).toBeLessThanOrEqual(4);
    expect(c.progress[0]).toEqual({ filesDone: 0, filesTotal: 2, bytesRead: 0, bytesTotal: total });
    expect(c.progress.at(-1)).toEqual({ filesDone: 2, filesTotal: 2, bytesRead: total, bytesTotal: total });
  });

  it('stops cleanly when the consumer breaks early', async () => {
    const recs = trickyRecords(30);
    const f = write('early/a.json.gz', JSON.stringify({ Records: recs }), true);
    let seen = 0;
    for await (const b of readCloudTrailFiles([f, f], { batchSize: 5, ...pathOpts })) {
      seen += b.items.length;
      break;
    }
    expect(seen).toBe(5);
  });

  it('rejects a bad batchSize as a programmer error', async () => {
    await expect(readCloudTrailFiles([], { batchSize: 0 }).next()).rejects.toThrow(RangeError);
  });
});
