import { foldStoredSession } from '../../reports/stored-session.js';
import { TERMINAL_CALCULATION_STATES, type EnrichmentLookup, type ModelOptions, type SessionView } from '../../model/types.js';
import {
  actionReplyDocument,
  alertDocument,
  followUpDocument,
  reminderDocument,
  SNOOZE_HOURS,
  type AlertAction,
  type AlertItem,
  type AlertLiveState,
  type SnoozeChoice,
} from '../../reports/alert-document.js';
import { activeSessions } from '../../reports/active-sessions.js';
import { sessionConsoleUrl } from '../../reports/athena-links.js';
import type { DisplayOptions } from '../../reports/document.js';
import { storedEnrichment } from '../../reports/enrichment-lookup.js';
import { renderBlockKit, type SlackMessage } from '../../reports/render/block-kit.js';
import { storedSparkUiUrl } from '../../reports/session-report.js';
import { ActionAudit, actionReplyKey, type ActionRecord } from '../../store/action-audit.js';
import { AlertStates, type AlertPost } from '../../store/alert-state.js';
import type { NewPost } from '../../store/outbox.js';
import { HOUR } from '../../util/clock.js';
import { routeChannel } from '../channel-routes.js';
import type { PostingDeps } from '../delivery/posting-deps.js';
import { fingerprint } from '../delivery/fingerprint.js';
import type { UpdateQueue } from '../delivery/update-queue.js';

export interface AlertManagerOptions extends PostingDeps {
  /** True when Athena is configured: then a calculation is confirmed there before anyone is paged. */
  athenaConfigured: boolean;
  /**
   * Live alerts: buttons on the message, which is edited as its calculations finish, as people
   * acknowledge or snooze it and as actions run, and reminders while nobody has acknowledged it.
   * Without it an alert is posted once and only its thread grows.
   */
  updates?: UpdateQueue;
}

/** An unacknowledged alert whose calculations still run is recalled in its thread this often. */
export const REMINDER_EVERY_MS = HOUR;
/** At most this many reminders per alert (a day's worth). */
export const MAX_REMINDERS = 24;

interface OpenAlert {
  calculation_id: string;
  session_id: string;
  region: string;
  post_key: string;
}

export type AckResult = { kind: 'done' } | { kind: 'already'; by: string; at: number } | { kind: 'unknown' };
export type SnoozeResult = { kind: 'done'; until: number } | { kind: 'already'; by: string; until: number } | { kind: 'unknown' };

/**
 * On-call alerts (SPEC §5): one message per long-running calculation — one grouped message
 * per channel when several are found in the same cycle — never repeated, routed by
 * CHANNEL_ROUTES, with follow-ups (finished, stopped, session terminated or timed out) as
 * replies in the alert's thread. Live alerts also stay true: the message is edited as its
 * calculations end and as people acknowledge, snooze or act on it. Alert rows, their state and
 * the post intents are recorded in one transaction.
 */
export class AlertManager {
  readonly states: AlertStates;
  readonly audit: ActionAudit;

  constructor(private readonly o: AlertManagerOptions) {
    this.states = new AlertStates(o.store);
    this.audit = new ActionAudit(o.store);
  }

  /** Sessions with alerts awaiting a follow-up: the enricher keeps asking Athena about their calculations. */
  watched(): Array<{ region: string; sessionId: string }> {
    return (this.o.store.db.prepare(`SELECT DISTINCT session_id, region FROM alerts WHERE status = 'open'`).all() as Array<{ session_id: string; region: string }>).map((r) => ({
      region: r.region,
      sessionId: r.session_id,
    }));
  }

  private model(): ModelOptions {
    return { now: this.o.clock.now(), longRunningMinutes: this.o.config.longRunningMinutes, dpuHourPriceUsd: this.o.config.dpuHourPriceUsd };
  }

  private display(now: number): DisplayOptions {
    return { timezone: this.o.config.digest.timezone, showCallerDetails: this.o.config.showCallerDetails, now };
  }

  /** Runs after every poll cycle. `views` are the open sessions the enricher just re-folded, if any. */
  onCycle(views?: readonly SessionView[]): { alerted: number; followUps: number } {
    const channel = this.o.config.alertChannel;
    if (!channel) return { alerted: 0, followUps: 0 };
    const model = this.model();
    const followUps = this.followUps(channel, model);
    const alerted = this.newAlerts(channel, views ?? activeSessions(this.o.store, model).map((a) => a.view), model);
    if (this.o.updates) {
      this.recordActionReplies();
      this.reminders(model);
      for (const post of this.states.live()) this.refresh(post.postKey, model);
    }
    this.o.delivery.kick();
    this.o.updates?.kick();
    return { alerted, followUps };
  }

  private newAlerts(fallback: string, views: readonly SessionView[], model: ModelOptions): number {
    const { store } = this.o;
    const lookup = storedEnrichment(store);
    const known = store.db.prepare('SELECT 1 FROM alerts WHERE calculation_id = ?');
    const items: AlertItem[] = [];
    for (const session of views) {
      if (session.endedAt !== null) continue;
      // Snoozed: no new alert for this session until the snooze ends (its calculations are alerted then).
      if (this.o.updates && this.states.sessionSnoozedUntil(session.sessionId, model.now) !== undefined) continue;
      for (const calculation of session.calculations) {
        if (!calculation.longRunning || calculation.endedAt !== null || known.get(calculation.calculationId)) continue;
        // An answer from before the calculation could have been long-running (e.g. a report
        // asked while it ran) says nothing about now: treat it as not asked yet.
        const since = calculation.startedAt + model.longRunningMinutes * 60_000;
        const stored = lookup.calculation(calculation.calculationId);
        const answer = stored && stored.fetchedAt >= since ? stored : undefined;
        // Calculations are asked a session at a time: a refused or failed listing is the answer for each.
        const listing = store.getEnrichment('listing', session.sessionId);
        const listingFailed = listing !== undefined && listing.fetchedAt >= since && (listing.status === 'denied' || listing.status === 'error');
        const links = { consoleUrl: sessionConsoleUrl(session), sparkUiUrl: storedSparkUiUrl(store, session.sessionId) };
        if (answer?.status === 'ok') {
          if (TERMINAL_CALCULATION_STATES.has(answer.facts.state)) continue;
          items.push({ session, calculation, confirmed: true, ...links });
        } else if (!this.o.athenaConfigured || (answer && answer.status !== 'not-found') || listingFailed) {
          // No Athena, no permission, or Athena failing: page, saying it is unconfirmed.
          items.push({ session, calculation, confirmed: false, ...links });
        }
        // Athena configured but not asked yet: the enricher asks next cycle; page then.
      }
    }
    if (items.length === 0) return 0;
    // One message per channel: CHANNEL_ROUTES may send sessions of different work groups, accounts or tags apart.
    const byChannel = new Map<string, AlertItem[]>();
    for (const i of items) {
      const channel = routeChannel(this.o.config.channelRoutes, i.session, fallback);
      byChannel.set(channel, [...(byChannel.get(channel) ?? []), i]);
    }
    const insert = store.db.prepare(
      `INSERT OR IGNORE INTO alerts (calculation_id, session_id, region, post_key, confirmed, status, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?)`,
    );
    for (const [channel, group] of byChannel) {
      group.sort((a, b) => b.calculation.runMs - a.calculation.runMs);
      const postKey = group.length === 1 ? `alert:${group[0]!.calculation.calculationId}` : `alert-group:${group.map((i) => i.calculation.calculationId).sort()[0]}:${model.now}`;
      const payload = this.render(group, postKey, model.now);
      this.o.outbox.enqueueWith([{ key: postKey, kind: 'alert', channel, payload }], Date.now(), () => {
        for (const i of group) insert.run(i.calculation.calculationId, i.session.sessionId, i.session.region, postKey, i.confirmed ? 1 : 0, model.now);
        this.states.add(postKey, channel, fingerprint(payload), model.now);
      });
      this.o.logger.info({ calculations: group.map((i) => i.calculation.calculationId), postKey, channel }, 'long-running calculation alert recorded');
    }
    return items.length;
  }

  private followUps(fallback: string, model: ModelOptions): number {
    const { store, outbox } = this.o;
    const open = store.db.prepare(`SELECT calculation_id, session_id, region, post_key FROM alerts WHERE status = 'open'`).all() as OpenAlert[];
    if (open.length === 0) return 0;
    const lookup = storedEnrichment(store);
    const close = store.db.prepare(`UPDATE alerts SET status = 'closed', closed_at = ? WHERE calculation_id = ?`);
    const display = this.display(model.now);
    let n = 0;
    for (const a of open) {
      const session = foldStoredSession(store, a.session_id, model, lookup);
      const calc = session?.calculations.find((c) => c.calculationId === a.calculation_id);
      if (!session || !calc || calc.endedAt === null) continue;
      const payload = renderBlockKit(followUpDocument(session, calc, display));
      const channel = outbox.get(a.post_key)?.channel ?? fallback;
      outbox.enqueueWith([{ key: `followup:${a.calculation_id}`, kind: 'alert-followup', channel, parentKey: a.post_key, payload }], Date.now(), () => close.run(model.now, a.calculation_id));
      n++;
    }
    return n;
  }

  /** An hourly reminder in the thread of each alert nobody acknowledged or snoozed while something in it still runs. */
  private reminders(model: ModelOptions): void {
    for (const post of this.states.live()) {
      if (post.ackedBy || (post.snoozedUntil ?? 0) > model.now || post.reminders >= MAX_REMINDERS) continue;
      // A snooze holds reminders back; when it ends, one that fell due meanwhile follows at once.
      if (model.now < (post.remindedAt ?? post.createdAt) + REMINDER_EVERY_MS) continue;
      const items = this.items(post.postKey, model);
      if (!items.some((i) => i.calculation.endedAt === null)) continue;
      const n = post.reminders + 1;
      const reminder: NewPost = {
        key: `reminder:${post.postKey}:${n}`,
        kind: 'alert-reminder',
        channel: post.channel,
        parentKey: post.postKey,
        payload: renderBlockKit(reminderDocument(items, this.display(model.now), n)),
      };
      this.o.outbox.enqueueWith([reminder], Date.now(), () => this.states.noteReminder(post.postKey, model.now));
      this.o.logger.info({ postKey: post.postKey, reminder: n }, 'alert not acknowledged: reminder recorded');
    }
  }

  /** The alert (if any) whose message is at `ts` in `channel`. */
  alertAt(channel: string, ts: string): AlertPost | undefined {
    return this.states.byMessage(channel, ts);
  }

  /** The calculations of an alert message, each in its session as the store knows it now. */
  items(postKey: string, model: ModelOptions = this.model(), lookup: EnrichmentLookup = storedEnrichment(this.o.store)): AlertItem[] {
    const views = new Map<string, SessionView | undefined>();
    const out: AlertItem[] = [];
    for (const row of this.states.calculations(postKey)) {
      if (!views.has(row.sessionId)) views.set(row.sessionId, foldStoredSession(this.o.store, row.sessionId, model, lookup));
      const session = views.get(row.sessionId);
      const calculation = session?.calculations.find((c) => c.calculationId === row.calculationId);
      if (!session || !calculation) continue;
      // A later answer from Athena (the enricher keeps asking while the alert is open) confirms it too.
      const freshAnswer = calculation.confirmed && (calculation.confirmedAt ?? 0) >= calculation.startedAt + model.longRunningMinutes * 60_000;
      out.push({
        session,
        calculation,
        confirmed: row.confirmed || freshAnswer,
        consoleUrl: sessionConsoleUrl(session),
        sparkUiUrl: storedSparkUiUrl(this.o.store, session.sessionId),
      });
    }
    return out.sort((a, b) => b.calculation.runMs - a.calculation.runMs);
  }

  /** Acknowledges an alert for `user`: the message then names them and no reminder follows. */
  acknowledge(postKey: string, user: string): AckResult {
    const post = this.states.get(postKey);
    if (!post) return { kind: 'unknown' };
    const now = this.o.clock.now();
    const first = this.o.store.write(() => {
      const { record, existing } = this.audit.record({ action: 'acknowledge', target: postKey, sessionId: null, calculationId: null, region: null, userId: user, postKey }, 'done', null, now);
      if (!existing) this.states.acknowledge(postKey, user, now);
      return existing ? record : undefined;
    });
    if (first) return { kind: 'already', by: first.userId, at: first.requestedAt };
    this.o.logger.info({ postKey, user }, 'alert acknowledged');
    this.refresh(postKey);
    return { kind: 'done' };
  }

  /** Snoozes an alert and its sessions: no new alert and no reminder for them until then. */
  snooze(postKey: string, user: string, choice: SnoozeChoice): SnoozeResult {
    const post = this.states.get(postKey);
    if (!post) return { kind: 'unknown' };
    const now = this.o.clock.now();
    const until = now + SNOOZE_HOURS[choice] * HOUR;
    // A second press of the same snooze (a double click) changes nothing.
    if (post.snoozedUntil !== null && post.snoozedBy && post.snoozedUntil >= until - 60_000) return { kind: 'already', by: post.snoozedBy, until: post.snoozedUntil };
    const sessions = this.states.calculations(postKey).map((c) => c.sessionId);
    this.o.store.write(() => {
      this.states.snooze(postKey, sessions, user, until);
      this.audit.record({ action: 'snooze', target: postKey, sessionId: null, calculationId: null, region: null, userId: user, postKey }, 'done', `until ${new Date(until).toISOString()}`, now);
    });
    this.o.logger.info({ postKey, user, until: new Date(until).toISOString() }, 'alert snoozed');
    this.refresh(postKey);
    return { kind: 'done', until };
  }

  /**
   * Writes the thread reply of every finished stop or terminate that has none yet (after an
   * action, and after a restart for those a crash interrupted), and edits their alerts.
   */
  recordActionReplies(): number {
    const records = this.audit.withoutReply();
    for (const r of records) {
      const post = this.states.get(r.postKey!);
      const channel = post?.channel ?? this.o.outbox.get(r.postKey!)?.channel;
      if (!channel) continue;
      const payload = renderBlockKit(actionReplyDocument(toAlertAction(r), { timezone: this.o.config.digest.timezone }));
      this.o.outbox.enqueue([{ key: actionReplyKey(r.id), kind: 'action-reply', channel, parentKey: r.postKey, payload }], Date.now());
      this.refresh(r.postKey!);
    }
    if (records.length) {
      this.o.delivery.kick();
      this.o.updates?.kick();
    }
    return records.length;
  }

  /**
   * Renders an alert message as it stands and queues an edit if that differs from what it shows.
   * A live alert whose calculations have all ended settles: this was its last edit.
   */
  refresh(postKey: string, model: ModelOptions = this.model()): boolean {
    if (!this.o.updates) return false;
    const post = this.states.get(postKey);
    if (!post) return false;
    const items = this.items(postKey, model);
    if (items.length === 0) return false;
    const payload = this.render(items, postKey, model.now);
    const shown = fingerprint(payload);
    const changed = shown !== post.shown;
    if (changed) {
      this.o.updates.put(postKey, post.channel, payload);
      this.states.setShown(postKey, shown);
      this.o.updates.kick();
    }
    const settled = this.states.calculations(postKey).every((c) => !c.open) && !this.audit.forPost(postKey).some((a) => a.status === 'started');
    if (post.live && settled) this.states.settle(postKey);
    return changed;
  }

  private render(items: readonly AlertItem[], postKey: string, now: number): SlackMessage {
    const display = this.display(now);
    return renderBlockKit(alertDocument(items, display, this.o.config.longRunningMinutes, this.o.updates ? this.liveState(postKey) : undefined));
  }

  private liveState(postKey: string): AlertLiveState {
    const post = this.states.get(postKey);
    const actions = this.audit.forPost(postKey).filter((a) => a.action === 'stop-calculation' || a.action === 'terminate-session').map(toAlertAction);
    return {
      postKey,
      actionsEnabled: this.o.config.actions.enabled,
      actions,
      ...(post?.ackedBy && post.ackedAt !== null ? { acknowledged: { by: post.ackedBy, at: post.ackedAt } } : {}),
      ...(post?.snoozedBy && post.snoozedUntil !== null ? { snoozed: { by: post.snoozedBy, until: post.snoozedUntil } } : {}),
    };
  }
}

function toAlertAction(r: ActionRecord): AlertAction {
  return { user: r.userId, action: r.action as AlertAction['action'], target: r.target, status: r.status, outcome: r.outcome, at: r.requestedAt };
}
