/**
 * Incremental byte scanner for CloudTrail container files.
 *
 * The input is `{ ..., "Records": [ elem, elem, ... ], ... }` (S3 log files) or
 * `{ "Events": [ ... ], "NextToken": "..." }` (LookupEvents output), fed in arbitrary chunks.
 * The scanner emits the exact text of each element of the first top-level `Records`/`Events`
 * array and skips every other top-level value. Only the element in progress is kept across
 * chunk boundaries, so memory does not grow with the file.
 *
 * JSON's structural characters are all ASCII and never occur inside a multi-byte UTF-8
 * sequence, so scanning bytes is UTF-8 safe. String contents are skipped with
 * `Buffer.indexOf('"')` plus a backwards count of backslashes, which is several times faster
 * than a per-byte loop on CloudTrail's string-heavy records.
 *
 * Validation is structural: the top-level object and the array are checked token by token
 * (colons, commas, brackets); inside elements and skipped values only bracket nesting and
 * string boundaries are checked. Full validation of each element is left to `JSON.parse`
 * downstream.
 */
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
const ST_START = 0; // before the top-level value (optional BOM and whitespace)
const ST_KEY_OR_END = 1; // after '{': a key or '}'
const ST_KEY = 2; // inside a top-level key string
const ST_COLON = 3; // after a key: ':'
const ST_VALUE = 4; // after ':': a value
const ST_SKIP = 5; // inside a top-level value that is not the wanted array
const ST_COMMA_OR_END = 6; // after a top-level value: ',' or '}'
const ST_KEY_REQUIRED = 7; // after ',' in the top-level object: a key
const ST_ARR_FIRST = 8; // after '[': an element or ']'
const ST_ARR_ELEM = 9; // after ',' in the array: an element
const ST_ELEM = 10; // inside an element
const ST_ARR_COMMA_OR_END = 11; // after an element: ',' or ']'
const ST_DONE = 12; // after the top-level '}': only whitespace
const ST_FAILED = 13;

const BOM = [0xef, 0xbb, 0xbf];
const MAX_KEY_CHARS = 16;

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

export interface ScannerOptions {
  /** Elements larger than this are dropped instead of buffered (default 64 MiB). */
  maxElementBytes?: number;
}

export const DEFAULT_MAX_ELEMENT_BYTES = 64 * 1024 * 1024;

/**
 * Push-style scanner. `write()` each chunk in order, then `end()`. Each complete element of
 * the `Records`/`Events` array is passed to `onElement` synchronously, during `write()`.
 */
export class CloudTrailJsonScanner {
  /** Set once the `Records`/`Events` array has been found. */
  format: FileFormat | null = null;
  /** Number of elements emitted so far. */
  elements = 0;

  private state = ST_START;
  /** Absolute offset of the start of the current chunk. */
  private pos = 0;
  private failure: string | null = null;

  // Top-level key being read.
  private key = '';

  // Value scanner state (shared by ST_SKIP and ST_ELEM).
  private depth = 0;
  private stack = new Uint8Array(64);
  private inString = false;
  /** The first byte of the next chunk is escaped by a trailing backslash of this one. */
  private escaped = false;
  private scalar = false;

  // Element capture.
  private elemStart = 0;
  private elemParts: Buffer[] = [];
  private elemBytes = 0;
  private elemStartOffset = 0;
  private dropping = false;
  private readonly maxElementBytes: number;
  private oversized = 0;
  private firstOversizedAt = 0;

  constructor(
    private readonly onElement: (text: string) => void,
    opts: ScannerOptions = {},
  ) {
    this.maxElementBytes = opts.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES;
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
   * reading); the reason is returned by `end()`.
   */
  write(buf: Buffer): boolean {
    if (this.state === ST_FAILED) return false;
    const n = buf.length;
    let i = 0;
    if (this.state === ST_ELEM) this.elemStart = 0;

    while (i < n) {
      switch (this.state) {
        case ST_START: {
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
            this.state = ST_KEY_OR_END;
            i++;
            break;
          }
          if (c === LBRACKET || c === QUOTE || isScalarStart(c)) return this.fail('not a CloudTrail file');
          return this.fail('not JSON');
        }

        case ST_KEY_OR_END:
        case ST_KEY_REQUIRED: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === QUOTE) {
            this.key = '';
            this.escaped = false;
            this.state = ST_KEY;
            i++;
          } else if (c === RBRACE && this.state === ST_KEY_OR_END) {
            this.state = ST_DONE;
            i++;
          } else {
            return this.unexpected(c, i);
          }
          break;
        }

        case ST_KEY: {
          const q = this.stringEnd(buf, i, n);
          const end = q < 0 ? n : q;
          if (this.key.length <= MAX_KEY_CHARS && end > i) {
            this.key += buf.toString('latin1', i, Math.min(end, i + MAX_KEY_CHARS + 1));
          }
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
          if (c === LBRACKET && this.format === null && (this.key === 'Records' || this.key === 'Events')) {
            this.format = this.key === 'Records' ? 'records' : 'events';
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
          if (r === -2) return false;
          if (r === -1) {
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
          if (c === COMMA) this.state = ST_KEY_REQUIRED;
          else if (c === RBRACE) this.state = ST_DONE;
          else return this.unexpected(c, i);
          i++;
          break;
        }

        case ST_ARR_FIRST:
        case ST_ARR_ELEM: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === RBRACKET && this.state === ST_ARR_FIRST) {
            this.state = ST_COMMA_OR_END;
            i++;
            break;
          }
          if (!this.beginValue(c)) return this.unexpected(c, i);
          this.state = ST_ELEM;
          this.elemStart = i;
          this.elemStartOffset = this.pos + i;
          this.elemParts = [];
          this.elemBytes = 0;
          this.dropping = false;
          i++;
          break;
        }

        case ST_ELEM: {
          const r = this.scanValue(buf, i, n);
          if (r === -2) return false;
          if (r === -1) {
            i = n;
            break;
          }
          this.finishElement(buf, r);
          i = r;
          this.state = ST_ARR_COMMA_OR_END;
          break;
        }

        case ST_ARR_COMMA_OR_END: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          const c = buf[i]!;
          if (c === COMMA) this.state = ST_ARR_ELEM;
          else if (c === RBRACKET) this.state = ST_COMMA_OR_END;
          else return this.unexpected(c, i);
          i++;
          break;
        }

        case ST_DONE: {
          i = skipWhitespace(buf, i, n);
          if (i >= n) break;
          return this.fail(`trailing data after JSON at byte ${this.pos + i}`);
        }

        default:
          throw new Error(`CloudTrailJsonScanner: bad state ${this.state}`);
      }
    }

    if (this.state === ST_ELEM) this.carryElement(buf);
    this.pos += n;
    return true;
  }

  /**
   * Signal the end of input. Returns null if the file was complete and held a
   * `Records`/`Events` array, otherwise the reason it is not.
   */
  end(): string | null {
    let reason: string | null;
    if (this.state === ST_FAILED) reason = this.failure;
    else if (this.state === ST_DONE) reason = this.format === null ? 'no Records or Events array' : null;
    else if (this.state === ST_START) reason = this.pos === 0 ? 'empty file' : 'not JSON';
    else reason = `truncated JSON at byte ${this.pos}`;
    // Drop any element in progress.
    this.elemParts = [];
    if (this.oversized > 0) {
      const max = this.maxElementBytes;
      const limit = max % (1024 * 1024) === 0 ? `${max / (1024 * 1024)} MiB` : `${max} bytes`;
      const note =
        `${this.oversized} element${this.oversized === 1 ? '' : 's'} larger than ${limit} skipped ` +
        `(first at byte ${this.firstOversizedAt})`;
      reason = reason === null ? note : `${reason}; ${note}`;
    }
    return reason;
  }

  // ---------------------------------------------------------------------------------------

  /** Bytes of a UTF-8 BOM seen at the start of the file. */
  private bomSeen = 0;

  private fail(reason: string): false {
    this.state = ST_FAILED;
    this.failure = reason;
    this.elemParts = [];
    return false;
  }

  private unexpected(c: number, i: number): false {
    return this.fail(`corrupt JSON at byte ${this.pos + i}: unexpected ${describeByte(c)}`);
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
   * Continue the value in progress from `i`. Returns the index just past its end, -1 if the
   * chunk ran out first, -2 if the value is damaged (state is then FAILED).
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
          return -2;
        }
        i++;
      }
      return -1;
    }
    let depth = this.depth;
    if (this.inString) {
      const q = this.stringEnd(buf, i, n);
      if (q < 0) return -1;
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
          return -1;
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
        // '{' + 2 === '}', '[' + 2 === ']'
        if (stack[depth - 1] !== c - 2) {
          this.depth = depth;
          this.unexpected(c, i);
          return -2;
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
    return -1;
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

  private finishElement(buf: Buffer, end: number): void {
    const total = this.elemBytes + (end - this.elemStart);
    if (this.dropping || total > this.maxElementBytes) {
      if (this.oversized++ === 0) this.firstOversizedAt = this.elemStartOffset;
      this.elemParts = [];
      this.dropping = false;
      return;
    }
    let text: string;
    if (this.elemParts.length === 0) {
      text = buf.toString('utf8', this.elemStart, end);
    } else {
      this.elemParts.push(buf.subarray(0, end));
      text = Buffer.concat(this.elemParts, total).toString('utf8');
      this.elemParts = [];
    }
    this.elements++;
    this.onElement(text);
  }
}

function skipWhitespace(buf: Buffer, i: number, n: number): number {
  while (i < n && isWhitespace(buf[i]!)) i++;
  return i;
}

export interface ParsedCloudTrailText {
  /** Null when no `Records`/`Events` array was found. */
  format: FileFormat | null;
  /** The exact text of each complete element found. */
  items: string[];
  /** Why the text is not a complete CloudTrail file, or null. */
  problem: string | null;
}

/** Scan a whole CloudTrail file held in memory (convenience for small inputs and tests). */
export function parseCloudTrailText(text: string | Uint8Array): ParsedCloudTrailText {
  const items: string[] = [];
  const scanner = new CloudTrailJsonScanner((t) => items.push(t));
  const buf =
    typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  scanner.write(buf);
  const problem = scanner.end();
  return { format: scanner.format, items, problem };
}
