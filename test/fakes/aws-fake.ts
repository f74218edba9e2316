/**
 * A local, faithful fake of the AWS a real account gives the bot: CloudTrail `LookupEvents`
 * and the Athena Spark API (awsJson1_1), and STS (awsQuery), so the REAL AWS SDK v3 clients
 * (and the AWS CLI) can be pointed at it through configuration only:
 *
 *   AWS_ENDPOINT_URL_CLOUDTRAIL=<fake.url> AWS_ENDPOINT_URL_ATHENA=<fake.url> AWS_ENDPOINT_URL_STS=<fake.url>
 *   AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDFAKE AWS_SECRET_ACCESS_KEY=fake      (see awsEnvFor)
 *
 * One node:http server dispatches on `X-Amz-Target` (awsJson) or the form body's `Action`
 * (awsQuery). The region comes from the SigV4 credential scope; the caller from its access key
 * id (signatures are not verified): `AKIDFAKE` is `arn:aws:sts::123456789012:assumed-role/athena-session-bot/bot`,
 * other keys are configured with `identities`/`addIdentity` or issued by AssumeRole; unknown
 * keys act as AKIDFAKE's principal unless `strictCredentials`. CloudTrail events and Athena
 * state are kept per (account, region).
 *
 * Like the real account, every Athena call the fake serves, answered or refused, is appended
 * to the caller's CloudTrail `callLogDelayMs` later on the fake's clock: the caller's identity,
 * its `User-Agent` verbatim, lowerCamel `requestParameters`, `errorCode`/`errorMessage` when
 * refused. Throttled answers and injected 5xx faults are not logged (the call never reached
 * Athena). Successful and refused AssumeRole calls are logged as `sts.amazonaws.com` records.
 *
 * Options (`startAwsFake`): `now` (the fake's clock, default Date.now), `ratePerSecond`
 * (LookupEvents per account-region, default 2), `athenaRatePerSecond` (default Infinity),
 * `notFoundAs`, `delayMs`, `logCallsToCloudTrail` (default true), `callLogDelayMs` (default
 * 5 min), `identities`, `strictCredentials`, `credentialLifetimeMs`, `stopDelayMs` (default 2 s),
 * `terminateDelayMs` (default 10 s). Credential expiry runs on the fake's clock, but the SDK's
 * credential providers decide when to refresh by the real clock: a test of that refresh keeps
 * the fake on real time.
 *
 * Methods: CloudTrail `addEvents`/`addEvent`/`addRawEvent`/`eventCount`/`callRecords`; Athena
 * `setSession`/`setCalculation`/`getSession`/`getCalculation`/`updateSession`/
 * `updateCalculation`/`deleteSession`/`deleteCalculation`/`addWorkGroup`/`setDashboard`
 * (each with an optional `{ account }`); principals `addIdentity`/`addRole`; faults
 * `denyAthena`/`throttleRatio`/`failNext`/`setDown`/`setDelayMs`/`setRatePerSecond`/
 * `setAthenaRatePerSecond`; observations `requests`/`athenaCalls`/`stsCalls`/`lookupCount`/
 * `maxRequestsInAnyWindow`; `reset`, `close`.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ACCOUNT_ID, record, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import {
  ATHENA_OPERATIONS,
  createAthena,
  type AthenaCalculation,
  type AthenaCalculationPatch,
  type AthenaSession,
  type AthenaSessionPatch,
  type AthenaWorkGroup,
  type DashboardMode,
  type NotFoundType,
} from './aws/athena.js';
import { createCloudTrail, type LookupResource } from './aws/cloudtrail.js';
import { createPrincipals, DEFAULT_ACCESS_KEY_ID, type CredentialProblem, type IdentityInput, type Principal } from './aws/principals.js';
import { createSts, stsErrorXml, type AssumedRole, type RoleOptions } from './aws/sts.js';
import { ApiError, createWindowLimiter, isObj, mulberry32 } from './aws/wire.js';

export {
  athenaCalculation,
  athenaSession,
  athenaSessionArn,
  type AthenaCalculation,
  type AthenaCalculationPatch,
  type AthenaSession,
  type AthenaSessionPatch,
  type AthenaWorkGroup,
  type CalculationState,
  type DashboardMode,
  type EngineVersionObject,
  type NotFoundType,
  type SessionState,
} from './aws/athena.js';
export { DEFAULT_ACCESS_KEY_ID, DEFAULT_PRINCIPAL_ARN, type IdentityInput } from './aws/principals.js';
export type { RoleOptions } from './aws/sts.js';
export type { LookupResource } from './aws/cloudtrail.js';
export { mulberry32 } from './aws/wire.js';

// ---------------------------------------------------------------------------------------------
// Public types

export type AwsService = 'cloudtrail' | 'athena' | 'sts';

export interface RecordedRequest {
  service: AwsService;
  /** The `X-Amz-Target` header as sent (e.g. `CloudTrail_20131101.LookupEvents`); '' for STS. */
  target: string;
  /** The operation (`LookupEvents`, `GetSession`, `AssumeRole`…), '' when unreadable. */
  operation: string;
  region: string;
  /** The caller's account (resolved from its access key); '' when unauthenticated. */
  account: string;
  accessKeyId: string;
  /** The caller as resolved from its credentials; absent when they were refused. */
  principal?: { account: string; arn: string; type: Principal['type'] };
  /** The `User-Agent` header verbatim ('' when absent). */
  userAgent: string;
  /** The `x-amzn-RequestId` answered (also the CloudTrail record's `requestID`). */
  requestId: string;
  /** Real time (ms since epoch, monotonic within a run) the request arrived. */
  at: number;
  /** HTTP status sent; 0 while the response is pending. */
  status: number;
  errorType?: string;
  /** The JSON body (awsJson) or the form fields (awsQuery). */
  body: any;
}

export interface AddEventsOptions {
  /** Region to store the events in; default: each record's `awsRegion`. */
  region?: string;
  /** Account whose trail gets them; default: each record's `recipientAccountId`, else 123456789012. */
  account?: string;
  /** Absolute visibility time on the fake's clock (ms). Default: now() + delayMs. */
  visibleAt?: number;
  /** Delivery delay relative to the fake's clock now (ms). Ignored when visibleAt is given. */
  delayMs?: number;
  /** `Resources` of the LookupEvents item (builders give `[]`). */
  resources?: LookupResource[] | ((r: CloudTrailRecord) => LookupResource[]);
}

export interface AwsFakeOptions {
  /** The fake's clock (ms) for visibility, retention, the EndTime default, credential expiry and Athena state changes. Default Date.now. */
  now?: () => number;
  /** LookupEvents requests per second per (account, region). Default 2; Infinity disables. */
  ratePerSecond?: number;
  /** Athena requests per second per (account, region) before ThrottlingException. Default Infinity. */
  athenaRatePerSecond?: number;
  /** Error type for unknown Athena ids. Default ResourceNotFoundException. */
  notFoundAs?: NotFoundType;
  /** Delay every response by this many real ms. Default 0. */
  delayMs?: number;
  /** Append every Athena call served (and AssumeRole) to the caller's CloudTrail. Default true. */
  logCallsToCloudTrail?: boolean;
  /** How long after a call its record becomes visible to LookupEvents (fake clock). Default 5 min. */
  callLogDelayMs?: number;
  /** Access key id → principal, added to (or replacing) the default `AKIDFAKE`. */
  identities?: Record<string, IdentityInput>;
  /** Refuse unknown access keys (UnrecognizedClientException / InvalidClientTokenId). Default false. */
  strictCredentials?: boolean;
  /** Lifetime of credentials AssumeRole issues (fake clock); default the requested DurationSeconds. */
  credentialLifetimeMs?: number;
  /** CANCELING → CANCELED this long after StopCalculationExecution (fake clock). Default 2 s. */
  stopDelayMs?: number;
  /** TERMINATING → TERMINATED this long after TerminateSession (fake clock). Default 10 s. */
  terminateDelayMs?: number;
}

type AccountOption = { account?: string };

export interface AwsFake {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Every request received (including throttled/failed ones), in arrival order. */
  readonly requests: RecordedRequest[];

  // CloudTrail state
  addEvents(records: CloudTrailRecord[], opts?: AddEventsOptions): void;
  addEvent(record: CloudTrailRecord, opts?: AddEventsOptions): void;
  /** Serve `item` verbatim as a LookupEvents item (may be malformed). */
  addRawEvent(region: string, item: Record<string, unknown>, visibleAt?: number, account?: string): void;
  /** Number of stored events (visible or not), optionally of one region and/or account. */
  eventCount(region?: string, account?: string): number;
  /** The CloudTrail records the fake wrote for calls it served, oldest first, with when they become visible. */
  callRecords(filter?: { account?: string; region?: string; eventName?: string }): Array<CloudTrailRecord & { visibleAt: number }>;

  // Athena state (default account 123456789012)
  setSession(region: string, session: AthenaSession, opts?: AccountOption): void;
  setCalculation(region: string, calc: AthenaCalculation, opts?: AccountOption): void;
  getSession(region: string, id: string, opts?: AccountOption): AthenaSession | undefined;
  getCalculation(region: string, id: string, opts?: AccountOption): AthenaCalculation | undefined;
  updateSession(region: string, id: string, patch: AthenaSessionPatch, opts?: AccountOption): AthenaSession;
  updateCalculation(region: string, id: string, patch: AthenaCalculationPatch, opts?: AccountOption): AthenaCalculation;
  deleteSession(region: string, id: string, opts?: AccountOption): boolean;
  deleteCalculation(region: string, id: string, opts?: AccountOption): boolean;
  /** A work group for ListWorkGroups (besides `primary` and those its sessions name). */
  addWorkGroup(region: string, workGroup: AthenaWorkGroup, opts?: AccountOption): void;
  /** GetResourceDashboard for this session: 'available' (default), 'not-found' or 'denied'. */
  setDashboard(region: string, sessionId: string, mode: DashboardMode, opts?: AccountOption): void;

  // Principals
  addIdentity(accessKeyId: string, identity: IdentityInput): void;
  addRole(roleArn: string, opts?: RoleOptions): void;

  // Faults
  /** true: deny every Athena operation; `{operations}`: only those (e.g. ['GetSession']); false: allow. Per account with `{ account }`. */
  denyAthena(deny: boolean | { operations?: string[] }, opts?: AccountOption): void;
  /**
   * Additionally throttle a seeded-random fraction p (0..1) of LookupEvents requests; with
   * `{ account }` only that account's (another tool spending its 2 requests/s), the others as set.
   */
  throttleRatio(p: number, seed?: number, opts?: AccountOption): void;
  /** The next n requests (of `service`, or any) get HTTP `status` InternalFailure. */
  failNext(n: number, status?: 500 | 503, service?: AwsService): void;
  /** While down, every incoming connection/request socket is destroyed at once. */
  setDown(down: boolean): void;
  /** Delay every response by ms real milliseconds. */
  setDelayMs(ms: number): void;
  setRatePerSecond(n: number): void;
  setAthenaRatePerSecond(n: number): void;

  // Observations
  /** Athena requests received (incl. throttled / refused), optionally of one operation and region. */
  athenaCalls(operation?: string, region?: string): RecordedRequest[];
  /** STS requests received, optionally of one action. */
  stsCalls(action?: string): RecordedRequest[];
  /** Max number of LookupEvents requests (ALL received, incl. throttled) in any window of windowMs, optionally of one region and/or caller account. */
  maxRequestsInAnyWindow(region?: string, windowMs?: number, account?: string): number;
  /** LookupEvents requests received (incl. throttled / failed), optionally of one region and/or caller account. */
  lookupCount(region?: string, account?: string): number;

  /** Clear events, Athena state, principals added, requests, tokens, rate-limit history and faults. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Helpers (exported)

/** Environment for child processes (or process.env) pointing the SDK at the fake. */
export function awsEnvFor(
  fake: Pick<AwsFake, 'url'>,
  region = 'us-east-1',
  accessKeyId = DEFAULT_ACCESS_KEY_ID,
): {
  AWS_ENDPOINT_URL_CLOUDTRAIL: string;
  AWS_ENDPOINT_URL_ATHENA: string;
  AWS_ENDPOINT_URL_STS: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
} {
  return {
    AWS_ENDPOINT_URL_CLOUDTRAIL: fake.url,
    AWS_ENDPOINT_URL_ATHENA: fake.url,
    AWS_ENDPOINT_URL_STS: fake.url,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'fake',
  };
}

/** SDK client config for the fake (`new CloudTrailClient(sdkConfigFor(fake))`). */
export function sdkConfigFor(
  fake: Pick<AwsFake, 'url'>,
  region = 'us-east-1',
  accessKeyId = DEFAULT_ACCESS_KEY_ID,
): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number } {
  return { region, endpoint: fake.url, credentials: { accessKeyId, secretAccessKey: 'fake' }, maxAttempts: 1 };
}

// ---------------------------------------------------------------------------------------------
// Internals

const CLOUDTRAIL_PREFIXES = ['CloudTrail_20131101.', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.'];
const ATHENA_PREFIX = 'AmazonAthena.';

const realNow = (): number => performance.timeOrigin + performance.now();

function parseAuth(header: string | undefined): { accessKeyId: string; region: string; service: string } {
  if (!header) throw new ApiError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(header);
  if (!header.startsWith('AWS4-HMAC-SHA256') || !m) {
    throw new ApiError(400, 'IncompleteSignatureException', `Authorization header requires 'Credential' parameter. Authorization=${header}`);
  }
  return { accessKeyId: m[1]!, region: m[3]!, service: m[4]! };
}

function serviceOf(target: string, contentType: string, scopeService: string | undefined): AwsService {
  if (target.startsWith(ATHENA_PREFIX)) return 'athena';
  if (CLOUDTRAIL_PREFIXES.some((p) => target.startsWith(p))) return 'cloudtrail';
  if (target === '' && (scopeService === 'sts' || contentType.startsWith('application/x-www-form-urlencoded'))) return 'sts';
  return scopeService === 'athena' ? 'athena' : 'cloudtrail';
}

/** CloudTrail's `requestParameters`: the API's PascalCase members as lowerCamel, null when none. */
function lowerCamel(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerCamel);
  if (!isObj(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k.charAt(0).toLowerCase() + k.slice(1)] = lowerCamel(x);
  return out;
}

/** How each protocol refuses credentials (awsJson services vs STS's awsQuery). */
function credentialError(problem: CredentialProblem, service: AwsService): ApiError {
  if (problem === 'expired') return new ApiError(400, 'ExpiredTokenException', 'The security token included in the request is expired');
  return service === 'sts'
    ? new ApiError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
    : new ApiError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
}

/** CloudTrail's rendering of an STS credential expiry ("Nov 24, 2026, 1:00:00 PM"). */
function trailDate(ms: number): string {
  return new Date(ms).toLocaleString('en-US', {
    timeZone: 'UTC',
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
    hour12: true,
  });
}

// ---------------------------------------------------------------------------------------------

export async function startAwsFake(opts: AwsFakeOptions = {}): Promise<AwsFake> {
  const now = opts.now ?? Date.now;
  const logCalls = opts.logCallsToCloudTrail ?? true;
  const callLogDelayMs = opts.callLogDelayMs ?? 5 * 60_000;
  let ratePerSecond = opts.ratePerSecond ?? 2;
  let athenaRatePerSecond = opts.athenaRatePerSecond ?? Infinity;
  let delayMs = opts.delayMs ?? 0;

  const requests: RecordedRequest[] = [];
  const cloudtrail = createCloudTrail({ now });
  const athena = createAthena({
    now,
    notFoundAs: opts.notFoundAs ?? 'ResourceNotFoundException',
    stopDelayMs: opts.stopDelayMs ?? 2_000,
    terminateDelayMs: opts.terminateDelayMs ?? 10_000,
  });
  const principals = createPrincipals({ now, identities: opts.identities, strict: opts.strictCredentials ?? false });
  const sts = createSts({ now, principals, credentialLifetimeMs: () => opts.credentialLifetimeMs });
  let throttleP = 0;
  /** Per-account throttle ratios, over the all-accounts one. */
  const accountThrottleP = new Map<string, number>();
  let rng = mulberry32(1);
  const lookupLimiter = createWindowLimiter(() => ratePerSecond);
  const athenaLimiter = createWindowLimiter(() => athenaRatePerSecond);
  let failures: Array<{ status: number; service?: AwsService }> = [];
  let down = false;
  const written: Array<CloudTrailRecord & { visibleAt: number }> = [];

  // -- The trail of the calls the fake serves ---------------------------------------------------
  interface CallContext {
    principal: Principal;
    region: string;
    req: http.IncomingMessage;
    requestId: string;
  }

  function writeRecord(account: string, region: string, rec: CloudTrailRecord): void {
    const visibleAt = now() + callLogDelayMs;
    cloudtrail.storeRecord(account, region, rec, visibleAt);
    written.push({ ...rec, visibleAt });
  }

  function callRecord(
    ctx: CallContext,
    eventName: string,
    o: { eventSource?: string; params: unknown; response: unknown; error?: ApiError; readOnly: boolean },
  ): CloudTrailRecord {
    const remote = ctx.req.socket.remoteAddress ?? '127.0.0.1';
    const params = o.params;
    return record({
      eventName,
      eventTime: now(),
      eventSource: o.eventSource ?? 'athena.amazonaws.com',
      actor: ctx.principal.actor,
      region: ctx.region,
      accessKeyId: ctx.principal.accessKeyId,
      requestParameters: isObj(params) && Object.keys(params).length > 0 ? (params as Record<string, unknown>) : null,
      responseElements: (o.response as Record<string, unknown> | null) ?? null,
      ...(o.error ? { errorCode: o.error.type, errorMessage: o.error.message } : {}),
      readOnly: o.readOnly,
      sourceIPAddress: remote.replace(/^::ffff:/, ''),
      userAgent: String(ctx.req.headers['user-agent'] ?? ''),
      requestId: ctx.requestId,
      host: String(ctx.req.headers.host ?? ''),
      eventId: randomUUID(),
    });
  }

  function logAthenaCall(ctx: CallContext, op: string, body: Record<string, unknown>, outcome: { response: unknown } | { error: ApiError }): void {
    if (!logCalls) return;
    const rec = callRecord(ctx, op, {
      params: lowerCamel(body),
      response: 'response' in outcome ? outcome.response : null,
      ...('error' in outcome ? { error: outcome.error } : {}),
      readOnly: /^(Get|List)/.test(op),
    });
    writeRecord(ctx.principal.account, ctx.region, rec);
  }

  function logAssumeRole(ctx: CallContext, body: Record<string, string>, outcome: { assumed: AssumedRole } | { error: ApiError }): void {
    if (!logCalls) return;
    if ('error' in outcome) {
      const params = { roleArn: body.RoleArn, roleSessionName: body.RoleSessionName, ...(body.ExternalId ? { externalId: body.ExternalId } : {}) };
      const rec = callRecord(ctx, 'AssumeRole', { eventSource: 'sts.amazonaws.com', params, response: null, error: outcome.error, readOnly: true });
      writeRecord(ctx.principal.account, ctx.region, rec);
      return;
    }
    const { assumed } = outcome;
    const rec = callRecord(ctx, 'AssumeRole', {
      eventSource: 'sts.amazonaws.com',
      params: assumed.params,
      response: {
        credentials: { accessKeyId: assumed.issued.accessKeyId, sessionToken: assumed.issued.sessionToken, expiration: trailDate(assumed.issued.expiresAt!) },
        assumedRoleUser: { assumedRoleId: assumed.issued.userId, arn: assumed.issued.arn },
      },
      readOnly: true,
    });
    // The role's account records who assumed its role.
    rec.recipientAccountId = assumed.account;
    writeRecord(assumed.account, ctx.region, rec);
  }

  // -- HTTP -----------------------------------------------------------------------------------
  function send(res: http.ServerResponse, rec: RecordedRequest, status: number, text: string, contentType: string, errorType?: string): void {
    const headers: Record<string, string | number> = {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': rec.requestId,
    };
    if (errorType) headers['x-amzn-ErrorType'] = errorType;
    rec.status = status;
    if (errorType) rec.errorType = errorType;
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, headers);
      res.end(text);
    };
    if (delayMs > 0) setTimeout(write, delayMs);
    else write();
  }

  function sendError(res: http.ServerResponse, rec: RecordedRequest, e: ApiError): void {
    if (rec.service === 'sts') {
      send(res, rec, e.status, stsErrorXml(e, rec.requestId), 'text/xml', e.type);
      return;
    }
    const msgKey = rec.service === 'athena' ? 'Message' : 'message';
    send(res, rec, e.status, JSON.stringify({ __type: e.type, [msgKey]: e.message, ...e.extra }), 'application/x-amz-json-1.1', e.type);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string, at: number): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '');
    let auth: { accessKeyId: string; region: string; service: string } | undefined;
    let authError: ApiError | undefined;
    try {
      auth = parseAuth(req.headers.authorization);
    } catch (e) {
      authError = e as ApiError;
    }
    const service = serviceOf(target, contentType, auth?.service);
    let body: any;
    let bodyError: ApiError | undefined;
    if (service === 'sts') {
      body = Object.fromEntries(new URLSearchParams(raw));
    } else {
      try {
        body = raw.length === 0 ? {} : JSON.parse(raw);
        if (!isObj(body)) bodyError = new ApiError(400, 'SerializationException', 'Request body must be a JSON object');
      } catch {
        body = raw;
        bodyError = new ApiError(400, 'SerializationException', 'Request body is not valid JSON');
      }
    }
    const operation =
      service === 'sts'
        ? String(body.Action ?? '')
        : service === 'athena'
          ? target.startsWith(ATHENA_PREFIX)
            ? target.slice(ATHENA_PREFIX.length)
            : ''
          : CLOUDTRAIL_PREFIXES.reduce((t, p) => (t.startsWith(p) ? t.slice(p.length) : t), target);
    const rec: RecordedRequest = {
      service,
      target,
      operation,
      region: auth?.region ?? '',
      account: '',
      accessKeyId: auth?.accessKeyId ?? '',
      userAgent: String(req.headers['user-agent'] ?? ''),
      requestId: randomUUID(),
      at,
      status: 0,
      body,
    };
    requests.push(rec);
    try {
      if (req.method !== 'POST') throw new ApiError(404, 'UnknownOperationException', `Method ${req.method} not supported`);
      const fi = failures.findIndex((f) => f.service === undefined || f.service === service);
      if (fi >= 0) {
        const f = failures[fi]!;
        failures.splice(fi, 1);
        throw new ApiError(f.status, 'InternalFailure', 'An internal error occurred');
      }
      if (authError) throw authError;
      const { region, accessKeyId } = auth!;
      const token = req.headers['x-amz-security-token'];
      const resolved = principals.resolve(accessKeyId, typeof token === 'string' ? token : undefined);
      if (typeof resolved === 'string') throw credentialError(resolved, service);
      const principal = resolved;
      rec.account = principal.account;
      rec.principal = { account: principal.account, arn: principal.arn, type: principal.type };
      const ctx: CallContext = { principal, region, req, requestId: rec.requestId };
      const scope = `${principal.account}|${region}`;

      if (service === 'cloudtrail') {
        if (operation !== 'LookupEvents') throw new ApiError(400, 'UnknownOperationException', undefined);
        const p = accountThrottleP.get(principal.account) ?? throttleP;
        if (lookupLimiter.over(scope, at, () => p > 0 && rng() < p)) throw new ApiError(400, 'ThrottlingException', 'Rate exceeded');
        if (bodyError) throw bodyError;
        send(res, rec, 200, JSON.stringify(cloudtrail.lookupEvents(body, principal.account, region)), 'application/x-amz-json-1.1');
        return;
      }

      if (service === 'sts') {
        try {
          const answer = sts.handle(raw, principal, rec.requestId);
          if (answer.assumed) logAssumeRole(ctx, body, { assumed: answer.assumed });
          send(res, rec, 200, answer.xml, 'text/xml');
        } catch (e) {
          if (e instanceof ApiError && operation === 'AssumeRole') logAssumeRole(ctx, body, { error: e });
          throw e;
        }
        return;
      }

      if (!ATHENA_OPERATIONS.has(operation)) throw new ApiError(400, 'UnknownOperationException', undefined);
      // Athena's control-plane throttling answers like other AWS APIs: 400 ThrottlingException.
      if (athenaLimiter.over(scope, at)) throw new ApiError(400, 'ThrottlingException', 'Rate exceeded');
      if (bodyError) throw bodyError;
      let answer;
      try {
        answer = athena.call(operation, body, { account: principal.account, region, arn: principal.arn });
      } catch (e) {
        // A body Athena cannot even deserialize never becomes an API call.
        if (e instanceof ApiError && e.status < 500 && e.type !== 'SerializationException') logAthenaCall(ctx, operation, body, { error: e });
        throw e;
      }
      logAthenaCall(ctx, operation, body, { response: answer.responseElements });
      send(res, rec, 200, JSON.stringify(answer.output), 'application/x-amz-json-1.1');
    } catch (e) {
      sendError(res, rec, e instanceof ApiError ? e : new ApiError(500, 'InternalFailure', String(e)));
    }
  }

  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const at = realNow();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8'), at));
    req.on('error', () => req.socket.destroy());
  });
  server.on('connection', (socket: Socket) => {
    if (down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const lookups = (region?: string, account?: string) =>
    requests.filter(
      (r) => r.service === 'cloudtrail' && r.target.endsWith('.LookupEvents') && (region === undefined || r.region === region) && (account === undefined || r.account === account),
    );

  const fake: AwsFake = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    addEvents(records, o = {}) {
      const visibleAt = o.visibleAt ?? now() + (o.delayMs ?? 0);
      for (const rec of records) {
        const resources = o.resources === undefined ? undefined : typeof o.resources === 'function' ? o.resources(rec) : structuredClone(o.resources);
        const account = o.account ?? (typeof rec.recipientAccountId === 'string' ? rec.recipientAccountId : ACCOUNT_ID);
        cloudtrail.storeRecord(account, o.region ?? rec.awsRegion, rec, visibleAt, resources);
      }
    },
    addEvent(r, o) {
      fake.addEvents([r], o);
    },
    addRawEvent(region, item, visibleAt, account = ACCOUNT_ID) {
      const t = item.EventTime;
      let timeMs = typeof t === 'number' ? t * 1000 : typeof t === 'string' ? Date.parse(t) : NaN;
      if (!Number.isFinite(timeMs)) timeMs = now();
      cloudtrail.store(account, region, item, timeMs, visibleAt ?? now());
    },
    eventCount: (region, account) => cloudtrail.count(region, account),
    callRecords: (f = {}) =>
      structuredClone(
        written.filter(
          (r) =>
            (f.account === undefined || r.recipientAccountId === f.account) &&
            (f.region === undefined || r.awsRegion === f.region) &&
            (f.eventName === undefined || r.eventName === f.eventName),
        ),
      ),

    setSession: athena.setSession,
    setCalculation: athena.setCalculation,
    getSession: athena.getSession,
    getCalculation: athena.getCalculation,
    updateSession: athena.updateSession,
    updateCalculation: athena.updateCalculation,
    deleteSession: athena.deleteSession,
    deleteCalculation: athena.deleteCalculation,
    addWorkGroup: athena.addWorkGroup,
    setDashboard: athena.setDashboard,

    addIdentity: (accessKeyId, identity) => principals.add(accessKeyId, identity),
    addRole: (roleArn, o) => sts.addRole(roleArn, o),

    denyAthena: (d, o) => athena.deny(d, o),
    throttleRatio: (p, seed = 1, o) => {
      const ratio = Math.min(1, Math.max(0, p));
      if (o?.account !== undefined) accountThrottleP.set(o.account, ratio);
      else throttleP = ratio;
      rng = mulberry32(seed);
    },
    failNext: (n, status = 500, service) => {
      for (let i = 0; i < n; i++) failures.push(service === undefined ? { status } : { status, service });
    },
    setDown: (d) => {
      down = d;
      if (d) for (const s of sockets) s.destroy();
    },
    setDelayMs: (ms) => {
      delayMs = ms;
    },
    setRatePerSecond: (n) => {
      ratePerSecond = n;
    },
    setAthenaRatePerSecond: (n) => {
      athenaRatePerSecond = n;
    },

    athenaCalls: (op, region) =>
      requests.filter((r) => r.service === 'athena' && (op === undefined || r.operation === op) && (region === undefined || r.region === region)),
    stsCalls: (action) => requests.filter((r) => r.service === 'sts' && (action === undefined || r.operation === action)),
    maxRequestsInAnyWindow: (region, windowMs = 1000, account) => {
      const times = lookups(region, account)
        .map((r) => r.at)
        .sort((a, b) => a - b);
      let best = 0;
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        while (j < times.length && times[j]! < times[i]! + windowMs) j++;
        best = Math.max(best, j - i);
      }
      return best;
    },
    lookupCount: (region, account) => lookups(region, account).length,

    reset: () => {
      requests.length = 0;
      written.length = 0;
      cloudtrail.reset();
      athena.reset();
      sts.reset();
      principals.reset();
      lookupLimiter.reset();
      athenaLimiter.reset();
      throttleP = 0;
      accountThrottleP.clear();
      rng = mulberry32(1);
      failures = [];
      down = false;
      delayMs = opts.delayMs ?? 0;
      ratePerSecond = opts.ratePerSecond ?? 2;
      athenaRatePerSecond = opts.athenaRatePerSecond ?? Infinity;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
  return fake;
}
