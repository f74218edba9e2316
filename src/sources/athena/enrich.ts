import { foldSession } from '../../model/session.js';
import { TERMINAL_CALCULATION_STATES, TERMINAL_SESSION_STATES, type ModelOptions, type SessionView } from '../../model/types.js';
import { storedEnrichment } from '../../reports/enrichment-lookup.js';
import type { EnrichmentKind, Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { DAY, HOUR } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { AthenaResult, AthenaSource } from './athena-source.js';

export interface EnricherOptions {
  store: Store;
  athena: AthenaSource;
  clock: Clock;
  logger: Logger;
  longRunningMinutes: number;
  dpuHourPriceUsd: number;
  /** A non-terminal answer younger than this is not asked again (one poll interval). */
  refreshMs: number;
  /** Most Athena calls per cycle, so a large backlog cannot starve the poll loop. */
  maxCallsPerCycle?: number;
  /** Sessions started longer ago than this are not enriched. */
  horizonMs?: number;
}

export interface EnrichResult {
  calls: number;
  denied: number;
  views: SessionView[];
}

/** How long to wait before asking again after AccessDeniedException. */
const DENIED_BACKOFF_MS = HOUR;

/**
 * Learns the true state of open work from Athena (issue #2 §5): open calculations past the
 * long-running threshold (and any the caller names, e.g. alerted ones awaiting follow-up)
 * and sessions with no end record. Answers are stored; terminal ones are never asked
 * again. Without permission it logs once per region and operation, stores the denial, and
 * the model keeps showing inferred answers as unconfirmed.
 */
export class Enricher {
  private readonly deniedUntil = new Map<string, number>();
  private readonly loggedDenied = new Set<string>();

  constructor(private readonly o: EnricherOptions) {}

  model(): ModelOptions {
    return { now: this.o.clock.now(), longRunningMinutes: this.o.longRunningMinutes, dpuHourPriceUsd: this.o.dpuHourPriceUsd };
  }

  /** Enriches open work; returns the re-folded views of every session that may still be open. */
  async enrichOpenWork(extraCalculations: ReadonlyArray<{ region: string; calculationId: string }> = [], signal?: AbortSignal): Promise<EnrichResult> {
    const { store, clock } = this.o;
    const budget = { left: this.o.maxCallsPerCycle ?? 200, calls: 0, denied: 0 };
    // One "now" for choosing what to ask and for the views returned: a calculation that
    // crosses the threshold while Athena is being asked must wait for the next cycle, not
    // show up as long-running without having been asked about.
    const model = this.model();
    const candidates = store.sessionsWithoutEnd(model.now - (this.o.horizonMs ?? 7 * DAY));
    const lookup = storedEnrichment(store);

    // Calculations first: they page people.
    const calcs: Array<{ region: string; calculationId: string }> = [...extraCalculations];
    const views: SessionView[] = [];
    for (const c of candidates) {
      const view = foldSession(c.sessionId, store.eventsForSession(c.sessionId), lookup, model);
      if (!view) continue;
      views.push(view);
      for (const calc of view.calculations) {
        if (calc.endedAt === null && calc.longRunning) calcs.push({ region: view.region, calculationId: calc.calculationId });
      }
    }
    const seen = new Set<string>();
    for (const c of calcs) {
      if (seen.has(c.calculationId)) continue;
      seen.add(c.calculationId);
      await this.refresh('calculation', c.region, c.calculationId, budget, signal);
    }
    for (const v of views) {
      await this.refresh('session', v.region, v.sessionId, budget, signal);
    }
    const refolded = views.map((v) => foldSession(v.sessionId, store.eventsForSession(v.sessionId), storedEnrichment(store), model)!);
    return { calls: budget.calls, denied: budget.denied, views: refolded };
  }

  /** Asks Athena about one session and its open calculations now (for an interactive report). */
  async enrichSessionNow(region: string, sessionId: string, signal?: AbortSignal): Promise<boolean> {
    const budget = { left: 20, calls: 0, denied: 0 };
    const reachable = await this.refresh('session', region, sessionId, budget, signal, 0);
    const view = foldSession(sessionId, this.o.store.eventsForSession(sessionId), storedEnrichment(this.o.store), this.model());
    for (const c of view?.calculations ?? []) {
      if (c.endedAt === null) await this.refresh('calculation', region, c.calculationId, budget, signal, 0);
    }
    return reachable;
  }

  /** Returns true when Athena answered (with facts or not-found). */
  private async refresh(
    kind: EnrichmentKind,
    region: string,
    id: string,
    budget: { left: number; calls: number; denied: number },
    signal?: AbortSignal,
    refreshMs = this.o.refreshMs,
  ): Promise<boolean> {
    const { store, clock, athena, logger } = this.o;
    const existing = store.getEnrichment(kind, id);
    const now = clock.now();
    if (existing?.terminal) return true;
    if (existing && existing.status !== 'error' && now - existing.fetchedAt < refreshMs) return existing.status !== 'denied';
    const op = kind === 'session' ? 'GetSession' : 'GetCalculationExecution';
    const deniedKey = `${region}:${op}`;
    if ((this.deniedUntil.get(deniedKey) ?? 0) > now) {
      budget.denied++;
      // Athena would deny this one too: record that as its answer, as if asked, so that a
      // calculation first seen during the back-off is alerted on (unconfirmed) now rather
      // than waiting, answerless, for a call the back-off holds back.
      if (existing?.status !== 'denied') store.putEnrichment({ kind, id, region, status: 'denied', terminal: false, payload: null, fetchedAt: now });
      return false;
    }
    if (budget.left <= 0) return false;
    budget.left--;
    budget.calls++;
    const answer: AthenaResult<unknown> =
      kind === 'session' ? await athena.getSession(region, id, signal) : await athena.getCalculation(region, id, signal);
    if (answer.status === 'denied') {
      budget.denied++;
      this.deniedUntil.set(deniedKey, now + DENIED_BACKOFF_MS);
      if (!this.loggedDenied.has(deniedKey)) {
        this.loggedDenied.add(deniedKey);
        logger.warn(
          { region, operation: op },
          `no permission for athena:${op}: falling back to CloudTrail inference; answers are marked unconfirmed (grant athena:${op} to confirm)`,
        );
      }
    } else if (answer.status === 'error' && signal?.aborted) {
      return false;
    } else if (answer.status === 'error') {
      logger.warn({ region, operation: op, id, error: answer.message }, 'Athena enrichment failed; will retry next cycle');
    }
    const state = answer.status === 'ok' ? (answer.facts as { state: string }).state : undefined;
    const terminal =
      answer.status === 'not-found' ||
      (state !== undefined && (kind === 'session' ? TERMINAL_SESSION_STATES.has(state) : TERMINAL_CALCULATION_STATES.has(state)));
    // A failed call keeps an earlier good answer rather than erasing it.
    if (answer.status === 'error' && existing?.status === 'ok') return false;
    store.putEnrichment({
      kind,
      id,
      region,
      status: answer.status,
      terminal,
      payload: answer.status === 'ok' ? answer.facts : null,
      fetchedAt: now,
    });
    return answer.status === 'ok' || answer.status === 'not-found';
  }
}
