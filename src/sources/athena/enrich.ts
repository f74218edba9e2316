import { ATHENA_PERMISSIONS, type AthenaOperation } from '../../model/advice.js';
import { TERMINAL_CALCULATION_STATES, TERMINAL_SESSION_STATES, type ModelOptions, type SessionView } from '../../model/types.js';
import { storedEnrichment } from '../../reports/enrichment-lookup.js';
import { foldStoredSession } from '../../reports/stored-session.js';
import { sessionArn } from '../../reports/athena-links.js';
import type { EnrichmentKind, Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { DAY, HOUR } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { AthenaResult, AthenaSource } from './athena-source.js';
import { refreshActiveSessions } from './active-sessions.js';
import type { Accounts } from '../accounts/accounts.js';
import { DEFAULT_ACCOUNT, targetFields, targetKey, type AwsTarget } from '../accounts/targets.js';

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
  /** Sessions started longer ago than this are not enriched by the poll loop. */
  horizonMs?: number;
  /** One-shot commands say "stays unconfirmed", the running bot "will retry next cycle". */
  oneShot?: boolean;
  /**
   * Where a session's questions go: the account its records name (AWS_ROLE_ARNS). Without: the
   * default credentials, in the session's region.
   */
  accounts?: Pick<Accounts, 'targetOf'>;
}

export interface EnrichResult {
  calls: number;
  /** Athena calls made, by operation (the benchmark prints them per cycle). */
  callsByOperation: Record<string, number>;
  denied: number;
  views: SessionView[];
}

/** A session to confirm, and where it lives. */
export interface SessionRef {
  region: string;
  sessionId: string;
  /** The account its records name; undefined: looked up in the store. */
  account?: string | null;
}


/** How long to wait before asking again after AccessDeniedException. */
const DENIED_BACKOFF_MS = HOUR;

interface Budget {
  left: number;
  calls: number;
  denied: number;
  /** Calls that failed (not refused, not "not found") in a row. */
  errors?: number;
}

/**
 * Asks Athena what CloudTrail cannot say (SPEC §1: a calculation that finishes on its own and
 * a session that times out leave no record). Sessions are asked with GetSession; their
 * calculations a session at a time with ListCalculationExecutions, one call for up to 100.
 * Answers are stored with the time they were given; terminal ones are never asked again.
 * Without permission it logs once per account-region and operation, remembers the refusal, and the
 * model keeps showing CloudTrail's answers as unconfirmed.
 */
export class Enricher {
  /** By target key and operation. */
  private readonly deniedUntil = new Map<string, number>();
  private readonly loggedDenied = new Set<string>();
  /** Accounts whose sessions no watched account can be asked about, told once. */
  private readonly loggedUnwatched = new Set<string>();
  /** Operations Athena refused, per account-region: what the operator is told to grant. */
  private readonly refusals = new Map<AthenaOperation, { targets: Set<string>; count: number; since: number }>();

  constructor(private readonly o: EnricherOptions) {}

  model(): ModelOptions {
    return { now: this.o.clock.now(), longRunningMinutes: this.o.longRunningMinutes, dpuHourPriceUsd: this.o.dpuHourPriceUsd };
  }

  /** Operations Athena refused since this process started (each with how often and where: target keys): operator advice. */
  refused(): Array<{ operation: AthenaOperation; targets: string[]; count: number; since: number }> {
    return [...this.refusals].map(([operation, r]) => ({ operation, targets: [...r.targets].sort(), count: r.count, since: r.since }));
  }

  /**
   * The account × region to ask about a session: the account its records name, through that
   * account's role. Undefined when no watched account holds it; its answers are then stored as
   * refused, so that reports and alerts say unconfirmed rather than wait for an answer.
   */
  targetOf(ref: SessionRef): AwsTarget | undefined {
    if (!this.o.accounts) return { account: DEFAULT_ACCOUNT, region: ref.region };
    const account = ref.account !== undefined ? ref.account : (this.o.store.accountOfSession(ref.sessionId) ?? null);
    const target = this.o.accounts.targetOf(account, ref.region);
    if (!target && !this.loggedUnwatched.has(account ?? '')) {
      this.loggedUnwatched.add(account ?? '');
      this.o.logger.warn({ account, region: ref.region }, "a session's records name an account the bot has no role for: its sessions stay unconfirmed (add the account's role to AWS_ROLE_ARNS)");
    }
    return target;
  }

  /**
   * Each poll cycle: open sessions (no end record, no terminal answer) are asked about, and the
   * calculations of those with work that may page someone — open calculations past the
   * threshold, or any the caller names (alerted ones awaiting follow-up). Returns the re-folded
   * views of every session that may still be open.
   */
  async enrichOpenWork(extraSessions: readonly SessionRef[] = [], signal?: AbortSignal, activeTargets: readonly AwsTarget[] = []): Promise<EnrichResult> {
    const { store } = this.o;
    const before = new Map(this.o.athena.calls);
    const budget: Budget = { left: this.o.maxCallsPerCycle ?? 200, calls: 0, denied: 0 };
    // One "now" for choosing what to ask and for the views returned: a calculation that
    // crosses the threshold while Athena is being asked must wait for the next cycle, not
    // show up as long-running without having been asked about.
    const model = this.model();
    const candidates = store.sessionsWithoutEnd(model.now - (this.o.horizonMs ?? 7 * DAY));
    const lookup = storedEnrichment(store);
    const views: SessionView[] = [];
    const listNeeded = new Map<string, SessionRef>();
    for (const c of candidates) {
      const view = foldStoredSession(store, c.sessionId, model, lookup);
      if (!view) continue;
      views.push(view);
      // Any calculation past the threshold that Athena has not confirmed finished: open ones may
      // page someone, and one bounded only by an inferred session end may in truth still run.
      const unsettled = (c: SessionView['calculations'][number]) => !(c.confirmed && TERMINAL_CALCULATION_STATES.has(c.state));
      if (view.calculations.some((c) => unsettled(c) && model.now - c.startedAt >= model.longRunningMinutes * 60_000)) {
        listNeeded.set(view.sessionId, refOf(view));
      }
    }
    for (const s of extraSessions) listNeeded.set(s.sessionId, s);
    // Calculations first: they page people.
    for (const ref of listNeeded.values()) await this.refreshCalculations(ref, budget, signal);
    for (const v of views) await this.refresh(refOf(v), budget, signal);
    // Alerts link the Spark UI of sessions with work running long.
    for (const v of views) if (listNeeded.has(v.sessionId)) await this.refreshDashboard(v, signal);
    if (activeTargets.length && !signal?.aborted) await refreshActiveSessions({ ...this.o, enricher: this, targets: activeTargets }, signal);
    const refolded = views.map((v) => foldStoredSession(store, v.sessionId, model)!);
    const callsByOperation: Record<string, number> = {};
    for (const [op, n] of this.o.athena.calls) if (n > (before.get(op) ?? 0)) callsByOperation[op] = n - (before.get(op) ?? 0);
    const calls = Object.values(callsByOperation).reduce((a, b) => a + b, 0);
    return { calls, callsByOperation, denied: budget.denied, views: refolded };
  }

  /** Asks Athena which sessions are active now in these accounts and regions (ListWorkGroups → ListSessions). */
  refreshActive(targets: readonly AwsTarget[], signal?: AbortSignal): Promise<boolean> {
    return refreshActiveSessions({ ...this.o, enricher: this, targets }, signal);
  }

  /**
   * Confirms what is unconfirmed and confirmable about these sessions, now (before a report, a
   * digest or an alert): a session without a terminal answer is asked with GetSession, and the
   * calculations of a session with any not known to have finished are listed. Returns whether
   * Athena answered every session it was asked about.
   */
  async confirmSessions(sessions: readonly SessionRef[], signal?: AbortSignal, maxCalls = 400): Promise<{ reachable: boolean; calls: number; denied: number }> {
    const { store } = this.o;
    const budget: Budget = { left: maxCalls, calls: 0, denied: 0 };
    const model = this.model();
    let reachable = true;
    for (const s of sessions) {
      // Athena unreachable (offline, an outage): the rest would only wait for the same failure.
      if (signal?.aborted || (budget.errors ?? 0) >= 3) break;
      if (!(await this.refresh(s, budget, signal, 0))) reachable = false;
      const view = foldStoredSession(store, s.sessionId, model);
      if (view?.calculations.some((c) => !c.confirmed || !TERMINAL_CALCULATION_STATES.has(c.state))) {
        if (!(await this.refreshCalculations(s, budget, signal, 0))) reachable = false;
      }
    }
    return { reachable, calls: budget.calls, denied: budget.denied };
  }

  /** Asks Athena about one session, its calculations and its Spark UI now (an interactive report). */
  async enrichSessionNow(ref: SessionRef, signal?: AbortSignal): Promise<boolean> {
    const { reachable } = await this.confirmSessions([ref], signal, 25);
    const view = foldStoredSession(this.o.store, ref.sessionId, this.model());
    if (view) await this.refreshDashboard(view, signal);
    return reachable;
  }

  /**
   * The session's Spark UI link (GetResourceDashboard), fetched at most hourly. A refusal or an
   * unknown session is remembered for a day rather than asked again every cycle.
   */
  async refreshDashboard(view: Pick<SessionView, 'sessionId' | 'region' | 'account' | 'workgroup'>, signal?: AbortSignal): Promise<void> {
    const { store, clock, athena } = this.o;
    const now = clock.now();
    const arn = sessionArn(view);
    if (!arn) return;
    const existing = store.getEnrichment('dashboard', view.sessionId);
    const wait = existing?.status === 'ok' ? HOUR : existing?.status === 'error' ? 0 : DAY;
    if (existing && now - existing.fetchedAt < wait) return;
    const target = this.targetOf(refOf(view));
    if (!target) return;
    const budget: Budget = { left: 1, calls: 0, denied: 0 };
    if (this.backedOff(target, 'GetResourceDashboard', budget, now)) return;
    const answer = await athena.getDashboard(target, arn, signal);
    if (answer.status === 'denied') this.noteRefusal(target, 'GetResourceDashboard', now);
    if (answer.status === 'error' && existing?.status === 'ok') return;
    store.putEnrichment({
      kind: 'dashboard',
      id: view.sessionId,
      region: view.region,
      status: answer.status,
      terminal: false,
      payload: answer.status === 'ok' ? { url: answer.facts } : null,
      fetchedAt: now,
    });
  }

  /** Lists a session's calculations and stores each answer; true when Athena answered. */
  private async refreshCalculations(ref: SessionRef, budget: Budget, signal?: AbortSignal, refreshMs = this.o.refreshMs): Promise<boolean> {
    const { store, clock, athena } = this.o;
    const { region, sessionId } = ref;
    const now = clock.now();
    const listing = store.getEnrichment('listing', sessionId);
    if (listing?.terminal) return true;
    if (listing && listing.status !== 'error' && now - listing.fetchedAt < refreshMs) return listing.status !== 'denied';
    const target = this.targetOf(ref);
    if (!target || this.backedOff(target, 'ListCalculationExecutions', budget, now)) {
      if (listing?.status !== 'denied') store.putEnrichment({ kind: 'listing', id: sessionId, region, status: 'denied', terminal: false, payload: null, fetchedAt: now });
      return false;
    }
    if (budget.left <= 0) return false;
    budget.left--;
    budget.calls++;
    const answer = await athena.listCalculations(target, sessionId, signal);
    if (answer.status !== 'ok') return this.failed(answer, 'ListCalculationExecutions', 'listing', target, sessionId, listing?.status, budget, now, signal);
    // The session has ended and every calculation it ran has too: nothing left to ask.
    const session = store.getEnrichment('session', sessionId);
    const allEnded = answer.facts.every((c) => TERMINAL_CALCULATION_STATES.has(c.facts.state));
    store.write(() => {
      for (const c of answer.facts) {
        store.putEnrichment({ kind: 'calculation', id: c.calculationId, region, status: 'ok', terminal: TERMINAL_CALCULATION_STATES.has(c.facts.state), payload: c.facts, fetchedAt: now });
      }
      store.putEnrichment({ kind: 'listing', id: sessionId, region, status: 'ok', terminal: Boolean(session?.terminal && allEnded), payload: { calculations: answer.facts.length }, fetchedAt: now });
    });
    return true;
  }

  /** Asks GetSession about a session; returns true when Athena answered (with facts or not-found). */
  private async refresh(ref: SessionRef, budget: Budget, signal?: AbortSignal, refreshMs = this.o.refreshMs): Promise<boolean> {
    const { store, clock, athena } = this.o;
    const kind = 'session';
    const { region, sessionId: id } = ref;
    const existing = store.getEnrichment(kind, id);
    const now = clock.now();
    if (existing?.terminal) return true;
    if (existing && existing.status !== 'error' && now - existing.fetchedAt < refreshMs) return existing.status !== 'denied';
    const target = this.targetOf(ref);
    if (!target || this.backedOff(target, 'GetSession', budget, now)) {
      // Athena would deny this one too (or no watched account can be asked): record that as
      // its answer, as if asked, so that a calculation first seen during the back-off is alerted
      // on (unconfirmed) now rather than waiting, answerless, for a call the back-off holds back.
      if (existing?.status !== 'denied') store.putEnrichment({ kind, id, region, status: 'denied', terminal: false, payload: null, fetchedAt: now });
      return false;
    }
    if (budget.left <= 0) return false;
    budget.left--;
    budget.calls++;
    const answer = await athena.getSession(target, id, signal);
    if (answer.status !== 'ok' && answer.status !== 'not-found') return this.failed(answer, 'GetSession', kind, target, id, existing?.status, budget, now, signal);
    const facts = answer.status === 'ok' ? answer.facts : null;
    const terminal = facts === null || TERMINAL_SESSION_STATES.has(facts.state);
    store.putEnrichment({ kind, id, region, status: answer.status, terminal, payload: facts, fetchedAt: now });
    return true;
  }

  private backedOff(target: AwsTarget, op: AthenaOperation, budget: Budget, now: number): boolean {
    if ((this.deniedUntil.get(`${targetKey(target)}:${op}`) ?? 0) <= now) return false;
    budget.denied++;
    return true;
  }

  /** Records a refusal or failure; a failed call keeps an earlier good answer rather than erasing it. */
  private failed(
    answer: Exclude<AthenaResult<unknown>, { status: 'ok' }>,
    op: AthenaOperation,
    kind: EnrichmentKind,
    target: AwsTarget,
    id: string,
    previous: string | undefined,
    budget: Budget,
    now: number,
    signal?: AbortSignal,
  ): false {
    const { store, logger } = this.o;
    const region = target.region;
    // Errors in a row mean Athena is unreachable; an account whose role is refused says nothing of the others.
    if (!answer.assumeRole) budget.errors = answer.status === 'error' ? (budget.errors ?? 0) + 1 : 0;
    if (answer.status === 'denied') {
      budget.denied++;
      this.noteRefusal(target, op, now);
    } else if (answer.status === 'error' && !signal?.aborted && !answer.assumeRole) {
      // (A role that cannot be assumed is logged once by the accounts, not for every session.)
      logger.warn({ ...targetFields(target), operation: op, id, error: answer.message }, `Athena ${op} failed; ${this.o.oneShot ? 'the answer stays unconfirmed' : 'will retry next cycle'}`);
    }
    if (signal?.aborted || (answer.status === 'error' && previous === 'ok')) return false;
    store.putEnrichment({ kind, id, region, status: answer.status, terminal: answer.status === 'not-found', payload: null, fetchedAt: now });
    if (kind === 'listing' && answer.status === 'denied') store.withdrawOpenCalculationAnswers(id, 'denied', now);
    return false;
  }

  /** Whether Athena refused this operation in this account-region within the last hour (then it is not asked). */
  isBackedOff(target: AwsTarget, op: AthenaOperation, now: number): boolean {
    return (this.deniedUntil.get(`${targetKey(target)}:${op}`) ?? 0) > now;
  }

  /** A refusal backs off for an hour and is told to the operator once per account-region, with what granting it buys. */
  noteRefusal(target: AwsTarget, op: AthenaOperation, now: number): void {
    const key = `${targetKey(target)}:${op}`;
    this.deniedUntil.set(key, now + DENIED_BACKOFF_MS);
    const r = this.refusals.get(op) ?? { targets: new Set<string>(), count: 0, since: now };
    r.targets.add(targetKey(target));
    r.count++;
    this.refusals.set(op, r);
    if (!this.loggedDenied.has(key)) {
      this.loggedDenied.add(key);
      this.o.logger.warn({ ...targetFields(target), operation: op }, `no permission for athena:${op}: ${ATHENA_PERMISSIONS[op]} come from CloudTrail alone and are marked unconfirmed (grant athena:${op} to confirm)`);
    }
  }
}

/** Where a folded session lives: its region and the account its records name. */
function refOf(v: Pick<SessionView, 'sessionId' | 'region' | 'account'>): SessionRef {
  return { sessionId: v.sessionId, region: v.region, account: v.account };
}
