import type { ModelOptions, SessionView } from '../../model/types.js';
import type { NotebookEvent } from '../../records/types.js';
import type { DisplayOptions } from '../../reports/document.js';
import { storedEnrichment } from '../../reports/enrichment-lookup.js';
import { notebookFeedDocument, sessionFeedDocument, type NotebookFeedEvent } from '../../reports/feed-document.js';
import { renderBlockKit } from '../../reports/render/block-kit.js';
import { buildSessionReport } from '../../reports/session-report.js';
import type { SessionRef } from '../../sources/athena/enrich.js';
import { FeedItems, type NewFeedItem } from '../../store/feed-items.js';
import type { NewPost } from '../../store/outbox.js';
import { DAY, MINUTE } from '../../util/clock.js';
import { routeChannel } from '../channel-routes.js';
import type { PostingDeps } from '../delivery/posting-deps.js';
import { fingerprint } from '../delivery/fingerprint.js';
import type { UpdateQueue } from '../delivery/update-queue.js';

/** The calls the feed announces. */
export const FEED_EVENT_NAMES = ['StartSession', 'ImportNotebook', 'CreateNotebook', 'DeleteNotebook'] as const;

/** More notebook events than this for one channel in one cycle become one grouped message. */
export const NOTEBOOK_GROUP_OVER = 10;
/** An ended session whose end Athena has not confirmed is asked about this many cycles, then shown as CloudTrail has it. */
const MAX_CONFIRM_TRIES = 3;
/** Most Athena calls per cycle for confirming ended sessions. */
const CONFIRM_CALLS_PER_CYCLE = 20;
/** Records looked at per cycle: a big import is announced over a few cycles instead of one long stall. */
const SCAN_LIMIT = 5000;
/** A session still open after this long keeps its message as it is (the enricher stops asking about it too). */
const LIVE_HORIZON_MS = 7 * DAY;

export interface FeedManagerOptions extends PostingDeps {
  updates: UpdateQueue;
  /** Asks Athena about ended sessions (the enricher's confirmSessions); without it, CloudTrail's end is final. */
  confirm?: (sessions: SessionRef[], maxCalls: number) => Promise<unknown>;
}

export interface FeedCycle {
  sessions: number;
  notebookEvents: number;
  edits: number;
  settled: number;
}

/** Lets requests waiting on the event loop (button presses, commands) be acknowledged between two sessions' work. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A session's message is final when it shows an end Athena confirmed, calculations included. */
const confirmedEnd = (v: SessionView) => v.endedAt !== null && v.stateSource === 'athena' && v.calculations.every((c) => c.confirmed);

/**
 * The live feed (SPEC §5): one message per new session, posted in the cycle after its
 * StartSession is stored and then edited in place as it runs and ends, until it shows its end
 * as Athena confirms it; a line per notebook import, creation or deletion (one grouped message
 * when more than ten arrive for a channel in one cycle). Announcements are recorded with their
 * posts and the feed's cursor in one transaction (nothing announced twice across crashes), and
 * a message is edited at most once a cycle, only when what it shows changed.
 */
export class FeedManager {
  readonly items: FeedItems;

  constructor(private readonly o: FeedManagerOptions) {
    this.items = new FeedItems(o.store);
  }

  private model(now: number): ModelOptions {
    return { now, longRunningMinutes: this.o.config.longRunningMinutes, dpuHourPriceUsd: this.o.config.dpuHourPriceUsd };
  }

  private display(now: number): DisplayOptions & { dpuHourPriceUsd: number } {
    return { timezone: this.o.config.digest.timezone, showCallerDetails: this.o.config.showCallerDetails, now, dpuHourPriceUsd: this.o.config.dpuHourPriceUsd };
  }

  /** Runs after every poll cycle: announces what is new, then edits what changed. */
  async onCycle(signal?: AbortSignal): Promise<FeedCycle> {
    const channel = this.o.config.feed.channel;
    if (!channel) return { sessions: 0, notebookEvents: 0, edits: 0, settled: 0 };
    const announced = await this.announce(channel);
    await this.confirmEnded(signal);
    const { edits, settled } = await this.refreshLive();
    this.o.delivery.kick();
    this.o.updates.kick();
    return { ...announced, edits, settled };
  }

  private async announce(fallback: string): Promise<{ sessions: number; notebookEvents: number }> {
    const { store, config, clock } = this.o;
    const now = clock.now();
    // The first start of the feed announces only the recent past; the floor stays where it was set.
    const floor = this.items.floor(now - config.feed.backfillMinutes * MINUTE);
    const last = store.lastHistoryRowid();
    let cursor = this.items.cursor();
    // Rowids restart when every record has aged out: look again (announced keys are never repeated).
    if (cursor > last) cursor = 0;
    const rows = store.historyAfter(cursor, FEED_EVENT_NAMES, floor, SCAN_LIMIT);
    const nextCursor = rows.length === SCAN_LIMIT ? rows[rows.length - 1]!.rowid : Math.max(cursor, last);
    const events = rows.map((r) => r.event).sort((a, b) => a.eventTime - b.eventTime || (a.eventId < b.eventId ? -1 : 1));
    const keyOf = (e: NotebookEvent) => (e.eventName === 'StartSession' ? `session:${e.sessionId}` : `notebook:${e.eventId}`);
    const known = this.items.known(events.map(keyOf));
    const fresh = events.filter((e) => (e.eventName !== 'StartSession' || e.sessionId) && !known.has(keyOf(e)));

    const posts: NewPost[] = [];
    const items: NewFeedItem[] = [];
    const model = this.model(now);
    const display = this.display(now);
    const lookup = storedEnrichment(store);
    let sessions = 0;
    const seen = new Set<string>();
    for (const e of fresh.filter((x) => x.eventName === 'StartSession')) {
      if (seen.has(e.sessionId!)) continue;
      seen.add(e.sessionId!);
      await turn();
      const report = buildSessionReport(store, e.sessionId!, model, lookup);
      if (!report) continue;
      const v = report.view;
      const channel = routeChannel(config.channelRoutes, v, fallback);
      const payload = renderBlockKit(sessionFeedDocument(report, display));
      const postKey = `feed:session:${v.sessionId}`;
      posts.push({ key: postKey, kind: 'feed-session', channel, payload });
      items.push({ key: keyOf(e), kind: 'session', sessionId: v.sessionId, region: v.region, channel, postKey, shown: fingerprint(payload), live: true });
      sessions++;
    }

    const byChannel = new Map<string, Array<{ event: NotebookEvent; line: NotebookFeedEvent }>>();
    for (const e of fresh.filter((x) => x.eventName !== 'StartSession')) {
      const line: NotebookFeedEvent = {
        eventName: e.eventName,
        principal: e.principal,
        principalType: e.principalType,
        notebookId: e.notebookId,
        notebookName: e.detail.notebookName ?? (e.notebookId ? (store.notebookName(e.notebookId) ?? null) : null),
        workgroup: e.workgroup,
        account: e.account,
        region: e.region,
        at: e.eventTime,
      };
      const channel = routeChannel(config.channelRoutes, line, fallback);
      byChannel.set(channel, [...(byChannel.get(channel) ?? []), { event: e, line }]);
    }
    let notebookEvents = 0;
    for (const [channel, group] of byChannel) {
      notebookEvents += group.length;
      const messages = group.length > NOTEBOOK_GROUP_OVER ? [group] : group.map((g) => [g]);
      for (const m of messages) {
        const first = m[0]!.event;
        const postKey = m.length > 1 ? `feed:notebooks:${first.eventId}` : `feed:notebook:${first.eventId}`;
        const payload = renderBlockKit(notebookFeedDocument(m.map((g) => g.line), display));
        posts.push({ key: postKey, kind: 'feed-notebook', channel, payload });
        for (const g of m) items.push({ key: keyOf(g.event), kind: 'notebook', sessionId: null, region: g.event.region, channel, postKey, shown: fingerprint(payload), live: false });
      }
    }
    this.o.outbox.enqueueWith(posts, Date.now(), () => this.items.add(items, nextCursor, now));
    if (posts.length) this.o.logger.info({ sessions, notebookEvents, posts: posts.length }, 'live feed: announcements recorded');
    return { sessions, notebookEvents };
  }

  /** Asks Athena about sessions that ended without its word on it, so their last edit shows the truth. */
  private async confirmEnded(signal?: AbortSignal): Promise<void> {
    if (!this.o.confirm) return;
    const model = this.model(this.o.clock.now());
    const lookup = storedEnrichment(this.o.store);
    const asks: Array<{ key: string; ref: SessionRef }> = [];
    for (const item of this.items.live()) {
      if (item.kind !== 'session' || !item.sessionId || item.confirmTries >= MAX_CONFIRM_TRIES) continue;
      const report = buildSessionReport(this.o.store, item.sessionId, model, lookup);
      if (report && report.view.endedAt !== null && !confirmedEnd(report.view)) asks.push({ key: item.key, ref: { region: item.region, sessionId: item.sessionId } });
    }
    if (asks.length === 0) return;
    try {
      await this.o.confirm(
        asks.map((a) => a.ref),
        CONFIRM_CALLS_PER_CYCLE,
      );
    } catch (err) {
      this.o.logger.warn({ error: (err as Error).message }, 'live feed: confirming ended sessions failed; will retry next cycle');
    }
    if (signal?.aborted) return;
    for (const a of asks) this.items.noteConfirmTry(a.key);
  }

  /** Edits every live message whose content changed; settles those that show their final state. */
  private async refreshLive(): Promise<{ edits: number; settled: number }> {
    const { store, clock } = this.o;
    const now = clock.now();
    const model = this.model(now);
    const display = this.display(now);
    const lookup = storedEnrichment(store);
    let edits = 0;
    let settled = 0;
    for (const item of this.items.live()) {
      await turn();
      const report = item.kind === 'session' && item.sessionId ? buildSessionReport(store, item.sessionId, model, lookup) : undefined;
      if (!report) {
        this.items.settle(item.key, now);
        settled++;
        continue;
      }
      const payload = renderBlockKit(sessionFeedDocument(report, display));
      const shown = fingerprint(payload);
      if (shown !== item.shown) {
        this.o.updates.put(item.postKey, item.channel, payload);
        this.items.setShown(item.key, shown);
        edits++;
      }
      const v = report.view;
      const final = v.endedAt !== null && (confirmedEnd(v) || !this.o.confirm || item.confirmTries >= MAX_CONFIRM_TRIES);
      if (final || now - item.createdAt > LIVE_HORIZON_MS) {
        this.items.settle(item.key, now);
        settled++;
      }
    }
    return { edits, settled };
  }
}
