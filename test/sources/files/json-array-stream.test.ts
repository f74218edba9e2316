import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VALUE_ABSENT, VALUE_ARRAY, VALUE_ESCAPED_STRING, VALUE_OBJECT, VALUE_SCALAR, VALUE_STRING } from '../../../src/records/prefilter.js';
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

  it('reads bare arrays, JSON Lines and concatenated files, telling records from LookupEvents items', () => {
    const recs = referenceRecords();
    const events = recs.map(toLookupEvent);
    const text =
      `${JSON.stringify(recs, null, 2)}\n` + // jq .Records
      `${JSON.stringify(events)}` + // jq .Events, no newline after
      `${JSON.stringify({ Records: recs.slice(0, 1) })}\r\n` + // zcat of a log file
      `${JSON.stringify(events[1])}\n\n${JSON.stringify(recs[2])}\n` + // JSON Lines, a blank line
      `{"NextToken":"t","Events":${JSON.stringify(events.slice(0, 1))}}` + // LookupEvents output
      `{"note":1,"Records":${JSON.stringify(recs.slice(3))}}`; // a container whose array is not first
    const expected = [...recs, ...events, recs[0], events[1], recs[2], events[0], ...recs.slice(3)];
    const formats = [...recs.map(() => 'records'), ...events.map(() => 'events'), 'records', 'events', 'records', 'events', ...recs.slice(3).map(() => 'records')];
    const whole = parseCloudTrailText(text);
    expect(whole.problem).toBeNull();
    expect(whole.items.map((t) => JSON.parse(t))).toEqual(expected);
    expect(whole.formats).toEqual(formats);
    for (const sizes of [[1], [2, 3, 5, 7], [61]]) expect(scanInChunks(text, sizes)).toEqual(whole);
  });

  it('locates the top-level fields of each element: depth 1 only, last occurrence, kind of value', () => {
    const fieldsSeen: Array<Record<string, unknown>> = [];
    const names = ['eventSource', 'eventName', 'eventType', 'count'];
    const kinds = ['absent', 'string', 'escaped', 'object', 'array', 'scalar'];
    expect([VALUE_ABSENT, VALUE_STRING, VALUE_ESCAPED_STRING, VALUE_OBJECT, VALUE_ARRAY, VALUE_SCALAR]).toEqual([0, 1, 2, 3, 4, 5]);
    const texts = [
      '{"requestParameters":{"eventSource":"nested","eventName":"nested"},"eventSource" : "s3.amazonaws.com","x":"\\"eventName\\":\\"in a string\\"","eventName":"A","eventName":"B"}',
      '{"eventSource":"athena\\u002eamazonaws.com","eventType":{"eventSource":1},"count":-1.5e3,"eventName":["x"]}',
      '{"event\\u0053ource":"athena.amazonaws.com"}',
    ];
    const text = `[${texts.join(',')}]`;
    for (const sizes of [[text.length], [1], [3, 11]]) {
      fieldsSeen.length = 0;
      const scanner = new CloudTrailJsonScanner(
        (bytes, _s, _e, _f, fields) => {
          const seen: Record<string, unknown> = { escapedKey: fields.escapedKey };
          names.forEach((n, slot) => {
            const k = fields.kind[slot]!;
            seen[n] = k === VALUE_STRING || k === VALUE_ESCAPED_STRING ? `${kinds[k]}:${bytes.toString('utf8', fields.start[slot], fields.end[slot])}` : kinds[k];
          });
          fieldsSeen.push(seen);
        },
        { fields: names },
      );
      const buf = Buffer.from(text);
      for (let pos = 0, k = 0; pos < buf.length; pos += sizes[k++ % sizes.length]!) scanner.write(buf.subarray(pos, pos + sizes[k % sizes.length]!));
      expect(scanner.end()).toBeNull();
      expect(fieldsSeen).toEqual([
        { escapedKey: false, eventSource: 'string:s3.amazonaws.com', eventName: 'string:B', eventType: 'absent', count: 'absent' },
        { escapedKey: false, eventSource: 'escaped:athena\\u002eamazonaws.com', eventName: 'array', eventType: 'object', count: 'scalar' },
        { escapedKey: true, eventSource: 'absent', eventName: 'absent', eventType: 'absent', count: 'absent' },
      ]);
    }
  });

  it('property: JSON Lines and bare arrays of random records round-trip through random chunkings', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('}', ']', '{', '[', '"', '\\', '\n', 'é日本'), fc.integer(), fc.boolean(), fc.constant(null)),
      node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 3 }), tie('obj')),
      obj: fc.dictionary(fc.string({ unit: 'grapheme' }), tie('node'), { maxKeys: 3 }),
    }));
    const recordLike = value.obj.map((o) => ({ eventVersion: '1.08', ...o }));
    fc.assert(
      fc.property(fc.array(recordLike, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }), (recs, lines, sizes) => {
        const text = lines ? recs.map((r) => JSON.stringify(r)).join('\n') : JSON.stringify(recs, null, 1);
        const r = scanInChunks(text, sizes);
        expect(r.problem).toBeNull();
        expect(r.items.map((t) => JSON.parse(t))).toEqual(recs);
      }),
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
