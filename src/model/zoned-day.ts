import { DAY } from '../util/clock.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function dateFormat(timeZone: string): Intl.DateTimeFormat {
  let f = dateFormats.get(timeZone);
  if (!f) dateFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f;
}

/**
 * The first instant whose local date in `timeZone` is `date` or later. A binary search over
 * the ±14 h around UTC midnight, so days that do not start at 00:00 (zones that spring forward
 * at midnight, like America/Havana) start at the real transition.
 */
function startOfDate(date: string, timeZone: string): number {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  let lo = utcMidnight - 15 * 3_600_000; // local date here is before `date` in every zone
  let hi = utcMidnight + 15 * 3_600_000; // and at or after it here
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localDate(mid, timeZone) >= date) hi = mid;
    else lo = mid;
  }
  return hi;
}

export function isCalendarDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

/** [start, end) of a calendar day (YYYY-MM-DD) in `timeZone`, as epoch ms. */
export function dayBounds(date: string, timeZone: string): { start: number; end: number } {
  if (!isCalendarDate(date)) throw new RangeError(`not a calendar date: ${date}`);
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + DAY).toISOString().slice(0, 10);
  return { start: startOfDate(date, timeZone), end: startOfDate(next, timeZone) };
}

/** The calendar date (YYYY-MM-DD) of instant `t` in `timeZone`. */
export function localDate(t: number, timeZone: string): string {
  // UTC (the default) without Intl, whose first formatter costs a process ~10 ms.
  if (timeZone === 'UTC') return new Date(t).toISOString().slice(0, 10);
  return dateFormat(timeZone).format(new Date(t));
}

/** The date before `date`. */
export function previousDate(date: string): string {
  const m = DATE.exec(date)!;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - DAY).toISOString().slice(0, 10);
}

/** The date after `date`. */
export function nextDate(date: string): string {
  const m = DATE.exec(date)!;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY).toISOString().slice(0, 10);
}
