import { DAY } from '../util/clock.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Offset of `timeZone` from UTC at instant `t`, in ms (local = utc + offset). */
function offsetAt(t: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(t / 1000) * 1000;
}

/** The instant a calendar date begins in a time zone (handles DST). */
function startOfDate(y: number, m: number, d: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - offsetAt(guess, timeZone);
  // A DST change between the guess and the answer moves the offset once more.
  t = guess - offsetAt(t, timeZone);
  return t;
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
  const m = DATE.exec(date);
  if (!m || !isCalendarDate(date)) throw new RangeError(`not a calendar date: ${date}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const next = new Date(Date.UTC(y, mo - 1, d) + DAY);
  return {
    start: startOfDate(y, mo, d, timeZone),
    end: startOfDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone),
  };
}

/** The calendar date (YYYY-MM-DD) of instant `t` in `timeZone`. */
export function localDate(t: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t));
}

/** The date before `date`. */
export function previousDate(date: string): string {
  const m = DATE.exec(date)!;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - DAY).toISOString().slice(0, 10);
}
