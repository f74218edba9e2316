/**
 * CloudTrail's S3 layout: `[prefix/]AWSLogs/[o-orgid/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`,
 * with `CloudTrail-Digest/` (integrity digests, not records) and `CloudTrail-Insight/` beside
 * `CloudTrail/`. The days in the path are delivery days (UTC).
 */

/** A day range, inclusive, as `YYYY-MM-DD` strings (either end open). */
export interface DayRange {
  since?: string;
  until?: string;
}

/** `…/CloudTrail/<region>/` or `…/CloudTrail-Insight/<region>/`, with what follows it (a partial or full day). */
const REGION_LEVEL = /(^|\/)CloudTrail(?:-Insight)?\/[a-z0-9-]+\//;
const DATED = /(?:^|\/)CloudTrail(?:-Insight)?\/[a-z0-9-]+\/(\d{4})(?:\/(\d{2})(?:\/(\d{2}))?)?(?:\/|$)/;
const DIGEST_DIR = /(?:^|\/)CloudTrail-Digest(?:\/|$)/;

/** Keys and prefixes of digest files: never read, never listed below. */
export function isDigestKey(key: string): boolean {
  return DIGEST_DIR.test(key) || /_CloudTrail-Digest_[^/]*$/.test(key);
}

/** Whether a listing prefix is at or below a region of the layout (list it flat from here). */
export function isRegionLevel(prefix: string): boolean {
  return REGION_LEVEL.test(prefix);
}

/**
 * The day (or partial day: year, year/month) the layout puts `keyOrPrefix` in, as `YYYY`,
 * `YYYY-MM` or `YYYY-MM-DD`; null when it is not below a region of the layout.
 */
export function layoutDay(keyOrPrefix: string): string | null {
  const m = DATED.exec(keyOrPrefix);
  if (!m) return null;
  return [m[1], m[2], m[3]].filter(Boolean).join('-');
}

/** Whether a (partial) day overlaps the range. Keys outside the layout (no day) are kept. */
export function dayInRange(day: string | null, range: DayRange): boolean {
  if (day === null) return true;
  // A partial day covers [day, day + '\uffff'): compare the range ends with its prefix.
  if (range.since && day + '\uffff' < range.since) return false;
  if (range.until && day > range.until) return false;
  return true;
}

/**
 * Where a flat listing of a region prefix can start and stop for the range: keys sort by
 * day, so the listing starts after the day before `since` and stops past `until`.
 */
export function regionListingBounds(regionPrefix: string, range: DayRange): { startAfter?: string; stopAfter?: string } {
  const path = (day: string) => day.replace(/-/g, '/');
  return {
    startAfter: range.since ? `${regionPrefix}${path(range.since)}` : undefined,
    stopAfter: range.until ? `${regionPrefix}${path(range.until)}/\uffff` : undefined,
  };
}

/** Names a walk takes: `*.json` and `*.json.gz` (any case), like a directory walk. */
export function isLogKey(key: string): boolean {
  const lower = key.toLowerCase();
  return (lower.endsWith('.json') || lower.endsWith('.json.gz')) && !isDigestKey(key);
}
