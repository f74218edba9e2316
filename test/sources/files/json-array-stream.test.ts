import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloudTrailJsonScanner, parseCloudTrailText } from '../../../src/sources/files/index.js';
import { referenceRecords, toLookupEvent } from '../../support/cloudtrail-records.js';

/** Feed `text` to a scanner in the given chunk lengths (cycled). */
function scanInChunks(text: string | Buffer, sizes: number[]) {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  const items: string[] = [];
  const formats: string[] = [];
  const scanner = new CloudTrailJsonScanner((bytes, start, end, format) => {
    items.push(bytes.toString('utf8', start, end));
    formats.push(format);
  });
  let pos = 0;
  let k = 0;
  while (pos < buf.length) {
    const size = Math.max(1, sizes[k++ % sizes.length]!);
    if (!scanner.write(buf.subarray(pos, pos + size))) break;
    pos += size;
  }
  return { format: scanner.format, items, formats, problem: scanner.end() };
}

const TRICKY = 'a}\\"]{ é 日本 \\\\ \\u00e9 [[{{';

describe('CloudTrailJsonScanner', () => {
  it('emits the exact text of each element, whatever the whitespace', () => {
    const recs = referenceRecords();
    for (const indent of [undefined, 2, 4, '\t']) {
      const text = JSON.stringify({ Records: recs }, null, indent);
      const r = parseCloudTrailText(text);
      expect(r.problem).toBeNull();
      expect(r.format).toBe('records');
      expect(r.items.map((t) => JSON.parse(t))).toEqual(recs);
      // exact text: each item is a substring of the file, in order
      let from = 0;
      for (const item of r.items) {
        const at = text.indexOf(item, from);
        expect(at).toBeGreaterThanOrEqual(from);
        from = at + item.length;
      }
    }
  });

  it('handles strings with braces, brackets, escaped quotes, backslashes and unicode', () => {
    const text = `{"Records":[{"k":"${TRICKY}","n":{"x":["]","}"]}},{"k2":"\\\\"},{"e":""}]}`;
    const expected = JSON.parse(text).Records;
    const r = parseCloudTrailText(text);
    expect(r.problem).toBeNull();
    expect(r.items.map((t) => JSON.parse(t))).toEqual(expected);
    expect(JSON.parse(r.items[0]!).k).toBe('a}"]{ é 日本 \\ é [[{{');
  });

  it('gives identical results for every split point and for 1-byte chunks', () => {
    const text = `{ "NextToken" : "t{]\\"" , "Events" : [ {"k":"${TRICKY}"} , {"CloudTrailEvent":${JSON.stringify(
      JSON.stringify({ a: TRICKY }),
    )}}, 42, "s\\"", [1,[2]], true ], "After": {"x": [1, "]"]} }`;
    const whole = parseCloudTrailText(text);
    expect(whole.problem).toBeNull();
    expect(whole.format).toBe('events');
    expect(whole.items).toHaveLength(6);
    expect(whole.items.slice(2)).toEqual(['42', '"s\\""', '[1,[2]]', 'true']);
    const buf = Buffer.from(text);
    for (let cut = 0; cut <= buf.length; cut++) {
      expect(scanInChunks(buf, [cut, buf.length]).items).toEqual(whole.items);
    }
    expect(scanInChunks(buf, [1])).toEqual(whole);
    expect(scanInChunks(buf, [2, 3, 5, 7])).toEqual(whole);
  });

  it('reads LookupEvents output with Events after NextToken, pretty-printed', () => {
    const events = referenceRecords().map(toLookupEvent);
    const text = JSON.stringify({ NextToken: 'abc', Events: events }, null, 4);
    const r = scanInChunks(text, [97]);
    expect(r.problem).toBeNull();
    expect(r.format).toBe('events');
    expect(r.items.map((t) => JSON.parse(t))).toEqual(events);
  });

  it('takes only the first Records/Events array and skips other keys of any type', () => {
    const r = parseCloudTrailText(
      '{"a":1,"b":-2.5e3,"c":true,"d":null,"Records":"no","Events":{"x":[]},"Records":[{"r":1}],"Events":[{"e":1}],"z":[]}',
    );
    expect(r).toEqual({ format: 'records', items: ['{"r":1}'], formats: ['records'], problem: null });
  });

  it('accepts a UTF-8 BOM and an empty array', () => {
    expect(parseCloudTrailText('\ufeff {"Records": []}\n')).toEqual({ format: 'records', items: [], formats: [], problem: null });
    expect(scanInChunks('\ufeff{"Records":[]}', [1])).toEqual({ format: 'records', items: [], formats: [], problem: null });
    expect(parseCloudTrailText('\ufeff[]')).toEqual({ format: null, items: [], formats: [], problem: null });
  });

  it.each([
    ['', 'empty file'],
    ['   \n', 'not JSON'],
    ['hello', 'not JSON'],
    ['<html></html>', 'not JSON'],
    ['"Records"', 'not a CloudTrail file'],
    ['42', 'not a CloudTrail file'],
    ['{}', 'no Records or Events array'],
    ['{"Records":null,"NextToken":"x"}', 'no Records or Events array'],
    ['{"Records":[{"a":1}', 'truncated JSON at byte 19'],
    ['{"Records":[{"a":"x', 'truncated JSON at byte 19'],
    ['{"Records":[{"a":1}]', 'truncated JSON at byte 20'],
    ['{"Records":[{"a":1}]]', "corrupt JSON at byte 20: unexpected ']'"],
    ['{"Records":[{"a":1},]}', "corrupt JSON at byte 20: unexpected ']'"],
    ['{"Records":[{"a":[1}]}', "corrupt JSON at byte 19: unexpected '}'"],
    ['{"Records" [] }', "corrupt JSON at byte 11: unexpected '['"],
    ['{"Records":[]} x', 'trailing data after JSON at byte 15'],
    ['{"Records":[]} 42', 'trailing data after JSON at byte 15'],
    ['{"Records":[]} {}', '1 top-level object that is neither a record nor a Records/Events file skipped (first at byte 15)'],
    ['{"hello":"world"}', 'no Records or Events array'],
    ['{"eventVersion":"1.08"}\n{"hello":"world"}\n', '1 top-level object that is neither a record nor a Records/Events file skipped (first at byte 24)'],
    ['[{"a":1}] [', 'truncated JSON at byte 11'],
    ['{"eventVersion":"1.08"', 'truncated JSON at byte 22'],
    ['{"eventVersion":"1.08"]', "corrupt JSON at byte 22: unexpected ']'"],
  ])('reports %j as %j', (text, reason) => {
    expect(parseCloudTrailText(text).problem).toBe(reason);
    expect(scanInChunks(text, [1]).problem).toBe(reason);
  });

  it('keeps the complete elements before damage', () => {
    const r = parseCloudTrailText('{"Records":[{"a":1},{"b":2},{"c":[}]}');
    expect(r.items).toEqual(['{"a":1}', '{"b":2}']);
    expect(r.problem).toBe("corrupt JSON at byte 34: unexpected '}'");
  });

  it('drops elements larger than maxElementBytes without buffering them', () => {
    const items: string[] = [];
    const s = new CloudTrailJsonScanner((bytes, start, end) => items.push(bytes.toString('utf8', start, end)), { maxElementBytes: 20 });
    const big = JSON.stringify({ k: 'x'.repeat(100) });
    const text = Buffer.from(`{"Records":[{"a":1},${big},{"b":2},${big}]}`);
    for (let i = 0; i < text.length; i += 7) s.write(text.subarray(i, i + 7));
    expect(items).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.end()).toBe('2 elements larger than 20 bytes skipped (first at byte 20)');
  });

  it('property: random records round-trip through random chunkings', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.string({ unit: 'grapheme' }),
        fc.constantFrom('}', ']', '{', '[', '"', '\\', '\\"', '"]}', 'é日本'),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
      ),
      node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), tie('obj')),
      obj: fc.dictionary(fc.string({ unit: 'grapheme' }), tie('node'), { maxKeys: 4 }),
    }));
    fc.assert(
      fc.property(
        fc.array(value.obj, { maxLength: 8 }),
        fc.constantFrom('Records', 'Events'),
        fc.constantFrom(undefined, 1, 4),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        (recs, key, indent, sizes) => {
          const text = JSON.stringify({ NextToken: 'n"}]', [key]: recs, Other: recs.slice(0, 1) }, null, indent);
          const r = scanInChunks(text, sizes);
          expect(r.problem).toBeNull();
          expect(r.format).toBe(key === 'Records' ? 'records' : 'events');
          expect(r.items.map((t) => JSON.parse(t))).toEqual(JSON.parse(text)[key]);
          if (indent === undefined) expect(r.items).toEqual(recs.map((x) => JSON.stringify(x)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: any truncation keeps a prefix of the elements and reports a problem', () => {
    const recs = referenceRecords();
    const text = Buffer.from(JSON.stringify({ Records: recs }, null, 2));
    const all = recs.map((x) => JSON.stringify(x));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 2 }), (cut) => {
        const r = scanInChunks(text.subarray(0, cut + 1), [13]);
        expect(r.problem).not.toBeNull();
        expect(r.items.map((t) => JSON.stringify(JSON.parse(t)))).toEqual(all.slice(0, r.items.length));
      }),
      { numRuns: 300 },
    );
  });
});
