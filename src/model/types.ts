/** Terminal Athena states (sessions: CREATING CREATED IDLE BUSY TERMINATING TERMINATED DEGRADED FAILED). */
export const TERMINAL_SESSION_STATES: ReadonlySet<string> = new Set(['TERMINATED', 'FAILED']);
export const TERMINAL_CALCULATION_STATES: ReadonlySet<string> = new Set(['CANCELED', 'COMPLETED', 'FAILED']);

/** What Athena's GetSession said, reduced to the facts the model uses. Times: epoch ms. */
export interface AthenaSessionFacts {
  state: string;
  startedAt?: number;
  endedAt?: number;
  idleSince?: number;
  dpuExecutionMillis?: number;
  engineVersion?: string;
  idleTimeoutMinutes?: number;
  maxConcurrentDpus?: number;
}

/** What Athena's GetCalculationExecution said. */
export interface AthenaCalculationFacts {
  state: string;
  sessionId?: string;
  submittedAt?: number;
  completedAt?: number;
  dpuExecutionMillis?: number;
}

/** An Athena answer: facts, or why there are none (unknown id, no permission, failure). */
export type AthenaAnswer<T> = { status: 'ok'; facts: T; fetchedAt: number } | { status: 'not-found' | 'denied' | 'error'; fetchedAt: number };

export interface EnrichmentLookup {
  session(sessionId: string): AthenaAnswer<AthenaSessionFacts> | undefined;
  calculation(calculationId: string): AthenaAnswer<AthenaCalculationFacts> | undefined;
}

export const noEnrichment: EnrichmentLookup = { session: () => undefined, calculation: () => undefined };

export interface ModelOptions {
  /** The moment "now" for open sessions and calculations (epoch ms). */
  now: number;
  longRunningMinutes: number;
  dpuHourPriceUsd: number;
}

/** Where a calculation's end came from. */
export type CalculationEndSource = 'athena' | 'stop-record' | 'session-terminated' | 'session-ended' | null;

export interface CalculationView {
  calculationId: string;
  sessionId: string;
  startedAt: number;
  endedAt: number | null;
  state: string;
  /** True when state and times come from Athena's API or the end from a StopCalculationExecution record. */
  confirmed: boolean;
  endSource: CalculationEndSource;
  runMs: number;
  longRunning: boolean;
  dpuHours: number | null;
  /** The last record naming this calculation (e.g. a status check): a hint of when it really ended. */
  lastSeenAt: number;
}

export type StateSource = 'athena' | 'cloudtrail' | 'inferred';
export type DpuHoursKind = 'measured' | 'upper-bound' | 'unknown';
export type Engine = 'pyspark' | 'spark-connect' | 'unknown';

export interface NotebookActivity {
  notebookId: string;
  calls: Record<string, number>;
}

export interface FailedCall {
  eventName: string;
  errorCode: string;
  eventTime: number;
  principal: string;
  errorMessage?: string;
  sessionId: string | null;
}

export interface TimelineEntry {
  at: number;
  what: string;
  principal?: string;
  count: number;
  calculationId?: string;
  errorCode?: string;
  inferred?: boolean;
  sourceIp?: string;
  accessKeyId?: string;
}

export interface SessionView {
  sessionId: string;
  region: string;
  /** The AWS account the session ran in, when any record says. */
  account: string | null;
  /** StartSession's tags (key → value); empty when none or unknown. */
  tags: Record<string, string>;
  state: string;
  stateSource: StateSource;
  /** Why the session ended, when it did. */
  endReason: 'terminated' | 'idle-timeout' | 'athena' | null;
  owner: string | null;
  ownerArn: string | null;
  workgroup: string | null;
  startedAt: number | null;
  endedAt: number | null;
  lastActivityAt: number;
  engine: Engine;
  maxConcurrentDpus: number | null;
  coordinatorDpuSize: number | null;
  defaultExecutorDpuSize: number | null;
  idleTimeoutMinutes: number;
  notebookId: string | null;
  notebookVersion: string | null;
  dpuHours: number | null;
  dpuHoursKind: DpuHoursKind;
  estimatedCostUsd: number | null;
  calculations: CalculationView[];
  notebooks: NotebookActivity[];
  failedCalls: FailedCall[];
  events: number;
  timeline: TimelineEntry[];
}
