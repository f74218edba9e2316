import { describe, expect, it } from 'vitest';
import { digestBreakdown, UNTAGGED } from '../../src/model/digest-breakdown.js';
import { buildDigest } from '../../src/model/digest.js';
import { dayPeriod } from '../../src/model/period.js';
import { foldSession } from '../../src/model/session.js';
import { noEnrichment, type SessionView } from '../../src/model/types.js';
import { fakeUuid, human, startCalculation, startSession, stopCalculation, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { toEvent } from '../support/events.js';

const MINUTE = 60_000;
const NOW = Date.parse('2026-11-23T09:00:00Z');

function views(records: CloudTrailRecord[]): SessionView[] {
  const events = records.map(toEvent);
  const ids = [...new Set(events.map((e) => e.sessionId).filter((s): s is string => s !== null))];
  return ids.map((id) => foldSession(id, events.filter((e) => e.sessionId === id), noEnrichment, { now: NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.5 })!);
}

/** A session of `dpus` max DPUs for `minutes`, started at `at`: an upper bound of dpus × minutes / 60 DPU-hours. */
function session(at: string, o: { dpus?: number; minutes?: number; tags?: Record<string, string>; workGroup?: string; calcMinutes?: number } = {}): CloudTrailRecord[] {
  const sessionId = fakeUuid();
  const t = Date.parse(at);
  const minutes = o.minutes ?? 60;
  const out = [
    startSession({ sessionId, eventTime: t, actor: human('ana'), maxConcurrentDpus: o.dpus ?? 10, workGroup: o.workGroup ?? 'etl', ...(o.tags ? { tags: o.tags } : {}) }),
    terminateSession({ sessionId, eventTime: t + minutes * MINUTE }),
  ];
  if (o.calcMinutes !== undefined) {
    // Stopped after calcMinutes: a known run time (its session's end alone would only bound it).
    const calculationId = fakeUuid();
    out.push(startCalculation({ sessionId, calculationId, eventTime: t + MINUTE }), stopCalculation({ calculationId, sessionId, eventTime: t + MINUTE + o.calcMinutes * MINUTE }));
  }
  return out;
}

function breakdown(records: CloudTrailRecord[], date: string, timezone = 'UTC', groupTags: string[] = ['team', 'costcenter']) {
  const p = dayPeriod(date, timezone);
  const sessions = views(records);
  const digest = buildDigest({ date, timezone, start: p.start, end: p.end, now: NOW, dayEvents: [], sessions, dpuHourPriceUsd: 0.5 });
  const b = digestBreakdown({
    start: p.start,
    end: p.end,
    buckets: p.buckets,
    sessions: [...sessions, ...sessions],
    longRunning: new Set(digest.longRunningCalculations.map((c) => c.calculationId)),
    groupTags,
    dpuHourPriceUsd: 0.5,
  });
  return { b, digest, p };
}

describe('digestBreakdown: where the money went', () => {
  const records = [
    ...session('2026-11-22T09:10:00Z', { dpus: 10, minutes: 60, tags: { team: 'risk' } }), // 10 DPU-h
    ...session('2026-11-22T09:40:00Z', { dpus: 20, minutes: 30, tags: { team: 'risk', Costcenter: 'cc-1' } }), // 10
    ...session('2026-11-22T14:00:00Z', { dpus: 4, minutes: 90, tags: { team: 'growth' }, workGroup: 'adhoc' }), // 6
    ...session('2026-11-22T23:30:00Z', { dpus: 2, minutes: 60, workGroup: 'adhoc' }), // 2, untagged
    ...session('2026-11-21T23:00:00Z', { dpus: 50, minutes: 120, tags: { team: 'risk' } }), // the day before: not counted
  ];

  it('splits DPU-hours and cost by each tag value, sessions without the key under (untagged), biggest first', () => {
    const { b, digest } = breakdown(records, '2026-11-22');
    expect(b.byTag.team!.data).toEqual({
      risk: { sessionsStarted: 2, dpuHours: 20, estimatedCostUsd: 10 },
      growth: { sessionsStarted: 1, dpuHours: 6, estimatedCostUsd: 3 },
      [UNTAGGED]: { sessionsStarted: 1, dpuHours: 2, estimatedCostUsd: 1 },
    });
    expect(Object.keys(b.byTag.team!.data)).toEqual(['risk', 'growth', UNTAGGED]);
    expect(b.byTag.team!.tagged).toBe(3);
    // Every value of a key adds up to the day's DPU-hours: repeats of a session counted once.
    const total = Object.values(b.byTag.team!.data).reduce((n, s) => n + s.dpuHours, 0);
    expect(total).toBeCloseTo(digest.dpuHours, 10);
    expect(digest.dpuHours).toBeCloseTo(28, 10);
  });

  it('a key no session carried is all (untagged), with the keys that differ only in case', () => {
    const { b } = breakdown(records, '2026-11-22');
    expect(b.byTag.costcenter).toEqual({ data: { [UNTAGGED]: { sessionsStarted: 4, dpuHours: 28, estimatedCostUsd: 14 } }, tagged: 0, similarKeys: ['Costcenter'] });
  });

  it('puts each session, with its DPU-hours, in the hour it started, per workgroup, workgroups by spend', () => {
    const { b } = breakdown(records, '2026-11-22');
    expect(b.workgroups).toEqual(['etl', 'adhoc']);
    expect(b.buckets).toHaveLength(24);
    expect(b.buckets[9]).toMatchObject({ label: '09', sessionsStarted: { etl: 2 }, dpuHours: { etl: 20 }, longRunning: 0 });
    expect(b.buckets[14]).toMatchObject({ sessionsStarted: { adhoc: 1 }, dpuHours: { adhoc: 6 } });
    expect(b.buckets[23]).toMatchObject({ sessionsStarted: { adhoc: 1 }, dpuHours: { adhoc: 2 } });
    expect(b.buckets[0]).toMatchObject({ sessionsStarted: {}, dpuHours: {} });
  });

  it('marks long-running calculations in the hour they started', () => {
    const recs = session('2026-11-22T06:20:00Z', { minutes: 120, calcMinutes: 100 });
    const { b, digest } = breakdown(recs, '2026-11-22');
    expect(digest.longRunningCalculations).toHaveLength(1);
    expect(b.buckets.map((x) => x.longRunning)).toEqual(Array.from({ length: 24 }, (_, i) => (i === 6 ? 1 : 0)));
  });

  it('on the New York fall-back day, a session at 01:30 EDT and one at 01:30 EST land in different bars', () => {
    const recs = [...session('2026-11-01T05:30:00Z'), ...session('2026-11-01T06:30:00Z', { workGroup: 'adhoc' })];
    const { b } = breakdown(recs, '2026-11-01', 'America/New_York');
    expect(b.buckets).toHaveLength(25);
    expect(b.buckets[1]).toMatchObject({ label: '01 EDT', sessionsStarted: { etl: 1 } });
    expect(b.buckets[2]).toMatchObject({ label: '01 EST', sessionsStarted: { adhoc: 1 } });
  });
});
