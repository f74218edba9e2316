import type { Config } from '../../config/config.js';
import { digestDetailDocuments, digestDocument } from '../../reports/digest-document.js';
import { buildDigestReport } from '../../reports/digest-report.js';
import { renderBlockKit } from '../../reports/render/block-kit.js';
import type { Outbox } from '../../store/outbox.js';
import type { Store } from '../../store/store.js';

export const digestKey = (date: string) => `digest:${date}`;

/**
 * Records the digest of `date` as posts: one summary message and the long lists as replies
 * in its thread. Returns the keys recorded now, or [] when that day's digest was recorded
 * before (posted exactly once per day, across restarts and `digest --post`).
 */
export function enqueueDigest(store: Store, outbox: Outbox, config: Config, date: string, now: number): string[] {
  const channel = config.digest.channel;
  if (!channel) return [];
  const key = digestKey(date);
  if (outbox.get(key)) return [];
  const digest = buildDigestReport(store, {
    date,
    timezone: config.digest.timezone,
    now,
    longRunningMinutes: config.longRunningMinutes,
    dpuHourPriceUsd: config.dpuHourPriceUsd,
  });
  const display = { timezone: config.digest.timezone, showCallerDetails: config.showCallerDetails, now };
  const posts = [
    { key, kind: 'digest', channel, payload: renderBlockKit(digestDocument(digest)) },
    ...digestDetailDocuments(digest, display).map((doc, i) => ({ key: `${key}:reply:${i}`, kind: 'digest-reply', channel, parentKey: key, payload: renderBlockKit(doc) })),
  ];
  return outbox.enqueue(posts, Date.now());
}
