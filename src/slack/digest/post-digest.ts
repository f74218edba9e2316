import type { Config } from '../../config/config.js';
import { renderPng } from '../../reports/chart-png.js';
import { digestChartSpec } from '../../reports/digest-chart.js';
import { digestDetailDocuments, digestDocument } from '../../reports/digest-document.js';
import { buildDigestReport, prepareDigestHistory, type DigestOptions, type DigestReport } from '../../reports/digest-report.js';
import { renderBlockKit } from '../../reports/render/block-kit.js';
import type { NewPost, Outbox } from '../../store/outbox.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../../util/logger.js';

export type DigestPeriodKind = 'day' | 'week';

/** The outbox key of a digest: `digest:<date>`, or `digest-week:<last date>` for a weekly one. */
export const digestKey = (date: string, period: DigestPeriodKind = 'day') => (period === 'week' ? `digest-week:${date}` : `digest:${date}`);

export interface EnqueueDigestOptions {
  period?: DigestPeriodKind;
  /** Where a chart that could not be drawn is reported (the digest is posted without it). */
  logger?: Logger;
  /** Draws the chart's PNG (default: the digest chart spec drawn by `renderPng`). */
  drawChart?: (digest: DigestReport) => Promise<Buffer>;
  /** Asks Athena about the period's unconfirmed sessions before the digest is made (SPEC §2: Athena is the truth). */
  confirm?: (opts: DigestOptions) => Promise<unknown>;
}

const drawDigestChart = (digest: DigestReport) => renderPng(digestChartSpec(digest));

/** The chart as a file post in the digest's thread: drawn now, so the intent holds the exact bytes to upload. */
async function chartPost(digest: DigestReport, key: string, channel: string, draw: (digest: DigestReport) => Promise<Buffer>): Promise<NewPost> {
  const png = await draw(digest);
  const { kind, from, to } = digest.period;
  const span = kind === 'week' ? `${from} to ${to}` : to;
  return {
    key: `${key}:chart`,
    kind: 'digest-chart',
    channel,
    parentKey: key,
    payload: {
      text: `Chart of the Athena Spark ${kind === 'week' ? 'weekly digest' : 'digest'} for ${span}`,
      blocks: [],
      file: {
        filename: kind === 'week' ? `athena-spark-weekly-digest-${from}-to-${to}.png` : `athena-spark-digest-${to}.png`,
        title: `Athena Spark ${kind === 'week' ? 'weekly digest' : 'digest'} — ${span}`,
        altText: `Bar charts of sessions started and DPU-hours per ${kind === 'week' ? 'day' : 'hour'} on ${span} (${digest.timezone}), by workgroup: ${digest.sessionsStarted} sessions, ${digest.dpuHours.toFixed(1)} DPU-hours, ${digest.longRunningCalculations.length} long-running calculations.`,
      },
    },
    file: png,
  };
}

/**
 * Records the digest of `date` (or the week ending it) as posts: one summary message, then in
 * its thread the chart (a PNG uploaded with the files upload v2 flow) and the long lists.
 * Returns the keys recorded now, or [] when that digest was recorded before (posted exactly
 * once per day or week, across restarts and `digest --post`).
 */
export async function enqueueDigest(store: Store, outbox: Outbox, config: Config, date: string, now: number, o: EnqueueDigestOptions = {}): Promise<string[]> {
  const channel = config.digest.channel;
  if (!channel) return [];
  const period = o.period ?? 'day';
  const key = digestKey(date, period);
  if (outbox.get(key)) return [];
  const opts: DigestOptions = {
    date,
    timezone: config.digest.timezone,
    now,
    longRunningMinutes: config.longRunningMinutes,
    dpuHourPriceUsd: config.dpuHourPriceUsd,
    period,
    groupTags: config.digestGroupTags,
  };
  if (o.confirm) await o.confirm(opts);
  await prepareDigestHistory(store, opts);
  if (outbox.get(key)) return [];
  const digest = buildDigestReport(store, opts);
  const display = { timezone: config.digest.timezone, showCallerDetails: config.showCallerDetails, now };
  let chart: NewPost[] = [];
  try {
    chart = [await chartPost(digest, key, channel, o.drawChart ?? drawDigestChart)];
  } catch (err) {
    o.logger?.error({ key, error: (err as Error).message }, 'the digest chart could not be drawn; posting the digest without it');
  }
  const posts: NewPost[] = [
    { key, kind: 'digest', channel, payload: renderBlockKit(digestDocument(digest)) },
    ...chart,
    ...digestDetailDocuments(digest, display).map((doc, i) => ({ key: `${key}:reply:${i}`, kind: 'digest-reply', channel, parentKey: key, payload: renderBlockKit(doc) })),
  ];
  return outbox.enqueue(posts, Date.now());
}
