import type { AthenaCalculationFacts, AthenaSessionFacts } from '../../model/types.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Logger } from '../../util/logger.js';
import { perKey, SlidingWindowLimiter } from '../../util/rate-limiter.js';
import { AssumeRoleError } from '../../util/errors.js';
import { isExpiredCredentials, isRetryableAwsError, withRetry } from '../../util/retry.js';
import type { Accounts } from '../accounts/accounts.js';
import { targetClients } from '../accounts/target-clients.js';
import { targetKey, type AwsTarget } from '../accounts/targets.js';
import { awsClientConfig } from '../aws-client-config.js';

export type AthenaFailure = 'not-found' | 'denied' | 'error';
/** A failure says whether it was the account's role that could not be assumed (logged once elsewhere). */
export type AthenaResult<T> = { status: 'ok'; facts: T } | { status: AthenaFailure; message: string; assumeRole?: boolean };

/** A calculation as ListCalculationExecutions gives it. */
export interface ListedCalculation {
  calculationId: string;
  facts: AthenaCalculationFacts;
}

/** A session as ListSessions gives it (no owner: that only CloudTrail knows). */
export interface ListedSession {
  sessionId: string;
  workgroup: string;
  facts: AthenaSessionFacts;
}

export interface WorkGroupSummary {
  name: string;
  state: string | null;
  engineVersion: string | null;
}

/**
 * The Athena operations the bot calls, each in the account × region (`target`) the session
 * lives in. Every one is rate-limited per target and comes back in that account's CloudTrail
 * as the bot's own call.
 */
export interface AthenaSource {
  getSession(target: AwsTarget, sessionId: string, signal?: AbortSignal): Promise<AthenaResult<AthenaSessionFacts>>;
  /** Every calculation of a session, all pages (one call per 100 calculations). */
  listCalculations(target: AwsTarget, sessionId: string, signal?: AbortSignal): Promise<AthenaResult<ListedCalculation[]>>;
  listWorkGroups(target: AwsTarget, signal?: AbortSignal): Promise<AthenaResult<WorkGroupSummary[]>>;
  /** Sessions of a work group that are in an active state (Athena lists only those). */
  listSessions(target: AwsTarget, workgroup: string, signal?: AbortSignal): Promise<AthenaResult<ListedSession[]>>;
  /** The Spark UI (live or history server) URL of a session. */
  getDashboard(target: AwsTarget, sessionArn: string, signal?: AbortSignal): Promise<AthenaResult<string>>;
  /** Asks Athena to stop a calculation; answers the state it is in afterwards (CANCELING, or the state it had already ended in). */
  stopCalculation(target: AwsTarget, calculationId: string, signal?: AbortSignal): Promise<AthenaResult<string>>;
  /** Asks Athena to terminate a session; answers the state it is in afterwards (TERMINATING, or TERMINATED if it had ended). */
  terminateSession(target: AwsTarget, sessionId: string, signal?: AbortSignal): Promise<AthenaResult<string>>;
  /** Calls made so far, by operation (the benchmark reports them per poll cycle). */
  readonly calls: Map<string, number>;
}

const ms = (d: Date | undefined) => (d ? d.getTime() : undefined);

/** SPEC §1: Athena answers an id it does not know with either of the first two. */
export function classifyAthenaError(err: unknown): AthenaFailure {
  const name = (err as { name?: string })?.name ?? '';
  if (name === 'ResourceNotFoundException' || name === 'InvalidRequestException') return 'not-found';
  if (name === 'AccessDeniedException' || name === 'UnauthorizedOperation' || name === 'AccessDenied') return 'denied';
  return 'error';
}

export interface AthenaSourceOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Calls per second per account and region (ATHENA_CALLS_PER_SECOND): Athena throttles its control plane too. */
  ratePerSecond?: number;
  quick?: boolean;
  /** The watched accounts' credentials (AWS_ROLE_ARNS); without: the default credentials only. */
  accounts?: Pick<Accounts, 'credentials'>;
}

/** Pages followed for one listing: 20 pages of 100 calculations or sessions is far past any real session. */
const MAX_PAGES = 20;

/**
 * The Athena API through the SDK (loaded on first use), each call signed with its target
 * account's credentials, rate-limited per target, retried with backoff on throttling and 5xx
 * (and with new credentials when AWS calls them expired), and classified: facts, not found,
 * denied, error.
 */
export function createAthenaSource(o: AthenaSourceOptions): AthenaSource {
  const limiter = perKey(() => new SlidingWindowLimiter(o.ratePerSecond ?? 5, 1000));
  let sdk: Promise<typeof import('@aws-sdk/client-athena')> | undefined;
  const loadSdk = () => (sdk ??= import('@aws-sdk/client-athena'));
  const clients = targetClients((target, credentials) => loadSdk().then(({ AthenaClient }) => new AthenaClient(awsClientConfig(target.region, { quick: o.quick, credentials }))), o.accounts);
  const calls = new Map<string, number>();

  async function call<T>(target: AwsTarget, operation: string, fn: (client: import('@aws-sdk/client-athena').AthenaClient, api: typeof import('@aws-sdk/client-athena')) => Promise<T>, signal?: AbortSignal): Promise<AthenaResult<T>> {
    try {
      const api = await loadSdk();
      const facts = await withRetry(
        async () => {
          // A role that cannot be assumed fails here, before the call is counted or takes a slot.
          const client = await clients.get(target);
          return limiter(targetKey(target)).run(async () => {
            calls.set(operation, (calls.get(operation) ?? 0) + 1);
            try {
              return await fn(client, api);
            } catch (err) {
              if (isExpiredCredentials(err)) clients.renew(target);
              throw err;
            }
          });
        },
        { attempts: o.quick ? 2 : 5, baseMs: 500, maxMs: 8000, retryable: (err) => isRetryableAwsError(err) || isExpiredCredentials(err), signal },
      );
      o.metrics?.athenaCalls.inc({ operation, outcome: 'ok' });
      return { status: 'ok', facts };
    } catch (err) {
      const status = classifyAthenaError(err);
      o.metrics?.athenaCalls.inc({ operation, outcome: status });
      if (err instanceof AssumeRoleError) return { status, message: err.message.slice(0, 300), assumeRole: true };
      return { status, message: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) };
    }
  }

  /** Follows NextToken (the SDK has no paginators for these): each page is its own limited, retried call. */
  async function paged<T, P extends { NextToken?: string }>(target: AwsTarget, operation: string, page: (client: import('@aws-sdk/client-athena').AthenaClient, api: typeof import('@aws-sdk/client-athena'), token: string | undefined) => Promise<P>, items: (p: P) => T[], signal?: AbortSignal): Promise<AthenaResult<T[]>> {
    const out: T[] = [];
    let token: string | undefined;
    for (let n = 0; n < MAX_PAGES; n++) {
      const r = await call(target, operation, (c, api) => page(c, api, token), signal);
      if (r.status !== 'ok') return r;
      out.push(...items(r.facts));
      token = r.facts.NextToken;
      if (!token) break;
    }
    return { status: 'ok', facts: out };
  }

  return {
    calls,
    getSession: (target, sessionId, signal) =>
      call(
        target,
        'GetSession',
        async (c, api) => {
          const out = await c.send(new api.GetSessionCommand({ SessionId: sessionId }), { abortSignal: signal });
          const facts: AthenaSessionFacts = { state: out.Status?.State ?? 'IDLE' };
          const set = <K extends keyof AthenaSessionFacts>(k: K, v: AthenaSessionFacts[K] | undefined | null) => {
            if (v !== undefined && v !== null) facts[k] = v;
          };
          set('startedAt', ms(out.Status?.StartDateTime));
          set('endedAt', ms(out.Status?.EndDateTime));
          set('idleSince', ms(out.Status?.IdleSinceDateTime));
          set('dpuExecutionMillis', out.Statistics?.DpuExecutionInMillis);
          set('engineVersion', out.EngineVersion);
          set('workgroup', out.WorkGroup);
          set('maxConcurrentDpus', out.EngineConfiguration?.MaxConcurrentDpus);
          if (out.SessionConfiguration?.IdleTimeoutSeconds != null) facts.idleTimeoutMinutes = out.SessionConfiguration.IdleTimeoutSeconds / 60;
          return facts;
        },
        signal,
      ),
    listCalculations: (target, sessionId, signal) =>
      paged(
        target,
        'ListCalculationExecutions',
        (c, api, token) => c.send(new api.ListCalculationExecutionsCommand({ SessionId: sessionId, MaxResults: 100, NextToken: token }), { abortSignal: signal }),
        (p) =>
          (p.Calculations ?? []).flatMap((calc) => {
            if (!calc.CalculationExecutionId) return [];
            const facts: AthenaCalculationFacts = { state: calc.Status?.State ?? 'CREATING', sessionId: sessionId.toLowerCase() };
            const sub = ms(calc.Status?.SubmissionDateTime);
            const done = ms(calc.Status?.CompletionDateTime);
            if (sub !== undefined) facts.submittedAt = sub;
            if (done !== undefined) facts.completedAt = done;
            return [{ calculationId: calc.CalculationExecutionId, facts }];
          }),
        signal,
      ),
    listWorkGroups: (target, signal) =>
      paged(
        target,
        'ListWorkGroups',
        (c, api, token) => c.send(new api.ListWorkGroupsCommand({ MaxResults: 50, NextToken: token }), { abortSignal: signal }),
        (p) =>
          (p.WorkGroups ?? []).flatMap((w) =>
            w.Name ? [{ name: w.Name, state: w.State ?? null, engineVersion: w.EngineVersion?.EffectiveEngineVersion ?? w.EngineVersion?.SelectedEngineVersion ?? null }] : [],
          ),
        signal,
      ),
    listSessions: (target, workgroup, signal) =>
      paged(
        target,
        'ListSessions',
        (c, api, token) => c.send(new api.ListSessionsCommand({ WorkGroup: workgroup, MaxResults: 100, NextToken: token }), { abortSignal: signal }),
        (p) =>
          (p.Sessions ?? []).flatMap((s) => {
            if (!s.SessionId) return [];
            const facts: AthenaSessionFacts = { state: s.Status?.State ?? 'IDLE', workgroup };
            const started = ms(s.Status?.StartDateTime);
            const ended = ms(s.Status?.EndDateTime);
            const idle = ms(s.Status?.IdleSinceDateTime);
            if (started !== undefined) facts.startedAt = started;
            if (ended !== undefined) facts.endedAt = ended;
            if (idle !== undefined) facts.idleSince = idle;
            const engine = s.EngineVersion?.EffectiveEngineVersion ?? s.EngineVersion?.SelectedEngineVersion;
            if (engine) facts.engineVersion = engine;
            return [{ sessionId: s.SessionId.toLowerCase(), workgroup, facts }];
          }),
        signal,
      ),
    // Stopping is best effort and repeatable (SPEC §1): a retry after a throttle or a lost answer changes nothing twice.
    stopCalculation: (target, calculationId, signal) =>
      call(
        target,
        'StopCalculationExecution',
        async (c, api) => (await c.send(new api.StopCalculationExecutionCommand({ CalculationExecutionId: calculationId }), { abortSignal: signal })).State ?? 'CANCELING',
        signal,
      ),
    terminateSession: (target, sessionId, signal) =>
      call(
        target,
        'TerminateSession',
        async (c, api) => (await c.send(new api.TerminateSessionCommand({ SessionId: sessionId }), { abortSignal: signal })).State ?? 'TERMINATING',
        signal,
      ),
    getDashboard: (target, sessionArn, signal) =>
      call(
        target,
        'GetResourceDashboard',
        async (c, api) => {
          const out = await c.send(new api.GetResourceDashboardCommand({ ResourceARN: sessionArn }), { abortSignal: signal });
          if (!out.Url) throw Object.assign(new Error('no dashboard URL for this session'), { name: 'ResourceNotFoundException' });
          return out.Url;
        },
        signal,
      ),
  };
}
