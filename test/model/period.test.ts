import { describe, expect, it } from 'vitest';
import { datesEnding, dayPeriod, hourBuckets, weekPeriod } from '../../src/model/period.js';

const HOUR = 3_600_000;
const labels = (p: { buckets: Array<{ label: string }> }) => p.buckets.map((b) => b.label);

describe('dayPeriod: the real hours of a day', () => {
  it('a plain UTC day has 24 hours, 00 to 23, each exactly an hour', () => {
    const p = dayPeriod('2026-11-22', 'UTC');
    expect(p).toMatchObject({ kind: 'day', from: '2026-11-22', to: '2026-11-22', start: Date.parse('2026-11-22T00:00:00Z'), end: Date.parse('2026-11-23T00:00:00Z'), note: null });
    expect(labels(p)).toEqual(Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')));
    for (const b of p.buckets) expect(b.end - b.start).toBe(HOUR);
  });

  it('the spring-forward day in New York has 23 hours: 02 never happened and is not drawn', () => {
    const p = dayPeriod('2026-03-08', 'America/New_York');
    expect(p.buckets).toHaveLength(23);
    expect(labels(p).slice(0, 4)).toEqual(['00', '01', '03', '04']);
    expect(labels(p)).not.toContain('02');
    expect(p.note).toBe('23-hour day: clocks went forward');
    // 03 EDT starts one real hour after 01 EST: 07:00Z.
    expect(p.buckets[2]!.start).toBe(Date.parse('2026-03-08T07:00:00Z'));
    expect(p.buckets[22]!.end).toBe(p.end);
  });

  it('the fall-back day in New York has 25 hours: 01 happened twice and each carries its zone', () => {
    const p = dayPeriod('2026-11-01', 'America/New_York');
    expect(p.buckets).toHaveLength(25);
    expect(labels(p).slice(0, 4)).toEqual(['00', '01 EDT', '01 EST', '02']);
    expect(labels(p)[24]).toBe('23');
    expect(new Set(labels(p)).size).toBe(25);
    expect(p.note).toBe('25-hour day: clocks went back');
    expect(p.buckets[1]!.start).toBe(Date.parse('2026-11-01T05:00:00Z'));
    expect(p.buckets[2]!.start).toBe(Date.parse('2026-11-01T06:00:00Z'));
  });

  it('a zone that springs forward at midnight starts its day at 01 (Havana)', () => {
    const p = dayPeriod('2026-03-08', 'America/Havana');
    expect(p.buckets).toHaveLength(23);
    expect(labels(p)[0]).toBe('01');
  });

  it('a half-hour DST shift (Lord Howe Island) gives a 23.5-hour day whose later hours say their minutes', () => {
    const p = dayPeriod('2026-10-04', 'Australia/Lord_Howe');
    expect((p.end - p.start) / HOUR).toBe(23.5);
    expect(p.buckets).toHaveLength(24);
    expect(p.buckets[23]!.end - p.buckets[23]!.start).toBe(HOUR / 2);
    expect(labels(p).slice(0, 3)).toEqual(['00', '01', '02:30']);
  });

  it('hourBuckets covers [start, end) without gaps', () => {
    const start = Date.parse('2026-11-01T04:00:00Z');
    const b = hourBuckets(start, start + 25 * HOUR, 'America/New_York');
    for (let i = 1; i < b.length; i++) expect(b[i]!.start).toBe(b[i - 1]!.end);
  });
});

describe('weekPeriod', () => {
  it('covers the 7 days ending the date, one bucket per local day, labelled by weekday', () => {
    const p = weekPeriod('2026-11-22', 'UTC');
    expect(p).toMatchObject({ kind: 'week', from: '2026-11-16', to: '2026-11-22', start: Date.parse('2026-11-16T00:00:00Z'), end: Date.parse('2026-11-23T00:00:00Z') });
    expect(labels(p)).toEqual(['Mon 16', 'Tue 17', 'Wed 18', 'Thu 19', 'Fri 20', 'Sat 21', 'Sun 22']);
  });

  it('a week across the New York fall-back is 7 days and one hour long', () => {
    const p = weekPeriod('2026-11-03', 'America/New_York');
    expect((p.end - p.start) / HOUR).toBe(7 * 24 + 1);
    expect(p.buckets.map((b) => (b.end - b.start) / HOUR)).toEqual([24, 24, 24, 24, 25, 24, 24]);
  });

  it('datesEnding crosses months and leap days', () => {
    expect(datesEnding('2028-03-02', 3)).toEqual(['2028-02-29', '2028-03-01', '2028-03-02']);
    expect(datesEnding('2027-01-01', 2)).toEqual(['2026-12-31', '2027-01-01']);
    expect(() => datesEnding('2026-02-30', 2)).toThrow(RangeError);
  });
});
