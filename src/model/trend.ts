import type { Digest } from './digest.js';

/** The digest's headline figures: what the trend compares. */
export interface Headline {
  sessionsStarted: number;
  calculationsStarted: number;
  dpuHours: number;
  estimatedCostUsd: number;
  failedCalls: number;
  longRunningCalculations: number;
}

/** The headline figures of a digest. */
export function headlineOf(d: Digest): Headline {
  return {
    sessionsStarted: d.sessionsStarted,
    calculationsStarted: d.calculationsStarted,
    dpuHours: d.dpuHours,
    estimatedCostUsd: d.estimatedCostUsd,
    failedCalls: d.failedCalls,
    longRunningCalculations: d.longRunningCalculations.length,
  };
}

export const HEADLINE_KEYS = ['sessionsStarted', 'calculationsStarted', 'dpuHours', 'estimatedCostUsd', 'failedCalls', 'longRunningCalculations'] as const;
export type HeadlineKey = (typeof HEADLINE_KEYS)[number];

/** One figure against its baseline. */
export interface TrendFigure {
  current: number;
  /** The average of the previous days (daily digest) or the previous week's total (weekly). */
  baseline: number;
  change: number;
  /** null when the baseline is 0 (a change from nothing has no percentage). */
  changePercent: number | null;
}

export interface Trend {
  basis: 'average-of-previous-7-days' | 'previous-week';
  /** The days the baseline is made of, oldest first. */
  from: string;
  to: string;
  /** How many of those days the store has history for. */
  daysWithHistory: number;
  /** Null when there is no history to compare with: `note` says why. */
  figures: Record<HeadlineKey, TrendFigure> | null;
  note: string | null;
}

/** A previous day: its headline, or null when the store has no history for it (before it began). */
export interface HistoryDay {
  date: string;
  headline: Headline | null;
}

function compare(current: Headline, baseline: Headline): Record<HeadlineKey, TrendFigure> {
  const out = {} as Record<HeadlineKey, TrendFigure>;
  for (const k of HEADLINE_KEYS) {
    const change = current[k] - baseline[k];
    out[k] = { current: current[k], baseline: baseline[k], change, changePercent: baseline[k] === 0 ? null : (change / baseline[k]) * 100 };
  }
  return out;
}

function sum(days: readonly Headline[]): Headline {
  const total: Headline = { sessionsStarted: 0, calculationsStarted: 0, dpuHours: 0, estimatedCostUsd: 0, failedCalls: 0, longRunningCalculations: 0 };
  for (const d of days) for (const k of HEADLINE_KEYS) total[k] += d[k];
  return total;
}

/**
 * A day against the average of the 7 days before it. Days before the store began are not
 * zeros: they are left out of the average, and with none left there is no trend.
 */
export function dailyTrend(current: Headline, previous: readonly HistoryDay[]): Trend {
  const known = previous.filter((d) => d.headline !== null).map((d) => d.headline!);
  const base = { basis: 'average-of-previous-7-days' as const, from: previous[0]?.date ?? '', to: previous[previous.length - 1]?.date ?? '', daysWithHistory: known.length };
  if (known.length === 0) return { ...base, figures: null, note: 'no history: the store holds no full day before this one' };
  const total = sum(known);
  const average = Object.fromEntries(HEADLINE_KEYS.map((k) => [k, total[k] / known.length])) as unknown as Headline;
  const missing = previous.length - known.length;
  return {
    ...base,
    figures: compare(current, average),
    note: missing ? `average of ${known.length} day${known.length === 1 ? '' : 's'}: the store's first full day is ${previous[missing]!.date}` : null,
  };
}

/** A week against the week before it; only a whole previous week is a fair comparison. */
export function weeklyTrend(current: Headline, previousWeek: readonly HistoryDay[]): Trend {
  const known = previousWeek.filter((d) => d.headline !== null).map((d) => d.headline!);
  const base = { basis: 'previous-week' as const, from: previousWeek[0]?.date ?? '', to: previousWeek[previousWeek.length - 1]?.date ?? '', daysWithHistory: known.length };
  if (known.length < previousWeek.length || known.length === 0) {
    return { ...base, figures: null, note: `no history: the store holds ${known.length} of the previous week's 7 days` };
  }
  return { ...base, figures: compare(current, sum(known)), note: null };
}
