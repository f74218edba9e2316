/**
 * Athena's Spark session and calculation API, per (account, region): the reads the bot
 * confirms with (Get*, List*), the Spark UI link (GetResourceDashboard) and the actions
 * (StopCalculationExecution, TerminateSession), whose effects play out on the fake's clock.
 * Shapes, ranges and errors follow @aws-sdk/client-athena's model and the API reference.
 */
import { randomBytes } from 'node:crypto';
import { ACCOUNT_ID } from '../../support/cloudtrail-records.js';
import { ApiError, clone, createPager, secs } from './wire.js';

export type SessionState = 'CREATING' | 'CREATED' | 'IDLE' | 'BUSY' | 'TERMINATING' | 'TERMINATED' | 'DEGRADED' | 'FAILED';

export type CalculationState = 'CREATING' | 'CREATED' | 'QUEUED' | 'RUNNING' | 'CANCELING' | 'CANCELED' | 'COMPLETED' | 'FAILED';

const SESSION_STATES: readonly SessionState[] = ['CREATING', 'CREATED', 'IDLE', 'BUSY', 'TERMINATING', 'TERMINATED', 'DEGRADED', 'FAILED'];
const CALCULATION_STATES: readonly CalculationState[] = ['CREATING', 'CREATED', 'QUEUED', 'RUNNING', 'CANCELING', 'CANCELED', 'COMPLETED', 'FAILED'];
/** What ListSessions lists without a StateFilter: "sessions … in an active state like CREATING, CREATED, IDLE, or BUSY". */
const LISTED_BY_DEFAULT: ReadonlySet<SessionState> = new Set(['CREATING', 'CREATED', 'IDLE', 'BUSY']);
const ENDED_SESSION: ReadonlySet<SessionState> = new Set(['TERMINATING', 'TERMINATED', 'FAILED']);
const ENDED_CALCULATION: ReadonlySet<CalculationState> = new Set(['CANCELED', 'COMPLETED', 'FAILED']);

export interface EngineVersionObject {
  SelectedEngineVersion?: string;
  EffectiveEngineVersion?: string;
}

/** Athena `GetSession` output, with every timestamp as epoch MILLISECONDS. */
export interface AthenaSession {
  SessionId: string;
  Description?: string;
  WorkGroup: string;
  /**
   * The SDK model (and the real API) types GetSession's `EngineVersion` as a plain STRING
   * (e.g. "PySpark engine version 3"). The object form is accepted for convenience and is
   * sent as `EffectiveEngineVersion ?? SelectedEngineVersion`; ListSessions sends the object.
   */
  EngineVersion: string | EngineVersionObject;
  EngineConfiguration: {
    CoordinatorDpuSize: number;
    MaxConcurrentDpus: number;
    DefaultExecutorDpuSize: number;
    AdditionalConfigs?: Record<string, string>;
    SparkProperties?: Record<string, string>;
  };
  NotebookVersion?: string;
  SessionConfiguration: {
    IdleTimeoutSeconds: number;
    ExecutionRole?: string;
    WorkingDirectory?: string;
    SessionIdleTimeoutInMinutes?: number;
  };
  Status: {
    StartDateTime: number;
    LastModifiedDateTime?: number;
    EndDateTime?: number;
    IdleSinceDateTime?: number;
    State: SessionState;
    StateChangeReason?: string;
  };
  Statistics: { DpuExecutionInMillis: number };
}

/** Athena `GetCalculationExecution` output, with every timestamp as epoch MILLISECONDS. */
export interface AthenaCalculation {
  CalculationExecutionId: string;
  SessionId: string;
  Description?: string;
  WorkingDirectory?: string;
  Status: {
    SubmissionDateTime: number;
    CompletionDateTime?: number;
    State: CalculationState;
    StateChangeReason?: string;
  };
  Statistics: { DpuExecutionInMillis: number; Progress?: string };
  Result?: { StdOutS3Uri?: string; StdErrorS3Uri?: string; ResultS3Uri?: string; ResultType?: string };
}

export interface AthenaSessionPatch
  extends Partial<Omit<AthenaSession, 'SessionId' | 'EngineVersion' | 'EngineConfiguration' | 'SessionConfiguration' | 'Status' | 'Statistics'>> {
  EngineVersion?: AthenaSession['EngineVersion'];
  EngineConfiguration?: Partial<AthenaSession['EngineConfiguration']>;
  SessionConfiguration?: Partial<AthenaSession['SessionConfiguration']>;
  Status?: Partial<AthenaSession['Status']>;
  Statistics?: Partial<AthenaSession['Statistics']>;
}

export interface AthenaCalculationPatch extends Partial<Omit<AthenaCalculation, 'CalculationExecutionId' | 'Status' | 'Statistics' | 'Result'>> {
  Status?: Partial<AthenaCalculation['Status']>;
  Statistics?: Partial<AthenaCalculation['Statistics']>;
  Result?: AthenaCalculation['Result'];
}

/** A work group as ListWorkGroups gives it (CreationTime in ms). */
export interface AthenaWorkGroup {
  Name: string;
  State?: 'ENABLED' | 'DISABLED';
  Description?: string;
  CreationTime?: number;
  EngineVersion?: string | EngineVersionObject;
}

export type NotFoundType = 'ResourceNotFoundException' | 'InvalidRequestException';

/** How GetResourceDashboard answers for one session. */
export type DashboardMode = 'available' | 'not-found' | 'denied';

/** Every Athena operation the fake serves. */
export const ATHENA_OPERATIONS: ReadonlySet<string> = new Set([
  'GetSession',
  'GetSessionStatus',
  'GetCalculationExecution',
  'GetCalculationExecutionStatus',
  'ListCalculationExecutions',
  'ListSessions',
  'ListWorkGroups',
  'GetResourceDashboard',
  'StopCalculationExecution',
  'TerminateSession',
]);

/** A complete AthenaSession with sensible defaults (times in ms). */
export function athenaSession(o: { SessionId: string } & AthenaSessionPatch): AthenaSession {
  const base: AthenaSession = {
    SessionId: o.SessionId,
    WorkGroup: 'notebook-workgroup',
    EngineVersion: 'PySpark engine version 3',
    EngineConfiguration: { CoordinatorDpuSize: 1, MaxConcurrentDpus: 20, DefaultExecutorDpuSize: 1 },
    NotebookVersion: 'Athena notebook version 1',
    SessionConfiguration: { IdleTimeoutSeconds: 1200 },
    Status: { StartDateTime: Date.now(), State: 'IDLE' },
    Statistics: { DpuExecutionInMillis: 0 },
  };
  return mergeSession(base, o);
}

/** A complete AthenaCalculation with sensible defaults (times in ms). */
export function athenaCalculation(o: { CalculationExecutionId: string; SessionId: string } & AthenaCalculationPatch): AthenaCalculation {
  const base: AthenaCalculation = {
    CalculationExecutionId: o.CalculationExecutionId,
    SessionId: o.SessionId,
    Status: { SubmissionDateTime: Date.now(), State: 'COMPLETED' },
    Statistics: { DpuExecutionInMillis: 0 },
  };
  return mergeCalculation(base, o);
}

/**
 * The ARN the fake takes for a session in GetResourceDashboard. The API reference says only
 * "the ARN for a session" and IAM authorizes the call on the work group, so the fake accepts
 * `…:workgroup/<name>/session/<id>` (what this helper builds) and `…:session/<id>`.
 */
export function athenaSessionArn(region: string, account: string, workGroup: string, sessionId: string): string {
  return `arn:aws:athena:${region}:${account}:workgroup/${workGroup}/session/${sessionId}`;
}

export function mergeSession(base: AthenaSession, p: AthenaSessionPatch): AthenaSession {
  const { EngineVersion, EngineConfiguration, SessionConfiguration, Status, Statistics, ...rest } = p;
  return clone({
    ...base,
    ...rest,
    SessionId: base.SessionId,
    EngineVersion: EngineVersion ?? base.EngineVersion,
    EngineConfiguration: { ...base.EngineConfiguration, ...EngineConfiguration },
    SessionConfiguration: { ...base.SessionConfiguration, ...SessionConfiguration },
    Status: { ...base.Status, ...Status },
    Statistics: { ...base.Statistics, ...Statistics },
  });
}

export function mergeCalculation(base: AthenaCalculation, p: AthenaCalculationPatch): AthenaCalculation {
  const { Status, Statistics, Result, ...rest } = p;
  const out: AthenaCalculation = {
    ...base,
    ...rest,
    CalculationExecutionId: base.CalculationExecutionId,
    Status: { ...base.Status, ...Status },
    Statistics: { ...base.Statistics, ...Statistics },
  };
  if (Result !== undefined || base.Result !== undefined) out.Result = { ...base.Result, ...Result };
  return clone(out);
}

function sessionStatusWire(s: AthenaSession['Status']): Record<string, unknown> {
  return {
    StartDateTime: secs(s.StartDateTime),
    LastModifiedDateTime: secs(s.LastModifiedDateTime),
    EndDateTime: secs(s.EndDateTime),
    IdleSinceDateTime: secs(s.IdleSinceDateTime),
    State: s.State,
    StateChangeReason: s.StateChangeReason,
  };
}

function calcStatusWire(s: AthenaCalculation['Status']): Record<string, unknown> {
  return {
    SubmissionDateTime: secs(s.SubmissionDateTime),
    CompletionDateTime: secs(s.CompletionDateTime),
    State: s.State,
    StateChangeReason: s.StateChangeReason,
  };
}

function engineObject(v: string | EngineVersionObject | undefined): EngineVersionObject | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? { SelectedEngineVersion: v, EffectiveEngineVersion: v } : v;
}

/** Athena's answer to a request that breaks a model constraint. */
function invalid(field: string, value: unknown, constraint: string): ApiError {
  const shown = value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
  return new ApiError(400, 'InvalidRequestException', `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${constraint}`);
}

function requireString(body: Record<string, unknown>, field: string, max: number): string {
  const camel = field[0]!.toLowerCase() + field.slice(1);
  const v = body[field];
  if (v === undefined || v === null) throw invalid(camel, v, 'Member must not be null');
  if (typeof v !== 'string') throw new ApiError(400, 'SerializationException', `${field} must be a string`);
  if (v.length < 1) throw invalid(camel, v, 'Member must have length greater than or equal to 1');
  if (v.length > max) throw invalid(camel, v, `Member must have length less than or equal to ${max}`);
  return v;
}

function readMaxResults(body: Record<string, unknown>, max: number): number {
  const v = body.MaxResults;
  if (v === undefined || v === null) return max;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ApiError(400, 'SerializationException', 'MaxResults must be an integer');
  if (v < 1) throw invalid('maxResults', v, 'Member must have value greater than or equal to 1');
  if (v > max) throw invalid('maxResults', v, `Member must have value less than or equal to ${max}`);
  return v;
}

function readStateFilter<T extends string>(body: Record<string, unknown>, allowed: readonly T[]): T | undefined {
  const v = body.StateFilter;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw invalid('stateFilter', v, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return v as T;
}

interface Scope {
  sessions: Map<string, AthenaSession>;
  calcs: Map<string, AthenaCalculation>;
  workGroups: Map<string, AthenaWorkGroup>;
  dashboards: Map<string, DashboardMode>;
  /** Stop and terminate requests still playing out: applied once the fake's clock reaches `at`. */
  pending: Array<{ kind: 'cancel' | 'terminate'; id: string; at: number }>;
}

/** The caller as Athena sees it: account, region, principal ARN (for AccessDenied messages). */
export interface AthenaCaller {
  account: string;
  region: string;
  arn: string;
}

export interface AthenaAnswer {
  output: Record<string, unknown>;
  /** What CloudTrail records as `responseElements` (null for reads). */
  responseElements: Record<string, unknown> | null;
}

export interface AthenaOptions {
  now: () => number;
  notFoundAs: NotFoundType;
  stopDelayMs: number;
  terminateDelayMs: number;
}

export function createAthena(o: AthenaOptions) {
  const scopes = new Map<string, Scope>();
  const pager = createPager<Record<string, unknown>>();
  const denied = new Map<string, { all: boolean; ops: Set<string> }>();

  function scope(account: string, region: string): Scope {
    const key = `${account}|${region}`;
    let s = scopes.get(key);
    if (!s) scopes.set(key, (s = { sessions: new Map(), calcs: new Map(), workGroups: new Map(), dashboards: new Map(), pending: [] }));
    settle(s);
    return s;
  }

  /** Plays out stop and terminate requests whose time has come on the fake's clock. */
  function settle(s: Scope): void {
    if (s.pending.length === 0) return;
    const now = o.now();
    const due = s.pending.filter((p) => p.at <= now).sort((a, b) => a.at - b.at);
    if (due.length === 0) return;
    s.pending = s.pending.filter((p) => p.at > now);
    for (const p of due) {
      if (p.kind === 'cancel') {
        const c = s.calcs.get(p.id);
        if (c && c.Status.State === 'CANCELING') c.Status = { ...c.Status, State: 'CANCELED', CompletionDateTime: p.at };
        continue;
      }
      const session = s.sessions.get(p.id);
      if (!session || session.Status.State !== 'TERMINATING') continue;
      session.Status = { ...session.Status, State: 'TERMINATED', EndDateTime: p.at, LastModifiedDateTime: p.at };
      for (const c of s.calcs.values()) {
        if (c.SessionId === p.id && !ENDED_CALCULATION.has(c.Status.State)) {
          c.Status = { ...c.Status, State: 'CANCELED', CompletionDateTime: p.at };
        }
      }
    }
  }

  function notFound(kind: 'Session' | 'Calculation', id: string): ApiError {
    const msg = kind === 'Session' ? `Session ${id} not found` : `Calculation ${id} not found`;
    return o.notFoundAs === 'ResourceNotFoundException'
      ? new ApiError(400, 'ResourceNotFoundException', msg, { ResourceName: id })
      : new ApiError(400, 'InvalidRequestException', msg, { AthenaErrorCode: 'INVALID_INPUT' });
  }

  function accessDenied(op: string, c: AthenaCaller, workGroup: string | undefined): ApiError {
    const on = workGroup === undefined ? '' : ` on resource: arn:aws:athena:${c.region}:${c.account}:workgroup/${workGroup}`;
    return new ApiError(
      400,
      'AccessDeniedException',
      `User: ${c.arn} is not authorized to perform: athena:${op}${on} because no identity-based policy allows the athena:${op} action`,
    );
  }

  function isDenied(op: string, account: string): boolean {
    return [denied.get('*'), denied.get(account)].some((d) => d && (d.all || d.ops.has(op) || d.ops.has(`athena:${op}`)));
  }

  /** Every work group the account-region has: `primary`, the added ones, and those its sessions name. */
  function workGroupsOf(s: Scope): AthenaWorkGroup[] {
    const all = new Map<string, AthenaWorkGroup>([
      ['primary', { Name: 'primary', State: 'ENABLED', CreationTime: Date.UTC(2019, 1, 19), EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' } }],
    ]);
    for (const sess of s.sessions.values()) {
      const known = all.get(sess.WorkGroup);
      if (!known) all.set(sess.WorkGroup, { Name: sess.WorkGroup, State: 'ENABLED', CreationTime: sess.Status.StartDateTime, EngineVersion: engineObject(sess.EngineVersion) });
      else if (known.CreationTime !== undefined && sess.Status.StartDateTime < known.CreationTime && known.Name !== 'primary') known.CreationTime = sess.Status.StartDateTime;
    }
    for (const wg of s.workGroups.values()) all.set(wg.Name, wg);
    return [...all.values()].sort((a, b) => a.Name.localeCompare(b.Name));
  }

  /** The session a GetResourceDashboard ARN names, if the ARN is one for this account and region. */
  function sessionOfArn(arn: string, c: AthenaCaller, s: Scope): AthenaSession {
    const m = /^arn:aws[a-z-]*:athena:([a-z0-9-]+):(\d{12}):(?:workgroup\/([^/]+)\/)?session\/([^/]+)$/.exec(arn);
    if (!m) throw new ApiError(400, 'InvalidRequestException', `${arn} is not a valid session ARN`, { AthenaErrorCode: 'INVALID_INPUT' });
    const [, region, account, workGroup, id] = m as unknown as [string, string, string, string | undefined, string];
    const session = region === c.region && account === c.account ? s.sessions.get(id) : undefined;
    if (!session || (workGroup !== undefined && workGroup !== session.WorkGroup)) throw notFound('Session', id);
    return session;
  }

  function listed(op: string, body: Record<string, unknown>, c: AthenaCaller, pageSize: number, items: () => Array<Record<string, unknown>>) {
    const { MaxResults, NextToken, ...params } = body;
    if (NextToken !== undefined && NextToken !== null && (typeof NextToken !== 'string' || NextToken.length > 2048)) {
      throw invalid('nextToken', NextToken, 'Member must have length less than or equal to 2048');
    }
    return pager.page(
      { key: JSON.stringify([op, params, MaxResults ?? null]), scope: `${c.account}|${c.region}`, nextToken: NextToken, pageSize, items },
      () => new ApiError(400, 'InvalidRequestException', 'Invalid NextToken', { AthenaErrorCode: 'INVALID_INPUT' }),
    );
  }

  /** Serves one Athena operation; throws ApiError for error answers. */
  function call(op: string, body: Record<string, unknown>, c: AthenaCaller): AthenaAnswer {
    if (!ATHENA_OPERATIONS.has(op)) throw new ApiError(400, 'UnknownOperationException', undefined);
    const s = scope(c.account, c.region);
    const read = (output: Record<string, unknown>): AthenaAnswer => ({ output, responseElements: null });
    const sessionWorkGroup = (id: unknown) => (typeof id === 'string' && s.sessions.get(id)?.WorkGroup) || 'primary';
    const calcWorkGroup = (id: unknown) => sessionWorkGroup(typeof id === 'string' ? s.calcs.get(id)?.SessionId : undefined);

    if (isDenied(op, c.account)) {
      const workGroup =
        op === 'ListWorkGroups'
          ? undefined
          : op === 'ListSessions'
            ? String(body.WorkGroup ?? 'primary')
            : 'CalculationExecutionId' in body
              ? calcWorkGroup(body.CalculationExecutionId)
              : sessionWorkGroup(body.SessionId);
      throw accessDenied(op, c, workGroup);
    }

    switch (op) {
      case 'GetSession':
      case 'GetSessionStatus': {
        const id = requireString(body, 'SessionId', 256);
        const sess = s.sessions.get(id);
        if (!sess) throw notFound('Session', id);
        if (op === 'GetSessionStatus') return read({ SessionId: sess.SessionId, Status: sessionStatusWire(sess.Status) });
        return read({
          SessionId: sess.SessionId,
          Description: sess.Description,
          WorkGroup: sess.WorkGroup,
          EngineVersion: typeof sess.EngineVersion === 'string' ? sess.EngineVersion : (sess.EngineVersion.EffectiveEngineVersion ?? sess.EngineVersion.SelectedEngineVersion),
          EngineConfiguration: sess.EngineConfiguration,
          NotebookVersion: sess.NotebookVersion,
          SessionConfiguration: sess.SessionConfiguration,
          Status: sessionStatusWire(sess.Status),
          Statistics: sess.Statistics,
        });
      }
      case 'GetCalculationExecution':
      case 'GetCalculationExecutionStatus': {
        const id = requireString(body, 'CalculationExecutionId', 256);
        const calc = s.calcs.get(id);
        if (!calc) throw notFound('Calculation', id);
        if (op === 'GetCalculationExecutionStatus') return read({ Status: calcStatusWire(calc.Status), Statistics: calc.Statistics });
        return read({
          CalculationExecutionId: calc.CalculationExecutionId,
          SessionId: calc.SessionId,
          Description: calc.Description,
          WorkingDirectory: calc.WorkingDirectory,
          Status: calcStatusWire(calc.Status),
          Statistics: calc.Statistics,
          Result: calc.Result,
        });
      }
      case 'ListCalculationExecutions': {
        const sessionId = requireString(body, 'SessionId', 256);
        const state = readStateFilter(body, CALCULATION_STATES);
        const pageSize = readMaxResults(body, 100);
        if (!s.sessions.has(sessionId)) throw notFound('Session', sessionId);
        const page = listed(op, body, c, pageSize, () =>
          [...s.calcs.values()]
            .filter((x) => x.SessionId === sessionId && (state === undefined || x.Status.State === state))
            .sort((a, b) => b.Status.SubmissionDateTime - a.Status.SubmissionDateTime || b.CalculationExecutionId.localeCompare(a.CalculationExecutionId))
            .map((x) => ({ CalculationExecutionId: x.CalculationExecutionId, Description: x.Description, Status: calcStatusWire(x.Status) })),
        );
        return read({ Calculations: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) });
      }
      case 'ListSessions': {
        const workGroup = requireString(body, 'WorkGroup', 128);
        const state = readStateFilter(body, SESSION_STATES);
        const pageSize = readMaxResults(body, 100);
        if (!workGroupsOf(s).some((w) => w.Name === workGroup)) {
          throw new ApiError(400, 'InvalidRequestException', `WorkGroup ${workGroup} is not found.`, { AthenaErrorCode: 'INVALID_INPUT' });
        }
        const page = listed(op, body, c, pageSize, () =>
          [...s.sessions.values()]
            .filter((x) => x.WorkGroup === workGroup && (state === undefined ? LISTED_BY_DEFAULT.has(x.Status.State) : x.Status.State === state))
            .sort((a, b) => b.Status.StartDateTime - a.Status.StartDateTime || b.SessionId.localeCompare(a.SessionId))
            .map((x) => ({
              SessionId: x.SessionId,
              Description: x.Description,
              EngineVersion: engineObject(x.EngineVersion),
              NotebookVersion: x.NotebookVersion,
              Status: sessionStatusWire(x.Status),
            })),
        );
        return read({ Sessions: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) });
      }
      case 'ListWorkGroups': {
        const pageSize = readMaxResults(body, 50);
        const page = listed(op, body, c, pageSize, () =>
          workGroupsOf(s).map((w) => ({
            Name: w.Name,
            State: w.State ?? 'ENABLED',
            Description: w.Description,
            CreationTime: secs(w.CreationTime),
            EngineVersion: engineObject(w.EngineVersion),
          })),
        );
        return read({ WorkGroups: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) });
      }
      case 'GetResourceDashboard': {
        const arn = requireString(body, 'ResourceARN', 1011);
        const sess = sessionOfArn(arn, c, s);
        const mode = s.dashboards.get(sess.SessionId) ?? 'available';
        if (mode === 'denied') throw accessDenied(op, c, sess.WorkGroup);
        if (mode === 'not-found') throw notFound('Session', sess.SessionId);
        // A presigned link: a new one on every call, as for the live UI / history server.
        const url = `https://${sess.SessionId}.spark-ui.athena.${c.region}.amazonaws.com/?X-Amz-Expires=3600&X-Amz-Signature=${randomBytes(16).toString('hex')}`;
        return read({ Url: url });
      }
      case 'StopCalculationExecution': {
        const id = requireString(body, 'CalculationExecutionId', 256);
        const calc = s.calcs.get(id);
        if (!calc) throw notFound('Calculation', id);
        // Best effort (SPEC §1): stopping what has already ended succeeds and changes nothing.
        if (!ENDED_CALCULATION.has(calc.Status.State) && calc.Status.State !== 'CANCELING') {
          calc.Status = { ...calc.Status, State: 'CANCELING' };
          s.pending.push({ kind: 'cancel', id, at: o.now() + o.stopDelayMs });
        }
        const state = calc.Status.State;
        return { output: { State: state }, responseElements: { state } };
      }
      case 'TerminateSession': {
        const id = requireString(body, 'SessionId', 256);
        const sess = s.sessions.get(id);
        if (!sess) throw notFound('Session', id);
        if (!ENDED_SESSION.has(sess.Status.State)) {
          sess.Status = { ...sess.Status, State: 'TERMINATING', LastModifiedDateTime: o.now() };
          s.pending.push({ kind: 'terminate', id, at: o.now() + o.terminateDelayMs });
        }
        const state = sess.Status.State;
        return { output: { State: state }, responseElements: { state } };
      }
      default:
        throw new ApiError(400, 'UnknownOperationException', undefined);
    }
  }

  const account = (opts?: { account?: string }) => opts?.account ?? ACCOUNT_ID;

  return {
    call,
    setSession(region: string, session: AthenaSession, opts?: { account?: string }): void {
      scope(account(opts), region).sessions.set(session.SessionId, clone(session));
    },
    setCalculation(region: string, calc: AthenaCalculation, opts?: { account?: string }): void {
      scope(account(opts), region).calcs.set(calc.CalculationExecutionId, clone(calc));
    },
    getSession(region: string, id: string, opts?: { account?: string }): AthenaSession | undefined {
      const sess = scope(account(opts), region).sessions.get(id);
      return sess && clone(sess);
    },
    getCalculation(region: string, id: string, opts?: { account?: string }): AthenaCalculation | undefined {
      const calc = scope(account(opts), region).calcs.get(id);
      return calc && clone(calc);
    },
    updateSession(region: string, id: string, patch: AthenaSessionPatch, opts?: { account?: string }): AthenaSession {
      const m = scope(account(opts), region).sessions;
      const sess = m.get(id);
      if (!sess) throw new Error(`aws-fake: no session ${id} in ${region}`);
      const next = mergeSession(sess, patch);
      m.set(id, next);
      return clone(next);
    },
    updateCalculation(region: string, id: string, patch: AthenaCalculationPatch, opts?: { account?: string }): AthenaCalculation {
      const m = scope(account(opts), region).calcs;
      const calc = m.get(id);
      if (!calc) throw new Error(`aws-fake: no calculation ${id} in ${region}`);
      const next = mergeCalculation(calc, patch);
      m.set(id, next);
      return clone(next);
    },
    deleteSession: (region: string, id: string, opts?: { account?: string }): boolean => scope(account(opts), region).sessions.delete(id),
    deleteCalculation: (region: string, id: string, opts?: { account?: string }): boolean => scope(account(opts), region).calcs.delete(id),
    addWorkGroup(region: string, wg: AthenaWorkGroup, opts?: { account?: string }): void {
      scope(account(opts), region).workGroups.set(wg.Name, { State: 'ENABLED', CreationTime: o.now(), ...clone(wg) });
    },
    setDashboard(region: string, sessionId: string, mode: DashboardMode, opts?: { account?: string }): void {
      scope(account(opts), region).dashboards.set(sessionId, mode);
    },
    deny(d: boolean | { operations?: string[] }, opts?: { account?: string }): void {
      const key = opts?.account ?? '*';
      if (d === false) {
        if (opts?.account === undefined) denied.clear();
        else denied.delete(key);
      } else if (d === true || d.operations === undefined) denied.set(key, { all: true, ops: new Set() });
      else denied.set(key, { all: false, ops: new Set(d.operations) });
    },
    reset(): void {
      scopes.clear();
      pager.reset();
      denied.clear();
    },
  };
}

export type Athena = ReturnType<typeof createAthena>;
