import { HOUR } from '../util/clock.js';
import { dayBounds, isCalendarDate, previousDate } from './zoned-day.js';

/** One bar of the digest chart: an hour of a day, or a day of a week. */
export interface PeriodBucket {
  /** Axis label: `00`…`23` for hours (`01 EDT`/`01 EST` where a DST change repeats one), `Mon 16` for days. */
  label: string;
  start: number;
  end: number;
}

/** What a digest covers: one calendar day, or the 7 days ending `to`, in `timezone`. */
export interface DigestPeriod {
  kind: 'day' | 'week';
  /** First and last calendar date covered (equal for a day). */
  from: string;
  to: string;
  timezone: string;
  start: number;
  end: number;
  /** Hours of the day (23, 24 or 25 of them across a DST change) or the 7 days of the week. */
  buckets: PeriodBucket[];
  /** Set when the day is not 24 hours long, e.g. "23-hour day: clocks went forward". */
  note: string | null;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const hourFormats = new Map<string, Intl.DateTimeFormat>();

function hourFormat(timeZone: string): Intl.DateTimeFormat {
  let f = hourFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    hourFormats.set(timeZone, f);
  }
  return f;
}

/** Local wall-clock time of `t` as `HH` (or `HH:MM` off the hour) and the zone's short name. */
function wallClock(t: number, timeZone: string): { time: string; zone: string } {
  if (timeZone === 'UTC') {
    const iso = new Date(t).toISOString();
    return { time: iso.slice(14, 16) === '00' ? iso.slice(11, 13) : iso.slice(11, 16), zone: 'UTC' };
  }
  const parts = hourFormat(timeZone).formatToParts(new Date(t));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const minute = get('minute');
  return { time: minute === '00' ? get('hour') : `${get('hour')}:${minute}`, zone: get('timeZoneName') };
}

/**
 * The real hours of a day, from its first instant: 23 on a spring-forward day, 25 on a
 * fall-back day, so no bar is ever labelled with an hour that did not happen (or hides one
 * that happened twice). A label that occurs twice carries the zone's name (`01 EDT`, `01 EST`).
 */
export function hourBuckets(start: number, end: number, timeZone: string): PeriodBucket[] {
  const out: Array<PeriodBucket & { zone: string }> = [];
  for (let t = start; t < end; t += HOUR) {
    const { time, zone } = wallClock(t, timeZone);
    out.push({ label: time, start: t, end: Math.min(t + HOUR, end), zone });
  }
  const seen = new Map<string, number>();
  for (const b of out) seen.set(b.label, (seen.get(b.label) ?? 0) + 1);
  return out.map(({ zone, ...b }) => (seen.get(b.label)! > 1 ? { ...b, label: `${b.label} ${zone}` } : b));
}

function weekday(date: string): string {
  return WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]!;
}

/** One calendar day in `timeZone`, with its hours. */
export function dayPeriod(date: string, timeZone: string): DigestPeriod {
  const { start, end } = dayBounds(date, timeZone);
  const hours = Math.round((end - start) / HOUR);
  const note = hours === 24 ? null : hours < 24 ? `${hours}-hour day: clocks went forward` : `${hours}-hour day: clocks went back`;
  return { kind: 'day', from: date, to: date, timezone: timeZone, start, end, buckets: hourBuckets(start, end, timeZone), note };
}

/** The 7 calendar days ending `date` (inclusive) in `timeZone`, one bucket per day. */
export function weekPeriod(date: string, timeZone: string): DigestPeriod {
  const dates = datesEnding(date, 7);
  const buckets = dates.map((d) => ({ label: `${weekday(d)} ${d.slice(8)}`, ...dayBounds(d, timeZone) }));
  return { kind: 'week', from: dates[0]!, to: date, timezone: timeZone, start: buckets[0]!.start, end: buckets[6]!.end, buckets, note: null };
}

/** `n` consecutive calendar dates ending with `date`, oldest first. */
export function datesEnding(date: string, n: number): string[] {
  if (!isCalendarDate(date)) throw new RangeError(`not a calendar date: ${date}`);
  const out = [date];
  while (out.length < n) out.unshift(previousDate(out[0]!));
  return out;
}
