/**
 * Live Athena Spark/notebook activity for the soak: people start notebook sessions, run
 * calculations (a share of them long enough to page on-call), the console polls their status,
 * the notebook autosaves, and sessions end by TerminateSession or idle timeout. Every call
 * becomes a CloudTrail record added to the AWS fake (visible after a delivery delay), and the
 * fake's Athena state follows along so the bot's enrichment sees the truth.
 *
 * Everything runs in real time; `stop()` ends all sessions' scripts at their next step.
 */
import { randomUUID } from 'node:crypto';
import type { AwsFake } from '../../test/fakes/aws-fake.js';
import { athenaCalculation, athenaSession } from '../../test/fakes/aws-fake.js';
import {
  call,
  createNotebook,
  executor,
  human,
  importNotebook,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  updateNotebook,
  type Actor,
  type CloudTrailRecord,
} from '../../test/support/cloudtrail-records.js';

export type CalcKind = 'short' | 'long';
export type CalcOutcome = 'completed' | 'failed' | 'stopped' | 'session-terminated' | 'running';

export interface LiveCalculation {
  calculationId: string;
  sessionId: string;
  region: string;
  kind: CalcKind;
  startedAt: number;
  endedAt: number | null;
  outcome: CalcOutcome;
}

export interface LiveSession {
  sessionId: string;
  region: string;
  startedAt: number;
  endedAt: number | null;
  end: 'terminated' | 'idle-timeout' | 'open';
}

export interface ActivityOptions {
  regions: readonly string[];
  /** Mean seconds between new sessions (exponential gaps). */
  sessionEverySeconds: number;
  /** Share of calculations that run past the long-running threshold. */
  longShare: number;
  /** Long calculations run this many seconds (uniform). */
  longSeconds: readonly [number, number];
  shortSeconds: readonly [number, number];
  /** CloudTrail delivery delay range, ms. */
  deliveryDelayMs: readonly [number, number];
  random?: () => number;
}

const PEOPLE = ['maria.garcia', 'wei.chen', 'olu.adeyemi', 'sam.taylor', 'priya.nair', 'jonas.berg'];
const WORKGROUPS = ['analytics', 'ml-team', 'prod-notebooks'];

export class Activity {
  readonly sessions = new Map<string, LiveSession>();
  readonly calculations = new Map<string, LiveCalculation>();
  readonly recordsByName = new Map<string, number>();
  records = 0;
  rawGarbage = 0;
  private stopped = false;
  private readonly tasks = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakers = new Set<() => void>();
  private readonly random: () => number;

  constructor(
    private readonly aws: AwsFake,
    private readonly o: ActivityOptions,
  ) {
    this.random = o.random ?? Math.random;
  }

  start(): void {
    void this.spawnLoop();
    void this.garbageLoop();
  }

  /** Stops every script at its next step (sessions in flight are left as they are). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const w of [...this.wakers]) w();
    await Promise.allSettled([...this.tasks]);
  }

  openSessionIds(): string[] {
    return [...this.sessions.values()].filter((s) => s.endedAt === null).map((s) => s.sessionId);
  }

  recentSessionIds(limit = 50): string[] {
    return [...this.sessions.keys()].slice(-limit);
  }

  // -- helpers --------------------------------------------------------------------------------

  private uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.random() * xs.length)]!;
  }

  /** Resolves after ms, or at once when stopping; returns false when stopping. */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.wakers.delete(done);
        resolve(!this.stopped);
      };
      const timer = setTimeout(done, ms);
      this.timers.add(timer);
      this.wakers.add(done);
    });
  }

  private emit(rec: CloudTrailRecord): void {
    const delayMs = Math.round(this.uniform(this.o.deliveryDelayMs[0], this.o.deliveryDelayMs[1]));
    this.aws.addEvents([rec], { delayMs });
    this.records++;
    this.recordsByName.set(rec.eventName, (this.recordsByName.get(rec.eventName) ?? 0) + 1);
  }

  private track(p: Promise<void>): void {
    this.tasks.add(p);
    void p.finally(() => this.tasks.delete(p));
  }

  private async spawnLoop(): Promise<void> {
    let i = 0;
    // Two sessions at once so long calculations (and alerts) begin early in a short run,
    // and a burst over the first half minute so the load reaches its steady state sooner.
    for (const region of this.o.regions.slice(0, 2)) this.track(this.session(region, i++, true));
    for (let k = 0; k < 6; k++) {
      const n = i++;
      const at = this.uniform(2000, 30_000);
      this.track(this.sleep(at).then((go) => (go ? this.session(this.o.regions[n % this.o.regions.length]!, n, false) : undefined)));
    }
    while (await this.sleep(-Math.log(1 - this.random()) * this.o.sessionEverySeconds * 1000)) {
      this.track(this.session(this.o.regions[i % this.o.regions.length]!, i, false));
      i++;
    }
  }

  /** Now and then a record CloudTrail would never send (the bot must skip it, loudly). */
  private async garbageLoop(): Promise<void> {
    while (await this.sleep(this.uniform(90_000, 150_000))) {
      const region = this.pick(this.o.regions);
      this.aws.addRawEvent(region, { EventId: randomUUID(), EventName: 'StartSession', EventTime: Date.now() / 1000, CloudTrailEvent: '{"eventVersion": "1.08", truncated' });
      this.rawGarbage++;
    }
  }

  // -- one session ------------------------------------------------------------------------------

  private async session(region: string, n: number, forceLong: boolean): Promise<void> {
    const { aws } = this;
    const sessionId = randomUUID();
    const notebookId = randomUUID();
    const person = PEOPLE[n % PEOPLE.length]!;
    const owner: Actor = human(person);
    const ex = executor(sessionId);
    const workGroup = this.pick(WORKGROUPS);
    const idleTimeoutMinutes = this.random() < 0.5 ? 1 : 2;
    const maxDpus = this.pick([10, 20, 40]);
    const now = () => Date.now();
    const common = () => ({ eventTime: now(), region, eventId: randomUUID() });

    const newNotebook = this.random() < 0.25;
    if (newNotebook) {
      this.emit(this.random() < 0.5 ? createNotebook({ ...common(), notebookId, actor: owner, workGroup, name: `soak-${n}` }) : importNotebook({ ...common(), notebookId, actor: owner, workGroup, name: `soak-${n}.ipynb` }));
    }
    const live: LiveSession = { sessionId, region, startedAt: now(), endedAt: null, end: 'open' };
    this.sessions.set(sessionId, live);
    this.emit(startSession({ ...common(), sessionId, actor: owner, workGroup, maxConcurrentDpus: maxDpus, notebookId, idleTimeoutMinutes }));
    aws.setSession(
      region,
      athenaSession({
        SessionId: sessionId,
        WorkGroup: workGroup,
        EngineConfiguration: { CoordinatorDpuSize: 1, MaxConcurrentDpus: maxDpus, DefaultExecutorDpuSize: 1 },
        SessionConfiguration: { IdleTimeoutSeconds: idleTimeoutMinutes * 60 },
        Status: { StartDateTime: now(), State: 'CREATING' },
      }),
    );
    this.emit(call('CreatePresignedNotebookUrl', { ...common(), actor: owner, params: { sessionId }, response: { notebookUrl: 'HIDDEN_FOR_SECURITY_REASONS', authToken: 'HIDDEN_FOR_SECURITY_REASONS' } }));
    const readyAt = now() + this.uniform(3000, 8000);
    while (now() < readyAt) {
      this.emit(call('GetSessionStatus', { ...common(), actor: owner, params: { sessionId }, readOnly: true }));
      if (!(await this.sleep(2000))) return;
    }
    aws.updateSession(region, sessionId, { Status: { State: 'IDLE', IdleSinceDateTime: now(), LastModifiedDateTime: now() } });
    this.emit(call('GetNotebookMetadata', { ...common(), actor: ex, params: { notebookId }, readOnly: true }));

    let dpuMs = 0;
    const calcs = forceLong ? 2 : 1 + Math.floor(this.random() * 4);
    for (let c = 0; c < calcs; c++) {
      if (!(await this.sleep(this.uniform(3000, 15000)))) return;
      this.emit(updateNotebook({ ...common(), notebookId, sessionId, actor: ex }));
      const calculationId = randomUUID();
      const kind: CalcKind = (forceLong && c === 0) || this.random() < this.o.longShare ? 'long' : 'short';
      const range = kind === 'long' ? this.o.longSeconds : this.o.shortSeconds;
      const runMs = this.uniform(range[0], range[1]) * 1000;
      const calc: LiveCalculation = { calculationId, sessionId, region, kind, startedAt: now(), endedAt: null, outcome: 'running' };
      this.calculations.set(calculationId, calc);
      this.emit(startCalculation({ ...common(), sessionId, calculationId, actor: ex }));
      aws.setCalculation(region, athenaCalculation({ CalculationExecutionId: calculationId, SessionId: sessionId, Status: { SubmissionDateTime: now(), State: 'RUNNING' } }));
      aws.updateSession(region, sessionId, { Status: { State: 'BUSY', LastModifiedDateTime: now() } });
      const endAt = now() + runMs;
      let lastSave = now();
      while (now() < endAt) {
        if (!(await this.sleep(Math.min(this.uniform(5000, 10000), Math.max(endAt - now(), 0) + 50)))) return;
        this.emit(call('GetCalculationExecutionStatus', { ...common(), actor: ex, params: { calculationExecutionId: calculationId }, readOnly: true }));
        if (now() - lastSave > 30_000) {
          this.emit(updateNotebook({ ...common(), notebookId, sessionId, actor: ex }));
          lastSave = now();
        }
      }
      const ranMs = now() - calc.startedAt;
      dpuMs += ranMs * maxDpus;
      const roll = this.random();
      if (kind === 'long' && roll < 0.15) {
        // The user gives up on it.
        this.emit(stopCalculation({ ...common(), calculationId, sessionId, actor: ex }));
        aws.updateCalculation(region, calculationId, { Status: { State: 'CANCELED', CompletionDateTime: now() }, Statistics: { DpuExecutionInMillis: ranMs * maxDpus } });
        calc.outcome = 'stopped';
      } else if (kind === 'long' && roll < 0.25) {
        // The session is terminated under it.
        this.emit(terminateSession({ ...common(), sessionId, actor: owner }));
        aws.updateCalculation(region, calculationId, { Status: { State: 'CANCELED', CompletionDateTime: now(), StateChangeReason: 'Session terminated' } });
        aws.updateSession(region, sessionId, { Status: { State: 'TERMINATED', EndDateTime: now(), LastModifiedDateTime: now() }, Statistics: { DpuExecutionInMillis: dpuMs } });
        calc.outcome = 'session-terminated';
        calc.endedAt = now();
        live.endedAt = now();
        live.end = 'terminated';
        return;
      } else {
        const failed = kind === 'short' && roll < 0.05;
        aws.updateCalculation(region, calculationId, { Status: { State: failed ? 'FAILED' : 'COMPLETED', CompletionDateTime: now() }, Statistics: { DpuExecutionInMillis: ranMs * maxDpus } });
        calc.outcome = failed ? 'failed' : 'completed';
      }
      calc.endedAt = now();
      this.emit(call('GetCalculationExecutionStatus', { ...common(), actor: ex, params: { calculationExecutionId: calculationId }, readOnly: true }));
      aws.updateSession(region, sessionId, { Status: { State: 'IDLE', IdleSinceDateTime: now(), LastModifiedDateTime: now() }, Statistics: { DpuExecutionInMillis: dpuMs } });
    }
    if (this.random() < 0.1) this.emit(call('ExportNotebook', { ...common(), actor: ex, params: { notebookId }, readOnly: true }));

    if (this.random() < 0.7) {
      if (!(await this.sleep(this.uniform(2000, 10000)))) return;
      this.emit(terminateSession({ ...common(), sessionId, actor: owner }));
      aws.updateSession(region, sessionId, { Status: { State: 'TERMINATED', EndDateTime: now(), LastModifiedDateTime: now() } });
      live.endedAt = now();
      live.end = 'terminated';
    } else {
      const idleFrom = now();
      if (!(await this.sleep(idleTimeoutMinutes * 60_000))) return;
      aws.updateSession(region, sessionId, { Status: { State: 'TERMINATED', EndDateTime: idleFrom + idleTimeoutMinutes * 60_000, StateChangeReason: 'Session timed out' } });
      live.endedAt = now();
      live.end = 'idle-timeout';
    }
  }
}
