import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SPARK_EVENT_NAMES } from '../../src/records/athena-events.js';
import { normaliseText } from '../../src/records/normalise.js';
import { isInsightsEventText, PREFILTER_FIELDS, prefilter, type Verdict } from '../../src/records/prefilter.js';
import { CloudTrailJsonScanner } from '../../src/sources/files/index.js';
import { call, executor, fakeUuid, human, record, toLookupEvent } from '../support/cloudtrail-records.js';

/** The verdicts for the elements of `text` (a file), read whole and in chunks of `chunk` bytes. */
function verdicts(text: string, chunk?: number): Verdict[] {
  const out: Verdict[] = [];
  const scanner = new CloudTrailJsonScanner((bytes, _start, _end, format, fields) => out.push(prefilter(bytes, fields, format)), { fields: PREFILTER_FIELDS });
  const buf = Buffer.from(text);
  const step = chunk ?? buf.length;
  for (let i = 0; i < buf.length; i += step) scanner.write(buf.subarray(i, i + step));
  expect(scanner.end()).toBeNull();
  return out;
}

/** The verdict for one record's raw text, the same whole and split anywhere (JSON Lines and an array element). */
function verdict(raw: string): Verdict {
  const whole = verdicts(`[${raw}]`)[0]!;
  for (const chunk of [1, 7, 64]) expect(verdicts(`[${raw}]`, chunk)[0], `chunks of ${chunk}`).toBe(whole);
  expect(verdicts(`${raw}\n`)).toEqual([whole]);
  return whole;
}

// ---- a JSON writer with odd spacing, any key order, escapes, duplicate keys ---------------------

type Json = null | boolean | number | string | Json[] | { pairs: Array<[string, Json]> };

/** mulberry32: a seeded stream for the property tests' choices. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPACES = ['', ' ', '  ', '\n', '\t', '\r\n', ' \n  '];

function writeJson(v: Json, r: () => number, escapeChance: number): string {
  const ws = () => (r() < 0.5 ? '' : SPACES[Math.floor(r() * SPACES.length)]!);
  const str = (s: string) => {
    let out = '"';
    for (const ch of s) {
      if (ch === '"' || ch === '\\') out += `\\${ch}`;
      else if (ch < ' ') out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
      else if (r() < escapeChance) out += ch.length === 1 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(ch).slice(1, -1);
      else out += ch;
    }
    return out + '"';
  };
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return `[${ws()}${v.map((x) => `${ws()}${writeJson(x, r, escapeChance)}${ws()}`).join(',')}]`;
  return `{${ws()}${v.pairs.map(([k, x]) => `${ws()}${str(k)}${ws()}:${ws()}${writeJson(x, r, escapeChance)}${ws()}`).join(',')}${ws()}}`;
}

function toJson(v: unknown): Json {
  if (v === null || typeof v !== 'object') return v as Json;
  if (Array.isArray(v)) return v.map(toJson);
  return { pairs: Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toJson(x)]) };
}

function shuffle<T>(xs: T[], r: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---- records -------------------------------------------------------------------------------------

const sid = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
const sparkRecord = (eventName: string, extra: Record<string, unknown> = {}) =>
  ({ ...call(eventName, { actor: executor(sid), eventTime: '2026-11-02T08:00:00Z', params: { sessionId: sid, note: 'é 日本 🚀 \\ "quoted" \n', ...extra } }) }) as Record<string, unknown>;
const otherRecord = (eventSource: string, eventName: string, params: Record<string, unknown> = {}) =>
  record({ eventName, eventSource, eventTime: '2026-11-02T08:00:00Z', actor: human('maria'), requestParameters: params }) as Record<string, unknown>;

describe('prefilter', () => {
  it('passes every Spark/notebook event name of SPEC §1 on to parsing, in every spelling of the raw JSON', () => {
    for (const name of SPARK_EVENT_NAMES) {
      const rec = sparkRecord(name);
      const keys = Object.keys(rec);
      const forms = [
        JSON.stringify(rec),
        JSON.stringify(rec, null, 2),
        JSON.stringify(rec, null, '\t'),
        JSON.stringify(rec).replace(`"eventName":"${name}"`, `"eventName" : "${name}"`).replace('"eventSource":', '"eventSource"\n:\t'),
        // keys in reverse order: eventName and eventSource after requestParameters
        JSON.stringify(Object.fromEntries(keys.reverse().map((k) => [k, rec[k]]))),
        // a decoy first: another eventSource/eventName pair, as real keys of a nested object
        JSON.stringify({ requestParameters: { eventSource: 's3.amazonaws.com', eventName: 'GetQueryExecution' }, ...rec }),
      ];
      for (const raw of forms) {
        expect(verdict(raw), `${name}: ${raw.slice(0, 80)}`).toBe('parse');
        expect(normaliseText(raw, 'records').kind).toBe('event');
      }
    }
  });

  it('passes a very large Spark record on, read whole or streamed across many chunks', () => {
    const raw = JSON.stringify(sparkRecord('UpdateNotebook', { payload: 'x€"'.repeat(2_000_000) }));
    expect(raw.length).toBeGreaterThan(8_000_000);
    expect(verdicts(`{"Records":[${JSON.stringify(otherRecord('s3.amazonaws.com', 'GetObject'))},${raw}]}`, 65_536)).toEqual(['other', 'parse']);
    expect(verdicts(`[${raw}]`)).toEqual(['parse']);
  });

  it("sets aside other services' records and Athena SQL calls, which normalisation ignores too", () => {
    const cases = [
      otherRecord('s3.amazonaws.com', 'GetObject', { bucketName: 'données', key: '日本/é.parquet' }),
      otherRecord('kms.amazonaws.com', 'Decrypt'),
      otherRecord('athena.amazonaws.com', 'GetQueryExecution', { queryExecutionId: fakeUuid() }),
      otherRecord('athena.amazonaws.com', 'StartQueryExecution', { queryString: 'SELECT "StartSession" FROM t' }),
      otherRecord('athena.amazonaws.com', 'AVeryLongEventNameThatIsNoSparkOperationAtAll'),
      // Spark names and Athena's eventSource inside another service's record: as escaped JSON, and as real nested keys
      otherRecord('events.amazonaws.com', 'PutRule', { eventPattern: JSON.stringify({ detail: { eventSource: ['athena.amazonaws.com'], eventName: ['StartSession'] } }) }),
      otherRecord('config.amazonaws.com', 'PutEvaluations', { matched: { eventSource: 'athena.amazonaws.com', eventName: 'StartSession' } }),
      otherRecord('cloudtrail.amazonaws.com', 'LookupEvents', { lookupAttributes: [{ attributeKey: 'EventName', attributeValue: 'StartSession' }] }),
      { ...otherRecord('glue.amazonaws.com', 'GetTable'), sourceIPAddress: 'athena.amazonaws.com', userAgent: 'athena.amazonaws.com' },
    ];
    for (const rec of cases) {
      const raw = JSON.stringify(rec);
      expect(verdict(raw), raw.slice(0, 120)).toBe('other');
      expect(normaliseText(raw, 'records').kind).toBe('ignored');
    }
  });

  it('reads the last of duplicate keys, as JSON.parse does', () => {
    const rec = JSON.stringify(sparkRecord('StartSession'));
    const s3First = rec.replace('{', '{"eventSource":"s3.amazonaws.com","eventName":"GetObject",');
    expect(verdict(s3First)).toBe('parse');
    expect(normaliseText(s3First, 'records').kind).toBe('event');
    const s3Last = rec.replace(/}$/, ',"eventSource":"s3.amazonaws.com"}');
    expect(verdict(s3Last)).toBe('other');
    expect(normaliseText(s3Last, 'records').kind).toBe('ignored');
  });

  it('parses what its bytes cannot tell: escaped values or keys, values that are not strings, a missing eventSource', () => {
    const rec = JSON.stringify(sparkRecord('StartSession'));
    const parsed = [
      rec.replace('"athena.amazonaws.com"', '"athena\\u002eamazonaws.com"'),
      rec.replace('"StartSession"', '"Start\\u0053ession"'),
      // an escaped key that JSON.parse reads as eventSource, after a plain one saying s3
      rec.replace('{', '{"eventSource":"s3.amazonaws.com",').replace('"eventSource":"athena', '"event\\u0053ource":"athena'),
    ];
    for (const raw of parsed) {
      expect(verdict(raw), raw.slice(0, 100)).toBe('parse');
      expect(normaliseText(raw, 'records').kind).toBe('event');
    }
    // Malformed records reach normalisation, which rejects them with a reason (kept, not dropped).
    const { eventSource: _omitted, ...noSource } = JSON.parse(rec) as Record<string, unknown>;
    for (const raw of [JSON.stringify(noSource), rec.replace('"athena.amazonaws.com"', '42'), rec.replace('"athena.amazonaws.com"', '{"x":1}'), rec.replace('"StartSession"', 'null')]) {
      expect(verdict(raw), raw.slice(0, 100)).toBe('parse');
      expect(normaliseText(raw, 'records').kind).toBe('rejected');
    }
  });

  it('knows CloudTrail Insights events: no eventSource, eventType AwsCloudTrailInsight', () => {
    const insight = {
      eventVersion: '1.08',
      eventTime: '2026-11-02T08:00:00Z',
      awsRegion: 'us-east-1',
      eventID: fakeUuid(),
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: '123456789012',
      insightDetails: { state: 'Start', eventSource: 'athena.amazonaws.com', eventName: 'StartSession', insightType: 'ApiCallRateInsight' },
      eventCategory: 'Insight',
    };
    const raw = JSON.stringify(insight);
    expect(verdict(raw)).toBe('insight');
    expect(normaliseText(raw, 'records').kind).toBe('rejected');
    expect(isInsightsEventText(raw, 'records')).toBe(true);
    // Escaped, the prefilter cannot tell; the text check after normalisation can.
    const escaped = raw.replace('AwsCloudTrailInsight', 'AwsCloudTrail\\u0049nsight');
    expect(verdict(escaped)).toBe('parse');
    expect(isInsightsEventText(escaped, 'records')).toBe(true);
    expect(isInsightsEventText(JSON.stringify({ EventId: 'x', CloudTrailEvent: raw }), 'events')).toBe(true);
    // With an eventSource it is judged like any record.
    expect(verdict(JSON.stringify({ ...insight, eventSource: 's3.amazonaws.com' }))).toBe('other');
    expect(isInsightsEventText(JSON.stringify(sparkRecord('StartSession')), 'records')).toBe(false);
  });

  it('parses every LookupEvents item: its EventSource and EventName are not what normalisation reads', () => {
    const item = toLookupEvent(otherRecord('s3.amazonaws.com', 'GetObject') as never);
    expect(verdicts(JSON.stringify({ Events: [item] }))).toEqual(['parse']);
    expect(verdicts(`${JSON.stringify(item)}\n`)).toEqual(['parse']);
  });

  it('property: whatever the spacing, key order, escapes, decoys and duplicates, a record it sets aside is never one normalisation keeps', () => {
    const names = [...SPARK_EVENT_NAMES, 'GetQueryExecution', 'StartQueryExecution', 'GetObject', 'Decrypt', 'AssumeRole'];
    const sources = ['athena.amazonaws.com', 's3.amazonaws.com', 'kms.amazonaws.com', 'athena.amazonaws.co', 'ATHENA.amazonaws.com'];
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(...names), fc.constantFrom(...sources), fc.double({ min: 0, max: 0.3, noNaN: true }), (seed, eventName, eventSource, escapeChance) => {
        const r = rng(seed);
        const base = r() < 0.5 ? sparkRecord(eventName) : otherRecord(eventSource, eventName, { key: 'é 日本' });
        base.eventSource = eventSource;
        const pairs = shuffle(Object.entries(base).map(([k, v]) => [k, toJson(v)] as [string, Json]), r);
        // decoys in nested objects, duplicates at the top level, a missing or odd eventSource now and then
        if (r() < 0.3) pairs.splice(Math.floor(r() * pairs.length), 0, ['requestParameters', { pairs: [['eventSource', 'athena.amazonaws.com'], ['eventName', 'StartSession']] }]);
        if (r() < 0.2) pairs.splice(Math.floor(r() * pairs.length), 0, ['eventSource', r() < 0.5 ? 'athena.amazonaws.com' : 's3.amazonaws.com']);
        if (r() < 0.2) pairs.splice(Math.floor(r() * pairs.length), 0, ['eventName', r() < 0.5 ? 'StartSession' : 'GetQueryExecution']);
        if (r() < 0.1) pairs.splice(pairs.findIndex(([k]) => k === 'eventSource'), 1);
        if (r() < 0.1) pairs.splice(pairs.findIndex(([k]) => k === 'eventName'), 1);
        if (r() < 0.05) pairs.push(['eventSource', 7]);
        if (r() < 0.1) pairs.push(['eventType', 'AwsCloudTrailInsight']);
        const raw = writeJson({ pairs }, r, escapeChance);
        const v = verdict(raw);
        const n = normaliseText(raw, 'records');
        if (v !== 'parse') expect(n.kind, raw).not.toBe('event');
        if (v === 'insight') expect(isInsightsEventText(raw, 'records')).toBe(true);
        if (v === 'other') expect(n.kind).toBe('ignored');
      }),
      { numRuns: 1500 },
    );
  });
});
