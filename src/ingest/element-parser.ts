import { isInsightsEventText, prefilter, PREFILTER_FIELDS } from '../records/prefilter.js';
import { normaliseText } from '../records/normalise.js';
import { pushRecordValues, type RecordValue, type Rejection } from '../store/store.js';
import type { ElementHandler } from '../sources/files/index.js';

/** What became of the elements read. */
export interface ParseCounts {
  read: number;
  /** Not Athena Spark/notebook calls: other services and Athena SQL (never stored). */
  ignored: number;
  /** CloudTrail Insights events: valid records that are not API calls (never stored). */
  insights: number;
  rejected: number;
  /** Rows produced (records to store). */
  rows: number;
}

export const emptyCounts = (): ParseCounts => ({ read: 0, ignored: 0, insights: 0, rejected: 0, rows: 0 });

export function addCounts(into: ParseCounts, from: ParseCounts): void {
  into.read += from.read;
  into.ignored += from.ignored;
  into.insights += from.insights;
  into.rejected += from.rejected;
  into.rows += from.rows;
}

/** The top-level fields the file scanner must locate for the parser. */
export const PARSER_FIELDS = PREFILTER_FIELDS;

export interface ElementParserOptions {
  /** Judge elements on their bytes before parsing (default true); off only to compare answers. */
  prefilter?: boolean;
}

/**
 * Turns file elements into store rows (flat, see `pushRecordValues`) and malformed elements
 * into rejections: the prefilter sets other services' records aside on their bytes, the rest
 * is parsed and normalised. `source` names the file the elements come from.
 */
export class ElementParser {
  rows: RecordValue[] = [];
  rowCount = 0;
  rejections: Rejection[] = [];
  rejectedChars = 0;
  /** [reason, source] of each rejection since the last `takeRejectedReasons`. */
  rejectedReasons: Array<[string, string]> = [];
  readonly counts = emptyCounts();
  source = '';
  private readonly usePrefilter: boolean;

  constructor(o: ElementParserOptions = {}) {
    this.usePrefilter = o.prefilter !== false;
  }

  readonly onElement: ElementHandler = (bytes, start, end, format, fields) => {
    const counts = this.counts;
    counts.read++;
    if (this.usePrefilter) {
      const verdict = prefilter(bytes, fields, format);
      if (verdict === 'other') {
        counts.ignored++;
        return;
      }
      if (verdict === 'insight') {
        counts.insights++;
        return;
      }
    }
    const text = bytes.toString('utf8', start, end);
    const n = normaliseText(text, format);
    if (n.kind === 'event') {
      pushRecordValues(this.rows, n.event);
      this.rowCount++;
      counts.rows++;
    } else if (n.kind === 'ignored') {
      counts.ignored++;
    } else if (isInsightsEventText(text, format)) {
      counts.insights++;
    } else {
      counts.rejected++;
      this.rejections.push({ reason: n.reason, source: this.source, raw: text });
      this.rejectedChars += text.length;
      this.rejectedReasons.push([n.reason, this.source]);
    }
  };

  takeRows(): RecordValue[] {
    const rows = this.rows;
    this.rows = [];
    this.rowCount = 0;
    return rows;
  }

  takeRejections(): Rejection[] {
    const r = this.rejections;
    this.rejections = [];
    this.rejectedChars = 0;
    return r;
  }

  takeRejectedReasons(): Array<[string, string]> {
    const r = this.rejectedReasons;
    this.rejectedReasons = [];
    return r;
  }
}
