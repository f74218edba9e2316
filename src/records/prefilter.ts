/**
 * The prefilter: decides from a record's raw bytes, before any JSON.parse, whether it can be
 * an Athena Spark/notebook call. On an organization trail 99% of records are other services
 * and Athena SQL calls sit in most files; parsing them only to ignore them is most of the
 * cost of an import.
 *
 * It never loses a record that `normaliseRecord` would turn into an event: a record is set
 * aside only when its own top-level fields say, in plain bytes, that it is not ours —
 *  - `eventSource` is a string without escapes other than `athena.amazonaws.com`
 *    (normaliseRecord ignores it), or
 *  - `eventSource` is exactly `athena.amazonaws.com` and `eventName` is a string without
 *    escapes that is not one of SPARK_EVENT_NAMES (an Athena SQL call: ignored too), or
 *  - it has no top-level `eventSource` and its `eventType` is `AwsCloudTrailInsight`: a
 *    CloudTrail Insights event, valid but not an API call (normaliseRecord would reject it
 *    for the missing eventSource).
 * The values are those of the element's own object, found by the file scanner at depth 1,
 * the last occurrence of a key winning as in JSON.parse; a value inside requestParameters or
 * inside an escaped string is never mistaken for them. Anything else — a missing eventSource,
 * an escaped value or key, a value that is not a string — is parsed, so a malformed record is
 * still reported as malformed. What the prefilter does not do is validate the JSON of a
 * record it sets aside: the scanner has checked its brackets and strings, not its numbers.
 *
 * LookupEvents items (`{"Events":[…]}`) are not prefiltered: their `EventSource`/`EventName`
 * are not what normalisation reads (the record inside `CloudTrailEvent` is), so trusting
 * them could lose a record.
 */
import { ATHENA_EVENT_SOURCE, SPARK_EVENT_NAMES } from './athena-events.js';

/** Value kinds of a captured top-level field. */
export const VALUE_ABSENT = 0;
/** A string whose bytes contain no backslash: its bytes are its value. */
export const VALUE_STRING = 1;
/** A string with escapes: only JSON.parse knows its value. */
export const VALUE_ESCAPED_STRING = 2;
export const VALUE_OBJECT = 3;
export const VALUE_ARRAY = 4;
/** A number, true, false or null. */
export const VALUE_SCALAR = 5;

/**
 * Where the values of an element's top-level fields sit in its bytes, as found by the file
 * scanner (last occurrence wins). For strings, `start`/`end` bound the characters between the
 * quotes; for other kinds, `start` is the value's first byte.
 */
export interface FieldSpans {
  readonly kind: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Some top-level key of the element had escapes: its name is unknown without parsing. */
  escapedKey: boolean;
}

/** The top-level fields the prefilter reads, in slot order: the file scanner fills them first. */
export const PREFILTER_FIELDS = ['eventSource', 'eventName', 'eventType'] as const;
const SOURCE = 0;
const NAME = 1;
const TYPE = 2;

/** What to do with an element: parse it, or set it aside as another service's call or an Insights event. */
export type Verdict = 'parse' | 'other' | 'insight';

const ATHENA = Buffer.from(ATHENA_EVENT_SOURCE, 'latin1');
const INSIGHT = Buffer.from('AwsCloudTrailInsight', 'latin1');
const SPARK = new Set<string>(SPARK_EVENT_NAMES);
const LONGEST_SPARK_NAME = Math.max(...SPARK_EVENT_NAMES.map((n) => n.length));

function bytesEqual(bytes: Uint8Array, start: number, end: number, target: Uint8Array): boolean {
  if (end - start !== target.length) return false;
  for (let i = 0; i < target.length; i++) if (bytes[start + i] !== target[i]) return false;
  return true;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * The verdict for one element of a CloudTrail file (`format` 'records': a record; 'events': a
 * LookupEvents item, always parsed). Pure; reads only the captured spans' bytes.
 */
export function prefilter(bytes: Uint8Array, fields: FieldSpans, format: 'records' | 'events'): Verdict {
  if (format !== 'records' || fields.escapedKey) return 'parse';
  const source = fields.kind[SOURCE];
  if (source === VALUE_ABSENT) {
    return fields.kind[TYPE] === VALUE_STRING && bytesEqual(bytes, fields.start[TYPE]!, fields.end[TYPE]!, INSIGHT) ? 'insight' : 'parse';
  }
  if (source !== VALUE_STRING) return 'parse';
  if (!bytesEqual(bytes, fields.start[SOURCE]!, fields.end[SOURCE]!, ATHENA)) return 'other';
  if (fields.kind[NAME] !== VALUE_STRING) return 'parse';
  const start = fields.start[NAME]!;
  const end = fields.end[NAME]!;
  // A longer name cannot be a Spark name; a non-ASCII byte cannot either (its latin1 reading
  // matches no Spark name, and neither does its UTF-8 one).
  if (end - start > LONGEST_SPARK_NAME) return 'other';
  return SPARK.has(latin1(bytes, start, end)) ? 'parse' : 'other';
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Whether an element's text is a CloudTrail Insights event (a record, or a LookupEvents item
 * whose CloudTrailEvent is one): asked of the few elements the prefilter could not judge from
 * their bytes and normalisation then rejected, so they are counted apart, not as malformed.
 */
export function isInsightsEventText(text: string, format: 'records' | 'events'): boolean {
  let record = parseObject(text);
  if (record && format === 'events') record = typeof record.CloudTrailEvent === 'string' ? parseObject(record.CloudTrailEvent) : null;
  return record !== null && record.eventType === 'AwsCloudTrailInsight' && record.eventSource === undefined;
}
