import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isCalendarDate, localDate, previousDate } from '../../model/zoned-day.js';
import { digestDetailDocuments, digestDocument } from '../../reports/digest-document.js';
import { digestChartSpec } from '../../reports/digest-chart.js';
import { buildDigestReport, digestJson, type DigestReport } from '../../reports/digest-report.js';
import { AppError, UsageError } from '../../util/errors.js';
import { confirmDigestDay } from '../../sources/athena/confirm-digest.js';
import type { CliIO } from '../io.js';
import { displayOptions, printDocuments, printJson } from '../output.js';
import { createRuntime, type Runtime } from '../../runtime/runtime.js';

/** How long a digest waits for Athena's confirmations before answering from what it has. */
const CONFIRM_DEADLINE_MS = 20_000;

export const DIGEST_USAGE = 'usage: athena-session-bot digest [--date YYYY-MM-DD] [--week] [--json] [--post] [--chart FILE.png]';

/** Hook the Slack layer registers so `digest --post` uses the same delivery as the bot. */
export type DigestPoster = (rt: Runtime, date: string, period: 'day' | 'week') => Promise<string>;

export async function digestCommand(argv: string[], io: CliIO, post?: DigestPoster): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { date: { type: 'string' }, week: { type: 'boolean' }, json: { type: 'boolean' }, post: { type: 'boolean' }, chart: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new UsageError(DIGEST_USAGE);
  if (values.date !== undefined && !isCalendarDate(values.date)) {
    throw new UsageError(`--date must be a calendar date as YYYY-MM-DD (got ${JSON.stringify(values.date.slice(0, 40))})`);
  }
  if (values.chart !== undefined && !values.chart.trim()) throw new UsageError('--chart needs a file name, e.g. --chart digest.png');
  const period: 'day' | 'week' = values.week ? 'week' : 'day';
  // With AWS configured, Athena confirms the period's sessions first; offline, the store answers, marked.
  const rt = createRuntime(io, { quickAws: true, defaultLogLevel: 'warn', needs: values.post ? ['slack-token', 'digest-channel'] : [] });
  try {
    const date = values.date ?? previousDate(localDate(io.clock.now(), rt.config.digest.timezone));
    if (rt.enricher) {
      const opts = { date, timezone: rt.config.digest.timezone, now: io.clock.now(), longRunningMinutes: rt.config.longRunningMinutes, dpuHourPriceUsd: rt.config.dpuHourPriceUsd, period };
      await confirmDigestDay(rt.store, rt.enricher, opts, CONFIRM_DEADLINE_MS, io.stopSignal);
    }
    const now = io.clock.now();
    if (values.post && values.chart === undefined) {
      if (!post) throw new UsageError('--post is not available in this build');
      io.stdout.write((await post(rt, date, period)) + '\n');
      return 0;
    }
    const digest = buildDigestReport(rt.store, {
      date,
      timezone: rt.config.digest.timezone,
      now,
      longRunningMinutes: rt.config.longRunningMinutes,
      dpuHourPriceUsd: rt.config.dpuHourPriceUsd,
      period,
      groupTags: rt.config.digestGroupTags,
    });
    if (values.chart !== undefined) await writeChart(values.chart, digest);
    if (values.post) {
      if (!post) throw new UsageError('--post is not available in this build');
      io.stdout.write((await post(rt, date, period)) + '\n');
      return 0;
    }
    if (values.json) printJson(io, digestJson(digest));
    else printDocuments(io, [digestDocument(digest), ...digestDetailDocuments(digest, displayOptions(rt.config, now))]);
    if (values.chart !== undefined && !values.json) io.stdout.write(`\nchart written to ${values.chart}\n`);
    return 0;
  } finally {
    rt.close();
  }
}

/** Draws the chart (loading the drawing libraries only now) and writes it; a path that cannot be written is one clear line, exit 1. */
async function writeChart(file: string, digest: DigestReport): Promise<void> {
  const { renderPng } = await import('../../reports/chart-png.js');
  const png = await renderPng(digestChartSpec(digest));
  try {
    fs.writeFileSync(file, png);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such directory' : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : (e.code ?? e.message);
    throw new AppError(`cannot write the chart to ${file}: ${why}`, 1);
  }
}
