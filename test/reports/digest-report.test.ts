import { afterEach, describe, expect, it } from 'vitest';
import { buildDigestReport, digestJson, prepareDigestHistory, type DigestOptions } from '../../src/reports/digest-report.js';
import { digestDetailDocuments, digestDocument } from '../../src/reports/digest-document.js';
import { renderText } from '../../src/reports/render/text.js';
import type { Store } from '../../src/store/store.js';
import { fakeUuid, human, startSession, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { toEvents } from '../support/events.js';
import { tempStore } from '../support/harness.js';

const MINUTE = 60_000;
const DAY_MS = 86_400_000;
const DAY = '2026-11-22';
const NOW = Date.parse('2026-11-23T09:00:00Z');

const stores: Store[] = [];
afterEach(() => {
  while (stores.length) stores.pop()!.close();
});

function store(): Store {
  const { store } = tempStore();
  stores.push(store);
  return store;
}

/** `n` one-hour sessions of 10 DPUs (10 DPU-h each) on `date`, from 10:00 UTC. */
function sessions(date: string, n: number, o: { tags?: Record<string, string>; workGroup?: string } = {}): CloudTrailRecord[] {
  const out: CloudTrailRecord[] = [];
  for (let i = 0; i < n; i++) {
    const sessionId = fakeUuid();
    const t = Date.parse(`${date}T10:00:00Z`) + i * MINUTE;
    out.push(
      startSession({ sessionId, eventTime: t, actor: human(`user-${i % 3}`), maxConcurrentDpus: 10, workGroup: o.workGroup ?? 'etl', ...(o.tags ? { tags: o.tags } : {}) }),
      terminateSession({ sessionId, eventTime: t + 60 * MINUTE }),
    );
  }
  return out;
}

const add = (s: Store, records: CloudTrailRecord[]) => s.insertEvents(toEvents(records), NOW);
const opts = (o: Partial<DigestOptions> = {}): DigestOptions => ({ date: DAY, timezone: 'UTC', now: NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.5, ...o });
const dateBefore = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);

/** A store whose records begin well before the week before DAY: 2 sessions on each of the 8 days before. */
function withHistory(): Store {
  const s = store();
  add(s, sessions(dateBefore(DAY, 9), 1)); // the store begins here
  for (let k = 8; k >= 1; k--) add(s, sessions(dateBefore(DAY, k), 2));
  add(s, sessions(DAY, 4));
  return s;
}

describe('buildDigestReport: trend', () => {
  it('compares the day with the average of the previous 7 days and remembers those days', () => {
    const s = withHistory();
    const d = buildDigestReport(s, opts());
    expect(d.trend).toMatchObject({ basis: 'average-of-previous-7-days', from: '2026-11-15', to: '2026-11-21', daysWithHistory: 7, note: null });
    expect(d.trend!.figures!.sessionsStarted).toEqual({ current: 4, baseline: 2, change: 2, changePercent: 100 });
    expect(d.trend!.figures!.dpuHours.current).toBeCloseTo(40, 10);
    expect(d.trend!.figures!.dpuHours.baseline).toBeCloseTo(20, 10);
    expect(d.trend!.figures!.estimatedCostUsd.baseline).toBeCloseTo(10, 10);
    const remembered = s.db.prepare('SELECT date FROM digest_days ORDER BY date').all() as Array<{ date: string }>;
    expect(remembered.map((r) => r.date)).toEqual(['2026-11-15', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21']);
  });

  it('uses the remembered figures while the day’s records are unchanged, and recomputes a day when a late record arrives', () => {
    const s = withHistory();
    buildDigestReport(s, opts());
    // Proof that the remembered row is what the trend reads: change it behind the report's back.
    s.db.prepare(`UPDATE digest_days SET headline = json_set(headline, '$.sessionsStarted', 9) WHERE date = '2026-11-21'`).run();
    expect(buildDigestReport(s, opts()).trend!.figures!.sessionsStarted.baseline).toBeCloseTo((6 * 2 + 9) / 7, 10);
    // A record of 2026-11-21 delivered late: that day is made again from the records.
    add(s, sessions('2026-11-21', 1));
    expect(buildDigestReport(s, opts()).trend!.figures!.sessionsStarted.baseline).toBeCloseTo((6 * 2 + 3) / 7, 10);
  });

  it('prepareDigestHistory makes the 7 days one per turn of the event loop, so a bot keeps answering meanwhile', async () => {
    const s = withHistory();
    let turns = 0;
    let done = false;
    const tick = () => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    await prepareDigestHistory(s, opts());
    done = true;
    expect(turns).toBeGreaterThanOrEqual(6);
    expect((s.db.prepare('SELECT count(*) AS n FROM digest_days').get() as { n: number }).n).toBe(7);
    expect(buildDigestReport(s, opts()).trend!.daysWithHistory).toBe(7);
  });

  it('does not remember a day that is not over yet (its next day still running)', () => {
    const s = withHistory();
    buildDigestReport(s, opts({ now: Date.parse('2026-11-22T12:00:00Z') }));
    const dates = (s.db.prepare('SELECT date FROM digest_days').all() as Array<{ date: string }>).map((r) => r.date);
    expect(dates).not.toContain('2026-11-21');
    expect(dates).toContain('2026-11-20');
  });

  it('says there is no history, not zeros, for days before the store began', () => {
    const s = store();
    add(s, sessions(dateBefore(DAY, 3), 2)); // begins three days before: two full days of history
    add(s, sessions(dateBefore(DAY, 2), 2));
    add(s, sessions(dateBefore(DAY, 1), 2));
    const d = buildDigestReport(s, opts());
    expect(d.trend).toMatchObject({ daysWithHistory: 2, note: "average of 2 days: the store's first full day is 2026-11-20" });
    expect(d.trend!.figures!.sessionsStarted.baseline).toBe(2);
  });

  it('compares a week with the previous week, and says so when the store does not hold it whole', () => {
    const s = withHistory();
    const week = buildDigestReport(s, opts({ period: 'week' }));
    expect(week.period).toMatchObject({ kind: 'week', from: '2026-11-16', to: DAY });
    expect(week.sessionsStarted).toBe(6 * 2 + 4);
    expect(week.breakdown.buckets.map((b) => Object.values(b.sessionsStarted).reduce((a, n) => a + n, 0))).toEqual([2, 2, 2, 2, 2, 2, 4]);
    expect(week.trend).toMatchObject({ basis: 'previous-week', from: '2026-11-09', to: '2026-11-15', figures: null, daysWithHistory: 2 });
  });
});

describe('buildDigestReport: bad input gets a clear answer', () => {
  it('a day before the store begins is "no records", with when they begin, and no trend', () => {
    const s = store();
    add(s, sessions('2026-11-25', 2));
    const d = buildDigestReport(s, opts());
    expect(d.coverage).toEqual({ state: 'none', recordsBeginAt: Date.parse('2026-11-25T10:00:00Z') });
    expect(d.trend!.figures).toBeNull();
    const text = renderText(digestDocument(d));
    expect(text).toContain("No records for this period: the store's records begin 2026-11-25 10:00 UTC.");
    expect(text).toContain('Trend against the average of the previous 7 days (2026-11-15 to 2026-11-21): no history');
    expect(digestJson(d)).toMatchObject({ coverage: { state: 'none', recordsBeginAt: '2026-11-25T10:00:00.000Z' } });
  });

  it('an empty store says so', () => {
    const d = buildDigestReport(store(), opts());
    expect(d.coverage).toEqual({ state: 'none', recordsBeginAt: null });
    expect(renderText(digestDocument(d))).toContain('No records: the store is empty');
  });

  it('a quiet day inside the store’s history is a day of zeros with a trend', () => {
    const s = withHistory();
    s.db.prepare('DELETE FROM records WHERE event_time >= ?').run(Date.parse(`${DAY}T00:00:00Z`));
    const d = buildDigestReport(s, opts());
    expect(d.coverage.state).toBe('full');
    expect(d.sessionsStarted).toBe(0);
    expect(d.trend!.figures!.sessionsStarted).toEqual({ current: 0, baseline: 2, change: -2, changePercent: -100 });
    const text = renderText(digestDocument(d));
    expect(text).toMatch(/Sessions started: +0 \(−100% vs avg 2\.0\)/);
    expect(text).toMatch(/DPU-hours: +0 \(−100% vs avg 20\.0\)/);
    expect(text).toMatch(/Estimated cost: +\$0\.00 \(−100% vs avg \$10\.00\)/);
    expect(text).toMatch(/Failed calls: +0 \(no change; avg 0\.0\)/);
  });

  it('a tag key no session carries is named, with the near miss; the full tables go to the thread', () => {
    const s = store();
    add(s, [...sessions(DAY, 2, { tags: { Team: 'risk' } }), ...sessions(DAY, 7, { tags: { project: 'p1' }, workGroup: 'adhoc' })]);
    for (let i = 0; i < 5; i++) add(s, sessions(DAY, 1, { tags: { project: `p${i + 2}` } }));
    const d = buildDigestReport(s, opts({ groupTags: ['team', 'project'] }));
    const text = renderText(digestDocument(d));
    expect(text).toContain('no session started in this period carried the tag key "team" (sessions carry "Team": tag keys are case-sensitive); all 14 are (untagged)');
    expect(text).toContain('Top values of tag project (3 of 7)');
    expect(text).toContain('  - p1: 70.0 DPU-h ≈ $35.00, 7 sessions');
    const thread = digestDetailDocuments(d, { timezone: 'UTC', showCallerDetails: false, now: NOW }).map(renderText).join('\n');
    expect(thread).toContain(`DPU-hours and cost by tag project on ${DAY} (7)`);
    expect(thread).toContain('  - (untagged): 20.0 DPU-h ≈ $10.00, 2 sessions');
    expect(thread).not.toContain('by tag team');
    const json = digestJson(d) as { byTag: Record<string, { data: Record<string, unknown>; tagged: number; similarKeys: string[] }> };
    expect(json.byTag.team).toEqual({ data: { '(untagged)': { sessionsStarted: 14, dpuHours: 140, estimatedCostUsd: 70 } }, tagged: 0, similarKeys: ['Team'] });
    expect(Object.keys(json.byTag.project!.data)).toEqual(['p1', '(untagged)', 'p2', 'p3', 'p4', 'p5', 'p6']);
  });
});

describe('digestJson', () => {
  it('keeps the SPEC keys and adds period, trend, byTag, chart and cost per user and workgroup', () => {
    const s = withHistory();
    const json = digestJson(buildDigestReport(s, opts({ groupTags: ['team'] })));
    for (const key of ['date', 'timezone', 'sessionsStarted', 'sessionsEnded', 'notebookImports', 'notebooksCreated', 'calculationsStarted', 'longRunningCalculations', 'failedCalls', 'failedCallsByCode', 'dpuHours', 'dpuHoursIsUpperBound', 'estimatedCostUsd', 'byUser', 'byWorkgroup']) {
      expect(json).toHaveProperty(key);
    }
    expect(json).toMatchObject({ date: DAY, period: 'day', from: DAY, to: DAY, sessionsStarted: 4, dpuHours: 40, estimatedCostUsd: 20 });
    expect(json.byWorkgroup).toEqual({ etl: { sessionsStarted: 4, calculationsStarted: 0, dpuHours: 40, failedCalls: 0, estimatedCostUsd: 20 } });
    expect((json.trend as { figures: Record<string, unknown> }).figures.sessionsStarted).toEqual({ current: 4, baseline: 2, change: 2, changePercent: 100 });
    const chart = json.chart as { workgroups: string[]; buckets: Array<{ label: string; start: string; sessionsStarted: Record<string, number> }> };
    expect(chart.workgroups).toEqual(['etl']);
    expect(chart.buckets).toHaveLength(24);
    expect(chart.buckets[10]).toMatchObject({ label: '10', start: `${DAY}T10:00:00.000Z`, sessionsStarted: { etl: 4 } });
  });
});
