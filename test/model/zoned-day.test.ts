import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayBounds, isCalendarDate, localDate, previousDate } from '../../src/model/zoned-day.js';
import { hourBuckets } from '../../src/model/period.js';
import { formatTime } from '../../src/reports/document.js';

const HOUR = 3_600_000;
const iso = (s: string) => Date.parse(s);
const hours = (b: { start: number; end: number }) => (b.end - b.start) / HOUR;

describe('dayBounds', () => {
  it('is midnight to midnight in UTC', () => {
    const b = dayBounds('2026-05-04', 'UTC');
    expect(b).toEqual({ start: iso('2026-05-04T00:00:00Z'), end: iso('2026-05-05T00:00:00Z') });
  });

  it('handles a leap day and the turn of the year', () => {
    expect(dayBounds('2024-02-29', 'UTC')).toEqual({ start: iso('2024-02-29T00:00:00Z'), end: iso('2024-03-01T00:00:00Z') });
    expect(dayBounds('2026-12-31', 'UTC')).toEqual({ start: iso('2026-12-31T00:00:00Z'), end: iso('2027-01-01T00:00:00Z') });
  });

  describe('America/New_York', () => {
    const tz = 'America/New_York';

    it('is 24 hours on an ordinary day (EDT and EST)', () => {
      expect(dayBounds('2026-07-01', tz)).toEqual({ start: iso('2026-07-01T04:00:00Z'), end: iso('2026-07-02T04:00:00Z') });
      expect(dayBounds('2026-01-15', tz)).toEqual({ start: iso('2026-01-15T05:00:00Z'), end: iso('2026-01-16T05:00:00Z') });
    });

    it('is 23 hours on the spring-forward day, 2026-03-08', () => {
      const b = dayBounds('2026-03-08', tz);
      expect(b).toEqual({ start: iso('2026-03-08T05:00:00Z'), end: iso('2026-03-09T04:00:00Z') });
      expect(hours(b)).toBe(23);
    });

    it('is 25 hours on the fall-back day, 2026-11-01', () => {
      const b = dayBounds('2026-11-01', tz);
      expect(b).toEqual({ start: iso('2026-11-01T04:00:00Z'), end: iso('2026-11-02T05:00:00Z') });
      expect(hours(b)).toBe(25);
    });

    it('days around the changes abut with no gap or overlap', () => {
      for (const [a, b] of [
        ['2026-03-07', '2026-03-08'],
        ['2026-03-08', '2026-03-09'],
        ['2026-10-31', '2026-11-01'],
        ['2026-11-01', '2026-11-02'],
      ] as const) {
        expect(dayBounds(a, tz).end).toBe(dayBounds(b, tz).start);
      }
    });
  });

  it('is offset by 5 h 30 min in Asia/Kolkata', () => {
    expect(dayBounds('2026-05-04', 'Asia/Kolkata')).toEqual({ start: iso('2026-05-03T18:30:00Z'), end: iso('2026-05-04T18:30:00Z') });
    expect(dayBounds('2026-03-08', 'Asia/Kolkata')).toEqual({ start: iso('2026-03-07T18:30:00Z'), end: iso('2026-03-08T18:30:00Z') });
  });

  it('handles Europe/Berlin and half-hour and 45-minute zones with DST', () => {
    expect(hours(dayBounds('2026-03-29', 'Europe/Berlin'))).toBe(23);
    expect(hours(dayBounds('2026-10-25', 'Europe/Berlin'))).toBe(25);
    expect(dayBounds('2026-03-29', 'Europe/Berlin').start).toBe(iso('2026-03-28T23:00:00Z'));
    expect(hours(dayBounds('2026-04-05', 'Australia/Lord_Howe'))).toBe(24.5);
    expect(hours(dayBounds('2026-10-04', 'Australia/Lord_Howe'))).toBe(23.5);
    expect(dayBounds('2026-09-27', 'Pacific/Chatham')).toEqual({ start: iso('2026-09-26T11:15:00Z'), end: iso('2026-09-27T10:15:00Z') });
  });

  it('rejects what is not a calendar date', () => {
    for (const bad of ['2026-02-29', '2026-13-01', '2026-04-31', '26-05-04', '2026-5-4', 'yesterday', '', '2026-05-04T00:00:00Z']) {
      expect(() => dayBounds(bad, 'UTC'), bad).toThrow(RangeError);
    }
  });
});

describe('localDate', () => {
  it('gives the calendar date in the zone, at the edges of the day', () => {
    expect(localDate(iso('2026-03-08T04:59:59.999Z'), 'America/New_York')).toBe('2026-03-07');
    expect(localDate(iso('2026-03-08T05:00:00Z'), 'America/New_York')).toBe('2026-03-08');
    expect(localDate(iso('2026-03-09T03:59:59.999Z'), 'America/New_York')).toBe('2026-03-08');
    expect(localDate(iso('2026-05-03T18:30:00Z'), 'Asia/Kolkata')).toBe('2026-05-04');
    expect(localDate(iso('2026-05-03T18:29:59Z'), 'Asia/Kolkata')).toBe('2026-05-03');
    expect(localDate(iso('2026-05-04T23:59:59Z'), 'UTC')).toBe('2026-05-04');
  });
});

describe('previousDate and isCalendarDate', () => {
  it('steps back one calendar day', () => {
    expect(previousDate('2026-03-09')).toBe('2026-03-08');
    expect(previousDate('2024-03-01')).toBe('2024-02-29');
    expect(previousDate('2026-03-01')).toBe('2026-02-28');
    expect(previousDate('2026-01-01')).toBe('2025-12-31');
  });

  it('accepts only real YYYY-MM-DD dates', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-28')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-00-10')).toBe(false);
    expect(isCalendarDate('2026-01-32')).toBe(false);
    expect(isCalendarDate(' 2026-01-01')).toBe(false);
  });
});

describe('dayBounds and localDate agree (property)', () => {
  // Zones whose DST changes happen away from midnight (see the report for zones that change at 00:00).
  const zones = ['UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Australia/Sydney'];

  it('every instant lies in the day of its local date, and consecutive days abut', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 11, 31) }), fc.constantFrom(...zones), (t, tz) => {
        const date = localDate(t, tz);
        const b = dayBounds(date, tz);
        expect(t).toBeGreaterThanOrEqual(b.start);
        expect(t).toBeLessThan(b.end);
        expect(localDate(b.start, tz)).toBe(date);
        expect(localDate(b.end - 1, tz)).toBe(date);
        expect(localDate(b.start - 1, tz)).toBe(previousDate(date));
        expect(dayBounds(previousDate(date), tz).end).toBe(b.start);
        expect([23, 23.5, 24, 24.5, 25]).toContain(hours(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('zones that change clocks at midnight', () => {
  it('America/Havana: 2026-03-08 starts at 01:00 local (05:00Z), the day before is a whole 24 h', () => {
    const day = dayBounds('2026-03-08', 'America/Havana');
    expect(day.start).toBe(iso('2026-03-08T05:00:00Z'));
    expect(hours(day)).toBe(23);
    expect(hours(dayBounds('2026-03-07', 'America/Havana'))).toBe(24);
    expect(localDate(iso('2026-03-08T04:30:00Z'), 'America/Havana')).toBe('2026-03-07');
    expect(dayBounds('2026-03-07', 'America/Havana').end).toBe(day.start);
  });

  it('America/Santiago: every instant of a spring-forward day lies inside that day', () => {
    const day = dayBounds('2026-09-06', 'America/Santiago');
    expect(localDate(day.start, 'America/Santiago')).toBe('2026-09-06');
    expect(localDate(day.start - 1000, 'America/Santiago')).toBe('2026-09-05');
    expect(localDate(day.end - 1000, 'America/Santiago')).toBe('2026-09-06');
  });
});

describe('UTC without Intl (the default zone, formatted by hand for start-up)', () => {
  // Etc/UTC is the same zone reached through Intl: the fast paths must print exactly what it does.
  const instant = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) });
  it('localDate, formatTime and the hour buckets match Intl for UTC', () => {
    fc.assert(
      fc.property(instant, (t) => {
        expect(localDate(t, 'UTC')).toBe(localDate(t, 'Etc/UTC'));
        expect(formatTime(t, 'UTC')).toBe(formatTime(t, 'Etc/UTC'));
        const start = Math.floor(t / 3_600_000) * 3_600_000 + (t % 7) * 60_000;
        expect(hourBuckets(start, start + 3 * 3_600_000, 'UTC').map((b) => b.label)).toEqual(hourBuckets(start, start + 3 * 3_600_000, 'Etc/UTC').map((b) => b.label));
      }),
    );
  });
});
