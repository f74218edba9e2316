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
  workgroup?: string;
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

/** Athena's list of the sessions active in a region (ListWorkGroups → ListSessions), as last fetched. */
export interface ActiveListing {
  /** The Spark work groups whose sessions were listed. */
  workgroups: string[];
  sessions: Array<{ sessionId: string; workgroup: string }>;
}

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

/**
 * State shown for a calculation whose end is only bounded by its session's end: CloudTrail
 * never says how it ended, and guessing CANCELED or COMPLETED would present a guess as a fact.
 */
export const UNKNOWN_STATE = 'UNKNOWN';

export interface CalculationView {
  calculationId: string;
  sessionId: string;
  startedAt: number;
  /** The end; with `endIsUpperBound`, only the latest it can have been. */
  endedAt: number | null;
  state: string;
  /** True when state and times come from Athena's API or the end from a StopCalculationExecution record. */
  confirmed: boolean;
  /** When Athena last answered about it (ListCalculationExecutions / GetCalculationExecution). */
  confirmedAt: number | null;
  endSource: CalculationEndSource;
  /** The end is its session's end: the calculation ran at most this long. */
  endIsUpperBound: boolean;
  /** Run time to the end (or to now while open); with `endIsUpperBound`, an upper bound. */
  runMs: number;
  /** Ran at least LONG_RUNNING_MINUTES, as far as is known (confirmed, stopped, or open now). */
  longRunning: boolean;
  /** Only its upper bound reaches the threshold: it may have been long-running, or not. */
  possiblyLongRunning: boolean;
  dpuHours: number | null;
  /** The last record naming this calculation (e.g. a status check): a hint of when it really ended. */
  lastSeenAt: number;
}

/**
 * Routine reads of a session (successful read-only calls: status polls, page refreshes),
 * counted apart instead of carried record by record: a busy session has tens of thousands.
 */
export interface ReadSummary {
  count: number;
  /** Per calculation: how often it was read and the last time. */
  calculations: Record<string, { count: number; lastAt: number }>;
}

export const NO_READS: ReadSummary = { count: 0, calculations: {} };

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
  principalType: string | null;
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
  /** The last successful call that was not read-only (SPEC §2 "activity"); null when none is known. */
  lastActivityAt: number | null;
  /** StartSession's principal type (IAMUser, AssumedRole, IdentityCenterUser…). */
  ownerType: string | null;
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
