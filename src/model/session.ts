import type { NotebookEvent } from '../records/types.js';
import { HOUR, MINUTE } from '../util/clock.js';
import { isRoutineRead } from '../records/callers.js';
import {
  NO_READS,
  TERMINAL_CALCULATION_STATES,
  TERMINAL_SESSION_STATES,
  UNKNOWN_STATE,
  type AthenaCalculationFacts,
  type ReadSummary,
  type CalculationView,
  type EnrichmentLookup,
  type FailedCall,
  type ModelOptions,
  type NotebookActivity,
  type SessionView,
  type TimelineEntry,
} from './types.js';

/** Athena's default session idle timeout, used when no StartSession record says otherwise. */
export const DEFAULT_IDLE_TIMEOUT_MINUTES = 20;

/** The longest idle timeout Athena allows (SessionIdleTimeoutInMinutes: 1 to 480). */
export const MAX_IDLE_TIMEOUT_MINUTES = 480;

const ACTIVE_CALCULATION_STATES: ReadonlySet<string> = new Set(['CREATING', 'CREATED', 'QUEUED', 'RUNNING', 'CANCELING']);

/** Sorts by time then eventID and drops repeats: the fold must not depend on input order. */
export function canonicalOrder(events: readonly NotebookEvent[]): NotebookEvent[] {
  const byId = new Map<string, NotebookEvent>();
  for (const e of events) if (!byId.has(e.eventId)) byId.set(e.eventId, e);
  return [...byId.values()].sort((a, b) => a.eventTime - b.eventTime || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
}

const succeeded = (e: NotebookEvent) => e.errorCode === null;

/** Folds routine reads given as records (tests, small inputs) into a summary, added to `base`. */
export function splitReads(events: readonly NotebookEvent[], base: ReadSummary = NO_READS): { notable: NotebookEvent[]; reads: ReadSummary } {
  const notable: NotebookEvent[] = [];
  let reads = base;
  for (const e of events) {
    if (!isRoutineRead(e)) {
      notable.push(e);
      continue;
    }
    if (reads === base) reads = { count: base.count, calculations: { ...base.calculations } };
    reads.count++;
    if (e.calculationId) {
      const c = reads.calculations[e.calculationId];
      reads.calculations[e.calculationId] = c ? { count: c.count + 1, lastAt: Math.max(c.lastAt, e.eventTime) } : { count: 1, lastAt: e.eventTime };
    }
  }
  return { notable, reads };
}

/**
 * Folds every record known for one session into its view (SPEC §2). Pure: the same
 * records, in any order and with any repeats, and the same enrichment give the same view.
 * `input` holds the session's notable records (routine reads among them are folded into
 * `reads`); the bot's own calls never reach the model. Returns undefined when nothing at
 * all is known of the session.
 */
export function foldSession(
  sessionId: string,
  input: readonly NotebookEvent[],
  enrichment: EnrichmentLookup,
  opts: ModelOptions,
  readSummary: ReadSummary = NO_READS,
): SessionView | undefined {
  const id = sessionId.toLowerCase();
  const ordered = canonicalOrder(input);
  const { notable: events, reads } = splitReads(ordered, readSummary);
  const athena = enrichment.session(id);
  const athenaFacts = athena?.status === 'ok' ? athena.facts : undefined;
  if (events.length === 0 && reads.count === 0 && !athenaFacts) return undefined;

  const start = events.find((e) => e.eventName === 'StartSession' && succeeded(e) && e.sessionId === id);
  const terminate = events.find((e) => e.eventName === 'TerminateSession' && succeeded(e) && e.sessionId === id);
  // Activity is a successful call that is not read-only: Athena's idle timeout counts time
  // without work, not time without reads (a console's status polls keep nothing alive).
  let lastActivityAt: number | null = null;
  for (const e of events) if (succeeded(e) && !e.readOnly) lastActivityAt = e.eventTime;
  const idleTimeoutMinutes = start?.detail.idleTimeoutMinutes ?? athenaFacts?.idleTimeoutMinutes ?? DEFAULT_IDLE_TIMEOUT_MINUTES;
  const longRunningMs = opts.longRunningMinutes * MINUTE;

  // Calculations as CloudTrail and Athena know them, before the session's end is settled.
  const stops = new Map<string, NotebookEvent>();
  for (const e of events) {
    if (e.eventName === 'StopCalculationExecution' && succeeded(e) && e.calculationId && !stops.has(e.calculationId)) stops.set(e.calculationId, e);
  }
  const lastSeen = new Map<string, number>();
  for (const e of events) if (e.calculationId) lastSeen.set(e.calculationId, e.eventTime);
  for (const [calcId, r] of Object.entries(reads.calculations)) lastSeen.set(calcId, Math.max(lastSeen.get(calcId) ?? -Infinity, r.lastAt));
  const starts = events.filter((e) => e.eventName === 'StartCalculationExecution' && succeeded(e) && e.calculationId);
  const calcFacts = new Map<string, { facts: AthenaCalculationFacts; fetchedAt: number }>();
  for (const s of starts) {
    const a = enrichment.calculation(s.calculationId!);
    if (a?.status === 'ok') calcFacts.set(s.calculationId!, { facts: a.facts, fetchedAt: a.fetchedAt });
  }
  const runningConfirmed = [...calcFacts.values()].some((f) => ACTIVE_CALCULATION_STATES.has(f.facts.state));
  // A calculation open per CloudTrail (no answer, no stop) is work while it is still being
  // polled: its last poll, not the last activity, is when the session can start to idle.
  let idleFrom = lastActivityAt;
  for (const s of starts) {
    const calcId = s.calculationId!;
    if (calcFacts.has(calcId) || stops.has(calcId)) continue;
    idleFrom = Math.max(idleFrom ?? -Infinity, lastSeen.get(calcId) ?? s.eventTime);
  }

  // Session state: Athena beats a CloudTrail record, which beats inference.
  let state: string;
  let stateSource: SessionView['stateSource'];
  let endedAt: number | null = null;
  let endReason: SessionView['endReason'] = null;
  const startedAt = athenaFacts?.startedAt ?? start?.eventTime ?? null;
  if (athenaFacts) {
    state = athenaFacts.state;
    stateSource = 'athena';
    if (TERMINAL_SESSION_STATES.has(state)) {
      endedAt = athenaFacts.endedAt ?? terminate?.eventTime ?? idleFrom ?? events[events.length - 1]?.eventTime ?? startedAt ?? opts.now;
      endReason = 'athena';
    }
  } else if (terminate) {
    state = 'TERMINATED';
    stateSource = 'cloudtrail';
    endedAt = terminate.eventTime;
    endReason = 'terminated';
  } else if (idleFrom !== null && lastActivityAt !== null && !runningConfirmed && opts.now >= idleFrom + idleTimeoutMinutes * MINUTE) {
    state = 'TERMINATED';
    stateSource = 'inferred';
    endedAt = idleFrom + idleTimeoutMinutes * MINUTE;
    endReason = 'idle-timeout';
  } else if (start) {
    state = 'CREATED';
    stateSource = 'cloudtrail';
  } else {
    state = runningConfirmed ? 'BUSY' : 'IDLE';
    stateSource = 'inferred';
  }

  const calculations: CalculationView[] = starts.map((s) => {
    const calcId = s.calculationId!;
    const answer = calcFacts.get(calcId);
    const stop = stops.get(calcId);
    let cState: string;
    let cStart = s.eventTime;
    let cEnd: number | null = null;
    let confirmed = false;
    let endSource: CalculationView['endSource'] = null;
    let dpuHours: number | null = null;
    if (answer) {
      const facts = answer.facts;
      cState = facts.state;
      cStart = facts.submittedAt ?? s.eventTime;
      confirmed = true;
      if (TERMINAL_CALCULATION_STATES.has(facts.state)) {
        cEnd = facts.completedAt ?? stop?.eventTime ?? endedAt ?? null;
        endSource = 'athena';
      }
      if (facts.dpuExecutionMillis != null) dpuHours = facts.dpuExecutionMillis / HOUR;
    } else if (stop && stop.eventTime >= s.eventTime) {
      cState = 'CANCELED';
      cEnd = stop.eventTime;
      confirmed = true;
      endSource = 'stop-record';
    } else if (endedAt !== null && endedAt >= s.eventTime) {
      // The session ended, so the calculation did too, at the latest then; how it ended is unknown.
      cState = UNKNOWN_STATE;
      cEnd = endReason === 'idle-timeout' ? Math.max(s.eventTime, endedAt - idleTimeoutMinutes * MINUTE) : endedAt;
      endSource = endReason === 'terminated' ? 'session-terminated' : 'session-ended';
    } else {
      cState = s.detail.state ?? 'CREATING';
    }
    const endIsUpperBound = endSource === 'session-terminated' || endSource === 'session-ended';
    const runMs = Math.max(0, (cEnd ?? opts.now) - cStart);
    return {
      calculationId: calcId,
      sessionId: id,
      startedAt: cStart,
      endedAt: cEnd,
      state: cState,
      confirmed,
      confirmedAt: answer?.fetchedAt ?? null,
      endSource,
      endIsUpperBound,
      runMs,
      longRunning: !endIsUpperBound && runMs >= longRunningMs,
      possiblyLongRunning: endIsUpperBound && runMs >= longRunningMs,
      dpuHours,
      lastSeenAt: lastSeen.get(calcId) ?? s.eventTime,
    };
  });

  const notebooksById = new Map<string, NotebookActivity>();
  for (const e of events) {
    if (!e.notebookId) continue;
    let n = notebooksById.get(e.notebookId);
    if (!n) notebooksById.set(e.notebookId, (n = { notebookId: e.notebookId, calls: {} }));
    n.calls[e.eventName] = (n.calls[e.eventName] ?? 0) + 1;
  }

  const failedCalls: FailedCall[] = events
    .filter((e) => e.errorCode !== null)
    .map((e) => ({
      eventName: e.eventName,
      errorCode: e.errorCode!,
      eventTime: e.eventTime,
      principal: e.principal,
      principalType: e.principalType,
      sessionId: e.sessionId,
      ...(e.detail.errorMessage ? { errorMessage: e.detail.errorMessage } : {}),
    }));

  const maxConcurrentDpus = start?.detail.maxConcurrentDpus ?? athenaFacts?.maxConcurrentDpus ?? null;
  let dpuHours: number | null = null;
  let dpuHoursKind: SessionView['dpuHoursKind'] = 'unknown';
  if (athenaFacts?.dpuExecutionMillis != null) {
    dpuHours = athenaFacts.dpuExecutionMillis / HOUR;
    dpuHoursKind = 'measured';
  } else if (maxConcurrentDpus != null && startedAt != null) {
    dpuHours = (maxConcurrentDpus * Math.max(0, (endedAt ?? opts.now) - startedAt)) / HOUR;
    dpuHoursKind = 'upper-bound';
  }

  const engine: SessionView['engine'] = athenaFacts?.engineVersion?.includes('3.5') || events.some((e) => e.eventName === 'GetSessionEndpoint')
    ? 'spark-connect'
    : starts.length > 0 || start?.notebookId
      ? 'pyspark'
      : 'unknown';

  // Without its StartSession (it began before the data), a session's notebook is the one its
  // notebook calls name together with it (UpdateNotebook carries both ids).
  const notebookId =
    start?.notebookId ?? events.find((e) => e.notebookId && e.sessionId === id && NOTEBOOK_OF_SESSION_CALLS.has(e.eventName) && succeeded(e))?.notebookId ?? null;

  return {
    sessionId: id,
    region: start?.region ?? events[0]?.region ?? 'unknown',
    account: start?.account ?? events.find((e) => e.account)?.account ?? null,
    tags: { ...start?.detail.tags },
    state,
    stateSource,
    endReason,
    owner: start?.principal ?? null,
    ownerType: start?.principalType ?? null,
    ownerArn: start?.principalArn ?? null,
    workgroup: start?.workgroup ?? events.find((e) => e.workgroup)?.workgroup ?? athenaFacts?.workgroup ?? null,
    startedAt,
    endedAt,
    lastActivityAt,
    engine,
    maxConcurrentDpus,
    coordinatorDpuSize: start?.detail.coordinatorDpuSize ?? null,
    defaultExecutorDpuSize: start?.detail.defaultExecutorDpuSize ?? null,
    idleTimeoutMinutes,
    notebookId,
    notebookVersion: start?.detail.notebookVersion ?? null,
    dpuHours,
    dpuHoursKind,
    estimatedCostUsd: dpuHours === null ? null : dpuHours * opts.dpuHourPriceUsd,
    calculations,
    notebooks: [...notebooksById.values()],
    failedCalls,
    events: events.length + reads.count,
    timeline: buildTimeline(events, endReason === 'idle-timeout' ? endedAt : null),
  };
}

/** Calls that name a notebook together with the session it is open in. */
const NOTEBOOK_OF_SESSION_CALLS: ReadonlySet<string> = new Set(['UpdateNotebook', 'UpdateNotebookMetadata', 'ExportNotebook', 'GetNotebookMetadata']);

/**
 * The calls that tell the story: every change and every failure, with runs of the same
 * call (notebook autosaves) collapsed. Read-only polling is counted in `events`, not shown.
 */
function buildTimeline(events: readonly NotebookEvent[], inferredEnd: number | null): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const e of events) {
    const interesting = !e.readOnly || e.errorCode !== null || e.eventName === 'GetSessionEndpoint';
    if (!interesting) continue;
    const prev = out[out.length - 1];
    if (prev && prev.what === e.eventName && prev.principal === e.principal && !e.errorCode && !prev.errorCode && !e.calculationId) {
      prev.count++;
      continue;
    }
    out.push({
      at: e.eventTime,
      what: e.eventName,
      principal: e.principal,
      count: 1,
      ...(e.calculationId ? { calculationId: e.calculationId } : {}),
      ...(e.errorCode ? { errorCode: e.errorCode } : {}),
      ...(e.detail.sourceIp ? { sourceIp: e.detail.sourceIp } : {}),
      ...(e.detail.accessKeyId ? { accessKeyId: e.detail.accessKeyId } : {}),
    });
  }
  if (inferredEnd !== null) out.push({ at: inferredEnd, what: 'idle timeout (inferred)', count: 1, inferred: true });
  return out;
}
