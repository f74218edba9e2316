import type { Config } from '../../config/config.js';
import type { Metrics } from '../../observability/metrics.js';
import { homeDocument } from '../../reports/home-document.js';
import { buildHomeReport } from '../../reports/home-report.js';
import { renderHomeView, type HomeView } from '../../reports/render/block-kit.js';
import type { Store } from '../../store/store.js';
import { sleep, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { isAllowed } from '../report-service.js';
import { describeSlackError, type WebClient } from '../slack-client.js';

export interface HomePublisherOptions {
  store: Store;
  config: Config;
  clock: Clock;
  web: WebClient;
  logger: Logger;
  metrics?: Metrics;
  /** Building the view is CPU work on the thread that acknowledges requests: it takes its turn with reports. */
  pacing?: { enqueue<T>(job: () => T | Promise<T>): Promise<T> };
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type PublishOutcome = 'published' | 'fallback' | 'failed';

/** Slack's answers that mean it will not take this view: a short one is published instead. */
const VIEW_REJECTED = new Set(['invalid_arguments', 'invalid_blocks', 'invalid_blocks_format', 'view_too_large']);
const TRANSIENT_TRIES = 4;

/**
 * The App Home tab (SPEC §5): built from the store when someone opens it (no AWS call on that
 * path: Athena's answers are the ones the poll cycles stored) and published with views.publish.
 * A 429 is waited out for its Retry-After; opens that arrive meanwhile are answered by that one
 * publish, built afresh. A view Slack rejects is logged and replaced by a one-line view saying so.
 */
export class HomePublisher {
  private readonly running = new Map<string, Promise<PublishOutcome>>();
  private readonly again = new Set<string>();
  private readonly stop = new AbortController();
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly o: HomePublisherOptions) {
    this.wait = o.wait ?? sleep;
  }

  /** The Home view for a user, as it stands now. */
  view(userId: string): HomeView {
    const { config, store, clock } = this.o;
    if (!isAllowed({ allowedUserIds: config.allowedUserIds, allowedChannelIds: undefined }, userId, '')) {
      return textView('This overview is not available to you. Ask an admin to add you to the bot’s allowlist.');
    }
    const now = clock.now();
    const report = buildHomeReport(store, { now, timezone: config.digest.timezone, longRunningMinutes: config.longRunningMinutes, dpuHourPriceUsd: config.dpuHourPriceUsd });
    return renderHomeView(homeDocument(report, { timezone: config.digest.timezone, showCallerDetails: config.showCallerDetails, now }));
  }

  /** Publishes a user's Home; a publish already under way for them carries this one too. */
  publish(userId: string): Promise<PublishOutcome> {
    const current = this.running.get(userId);
    if (current) {
      this.again.add(userId);
      return current;
    }
    const run = this.run(userId).finally(() => this.running.delete(userId));
    this.running.set(userId, run);
    return run;
  }

  /** Stops waiting out rate limits; publishes in flight finish. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  private async run(userId: string): Promise<PublishOutcome> {
    const { web, logger, metrics } = this.o;
    for (let attempt = 1; !this.stop.signal.aborted; attempt++) {
      this.again.delete(userId);
      const started = Date.now();
      try {
        const view = this.o.pacing ? await this.o.pacing.enqueue(() => this.view(userId)) : this.view(userId);
        await web.views.publish({ user_id: userId, view: view as never });
        metrics?.slackPosts.inc({ kind: 'home' });
        logger.debug({ user: userId, ms: Date.now() - started }, 'App Home published');
        // Opened again while this one was on its way: publish what is true now.
        if (this.again.has(userId)) continue;
        return 'published';
      } catch (err) {
        const info = describeSlackError(err);
        metrics?.slackErrors.inc({ error: info.detail.slice(0, 40) });
        if (info.kind === 'rate-limited') {
          logger.warn({ user: userId, retryAfterMs: info.retryAfterMs }, 'Slack rate limit on views.publish: waiting Retry-After');
          await this.wait(info.retryAfterMs ?? 1000, this.stop.signal);
          continue;
        }
        if (info.kind === 'platform' && VIEW_REJECTED.has(info.detail)) {
          const messages = (err as { data?: { response_metadata?: { messages?: string[] } } }).data?.response_metadata?.messages ?? [];
          logger.error({ user: userId, error: info.detail, messages: messages.slice(0, 5) }, 'Slack rejected the App Home view; publishing a short one instead');
          return this.fallback(userId, info.detail);
        }
        if (info.kind === 'platform') {
          const hint = info.detail === 'not_enabled' ? ': the app’s Home tab is off (manifest features.app_home.home_tab_enabled)' : '';
          logger.error({ user: userId, error: info.detail }, `views.publish refused${hint}`);
          return 'failed';
        }
        if (attempt >= TRANSIENT_TRIES) {
          logger.error({ user: userId, error: info.detail, attempts: attempt }, 'views.publish kept failing; the Home is published again when it is next opened');
          return 'failed';
        }
        await this.wait(500 * 2 ** attempt, this.stop.signal);
      }
    }
    return 'failed';
  }

  private async fallback(userId: string, error: string): Promise<PublishOutcome> {
    try {
      await this.o.web.views.publish({ user_id: userId, view: textView(`The overview could not be shown: Slack refused it (${error}). The bot’s log has the details.`) as never });
      return 'fallback';
    } catch (err) {
      this.o.logger.error({ user: userId, error: describeSlackError(err).detail }, 'the short App Home view was refused too');
      return 'failed';
    }
  }
}

function textView(text: string): HomeView {
  return renderHomeView({ summary: text, blocks: [{ type: 'text', text }] });
}
