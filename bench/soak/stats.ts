import type { Sample } from './sampler.js';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Least-squares slope of (t seconds, v) in units per minute. */
export function slopePerMinute(points: ReadonlyArray<{ t: number; v: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

export type Field = 'rssKb' | 'fds' | 'sockets' | 'handles' | 'requests' | 'heapUsed' | 'heapTotal' | 'external' | 'lag' | 'lagP99';

export interface Trend {
  samples: number;
  /** First sample after warm-up, last sample, max after warm-up. */
  first: number;
  last: number;
  max: number;
  min: number;
  /** Median of the first post-warm-up minute and of the last minute. */
  firstMinuteMedian: number;
  lastMinuteMedian: number;
  growth: number;
  growthPct: number;
  slopePerMinute: number;
}

/**
 * Growth after warm-up: (median of the last minute − median of the first post-warm-up
 * minute) ÷ the latter. Windows: [warmup, warmup+60) and [end−60, end].
 */
export function trend(samples: readonly Sample[], field: Field, warmupS: number, endS: number): Trend | undefined {
  const pts = samples.filter((s) => s.t >= warmupS && s[field] !== null).map((s) => ({ t: s.t, v: s[field] as number }));
  if (pts.length === 0) return undefined;
  const firstWin = pts.filter((p) => p.t < warmupS + 60).map((p) => p.v);
  const lastWin = pts.filter((p) => p.t >= endS - 60).map((p) => p.v);
  const a = median(firstWin);
  const b = median(lastWin.length ? lastWin : [pts[pts.length - 1]!.v]);
  const vs = pts.map((p) => p.v);
  return {
    samples: pts.length,
    first: pts[0]!.v,
    last: pts[pts.length - 1]!.v,
    max: Math.max(...vs),
    min: Math.min(...vs),
    firstMinuteMedian: a,
    lastMinuteMedian: b,
    growth: b - a,
    growthPct: a === 0 ? (b === 0 ? 0 : Number.POSITIVE_INFINITY) : ((b - a) / a) * 100,
    slopePerMinute: slopePerMinute(pts),
  };
}

export interface MinuteRow {
  minute: number;
  warmup: boolean;
  n: number;
  rssMinMb: number;
  rssMedMb: number;
  rssMaxMb: number;
  heapMedMb: number;
  handlesMed: number;
  fdsMed: number;
  socketsMed: number;
  lagP99MaxMs: number;
}

export function perMinute(samples: readonly Sample[], warmupS: number): MinuteRow[] {
  const rows: MinuteRow[] = [];
  const last = samples.length ? samples[samples.length - 1]!.t : 0;
  for (let m = 0; m * 60 <= last; m++) {
    const win = samples.filter((s) => s.t >= m * 60 && s.t < (m + 1) * 60);
    if (win.length === 0) continue;
    const vals = (f: Field) => win.map((s) => s[f]).filter((v): v is number => v !== null);
    const rss = vals('rssKb').map((k) => k / 1024);
    rows.push({
      minute: m,
      warmup: (m + 1) * 60 <= warmupS || m * 60 < warmupS,
      n: win.length,
      rssMinMb: rss.length ? Math.min(...rss) : Number.NaN,
      rssMedMb: median(rss),
      rssMaxMb: rss.length ? Math.max(...rss) : Number.NaN,
      heapMedMb: median(vals('heapUsed')) / 2 ** 20,
      handlesMed: median(vals('handles')),
      fdsMed: median(vals('fds')),
      socketsMed: median(vals('sockets')),
      lagP99MaxMs: vals('lagP99').length ? Math.max(...vals('lagP99')) * 1000 : Number.NaN,
    });
  }
  return rows;
}

export const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
