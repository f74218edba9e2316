import { refusalAdvice, type AthenaOperation } from '../../model/advice.js';
import { TERMINAL_CALCULATION_STATES, TERMINAL_SESSION_STATES } from '../../model/types.js';
import { foldStoredSession } from '../../reports/stored-session.js';
import { ActionAudit, type ActionRecord, type ActionRequest } from '../../store/action-audit.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import { failpoint } from '../../util/failpoints.js';
import type { Logger } from '../../util/logger.js';
import type { AthenaResult, AthenaSource } from './athena-source.js';
import type { Enricher } from './enrich.js';

/** A stop or terminate someone asked for, with where it runs. */
export type AthenaActionRequest = ActionRequest & { action: 'stop-calculation' | 'terminate-session'; sessionId: string; region: string };

export interface ActionResult {
  record: ActionRecord;
  /** A second press: the first is under way or done, and nothing new was asked. */
  duplicate: boolean;
}

export interface AthenaActionsOptions {
  store: Store;
  athena: AthenaSource;
  enricher: Enricher;
  clock: Clock;
  logger: Logger;
}

const OPERATION: Record<AthenaActionRequest['action'], AthenaOperation> = {
  'stop-calculation': 'StopCalculationExecution',
  'terminate-session': 'TerminateSession',
};

/** States that say a stop or terminate took effect, or that there is nothing left to end. */
const ENDING_CALCULATION: ReadonlySet<string> = new Set([...TERMINAL_CALCULATION_STATES, 'CANCELING']);
const ENDING_SESSION: ReadonlySet<string> = new Set([...TERMINAL_SESSION_STATES, 'TERMINATING']);

/**
 * Stop calculation and Terminate session, as people ask for them from Slack (SPEC §5). Each is
 * recorded (the audit) before Athena is asked and its outcome after, so a second press, or a
 * restart after a crash at any instant, never asks Athena a second time for something that
 * already took effect: an action found still under way after a restart is settled by asking
 * Athena what state the target is in, and only sent if it is still running. Something already
 * ended is not asked about at all. Who may ask is the caller's business (the Slack side).
 */
/** Said when a session lives in an account none of AWS_ROLE_ARNS reaches. */
const NO_ROLE = "the bot has no role for this session's account (add it to AWS_ROLE_ARNS)";

export class AthenaActions {
  readonly audit: ActionAudit;
  /** Audit ids being asked in this process: not interrupted, whatever the store says. */
  private readonly inFlight = new Set<number>();

  constructor(private readonly o: AthenaActionsOptions) {
    this.audit = new ActionAudit(o.store);
  }

  async run(req: AthenaActionRequest, signal?: AbortSignal): Promise<ActionResult> {
    const now = this.o.clock.now();
    const first = this.audit.activeFor(req.action, req.target);
    if (first) return { record: first, duplicate: true };
    const ended = this.alreadyEnded(req);
    if (ended) {
      const { record, existing } = this.audit.record(req, 'noop', ended, now);
      return { record, duplicate: existing };
    }
    const { record, existing } = this.audit.record(req, 'started', null, now);
    if (existing) return { record, duplicate: true };
    this.inFlight.add(record.id);
    try {
      this.o.logger.info({ action: req.action, target: req.target, region: req.region, user: req.userId, id: record.id }, 'Slack action: asking Athena');
      return { record: await this.perform(record, req, signal), duplicate: false };
    } finally {
      this.inFlight.delete(record.id);
    }
  }

  /**
   * Settles actions a crash left under way: Athena is asked what state each target is in; one
   * already stopping or ended is recorded as done without asking again, one still running is
   * asked now (the first request that reaches Athena), one Athena cannot tell about is recorded
   * as unknown (a new press may then try again). Returns the records settled.
   */
  async recover(signal?: AbortSignal): Promise<ActionRecord[]> {
    const settled: ActionRecord[] = [];
    for (const r of this.audit.unfinished()) {
      if (this.inFlight.has(r.id) || signal?.aborted) continue;
      if ((r.action !== 'stop-calculation' && r.action !== 'terminate-session') || !r.sessionId || !r.region) {
        settled.push(this.audit.finish(r.id, 'failed', 'not an Athena action', this.o.clock.now()));
        continue;
      }
      const req = { ...r, action: r.action, sessionId: r.sessionId, region: r.region } as AthenaActionRequest;
      this.inFlight.add(r.id);
      try {
        const state = await this.currentState(req, signal);
        const now = this.o.clock.now();
        if (state.status === 'ok' && state.facts !== undefined && (req.action === 'stop-calculation' ? ENDING_CALCULATION : ENDING_SESSION).has(state.facts)) {
          settled.push(this.audit.finish(r.id, 'done', `Athena says ${state.facts} (the bot restarted while asking; not asked again)`, now));
        } else if (state.status === 'ok') {
          this.o.logger.info({ action: r.action, target: r.target, id: r.id }, 'Slack action interrupted by a restart and not taken effect: asking Athena now');
          settled.push(await this.perform(r, req, signal));
        } else if (state.status === 'not-found') {
          settled.push(this.audit.finish(r.id, 'failed', `Athena does not know ${describe(req)}`, now));
        } else {
          settled.push(
            this.audit.finish(r.id, 'unknown', `the bot restarted while asking Athena and cannot tell whether it took effect (${state.status === 'denied' ? 'Athena refused to say' : 'Athena could not be reached'}); press again if it still runs`, now),
          );
        }
      } finally {
        this.inFlight.delete(r.id);
      }
    }
    return settled;
  }

  /** What the store already knows has ended (so nothing needs asking); undefined when it may still run. */
  private alreadyEnded(req: AthenaActionRequest): string | undefined {
    const view = foldStoredSession(this.o.store, req.sessionId, this.o.enricher.model());
    if (!view) return undefined;
    if (req.action === 'terminate-session') {
      // An idle timeout is only inferred: Athena may still hold the session, so it is asked.
      return view.endedAt !== null && view.endReason !== 'idle-timeout' ? `the session had already ended (${view.state})` : undefined;
    }
    const calc = view.calculations.find((c) => c.calculationId === req.calculationId);
    if (!calc || calc.endedAt === null || calc.endSource === 'session-ended') return undefined;
    return `the calculation had already ended (${calc.endIsUpperBound ? 'its session was terminated' : calc.state})`;
  }

  private targetOf(req: AthenaActionRequest) {
    return this.o.enricher.targetOf({ region: req.region, sessionId: req.sessionId });
  }

  /** The target's state in Athena now: a calculation's from its session's listing, a session's from GetSession. */
  private async currentState(req: AthenaActionRequest, signal?: AbortSignal): Promise<AthenaResult<string | undefined>> {
    const target = this.targetOf(req);
    if (!target) return { status: 'error', message: NO_ROLE };
    if (req.action === 'terminate-session') {
      const r = await this.o.athena.getSession(target, req.sessionId, signal);
      return r.status === 'ok' ? { status: 'ok', facts: r.facts.state } : r;
    }
    const r = await this.o.athena.listCalculations(target, req.sessionId, signal);
    if (r.status !== 'ok') return r;
    const calc = r.facts.find((c) => c.calculationId === req.calculationId);
    return calc ? { status: 'ok', facts: calc.facts.state } : { status: 'not-found', message: 'not in its session' };
  }

  /** Asks Athena, records the outcome, and refreshes what the store knows of the session. */
  private async perform(record: ActionRecord, req: AthenaActionRequest, signal?: AbortSignal): Promise<ActionRecord> {
    const op = OPERATION[req.action];
    // The session's own account (its records name it), through that account's role.
    const target = this.targetOf(req);
    failpoint('action.before-call');
    const answer: AthenaResult<string> = !target
      ? { status: 'error', message: NO_ROLE }
      : req.action === 'stop-calculation'
        ? await this.o.athena.stopCalculation(target, req.calculationId!, signal)
        : await this.o.athena.terminateSession(target, req.sessionId, signal);
    failpoint('action.after-call');
    const now = this.o.clock.now();
    let done: ActionRecord;
    switch (answer.status) {
      case 'ok': {
        const ending = req.action === 'stop-calculation' ? 'stopping' : 'terminating';
        const terminal = (req.action === 'stop-calculation' ? TERMINAL_CALCULATION_STATES : TERMINAL_SESSION_STATES).has(answer.facts);
        done = this.audit.finish(record.id, 'done', terminal ? `Athena says it had already ended (${answer.facts})` : `Athena is ${ending} it (${answer.facts})`, now);
        break;
      }
      case 'denied':
        this.o.enricher.noteRefusal(target!, op, now);
        done = this.audit.finish(record.id, 'denied', refusalAdvice(op), now);
        break;
      case 'not-found':
        done = this.audit.finish(record.id, 'failed', `Athena does not know ${describe(req)}`, now);
        break;
      default:
        this.o.logger.warn({ action: req.action, target: req.target, error: answer.message }, 'Slack action: Athena call failed');
        done = this.audit.finish(record.id, 'failed', `Athena could not be reached (${answer.message.slice(0, 120)}); press again to retry`, now);
    }
    this.o.logger.info({ action: req.action, target: req.target, id: record.id, status: done.status, outcome: done.outcome }, 'Slack action settled');
    // The alert shows the new state at once instead of after the next poll cycle.
    if (answer.status === 'ok') await this.o.enricher.confirmSessions([{ region: req.region, sessionId: req.sessionId }], signal, 4).catch(() => undefined);
    return done;
  }
}

function describe(req: AthenaActionRequest): string {
  return req.action === 'stop-calculation' ? `calculation ${req.calculationId} in ${req.region}` : `session ${req.sessionId} in ${req.region}`;
}
