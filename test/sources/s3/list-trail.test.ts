import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Reader, dayInRange, layoutDay, listTrailObjects, parseS3Url, type S3Reader } from '../../../src/sources/s3/index.js';
import { isRegionLevel, regionListingBounds } from '../../../src/sources/s3/cloudtrail-layout.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3Emulator, type S3Emulator } from '../../support/s3-emulator.js';

let s3: S3Emulator;
const BUCKET = 'org-trail';
const ORG = 'AWSLogs/o-a1b2c3d4e5';
const keys = [
  `${ORG}/111122223333/CloudTrail/us-east-1/2026/11/19/111122223333_CloudTrail_us-east-1_20261119T2355Z_a.json.gz`,
  `${ORG}/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T0005Z_b.json.gz`,
  `${ORG}/111122223333/CloudTrail/us-east-1/2026/11/21/111122223333_CloudTrail_us-east-1_20261121T1200Z_c.json.gz`,
  `${ORG}/111122223333/CloudTrail/us-east-1/2026/11/22/111122223333_CloudTrail_us-east-1_20261122T0000Z_d.json.gz`,
  `${ORG}/111122223333/CloudTrail/eu-west-1/2026/11/20/111122223333_CloudTrail_eu-west-1_20261120T0800Z_e.json.gz`,
  `${ORG}/111122223333/CloudTrail/eu-west-1/2026/10/31/111122223333_CloudTrail_eu-west-1_20261031T0800Z_f.json.gz`,
  `${ORG}/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T010000Z.json.gz`,
  `${ORG}/111122223333/CloudTrail-Insight/us-east-1/2026/11/21/111122223333_CloudTrail-Insight_us-east-1_20261121T0100Z_g.json.gz`,
  `${ORG}/444455556666/CloudTrail/ap-south-1/2026/11/21/444455556666_CloudTrail_ap-south-1_20261121T0100Z_h.json.gz`,
  `${ORG}/444455556666/CloudTrail-Digest/ap-south-1/2026/11/21/444455556666_CloudTrail-Digest_ap-south-1_trail_ap-south-1_20261121T010000Z.json.gz`,
  'AWSLogs/777788889999/CloudTrail/us-east-1/2026/11/20/777788889999_CloudTrail_us-east-1_20261120T0100Z_i.json',
  'AWSLogs/777788889999/CloudTrail/us-east-1/2026/11/20/notes.txt',
  'exports/jq-records.json',
];

/** The reader the ingest uses, with every listing request written down. */
function recording(): { reader: S3Reader; lists: Array<{ prefix: string; delimiter?: string; startAfter?: string }> } {
  const real = createS3Reader({ region: 'us-east-1', forcePathStyle: true }, s3.env);
  const lists: Array<{ prefix: string; delimiter?: string; startAfter?: string }> = [];
  return {
    lists,
    reader: {
      ...real,
      list: (q) => {
        lists.push({ prefix: q.prefix, delimiter: q.delimiter, startAfter: q.token ? undefined : q.startAfter });
        return real.list(q);
      },
    },
  };
}

async function listed(prefix: string, range = {}, reader = recording().reader): Promise<{ keys: string[]; skipped: string[] }> {
  const out: string[] = [];
  const skipped: string[] = [];
  for await (const page of listTrailObjects(reader, { bucket: BUCKET, prefix }, { range, onSkipped: (what, why) => skipped.push(`${what} (${why})`) })) {
    for (const o of page) {
      expect(o.etag).toMatch(/^[0-9a-f]{32}$/);
      out.push(o.key);
    }
  }
  return { keys: out, skipped };
}

beforeAll(async () => {
  s3 = await startS3Emulator();
  // The AWS SDK reads the emulator's endpoint from the environment, as for a user.
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  s3.server.createBucket(BUCKET);
  for (const key of keys) await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{"Records":[]}' }));
});
afterAll(async () => {
  await s3?.stop();
});

describe('listTrailObjects', () => {
  it('lists every log file of the layout, Insights included, and never lists a digest folder', async () => {
    const rec = recording();
    const { keys: got, skipped } = await listed('', {}, rec.reader);
    expect(got).toEqual(keys.filter((k) => !k.includes('CloudTrail-Digest') && k.endsWith('.json.gz') || k.endsWith('.json')).sort());
    expect(skipped).toEqual([
      `s3://${BUCKET}/AWSLogs/777788889999/CloudTrail/us-east-1/2026/11/20/notes.txt (not a .json/.json.gz file)`,
      `s3://${BUCKET}/${ORG}/111122223333/CloudTrail-Digest/ (CloudTrail digest files (not listed))`,
      `s3://${BUCKET}/${ORG}/444455556666/CloudTrail-Digest/ (CloudTrail digest files (not listed))`,
    ]);
    expect(rec.lists.some((l) => l.prefix.includes('CloudTrail-Digest'))).toBe(false);
    // Walked with a delimiter down to each region, then flat.
    expect(rec.lists.filter((l) => !l.delimiter).every((l) => isRegionLevel(l.prefix))).toBe(true);
  });

  it('with --since/--until lists only the days in range, starting each region at `since`', async () => {
    const rec = recording();
    const { keys: got } = await listed('AWSLogs/', { since: '2026-11-20', until: '2026-11-21' }, rec.reader);
    expect(got).toEqual([
      keys[4], // eu-west-1 11/20
      keys[7], // Insight 11/21
      keys[1],
      keys[2],
      keys[8],
      keys[10],
    ].sort());
    const flat = rec.lists.filter((l) => !l.delimiter);
    expect(flat.every((l) => l.startAfter?.endsWith('/2026/11/20'))).toBe(true);
  });

  it('takes a prefix anywhere in the layout: an account, a region, a day, a digest folder', async () => {
    expect((await listed(`${ORG}/444455556666/`)).keys).toEqual([keys[8]]);
    expect((await listed(`${ORG}/111122223333/CloudTrail/us-east-1/`, { until: '2026-11-20' })).keys).toEqual([keys[0], keys[1]]);
    expect((await listed(`${ORG}/111122223333/CloudTrail/us-east-1/2026/11/21/`)).keys).toEqual([keys[2]]);
    expect((await listed(`${ORG}/111122223333/CloudTrail-Digest/`)).keys).toEqual([]);
    expect((await listed('exports/')).keys).toEqual(['exports/jq-records.json']);
    expect((await listed('nothing-here/')).keys).toEqual([]);
  });

  it('a missing bucket is one clear error, raised at the first listing', async () => {
    const reader = createS3Reader({ region: 'us-east-1', forcePathStyle: true }, s3.env);
    await expect(listTrailObjects(reader, { bucket: 'no-such-bucket', prefix: '' }).next()).rejects.toThrow(/^s3:\/\/no-such-bucket: no such bucket$/);
  });
});

describe('the CloudTrail layout', () => {
  it('finds the (partial) delivery day of keys and prefixes and compares it with a range', () => {
    expect(layoutDay(keys[2]!)).toBe('2026-11-21');
    expect(layoutDay(`${ORG}/1/CloudTrail/us-east-1/2026/11/`)).toBe('2026-11');
    expect(layoutDay(`${ORG}/1/CloudTrail/us-east-1/2026/`)).toBe('2026');
    expect(layoutDay('exports/2026/11/21/x.json')).toBeNull();
    const range = { since: '2026-11-20', until: '2026-11-21' };
    expect(['2025', '2026', '2026-10', '2026-11', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-12', '2027', null].map((d) => dayInRange(d, range))).toEqual([
      false, true, false, true, false, true, true, false, false, false, true,
    ]);
    expect(regionListingBounds('p/CloudTrail/us-east-1/', range)).toEqual({ startAfter: 'p/CloudTrail/us-east-1/2026/11/20', stopAfter: 'p/CloudTrail/us-east-1/2026/11/21/\uffff' });
  });

  it('parses s3:// URLs and refuses malformed ones as usage errors', () => {
    expect(parseS3Url('s3://my-trail')).toEqual({ bucket: 'my-trail', prefix: '' });
    expect(parseS3Url('s3://my.trail-1/AWSLogs/o-x/')).toEqual({ bucket: 'my.trail-1', prefix: 'AWSLogs/o-x/' });
    for (const bad of ['s3://', 's3:///x', 's3://ab', 's3://bad_bucket!/x', 's3://a..b/x', 's3:/x']) {
      expect(() => parseS3Url(bad), bad).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });
});
