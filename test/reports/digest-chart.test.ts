import { afterEach, describe, expect, it } from 'vitest';
import { renderPng, renderSvg } from '../../src/reports/chart-png.js';
import { digestChartSpec, OTHER_COLOUR, WORKGROUP_COLOURS } from '../../src/reports/digest-chart.js';
import { buildDigestReport, type DigestOptions } from '../../src/reports/digest-report.js';
import type { Store } from '../../src/store/store.js';
import { fakeUuid, human, startCalculation, startSession, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { toEvents } from '../support/events.js';
import { tempStore } from '../support/harness.js';

const MINUTE = 60_000;
const NOW = Date.parse('2026-11-23T09:00:00Z');
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const stores: Store[] = [];
afterEach(() => {
  while (stores.length) stores.pop()!.close();
});

function digestOf(records: CloudTrailRecord[], o: Partial<DigestOptions> = {}) {
  const { store } = tempStore();
  stores.push(store);
  store.insertEvents(toEvents(records), NOW);
  return buildDigestReport(store, { date: '2026-11-22', timezone: 'UTC', now: NOW, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, trend: false, ...o });
}

function session(at: number, workGroup: string, o: { calcMinutes?: number } = {}): CloudTrailRecord[] {
  const sessionId = fakeUuid();
  const out = [startSession({ sessionId, eventTime: at, actor: human('ana'), workGroup, maxConcurrentDpus: 8 }), terminateSession({ sessionId, eventTime: at + 120 * MINUTE })];
  if (o.calcMinutes) out.push(startCalculation({ sessionId, calculationId: fakeUuid(), eventTime: at + MINUTE }));
  return out;
}

/** Width and height from the PNG's IHDR chunk. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

/** The x-axis labels Vega drew, in order (only the lower panel shows them). */
function axisLabels(svg: string): string[] {
  const x = svg.slice(svg.indexOf('aria-label="X-axis'));
  const labels = x.slice(x.indexOf('role-axis-label'), x.indexOf('role-axis-domain'));
  return [...labels.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

describe('digest chart', () => {
  const busy = [
    ...session(Date.parse('2026-11-22T09:05:00Z'), 'etl', { calcMinutes: 60 }),
    ...session(Date.parse('2026-11-22T09:25:00Z'), 'adhoc'),
    ...session(Date.parse('2026-11-22T15:00:00Z'), 'etl'),
  ];

  it('is a PNG of a size that reads at Slack’s preview, drawn from the data: other data, other bytes', async () => {
    const png = await renderPng(digestChartSpec(digestOf(busy)));
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const { width, height } = pngSize(png);
    expect(width).toBeGreaterThanOrEqual(900);
    expect(width).toBeLessThanOrEqual(1600);
    expect(width / height).toBeGreaterThan(1.2);
    expect(width / height).toBeLessThan(2.2);
    const other = await renderPng(digestChartSpec(digestOf([...busy, ...session(Date.parse('2026-11-22T20:00:00Z'), 'ml')])));
    expect(other.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(other.equals(png)).toBe(false);
    // The same data draws the same bytes.
    expect((await renderPng(digestChartSpec(digestOf(busy)))).equals(png)).toBe(true);
  });

  it('stacks workgroups in the colour-blind-safe palette, biggest spender first, and marks long-running calculations', async () => {
    const d = digestOf(busy);
    const svg = await renderSvg(digestChartSpec(d));
    expect(d.breakdown.workgroups).toEqual(['etl', 'adhoc']);
    expect(svg).toContain(`fill="${WORKGROUP_COLOURS[0]}"`);
    expect(svg).toContain(`fill="${WORKGROUP_COLOURS[1]}"`);
    expect(svg).toContain('long-running calculation started');
    expect(svg).toContain('Hour of the day (UTC)');
    expect(svg).toContain('Sessions started');
    expect(svg).toContain('DPU-hours');
    expect(axisLabels(svg)).toEqual(Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')));
  });

  it('puts the workgroups beyond the palette together in grey', async () => {
    const many = Array.from({ length: 9 }, (_, i) => session(Date.parse('2026-11-22T10:00:00Z') + i * MINUTE, `wg-${i}`)).flat();
    const svg = await renderSvg(digestChartSpec(digestOf(many)));
    expect(svg).toContain('other workgroups');
    expect(svg).toContain(`fill="${OTHER_COLOUR}"`);
  });

  it('an empty day is an honest empty chart: every hour on the axis, a 0–1 scale and a line saying so', async () => {
    const svg = await renderSvg(digestChartSpec(digestOf(session(Date.parse('2026-11-20T10:00:00Z'), 'etl'))));
    expect(svg).toContain('No sessions started in this day');
    expect(axisLabels(svg)).toHaveLength(24);
    const none = await renderSvg(digestChartSpec(digestOf(session(Date.parse('2026-11-25T10:00:00Z'), 'etl'))));
    expect(none).toContain('No records for this period');
    expect(none).toContain("No records: the store's records begin 2026-11-25 10:00 UTC");
  });

  it('draws the 23-hour spring-forward day with 23 bars (no 02) and the 25-hour fall-back day with 25 (01 EDT, 01 EST)', async () => {
    const spring = digestOf(session(Date.parse('2026-03-08T08:30:00Z'), 'etl'), { date: '2026-03-08', timezone: 'America/New_York', now: Date.parse('2026-03-10T00:00:00Z') });
    const springSvg = await renderSvg(digestChartSpec(spring));
    const springLabels = axisLabels(springSvg);
    expect(springLabels).toHaveLength(23);
    expect(springLabels.slice(0, 4)).toEqual(['00', '01', '03', '04']);
    expect(springSvg).toContain('23-hour day: clocks went forward');
    expect(spring.breakdown.buckets.find((b) => b.label === '04')!.sessionsStarted).toEqual({ etl: 1 }); // 08:30Z is 04:30 EDT

    const fall = digestOf(
      [...session(Date.parse('2026-11-01T05:30:00Z'), 'etl'), ...session(Date.parse('2026-11-01T06:30:00Z'), 'adhoc')],
      { date: '2026-11-01', timezone: 'America/New_York', now: Date.parse('2026-11-03T00:00:00Z') },
    );
    const fallSvg = await renderSvg(digestChartSpec(fall));
    const fallLabels = axisLabels(fallSvg);
    expect(fallLabels).toHaveLength(25);
    expect(fallLabels.slice(0, 4)).toEqual(['00', '01 EDT', '01 EST', '02']);
    expect(fallSvg).toContain('Hour of the day (America/New_York)');
    expect(fallSvg).toContain('25-hour day: clocks went back');
    const png = await renderPng(digestChartSpec(fall));
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('a weekly chart has a bar per day', async () => {
    const d = digestOf(busy, { period: 'week' });
    const svg = await renderSvg(digestChartSpec(d));
    expect(axisLabels(svg)).toEqual(['Mon 16', 'Tue 17', 'Wed 18', 'Thu 19', 'Fri 20', 'Sat 21', 'Sun 22']);
    expect(svg).toContain('Athena Spark weekly digest — 2026-11-16 to 2026-11-22');
    expect(svg).toContain('Day (UTC)');
  });
});
