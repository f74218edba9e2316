/**
 * Figure 3 — digest: a store of 8 days whose last day holds ~100,000 records (weekdays at a
 * high session rate), so the digest's trend has 7 real days behind it. In-process: the digest
 * (query + fold + build + trend + tag tables + render as text, Block Kit and JSON), where its
 * time goes, and the chart (spec → Vega SVG → resvg PNG); then the real CLI, whole commands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Store } from '../src/store/store.js';
import { buildDigestReport, digestJson, type DigestOptions } from '../src/reports/digest-report.js';
import { digestDetailDocuments, digestDocument } from '../src/reports/digest-document.js';
import { digestChartSpec } from '../src/reports/digest-chart.js';
import { renderPng, renderSvg } from '../src/reports/chart-png.js';
import { renderText } from '../src/reports/render/text.js';
import { renderBlockKit } from '../src/reports/render/block-kit.js';
import { dayBounds, previousDate } from '../src/model/zoned-day.js';
import { datesEnding, dayPeriod } from '../src/model/period.js';
import { DigestHistory } from '../src/store/digest-history.js';
import { DAY as DAY_MS } from '../src/util/clock.js';
import { cliStartMs, ensureWorkload, median, ms, n0, nodeStartMs, rmDb, runCliTimed, WORK, type Figure, type FigureResult } from './lib.js';

const DIGEST_TARGET_MS = 200;
/** A day before every record of the store: the digest command with nothing to do. */
const EMPTY_DAY = '2001-01-01';
const CHART_TARGET_MS = 150;
const DAY = '2026-11-18';
const RUNS = 5;

const timed = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
};

async function timedAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, performance.now() - t0];
}

export const digestFigure: Figure = {
  name: 'digest',
  async run(ctx): Promise<FigureResult> {
    // 8 days ending with a Wednesday; 300 sessions a weekday (seed 43) gives ~108k Spark records that day.
    const workloadOpts = ctx.quick
      ? { days: 8, seed: 43, end: '2026-11-19T00:00:00Z', sessionsPerDay: 40 }
      : { days: 8, seed: 43, end: '2026-11-19T00:00:00Z', sessionsPerDay: 300 };
    const workload = await ensureWorkload(ctx.quick ? 's3-digest-8days-quick' : 's3-digest-8days', workloadOpts, ctx.log);
    const db = path.join(WORK, ctx.quick ? 'store-digest-quick.sqlite' : 'store-digest.sqlite');
    rmDb(db);
    const ingest = await runCliTimed(['ingest', workload.logs], { DATABASE_PATH: db });
    if (ingest.code !== 0) throw new Error(`ingest failed: ${ingest.stderr}`);

    const store = Store.open(db);
    const raw: Record<string, unknown> = {};
    let dayRecords = 0;
    let storeRecords = 0;
    const digestMs: number[] = [];
    const chartMs: number[] = [];
    const parts = { queryMs: [] as number[], buildNoTrendMs: [] as number[], trendMs: [] as number[], renderMs: [] as number[], svgMs: [] as number[], pngMs: [] as number[] };
    let coldTrendMs = 0;
    let firstChartMs = 0;
    let pngBytes = 0;
    let pngSize = '';
    try {
      const { start, end } = dayBounds(DAY, 'UTC');
      dayRecords = (store.db.prepare('SELECT count(*) AS n FROM all_records WHERE event_time >= ? AND event_time < ?').get(start, end) as { n: number }).n;
      storeRecords = store.recordCount();
      const now = Date.parse('2026-11-19T09:00:00Z');
      const opts: DigestOptions = { date: DAY, timezone: 'UTC', now, longRunningMinutes: 30, dpuHourPriceUsd: 0.35, groupTags: ['team', 'project'] };
      const display = { timezone: 'UTC', showCallerDetails: false, now };
      const full = () => {
        const d = buildDigestReport(store, opts);
        const docs = [digestDocument(d), ...digestDetailDocuments(d, display)];
        docs.map(renderText).join('\n');
        docs.map(renderBlockKit);
        JSON.stringify(digestJson(d));
        return d;
      };
      // First: nothing remembered yet, so the trend makes the 7 previous days' digests (and remembers them).
      store.db.prepare('DELETE FROM digest_days').run();
      const [, cold] = timed(full);
      coldTrendMs = cold;
      for (let i = 0; i < RUNS; i++) digestMs.push(timed(full)[1]);
      const digest = full();

      // Where the digest's time goes.
      for (let i = 0; i < RUNS; i++) {
        parts.queryMs.push(timed(() => store.eventsBetweenForDigest(start - DAY_MS, end + DAY_MS))[1]);
        const [d, build] = timed(() => buildDigestReport(store, { ...opts, trend: false }));
        parts.buildNoTrendMs.push(build);
        // The trend's own work once the days are remembered: a record count per day and a look-up per day.
        const history = new DigestHistory(store);
        parts.trendMs.push(
          timed(() => {
            const dates = datesEnding(previousDate(DAY), 7);
            for (const date of [...dates, DAY]) {
              const b = dayPeriod(date, 'UTC');
              history.countRecords(b.start, b.end);
            }
            for (const date of dates) history.get('UTC', date, '30:0.35');
          })[1],
        );
        parts.renderMs.push(
          timed(() => {
            const docs = [digestDocument(d), ...digestDetailDocuments(d, display)];
            docs.map(renderText);
            docs.map(renderBlockKit);
            JSON.stringify(digestJson(d));
          })[1],
        );
      }

      // The chart: the first one in the process loads Vega, Vega-Lite and resvg.
      const [png, first] = await timedAsync(() => renderPng(digestChartSpec(digest)));
      firstChartMs = first;
      pngBytes = png.length;
      pngSize = `${png.readUInt32BE(16)}×${png.readUInt32BE(20)}`;
      for (let i = 0; i < RUNS; i++) {
        chartMs.push((await timedAsync(() => renderPng(digestChartSpec(digest))))[1]);
        parts.svgMs.push((await timedAsync(() => renderSvg(digestChartSpec(digest))))[1]);
      }
      parts.pngMs = chartMs.map((t, i) => Math.max(0, t - parts.svgMs[i]!));
      raw.summary = digestDocument(digest).summary;
      raw.trend = digest.trend;
    } finally {
      store.close();
    }

    const png = path.join(WORK, 'digest-chart.png');
    const cliJson: number[] = [];
    const cliChart: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await runCliTimed(['digest', '--date', DAY, '--json'], { DATABASE_PATH: db });
      if (r.code !== 0) throw new Error(`digest CLI failed: ${r.stderr}`);
      cliJson.push(r.wallMs);
      const c = await runCliTimed(['digest', '--date', DAY, '--chart', png], { DATABASE_PATH: db });
      if (c.code !== 0) throw new Error(`digest --chart failed: ${c.stderr}`);
      cliChart.push(c.wallMs);
    }
    const nodeRuns = await nodeStartMs(RUNS);
    const startRuns = await cliStartMs(['digest', '--date', EMPTY_DAY, '--json'], { DATABASE_PATH: db }, RUNS);
    const startMs = median(startRuns);
    const netMs = median(cliJson) - startMs;

    const med = median(digestMs);
    const chart = median(chartMs);
    const m = (v: number[]) => ms(median(v));
    return {
      rows: [
        { figure: `digest of a ${n0(dayRecords)}-record day (store: ${n0(storeRecords)} records, 8 days), query + build + trend + tags + render (median of ${RUNS})`, value: ms(med), target: `≤ ${DIGEST_TARGET_MS} ms`, ok: med <= DIGEST_TARGET_MS },
        { figure: `  where it goes: reading the day ±1 day / the rest of the build / trend (7 remembered days) / render`, value: `${m(parts.queryMs)} / ${ms(Math.max(0, median(parts.buildNoTrendMs) - median(parts.queryMs)))} / ${m(parts.trendMs)} / ${m(parts.renderMs)}`, target: '—', ok: null },
        { figure: '  the first digest, nothing remembered: the trend makes the 7 previous days (once)', value: ms(coldTrendMs), target: '—', ok: null },
        { figure: `chart of that day, spec → SVG → PNG ${pngSize} (median of ${RUNS})`, value: ms(chart), target: `≤ ${CHART_TARGET_MS} ms`, ok: chart <= CHART_TARGET_MS },
        { figure: '  where it goes: Vega-Lite + Vega to SVG / resvg to PNG', value: `${m(parts.svgMs)} / ${m(parts.pngMs)}`, target: '—', ok: null },
        { figure: '  the first chart in a process (loading Vega, Vega-Lite, resvg and the font)', value: ms(firstChartMs), target: '—', ok: null },
        { figure: `digest --date D --json, whole command (median of ${RUNS})`, value: m(cliJson), target: '—', ok: null },
        { figure: `  its start-up: digest of a day with nothing (median of ${RUNS}); Node itself (node -e 0)`, value: `${ms(startMs)}; ${m(nodeRuns)}`, target: '—', ok: null },
        { figure: '  digest --date D --json, net of start-up', value: ms(netMs), target: `≤ ${DIGEST_TARGET_MS} ms`, ok: netMs <= DIGEST_TARGET_MS },
        { figure: `digest --date D --chart FILE, whole command (median of ${RUNS})`, value: m(cliChart), target: '—', ok: null },
      ],
      raw: {
        ...raw,
        workload: workloadOpts,
        db,
        storeBytes: fs.statSync(db).size,
        day: DAY,
        dayRecords,
        storeRecords,
        digestMs,
        coldTrendMs,
        parts,
        chartMs,
        firstChartMs,
        pngBytes,
        pngSize,
        cliJsonWallMs: cliJson,
        cliChartWallMs: cliChart,
        nodeStartWallMs: nodeRuns,
        digestStartWallMs: startRuns,
        setupIngestWallMs: ingest.wallMs,
      },
    };
  },
};
