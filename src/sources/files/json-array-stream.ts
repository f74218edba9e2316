/**
 * Incremental byte scanner for CloudTrail files, fed in arbitrary chunks.
 *
 * A file is a sequence of JSON values (one, usually; JSON Lines and concatenated output
 * are sequences), each of which is
 *  - a container: `{"Records":[…]}` (S3 log files) or `{"Events":[…],"NextToken":…}`
 *    (LookupEvents output): the elements of its first `Records`/`Events` array are emitted,
 *    every other key is skipped;
 *  - a bare array of records or LookupEvents items (what `jq .Records` writes): every
 *    element is emitted;
 *  - a record or LookupEvents item on its own (JSON Lines): emitted.
 * A top-level object is taken for a container when its first key is `Records`, `Events` or
 * `NextToken`, or when, read whole, it turns out to hold a `Records`/`Events` array; one
 * with none of a record's fields is reported, not emitted.
 *
 * Elements are handed over as bytes (a buffer and a range) with the positions of the values
 * of chosen top-level fields (see `FieldSpans`), so a caller can judge an element without
 * decoding or parsing it. Only the element in progress is kept across chunk boundaries, so
 * memory does not grow with the file. An element that lies within one chunk (every element
 * of a file read whole) is walked once: framing and field capture are the same pass.
 *
 * JSON's structural characters are ASCII and never occur inside a multi-byte UTF-8 sequence,
 * so scanning bytes is UTF-8 safe. Validation is structural: the top level is checked token
 * by token; inside values only bracket nesting and string boundaries are checked. Full
 * validation of an element is left to JSON.parse downstream.
 */
import {
  VALUE_ABSENT,
  VALUE_ARRAY,
  VALUE_ESCAPED_STRING,
  VALUE_OBJECT,
  VALUE_SCALAR,
  VALUE_STRING,
  type FieldSpans,
} from '../../records/prefilter.js';
import type { FileFormat } from './types.js';

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const LBRACE = 0x7b; // {
const RBRACE = 0x7d; // }
const LBRACKET = 0x5b; // [
const RBRACKET = 0x5d; // ]
const COMMA = 0x2c; // ,
const COLON = 0x3a; // :

// Parser states.
const ST_TOP = 0; // between top-level values (optional BOM at the very start, whitespace)
const ST_OBJ_FIRST = 1; // after a top-level '{' read slowly: its first key or '}'
const ST_OBJ_FIRST_KEY = 2; // inside that first key
const ST_KEY_OR_END = 3; // container, after '{': a key or '}'
const ST_KEY = 4; // container: inside a key string
const ST_COLON = 5; // container: after a key, ':'
const ST_VALUE = 6; // container: after ':', a value
const ST_SKIP = 7; // container: inside a value that is not the wanted array
const ST_COMMA_OR_END = 8; // container: after a value, ',' or '}'
const ST_KEY_REQUIRED = 9; // container: after ',', a key
const ST_ARR_FIRST = 10; // after '[': an element or ']'
const ST_ARR_ELEM = 11; // after ',' in the array: an element
const ST_ELEM = 12; // inside an array element read slowly
const ST_ARR_COMMA_OR_END = 13; // after an element: ',' or ']'
const ST_ITEM = 14; // inside a top-level object read slowly, after its first key
const ST_FAILED = 15;

const BOM = [0xef, 0xbb, 0xbf];
const MAX_KEY_CHARS = 16;
const CONTAINER_KEYS = ['Records', 'Events', 'NextToken'];

/** Fields the scanner itself reads: which kind of element it is, and whether it is CloudTrail at all. */
const OWN_FIELDS = ['CloudTrailEvent', 'EventId', 'eventVersion', 'eventID', 'eventTime', 'eventSource', 'eventName', 'eventType', 'Records', 'Events', 'NextToken'];
/** An object with any of these at its top level is taken for a record or a LookupEvents item. */
const RECORD_FIELDS = ['CloudTrailEvent', 'EventId', 'eventVersion', 'eventID', 'eventTime', 'eventSource', 'eventName', 'eventType'];

/** walkObject's outcomes besides an end index. */
const INCOMPLETE = -1;
const DAMAGED = -2;
const CONTAINER = -3;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isScalarStart(c: number): boolean {
  // - 0-9 t(rue) f(alse) n(ull)
  return c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e;
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Called for each element, synchronously, during `write()`. `bytes[start, end)` is the
 * element's JSON text; `fields` locates its top-level fields within `bytes` and is reused for
 * the next element (copy what you keep). Do not keep `bytes` beyond the call either: it may
 * be the caller's chunk.
 */
export type ElementHandler = (bytes: Buffer, start: number, end: number, format: FileFormat, fields: FieldSpans) => void;

export interface ScannerOptions {
  /** Top-level fields to locate in each element, in the slots of `FieldSpans` (default none). */
  fields?: readonly string[];
  /** Elements larger than this are dropped instead of buffered (default 64 MiB). */
  maxElementBytes?: number;
}

export const DEFAULT_MAX_ELEMENT_BYTES = 64 * 1024 * 1024;

class Spans implements FieldSpans {
  readonly kind: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  escapedKey = false;
  constructor(n: number) {
    this.kind = new Uint8Array(n);
    this.start = new Int32Array(n);
    this.end = new Int32Array(n);
  }
  clear(): void {
    this.kind.fill(VALUE_ABSENT);
    this.escapedKey = false;
  }
  has(slot: number): boolean {
    return this.kind[slot] !== VALUE_ABSENT;
  }
}

/** Field names resolved to slots once per field list (a scanner is made per file). */
interface FieldTable {
  callerFields: readonly string[];
  names: string[];
  /** Candidate slots by key length, for a key's quick look-up. */
  byLength: Array<Array<{ slot: number; bytes: Uint8Array }> | undefined>;
  cloudTrailEvent: number;
  records: number;
  events: number;
  nextToken: number;
  recordFields: number[];
}

const fieldTables = new Map<string, FieldTable>();

function fieldTable(callerFields: readonly string[]): FieldTable {
  const id = callerFields.join('\n');
  let t = fieldTables.get(id);
  if (t) return t;
  const names = [...callerFields];
  for (const n of OWN_FIELDS) if (!names.includes(n)) names.push(n);
  const byLength: FieldTable['byLength'] = [];
  names.forEach((name, slot) => {
    const bytes = Buffer.from(name, 'latin1');
    (byLength[bytes.length] ??= []).push({ slot, bytes });
  });
  const slotOf = (name: string) => names.indexOf(name);
  t = {
    callerFields,
    names,
    byLength,
    cloudTrailEvent: slotOf('CloudTrailEvent'),
    records: slotOf('Records'),
    events: slotOf('Events'),
    nextToken: slotOf('NextToken'),
    recordFields: RECORD_FIELDS.map(slotOf),
  };
  fieldTables.set(id, t);
  return t;
}

/**
 * Push-style scanner. `write()` each chunk in order, then `end()`. Each element found is
 * passed to the handler synchronously, during `write()`.
 */
export class CloudTrailJsonScanner {
  /** The format of the first element (or container) found; null until then. */
  format: FileFormat | null = null;
  /** Number of elements emitted so far. */
  elements = 0;

  private state = ST_TOP;
  /** Absolute offset of the start of the current chunk. */
  private pos = 0;
  private failure: string | null = null;
  private bomSeen = 0;

  // Field capture.
  private readonly table: FieldTable;
  private readonly fields: Spans;

  // What the file held.
  /** Records, bare arrays and Records/Events arrays seen: something CloudTrail was found. */
  private cloudTrailValues = 0;
  private foreignValues = 0;
  private firstForeignAt = 0;
  private topValues = 0;

  // Container in progress.
  private key = '';
  private containerFormat: FileFormat | null = null;
  private containerTook = false;
  private containerAt = 0;
  /** The array in progress is bare (top level), not a container's. */
  private bareArray = false;

  // Value scanner state (ST_SKIP, ST_ELEM, ST_ITEM).
  private depth = 0;
  private stack = new Uint8Array(64);
  private inString = false;
  /** The first byte of the next chunk is escaped by a trailing backslash of this one. */
  private escaped = false;
  private scalar = false;

  // Element capture (elements that straddle chunks).
  private elemStart = 0;
  private elemParts: Buffer[] = [];
  private elemBytes = 0;
  private elemStartOffset = 0;
  private dropping = false;
  private capturing = false;
  private readonly maxElementBytes: number;
  private oversized = 0;
  private firstOversizedAt = 0;

  constructor(
    private readonly onElement: ElementHandler,
    opts: ScannerOptions = {},
  ) {
    this.maxElementBytes = opts.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES;
    this.table = fieldTable(opts.fields ?? []);
    this.fields = new Spans(this.table.names.length);
  }

  /** Bytes consumed so far (uncompressed). */
  get bytesScanned(): number {
    return this.pos;
  }

  /** True once the scanner has hit damage; further input is ignored. */
  get failed(): boolean {
    return this.state === ST_FAILED;
  }

  /**
   * Scan one chunk. Returns false once the input is known to be damaged (the caller may stop
   * reading); the reason is returned by `end()`. An element that straddles chunks keeps
   * references to them until it is complete: do not refill a chunk once written.
   */
  write(buf: Buffer): boolean {
    if (this.state === ST_FAILED) return false;
    const n = buf.length;
    let i = 0;
    if (this.capturing) this.elemStart = 0;

    while (i < n) {
      switch (this.state) {
        case ST_TOP: {
          const c = buf[i]!;
          // A UTF-8 byte order mark is allowed at the very start of the file.
          if (this.bomSeen < BOM.length && this.pos + i === this.bomSeen && c === BOM[this.bomSeen]) {
            this.bomSeen++;
            i++;
            break;
          }
          if (this.bomSeen > 0 && this.bomSeen < BOM.length) return this.fail('not JSON');
          if (isWhitespace(c)) {
            i++;
            break;
          }
          if (c === LBRACE) {
            this.topValues++;
            const r = this.walkObject(buf, i, n, true);
            if (r >= 0) {
              this.finishTopObject(buf, i, r);
              i = r;
            } else if (r === CONTAINER) {
              this.beginContainer(this.pos + i);
              i++;
            } else if (r === INCOMPLETE) {
              this.beginCapture(buf, i);
              this.state = ST_OBJ_FIRST;
              i++;
            } else {
              return this.fail(this.walkFailure);
            }
            break;
          }
          if (c === LBRACKET) {
            this.topValues++;
            this.bareArray = true;
            this.cloudTrailValues++;
            this.state = ST_ARR_FIRST;
            i++;
            break;
          }
          if (this.topValues > 0) return this.fail(`trailing data after JSON at byte ${this.pos + i}`);
          if (c === QUOTE || isScalarStart(c)) return this.fail('not a CloudTrail file');
          return this.fail('not JSON');
        }

        case ST_OBJ_FIRST: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === RBRACE) {
            // `{}`: nothing CloudTrail in it.
            this.dropCapture();
            this.foreign(this.elemStartOffset);
            this.state = ST_TOP;
            i++;
          } else if (c === QUOTE) {
            this.key = '';
            this.escaped = false;
            this.keyEscaped = false;
            this.state = ST_OBJ_FIRST_KEY;
            i++;
          } else {
            return this.unexpected(c, i);
          }
          break;
        }

        case ST_OBJ_FIRST_KEY: {
          const q = this.readKeyChars(buf, i, n);
          if (q < 0) {
            i = n;
            break;
          }
          i = q + 1;
          if (!this.keyEscaped && CONTAINER_KEYS.includes(this.key)) {
            this.dropCapture();
            this.beginContainer(this.elemStartOffset);
            this.state = ST_COLON;
          } else {
            // A record (JSON Lines): read on to its end, inside its object after the first key.
            this.inString = false;
            this.scalar = false;
            this.stack[0] = LBRACE;
            this.depth = 1;
            this.state = ST_ITEM;
          }
          break;
        }

        case ST_KEY_OR_END:
        case ST_KEY_REQUIRED: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === QUOTE) {
            this.key = '';
            this.escaped = false;
            this.keyEscaped = false;
            this.state = ST_KEY;
            i++;
          } else if (c === RBRACE && this.state === ST_KEY_OR_END) {
            this.endContainer();
            i++;
          } else {
            return this.unexpected(c, i);
          }
          break;
        }

        case ST_KEY: {
          const q = this.readKeyChars(buf, i, n);
          if (q < 0) {
            i = n;
          } else {
            i = q + 1;
            this.state = ST_COLON;
          }
          break;
        }

        case ST_COLON: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c !== COLON) return this.unexpected(c, i);
          this.state = ST_VALUE;
          i++;
          break;
        }

        case ST_VALUE: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === LBRACKET && !this.containerTook && !this.keyEscaped && (this.key === 'Records' || this.key === 'Events')) {
            this.containerTook = true;
            this.containerFormat = this.key === 'Records' ? 'records' : 'events';
            this.format ??= this.containerFormat;
            this.cloudTrailValues++;
            this.bareArray = false;
            this.state = ST_ARR_FIRST;
            i++;
            break;
          }
          if (!this.beginValue(c)) return this.unexpected(c, i);
          this.state = ST_SKIP;
          i++;
          break;
        }

        case ST_SKIP: {
          const r = this.scanValue(buf, i, n);
          if (r === DAMAGED) return false;
          if (r === INCOMPLETE) {
            i = n;
          } else {
            i = r;
            this.state = ST_COMMA_OR_END;
          }
          break;
        }

        case ST_COMMA_OR_END: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === COMMA) {
            this.state = ST_KEY_REQUIRED;
          } else if (c === RBRACE) {
            this.endContainer();
          } else {
            return this.unexpected(c, i);
          }
          i++;
          break;
        }

        case ST_ARR_FIRST:
        case ST_ARR_ELEM: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === RBRACKET && this.state === ST_ARR_FIRST) {
            this.state = this.bareArray ? ST_TOP : ST_COMMA_OR_END;
            i++;
            break;
          }
          if (c === LBRACE) {
            const r = this.walkObject(buf, i, n, false);
            if (r >= 0) {
              this.emit(buf, i, r, this.pos + i);
              i = r;
              this.state = ST_ARR_COMMA_OR_END;
              break;
            }
            if (r === DAMAGED) return this.fail(this.walkFailure);
          }
          if (!this.beginValue(c)) return this.unexpected(c, i);
          this.beginCapture(buf, i);
          this.state = ST_ELEM;
          i++;
          break;
        }

        case ST_ELEM:
        case ST_ITEM: {
          const r = this.scanValue(buf, i, n);
          if (r === DAMAGED) return false;
          if (r === INCOMPLETE) {
            i = n;
            break;
          }
          const whole = this.finishCapture(buf, r);
          if (this.state === ST_ELEM) {
            if (whole) this.emitCaptured(whole);
            this.state = ST_ARR_COMMA_OR_END;
          } else {
            if (whole) {
              const end = this.walkObject(whole, 0, whole.length, false);
              if (end === whole.length) this.finishTopObject(whole, 0, end, this.elemStartOffset);
              else this.foreign(this.elemStartOffset);
            }
            this.state = ST_TOP;
          }
          i = r;
          break;
        }

        case ST_ARR_COMMA_OR_END: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === COMMA) this.state = ST_ARR_ELEM;
          else if (c === RBRACKET) this.state = this.bareArray ? ST_TOP : ST_COMMA_OR_END;
          else return this.unexpected(c, i);
          i++;
          break;
        }

        default:
          throw new Error(`CloudTrailJsonScanner: bad state ${this.state}`);
      }
    }

    if (this.capturing) this.carryElement(buf);
    this.pos += n;
    return true;
  }

  /**
   * Signal the end of input. Returns null if the input was complete CloudTrail (records or
   * Records/Events arrays, possibly empty), otherwise the reason it is not, with notes on
   * what was skipped.
   */
  end(): string | null {
    let reason: string | null;
    if (this.state === ST_FAILED) reason = this.failure;
    else if (this.state !== ST_TOP) reason = `truncated JSON at byte ${this.pos}`;
    else if (this.topValues === 0) reason = this.pos === 0 ? 'empty file' : 'not JSON';
    else if (this.cloudTrailValues === 0) reason = 'no Records or Events array';
    else reason = null;
    this.elemParts = [];
    const notes: string[] = [];
    if (this.foreignValues > 0 && this.cloudTrailValues > 0) {
      notes.push(`${plural(this.foreignValues, 'top-level object')} that ${this.foreignValues === 1 ? 'is' : 'are'} neither a record nor a Records/Events file skipped (first at byte ${this.firstForeignAt})`);
    }
    if (this.oversized > 0) {
      const max = this.maxElementBytes;
      const limit = max % (1024 * 1024) === 0 ? `${max / (1024 * 1024)} MiB` : `${max} bytes`;
      notes.push(`${plural(this.oversized, 'element')} larger than ${limit} skipped (first at byte ${this.firstOversizedAt})`);
    }
    for (const note of notes) reason = reason === null ? note : `${reason}; ${note}`;
    return reason;
  }

  // ---------------------------------------------------------------------------------------

  private walkFailure = '';
  private keyEscaped = false;

  private fail(reason: string): false {
    this.state = ST_FAILED;
    this.failure = reason;
    this.elemParts = [];
    this.capturing = false;
    return false;
  }

  private unexpected(c: number, i: number): false {
    return this.fail(`corrupt JSON at byte ${this.pos + i}: unexpected ${describeByte(c)}`);
  }

  private foreign(at: number): void {
    if (this.foreignValues++ === 0) this.firstForeignAt = at;
  }

  private beginContainer(at: number): void {
    this.containerTook = false;
    this.containerAt = at;
    this.state = ST_KEY_OR_END;
  }

  private endContainer(): void {
    if (!this.containerTook) this.foreign(this.containerAt);
    this.containerFormat = null;
    this.state = ST_TOP;
  }

  /**
   * A whole top-level object that did not start with a container key, at `bytes[start, end)`:
   * a record, a container with other keys first, or something else.
   */
  private finishTopObject(bytes: Buffer, start: number, end: number, offset = this.pos + start): void {
    const f = this.fields;
    const s = this.table;
    // A record's fields make it a record (JSON Lines); an escaped key may be any of them, so
    // only parsing can tell: it is emitted too.
    if (f.escapedKey || s.recordFields.some((slot) => f.has(slot))) {
      this.cloudTrailValues++;
      this.emit(bytes, start, end, offset);
      return;
    }
    if (f.kind[s.records] !== VALUE_ARRAY && f.kind[s.events] !== VALUE_ARRAY) {
      this.foreign(offset);
      return;
    }
    // A container whose Records/Events array is not its first key: read it again as one.
    const inner = new CloudTrailJsonScanner(this.onElement, { fields: this.table.callerFields, maxElementBytes: this.maxElementBytes });
    inner.pos = offset + 1;
    inner.topValues = 1;
    inner.beginContainer(offset);
    inner.write(bytes.subarray(start + 1, end));
    if (inner.failed) {
      this.fail(inner.failure!);
      return;
    }
    this.elements += inner.elements;
    this.format ??= inner.format;
    if (inner.oversized > 0) {
      if (this.oversized === 0) this.firstOversizedAt = inner.firstOversizedAt;
      this.oversized += inner.oversized;
    }
    this.cloudTrailValues++;
  }

  private emit(bytes: Buffer, start: number, end: number, offset: number): void {
    const format = this.containerFormat ?? (this.fields.has(this.table.cloudTrailEvent) ? 'events' : 'records');
    if (end - start > this.maxElementBytes) {
      if (this.oversized++ === 0) this.firstOversizedAt = offset;
      return;
    }
    this.format ??= format;
    this.elements++;
    this.onElement(bytes, start, end, format, this.fields);
  }

  private emitCaptured(whole: Buffer): void {
    if (whole[0] === LBRACE) {
      if (this.walkObject(whole, 0, whole.length, false) !== whole.length) {
        // Cannot happen for input the framing scan accepted; parse it rather than trust partial fields.
        this.fields.clear();
        this.fields.escapedKey = true;
      }
    } else {
      this.fields.clear();
    }
    this.emit(whole, 0, whole.length, this.elemStartOffset);
  }

  /** Start a value whose first byte is `c`. Returns false if `c` cannot start a value. */
  private beginValue(c: number): boolean {
    this.inString = false;
    this.escaped = false;
    this.scalar = false;
    this.depth = 0;
    if (c === LBRACE || c === LBRACKET) {
      this.stack[0] = c;
      this.depth = 1;
    } else if (c === QUOTE) {
      this.inString = true;
    } else if (isScalarStart(c)) {
      this.scalar = true;
    } else {
      return false;
    }
    return true;
  }

  /**
   * Walks the object starting at `bytes[i]` ('{') to its end, locating the fields of its top
   * level. Returns the index just past its '}', INCOMPLETE if `n` comes first, DAMAGED on a
   * bracket mismatch (reason in walkFailure), or, with `stopAtContainer`, CONTAINER as soon as
   * its first key turns out to be a container's.
   */
  private walkObject(bytes: Buffer, i: number, n: number, stopAtContainer: boolean): number {
    const f = this.fields;
    f.clear();
    let stack = this.stack;
    stack[0] = LBRACE;
    let depth = 1;
    let expectKey = true;
    let first = true;
    let slot = -1;
    i++;
    while (i < n) {
      const c = bytes[i]!;
      if (c === QUOTE) {
        // Strings are skipped with indexOf (memchr) and a backwards count of backslashes:
        // measured faster than a byte loop on CloudTrail's string-heavy records.
        const s = i + 1;
        let j = s;
        for (;;) {
          const q = j < n ? bytes.indexOf(QUOTE, j) : -1;
          if (q < 0 || q >= n) return INCOMPLETE;
          let k = q - 1;
          while (k >= s && bytes[k] === BACKSLASH) k--;
          j = q;
          if (((q - 1 - k) & 1) === 0) break;
          j = q + 1;
        }
        if (depth === 1) {
          if (expectKey) {
            expectKey = false;
            if (hasBackslash(bytes, s, j)) {
              f.escapedKey = true;
              slot = -1;
            } else {
              slot = this.fieldSlot(bytes, s, j);
            }
            if (first) {
              first = false;
              if (stopAtContainer && slot >= 0 && (slot === this.table.records || slot === this.table.events || slot === this.table.nextToken)) return CONTAINER;
            }
          } else if (slot >= 0) {
            f.kind[slot] = hasBackslash(bytes, s, j) ? VALUE_ESCAPED_STRING : VALUE_STRING;
            f.start[slot] = s;
            f.end[slot] = j;
            slot = -1;
          }
        }
        i = j + 1;
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (depth === 1 && slot >= 0) {
          f.kind[slot] = c === LBRACE ? VALUE_OBJECT : VALUE_ARRAY;
          f.start[slot] = i;
          f.end[slot] = i;
          slot = -1;
        }
        if (depth === stack.length) {
          const bigger = new Uint8Array(stack.length * 2);
          bigger.set(stack);
          this.stack = stack = bigger;
        }
        stack[depth++] = c;
      } else if (c === RBRACE || c === RBRACKET) {
        // '{' + 2 === '}', '[' + 2 === ']'
        if (stack[depth - 1] !== c - 2) {
          this.walkFailure = `corrupt JSON at byte ${this.pos + i}: unexpected ${describeByte(c)}`;
          return DAMAGED;
        }
        if (--depth === 0) return i + 1;
      } else if (depth === 1) {
        if (c === COMMA) expectKey = true;
        else if (slot >= 0 && isScalarStart(c)) {
          f.kind[slot] = VALUE_SCALAR;
          f.start[slot] = i;
          f.end[slot] = i;
          slot = -1;
        }
      }
      i++;
    }
    return INCOMPLETE;
  }

  /** The field slot of the key `bytes[s, e)`, or -1. */
  private fieldSlot(bytes: Uint8Array, s: number, e: number): number {
    const candidates = this.table.byLength[e - s];
    if (!candidates) return -1;
    outer: for (const { slot, bytes: name } of candidates) {
      for (let k = 0; k < name.length; k++) if (bytes[s + k] !== name[k]) continue outer;
      return slot;
    }
    return -1;
  }

  /**
   * Continue the value in progress from `i`. Returns the index just past its end, INCOMPLETE
   * if the chunk ran out first, DAMAGED if the value is damaged (state is then FAILED).
   */
  private scanValue(buf: Buffer, i: number, n: number): number {
    if (this.scalar) {
      while (i < n) {
        const c = buf[i]!;
        if (c === COMMA || c === RBRACKET || c === RBRACE || isWhitespace(c)) {
          this.scalar = false;
          return i;
        }
        if (c === QUOTE || c === LBRACE || c === LBRACKET || c === COLON) {
          this.unexpected(c, i);
          return DAMAGED;
        }
        i++;
      }
      return INCOMPLETE;
    }
    let depth = this.depth;
    if (this.inString) {
      const q = this.stringEnd(buf, i, n);
      if (q < 0) return INCOMPLETE;
      this.inString = false;
      i = q + 1;
      if (depth === 0) return i;
    }
    let stack = this.stack;
    while (i < n) {
      const c = buf[i]!;
      if (c === QUOTE) {
        const q = this.stringEnd(buf, i + 1, n);
        if (q < 0) {
          this.inString = true;
          this.depth = depth;
          return INCOMPLETE;
        }
        i = q + 1;
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (depth === stack.length) {
          const bigger = new Uint8Array(stack.length * 2);
          bigger.set(stack);
          this.stack = stack = bigger;
        }
        stack[depth++] = c;
      } else if (c === RBRACE || c === RBRACKET) {
        if (stack[depth - 1] !== c - 2) {
          this.depth = depth;
          this.unexpected(c, i);
          return DAMAGED;
        }
        depth--;
        if (depth === 0) {
          this.depth = 0;
          return i + 1;
        }
      }
      i++;
    }
    this.depth = depth;
    return INCOMPLETE;
  }

  /**
   * Index of the closing quote of the string whose contents continue at `i`, or -1 if it does
   * not close in this chunk (then `escaped` records whether the chunk ended mid-escape).
   */
  private stringEnd(buf: Buffer, i: number, n: number): number {
    if (this.escaped) {
      // The previous chunk ended with an unpaired backslash: this byte is escaped.
      this.escaped = false;
      i++;
    }
    let from = i;
    for (;;) {
      const q = from < n ? buf.indexOf(QUOTE, from) : -1;
      const stop = q < 0 ? n : q;
      let backslashes = 0;
      for (let j = stop - 1; j >= from && buf[j] === BACKSLASH; j--) backslashes++;
      if (q < 0) {
        this.escaped = (backslashes & 1) === 1;
        return -1;
      }
      if ((backslashes & 1) === 0) return q;
      from = q + 1;
    }
  }

  /** Reads key characters (the first few, for container keys) up to the closing quote; -1 if the chunk ends first. */
  private readKeyChars(buf: Buffer, i: number, n: number): number {
    const q = this.stringEnd(buf, i, n);
    const end = q < 0 ? n : q;
    if (end > i) {
      const backslash = buf.indexOf(BACKSLASH, i);
      if (backslash >= 0 && backslash < end) this.keyEscaped = true;
      if (this.key.length <= MAX_KEY_CHARS) this.key += buf.toString('latin1', i, Math.min(end, i + MAX_KEY_CHARS + 1));
    }
    return q;
  }

  private beginCapture(buf: Buffer, i: number): void {
    this.capturing = true;
    this.elemStart = i;
    this.elemStartOffset = this.pos + i;
    this.elemParts = [];
    this.elemBytes = 0;
    this.dropping = false;
  }

  private dropCapture(): void {
    this.capturing = false;
    this.elemParts = [];
  }

  private carryElement(buf: Buffer): void {
    const len = buf.length - this.elemStart;
    if (len <= 0) return;
    this.elemBytes += len;
    if (this.dropping) return;
    if (this.elemBytes > this.maxElementBytes) {
      this.dropping = true;
      this.elemParts = [];
      return;
    }
    this.elemParts.push(this.elemStart === 0 ? buf : buf.subarray(this.elemStart));
  }

  /** The captured element ending at `buf[end]`, or null if it was too large (counted). */
  private finishCapture(buf: Buffer, end: number): Buffer | null {
    this.capturing = false;
    const total = this.elemBytes + (end - this.elemStart);
    if (this.dropping || total > this.maxElementBytes) {
      if (this.oversized++ === 0) this.firstOversizedAt = this.elemStartOffset;
      this.elemParts = [];
      this.dropping = false;
      return null;
    }
    let whole: Buffer;
    if (this.elemParts.length === 0) {
      whole = buf.subarray(this.elemStart, end);
    } else {
      this.elemParts.push(buf.subarray(0, end));
      whole = Buffer.concat(this.elemParts, total);
      this.elemParts = [];
    }
    return whole;
  }
}

function hasBackslash(bytes: Uint8Array, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (bytes[k] === BACKSLASH) return true;
  return false;
}

function skipWhitespace(buf: Buffer, i: number, n: number): number {
  while (i < n && isWhitespace(buf[i]!)) i++;
  return i;
}

export interface ParsedCloudTrailText {
  /** The format of the first element or container; null when none was found. */
  format: FileFormat | null;
  /** The exact text of each complete element found. */
  items: string[];
  /** Each element's format (a bare array or JSON Lines can hold both kinds). */
  formats: FileFormat[];
  /** Why the text is not complete CloudTrail, or null. */
  problem: string | null;
}

/** Scan a whole CloudTrail file held in memory (convenience for small inputs and tests). */
export function parseCloudTrailText(text: string | Uint8Array, opts: Pick<ScannerOptions, 'maxElementBytes'> = {}): ParsedCloudTrailText {
  const items: string[] = [];
  const formats: FileFormat[] = [];
  const scanner = new CloudTrailJsonScanner((bytes, start, end, format) => {
    items.push(bytes.toString('utf8', start, end));
    formats.push(format);
  }, opts);
  const buf =
    typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  scanner.write(buf);
  const problem = scanner.end();
  return { format: scanner.format, items, formats, problem };
}
