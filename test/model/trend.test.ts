import { describe, expect, it } from 'vitest';
import { dailyTrend, weeklyTrend, type Headline, type HistoryDay } from '../../src/model/trend.js';

const h = (n: number, o: Partial<Headline> = {}): Headline => ({
  sessionsStarted: n,
  calculationsStarted: 2 * n,
  dpuHours: 10 * n,
  estimatedCostUsd: 3.5 * n,
  failedCalls: n % 3,
  longRunningCalculations: n % 2,
  ...o,
});
const days = (values: Array<number | null>, first = 15): HistoryDay[] =>
  values.map((v, i) => ({ date: `2026-11-${String(first + i).padStart(2, '0')}`, headline: v === null ? null : h(v) }));

describe('dailyTrend', () => {
  it('compares every headline figure with the average of the previous 7 days', () => {
    const t = dailyTrend(h(12, { failedCalls: 0, longRunningCalculations: 3 }), days([8, 9, 10, 11, 12, 10, 10]));
    expect(t).toMatchObject({ basis: 'average-of-previous-7-days', from: '2026-11-15', to: '2026-11-21', daysWithHistory: 7, note: null });
    expect(t.figures!.sessionsStarted).toEqual({ current: 12, baseline: 10, change: 2, changePercent: 20 });
    expect(t.figures!.dpuHours).toEqual({ current: 120, baseline: 100, change: 20, changePercent: 20 });
    expect(t.figures!.estimatedCostUsd.changePercent).toBeCloseTo(20, 10);
    expect(t.figures!.calculationsStarted.baseline).toBe(20);
    // failed calls 8,9,...: 2,0,1,2,0,1,1 → 7/7 = 1; now 0 → −100 %
    expect(t.figures!.failedCalls).toEqual({ current: 0, baseline: 1, change: -1, changePercent: -100 });
    // long-running 0,1,0,1,0,0,0 → 2/7
    expect(t.figures!.longRunningCalculations.baseline).toBeCloseTo(2 / 7, 12);
    expect(t.figures!.longRunningCalculations.changePercent).toBeCloseTo(((3 - 2 / 7) / (2 / 7)) * 100, 10);
  });

  it('leaves days before the store began out of the average instead of counting them as zeros', () => {
    const t = dailyTrend(h(12), days([null, null, null, null, 6, 12, 18]));
    expect(t.daysWithHistory).toBe(3);
    expect(t.figures!.sessionsStarted).toEqual({ current: 12, baseline: 12, change: 0, changePercent: 0 });
    expect(t.note).toBe("average of 3 days: the store's first full day is 2026-11-19");
  });

  it('says there is no history when none of the 7 days has any', () => {
    const t = dailyTrend(h(12), days([null, null, null, null, null, null, null]));
    expect(t).toMatchObject({ daysWithHistory: 0, figures: null, note: 'no history: the store holds no full day before this one' });
  });

  it('a zero baseline has a change but no percentage', () => {
    const t = dailyTrend(h(0, { failedCalls: 4 }), days([0, 0, 0, 0, 0, 0, 0].map(() => 0)));
    expect(t.figures!.failedCalls).toEqual({ current: 4, baseline: 0, change: 4, changePercent: null });
    expect(t.figures!.sessionsStarted).toEqual({ current: 0, baseline: 0, change: 0, changePercent: null });
  });
});

describe('weeklyTrend', () => {
  it('compares the week with the whole previous week (its total)', () => {
    const t = weeklyTrend(h(70), days([8, 9, 10, 11, 12, 10, 10], 9));
    expect(t).toMatchObject({ basis: 'previous-week', from: '2026-11-09', to: '2026-11-15', daysWithHistory: 7 });
    expect(t.figures!.sessionsStarted).toEqual({ current: 70, baseline: 70, change: 0, changePercent: 0 });
  });

  it('a previous week the store only partly holds is no basis for a comparison', () => {
    const t = weeklyTrend(h(70), days([null, 9, 10, 11, 12, 10, 10], 9));
    expect(t).toMatchObject({ figures: null, daysWithHistory: 6, note: "no history: the store holds 6 of the previous week's 7 days" });
  });
});
