import type { TopLevelSpec } from 'vega-lite';
import { formatTime } from './document.js';
import type { DigestReport } from './digest-report.js';

/**
 * Okabe & Ito's colour-blind-safe palette without its black (black marks long-running
 * calculations), yellow last for its low contrast on white; further workgroups are grey.
 */
export const WORKGROUP_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442'] as const;
export const OTHER_COLOUR = '#999999';
export const OTHER_WORKGROUPS = 'other workgroups';

const WIDTH = 600;
const PANEL_HEIGHT = 140;

type Row = { slot: string; workgroup: string; sessions: number; dpuHours: number };
type Marker = { slot: string; top: number; count: number };

/** The largest stack of a panel, so an empty or all-zero panel still gets an honest 0–1 axis. */
function domainMax(rows: readonly Row[], slots: readonly string[], field: 'sessions' | 'dpuHours', headroom: number): number {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.slot, (totals.get(r.slot) ?? 0) + r[field]);
  const max = Math.max(0, ...slots.map((s) => totals.get(s) ?? 0));
  return max > 0 ? max * headroom : 1;
}

function subtitle(d: DigestReport): string[] {
  const unit = d.period.kind === 'week' ? 'day' : 'hour';
  const lines = [`Sessions started and their DPU-hours per ${unit} (${d.timezone}), stacked by workgroup`];
  if (d.coverage.state === 'none') {
    lines.push(d.coverage.recordsBeginAt === null ? 'No records: the store is empty' : `No records: the store's records begin ${formatTime(d.coverage.recordsBeginAt, d.timezone)}`);
  } else if (d.coverage.state === 'partial') {
    lines.push(`The store's records begin ${formatTime(d.coverage.recordsBeginAt, d.timezone)}: earlier hours are not counted`);
  }
  if (d.period.note) lines.push(d.period.note);
  return lines;
}

/**
 * The digest chart as a Vega-Lite spec (pure data, no drawing): two panels sharing the
 * period's buckets — sessions started and DPU-hours, stacked by workgroup — with long-running
 * calculations marked above the bars. Every bucket of the period is on the axis, so an empty
 * day is an empty chart and a 23- or 25-hour day has 23 or 25 bars.
 */
export function digestChartSpec(d: DigestReport): TopLevelSpec {
  const { buckets, workgroups } = d.breakdown;
  const named = workgroups.slice(0, WORKGROUP_COLOURS.length);
  const hasOther = workgroups.length > named.length;
  const colourOf = (wg: string) => (named.includes(wg) ? wg : OTHER_WORKGROUPS);
  const slots = buckets.map((b) => b.label);

  const rows: Row[] = [];
  const markers: Marker[] = [];
  for (const b of buckets) {
    const byColour = new Map<string, Row>();
    for (const wg of new Set([...Object.keys(b.sessionsStarted), ...Object.keys(b.dpuHours)])) {
      const key = colourOf(wg);
      let row = byColour.get(key);
      if (!row) byColour.set(key, (row = { slot: b.label, workgroup: key, sessions: 0, dpuHours: 0 }));
      row.sessions += b.sessionsStarted[wg] ?? 0;
      row.dpuHours += b.dpuHours[wg] ?? 0;
    }
    rows.push(...byColour.values());
    if (b.longRunning > 0) markers.push({ slot: b.label, top: [...byColour.values()].reduce((n, r) => n + r.sessions, 0), count: b.longRunning });
  }

  const colourDomain = hasOther ? [...named, OTHER_WORKGROUPS] : named;
  const colourRange = [...WORKGROUP_COLOURS.slice(0, named.length), ...(hasOther ? [OTHER_COLOUR] : [])];
  const x = {
    field: 'slot',
    type: 'ordinal' as const,
    sort: slots,
    scale: { domain: slots, paddingInner: 0.15 },
  };
  const colour = {
    field: 'workgroup',
    type: 'nominal' as const,
    sort: colourDomain,
    scale: { domain: colourDomain.length ? colourDomain : ['none'], range: colourRange.length ? colourRange : [OTHER_COLOUR] },
    legend: colourDomain.length ? { title: null } : null,
  };
  const sessionsMax = domainMax(rows, slots, 'sessions', markers.some((m) => m.count > 1) ? 1.3 : 1.15);
  const empty = rows.every((r) => r.sessions === 0 && r.dpuHours === 0);
  const emptyText =
    d.coverage.state === 'none' ? 'No records for this period' : `No sessions started in this ${d.period.kind === 'week' ? 'week' : 'day'}`;

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 16,
    title: {
      text: d.period.kind === 'week' ? `Athena Spark weekly digest — ${d.period.from} to ${d.period.to}` : `Athena Spark digest — ${d.date}`,
      subtitle: subtitle(d),
      anchor: 'start',
      fontSize: 22,
      subtitleFontSize: 14,
      subtitleColor: '#444444',
      offset: 14,
    },
    config: {
      view: { stroke: null },
      axis: { labelFontSize: 15, titleFontSize: 15, titleFontWeight: 'normal', labelColor: '#222222', titleColor: '#222222', gridColor: '#e6e6e6' },
      legend: { labelFontSize: 15, titleFontSize: 15, titleFontWeight: 'normal', symbolType: 'square', symbolSize: 180, orient: 'top', direction: 'horizontal', labelLimit: 320, columnPadding: 14 },
      concat: { spacing: 18 },
    },
    datasets: { bars: rows, markers },
    vconcat: [
      {
        width: WIDTH,
        height: PANEL_HEIGHT,
        layer: [
          {
            data: { name: 'bars' },
            mark: { type: 'bar' },
            encoding: {
              x: { ...x, axis: { title: null, labels: false, ticks: false, domain: false } },
              y: { field: 'sessions', type: 'quantitative', aggregate: 'sum', stack: 'zero', title: 'Sessions started', scale: { domain: [0, sessionsMax], nice: false }, axis: { tickMinStep: 1, format: 'd' } },
              color: colour,
            },
          },
          {
            data: { name: 'markers' },
            mark: { type: 'point', shape: 'triangle-down', filled: true, size: 110, color: '#000000', opacity: 1 },
            encoding: {
              x,
              y: { field: 'top', type: 'quantitative' },
              yOffset: { value: -9 },
              shape: { datum: 'long-running calculation started', type: 'nominal', scale: { range: ['triangle-down'] }, legend: { title: null, symbolFillColor: '#000000', symbolStrokeColor: '#000000' } },
            },
          },
          {
            data: { name: 'markers' },
            transform: [{ filter: 'datum.count > 1' }],
            mark: { type: 'text', fontSize: 12, dy: -24, align: 'center', color: '#000000' },
            encoding: { x, y: { field: 'top', type: 'quantitative' }, text: { field: 'count', type: 'quantitative' } },
          },
          ...(empty
            ? [
                {
                  data: { values: [{}] },
                  mark: { type: 'text' as const, fontSize: 18, color: '#666666', text: emptyText },
                  encoding: { x: { value: WIDTH / 2 }, y: { value: PANEL_HEIGHT / 2 } },
                },
              ]
            : []),
        ],
        resolve: { scale: { y: 'shared' } },
      },
      {
        width: WIDTH,
        height: PANEL_HEIGHT,
        data: { name: 'bars' },
        mark: { type: 'bar' },
        encoding: {
          x: { ...x, axis: { title: d.period.kind === 'week' ? `Day (${d.timezone})` : `Hour of the day (${d.timezone})`, labelAngle: 0, labelOverlap: true } },
          y: { field: 'dpuHours', type: 'quantitative', aggregate: 'sum', stack: 'zero', title: 'DPU-hours', scale: { domain: [0, domainMax(rows, slots, 'dpuHours', 1.05)], nice: false } },
          color: colour,
        },
      },
    ],
    resolve: { scale: { color: 'shared', x: 'shared' } },
  } as TopLevelSpec;
}
