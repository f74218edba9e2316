import type { Normalised } from '../records/normalise.js';
import type { NotebookEvent } from '../records/types.js';
import type { Rejection, Store } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface RecordSinkDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics?: Metrics;
}

/** One raw item and what normalising it gave; the raw value is kept as a rejection's sample. */
export interface SinkItem {
  normalised: Normalised;
  raw: unknown;
}

/** Where a batch came from: the metrics label, the rejection's source and the log fields. */
export interface SinkOrigin {
  source: 'cloudtrail' | 'sqs';
  /** Stored with a rejection, e.g. `LookupEvents us-east-1` or `SQS athena-events`. */
  label: string;
  logFields: Record<string, unknown>;
}

export interface SinkResult {
  /** The events handed to the store (new or already stored). */
  events: NotebookEvent[];
  inserted: number;
  rejected: number;
  ignored: number;
}

/**
 * The one way pulled (LookupEvents) and pushed (EventBridge → SQS) records enter the store:
 * events go through `Store.insertEvents`, so whatever the insert path decides about a record
 * (duplicates on eventID, the bot's own calls) holds for every source alike; malformed ones
 * are kept as rejections, and logged and counted the first time only, because a lookback or a
 * redelivery brings the same bad record back again and again.
 */
export function sinkRecords(items: readonly SinkItem[], deps: RecordSinkDeps, origin: SinkOrigin): SinkResult {
  const events: NotebookEvent[] = [];
  const rejections: Rejection[] = [];
  let ignored = 0;
  for (const item of items) {
    const n = item.normalised;
    if (n.kind === 'event') events.push(n.event);
    else if (n.kind === 'ignored') ignored++;
    else rejections.push({ reason: n.reason, source: origin.label, raw: safeJson(item.raw) });
  }
  const now = deps.clock.now();
  let inserted = 0;
  if (events.length) {
    inserted = deps.store.insertEvents(events, now);
    deps.metrics?.recordsIngested.inc({ source: origin.source }, inserted);
  }
  if (rejections.length) {
    const fresh = deps.store.recordRejections(rejections, now);
    for (const r of fresh) deps.logger.warn({ ...origin.logFields, reason: r.reason }, 'skipped a malformed CloudTrail record');
    if (fresh.length) deps.metrics?.recordsRejected.inc({ source: origin.source }, fresh.length);
  }
  return { events, inserted, rejected: rejections.length, ignored };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
