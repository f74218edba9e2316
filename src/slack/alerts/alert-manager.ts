import { foldStoredSession } from '../../reports/stored-session.js';
import { TERMINAL_CALCULATION_STATES, type ModelOptions, type SessionView } from '../../model/types.js';
import { alertDocument, followUpDocument, type AlertItem } from '../../reports/alert-document.js';
import { activeSessions } from '../../reports/active-sessions.js';
import { storedEnrichment } from '../../reports/enrichment-lookup.js';
import { renderBlockKit } from '../../reports/render/block-kit.js';
import type { PostingDeps } from '../delivery/posting-deps.js';

export interface AlertManagerOptions extends PostingDeps {
  /** True when Athena is configured: then a calculation is confirmed there before anyone is paged. */
  athenaConfigured: boolean;
}

interface OpenAlert {
  calculation_id: string;
  session_id: string;
  region: string;
  post_key: string;
}

/**
 * On-call alerts (SPEC §5): one message per long-running calculation — one grouped message
 * when several are found in the same cycle — never repeated, with follow-ups (finished,
 * stopped, session terminated or timed out) as replies in the alert's thread. The alert
 * rows and the post intents are recorded in one transaction.
 */
export class AlertManager {
  constructor(private readonly o: AlertManagerOptions) {}

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

  /** Runs after every poll cycle. `views` are the open sessions the enricher just re-folded, if any. */
  onCycle(views?: readonly SessionView[]): { alerted: number; followUps: number } {
    const channel = this.o.config.alertChannel;
    if (!channel) return { alerted: 0, followUps: 0 };
    const model = this.model();
    const followUps = this.followUps(channel, model);
    const alerted = this.newAlerts(channel, views ?? activeSessions(this.o.store, model).map((a) => a.view), model);
    if (alerted || followUps) this.o.delivery.kick();
    return { alerted, followUps };
  }

  private newAlerts(channel: string, views: readonly SessionView[], model: ModelOptions): number {
    const { store, outbox } = this.o;
    const lookup = storedEnrichment(store);
    const known = store.db.prepare('SELECT 1 FROM alerts WHERE calculation_id = ?');
    const items: AlertItem[] = [];
    for (const session of views) {
      if (session.endedAt !== null) continue;
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
        if (answer?.status === 'ok') {
          if (TERMINAL_CALCULATION_STATES.has(answer.facts.state)) continue;
          items.push({ session, calculation, confirmed: true });
        } else if (!this.o.athenaConfigured || (answer && answer.status !== 'not-found') || listingFailed) {
          // No Athena, no permission, or Athena failing: page, saying it is unconfirmed.
          items.push({ session, calculation, confirmed: false });
        }
        // Athena configured but not asked yet: the enricher asks next cycle; page then.
      }
    }
    if (items.length === 0) return 0;
    items.sort((a, b) => b.calculation.runMs - a.calculation.runMs);
    const display = { timezone: this.o.config.digest.timezone, showCallerDetails: this.o.config.showCallerDetails, now: model.now };
    const postKey = items.length === 1 ? `alert:${items[0]!.calculation.calculationId}` : `alert-group:${items.map((i) => i.calculation.calculationId).sort()[0]}:${model.now}`;
    const payload = renderBlockKit(alertDocument(items, display, this.o.config.longRunningMinutes));
    const insert = store.db.prepare(
      `INSERT OR IGNORE INTO alerts (calculation_id, session_id, region, post_key, confirmed, status, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?)`,
    );
    outbox.enqueueWith([{ key: postKey, kind: 'alert', channel, payload }], Date.now(), () => {
      for (const i of items) insert.run(i.calculation.calculationId, i.session.sessionId, i.session.region, postKey, i.confirmed ? 1 : 0, model.now);
    });
    this.o.logger.info({ calculations: items.map((i) => i.calculation.calculationId), postKey }, 'long-running calculation alert recorded');
    return items.length;
  }

  private followUps(channel: string, model: ModelOptions): number {
    const { store, outbox } = this.o;
    const open = store.db.prepare(`SELECT calculation_id, session_id, region, post_key FROM alerts WHERE status = 'open'`).all() as OpenAlert[];
    if (open.length === 0) return 0;
    const lookup = storedEnrichment(store);
    const close = store.db.prepare(`UPDATE alerts SET status = 'closed', closed_at = ? WHERE calculation_id = ?`);
    const display = { timezone: this.o.config.digest.timezone, showCallerDetails: this.o.config.showCallerDetails, now: model.now };
    let n = 0;
    for (const a of open) {
      const session = foldStoredSession(store, a.session_id, model, lookup);
      const calc = session?.calculations.find((c) => c.calculationId === a.calculation_id);
      if (!session || !calc || calc.endedAt === null) continue;
      const payload = renderBlockKit(followUpDocument(session, calc, display));
      outbox.enqueueWith([{ key: `followup:${a.calculation_id}`, kind: 'alert-followup', channel, parentKey: a.post_key, payload }], Date.now(), () => close.run(model.now, a.calculation_id));
      n++;
    }
    return n;
  }
}
