/**
 * A local, faithful fake of AWS CloudTrail `LookupEvents` and the Athena session/calculation
 * read APIs, speaking the awsJson1_1 wire protocol so the REAL AWS SDK v3 clients (and the
 * AWS CLI) can be pointed at it through configuration only:
 *
 *   AWS_ENDPOINT_URL_CLOUDTRAIL=<fake.url> AWS_ENDPOINT_URL_ATHENA=<fake.url> AWS_REGION=us-east-1
 *   AWS_ACCESS_KEY_ID=AKIDFAKE AWS_SECRET_ACCESS_KEY=fake
 *
 * One node:http server serves both services and dispatches on `X-Amz-Target`. Region and
 * account come from the SigV4 `Authorization` credential scope (signatures are not verified;
 * the "account" is the access key id). See `startAwsFake` for the state/fault API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ACCOUNT_ID, toLookupEvent, type CloudTrailRecord } from '../support/cloudtrail-records.js';

// ---------------------------------------------------------------------------------------------
// Public types

export type AwsService = 'cloudtrail' | 'athena';

export interface RecordedRequest {
  service: AwsService;
  /** The `X-Amz-Target` header as sent (e.g. `CloudTrail_20131101.LookupEvents`). */
  target: string;
  region: string;
  account: string;
  /** Real time (ms since epoch, monotonic within a run) the request arrived. */
  at: number;
  /** HTTP status sent; 0 while the response is pending. */
  status: number;
  errorType?: string;
  body: any;
}

export interface LookupResource {
  ResourceType?: string;
  ResourceName?: string;
}

export interface AddEventsOptions {
  /** Region to store the events in; default: each record's `awsRegion`. */
  region?: string;
  /** Absolute visibility time on the fake's clock (ms). Default: now() + delayMs. */
  visibleAt?: number;
  /** Delivery delay relative to the fake's clock now (ms). Ignored when visibleAt is given. */
  delayMs?: number;
  /** `Resources` of the LookupEvents item (builders give `[]`). */
  resources?: LookupResource[] | ((r: CloudTrailRecord) => LookupResource[]);
}

export type SessionState =
  | 'CREATING'
  | 'CREATED'
  | 'IDLE'
  | 'BUSY'
  | 'TERMINATING'
  | 'TERMINATED'
  | 'DEGRADED'
  | 'FAILED';

export type CalculationState =
  | 'CREATING'
  | 'CREATED'
  | 'QUEUED'
  | 'RUNNING'
  | 'CANCELING'
  | 'CANCELED'
  | 'COMPLETED'
  | 'FAILED';

/** Athena `GetSession` output, with every timestamp as epoch MILLISECONDS. */
export interface AthenaSession {
  SessionId: string;
  Description?: string;
  WorkGroup: string;
  /**
   * The SDK model (and the real API) types GetSession's `EngineVersion` as a plain STRING
   * (e.g. "PySpark engine version 3"). The object form is accepted for convenience and is
   * sent as `EffectiveEngineVersion ?? SelectedEngineVersion`.
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

export interface AthenaCalculationPatch
  extends Partial<Omit<AthenaCalculation, 'CalculationExecutionId' | 'Status' | 'Statistics' | 'Result'>> {
  Status?: Partial<AthenaCalculation['Status']>;
  Statistics?: Partial<AthenaCalculation['Statistics']>;
  Result?: AthenaCalculation['Result'];
}

export interface EngineVersionObject {
  SelectedEngineVersion?: string;
  EffectiveEngineVersion?: string;
}

export type NotFoundType = 'ResourceNotFoundException' | 'InvalidRequestException';

export interface AwsFakeOptions {
  /** The fake's clock (ms) for visibility, retention and the EndTime default. Default Date.now. */
  now?: () => number;
  /** LookupEvents requests per second per (account, region). Default 2; Infinity disables. */
  ratePerSecond?: number;
  /** Error type for unknown Athena ids. Default ResourceNotFoundException. */
  notFoundAs?: NotFoundType;
  /** Delay every response by this many real ms. Default 0. */
  delayMs?: number;
}

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
  addRawEvent(region: string, item: Record<string, unknown>, visibleAt?: number): void;
  /** Number of stored events (visible or not) in a region, or in all regions. */
  eventCount(region?: string): number;

  // Athena state
  setSession(region: string, session: AthenaSession): void;
  setCalculation(region: string, calc: AthenaCalculation): void;
  getSession(region: string, id: string): AthenaSession | undefined;
  getCalculation(region: string, id: string): AthenaCalculation | undefined;
  updateSession(region: string, id: string, patch: AthenaSessionPatch): AthenaSession;
  updateCalculation(region: string, id: string, patch: AthenaCalculationPatch): AthenaCalculation;
  deleteSession(region: string, id: string): boolean;
  deleteCalculation(region: string, id: string): boolean;

  // Faults
  /** true: deny every Athena operation; `{operations}`: only those (e.g. ['GetSession']); false: allow. */
  denyAthena(deny: boolean | { operations?: string[] }): void;
  /** Additionally throttle a seeded-random fraction p (0..1) of LookupEvents requests. */
  throttleRatio(p: number, seed?: number): void;
  /** The next n requests (of `service`, or any) get HTTP `status` `{"__type":"InternalFailure"}`. */
  failNext(n: number, status?: 500 | 503, service?: AwsService): void;
  /** While down, every incoming connection/request socket is destroyed at once. */
  setDown(down: boolean): void;
  /** Delay every response by ms real milliseconds. */
  setDelayMs(ms: number): void;
  setRatePerSecond(n: number): void;

  // Observations
  /** Max number of LookupEvents requests (ALL received, incl. throttled) in any window of windowMs. */
  maxRequestsInAnyWindow(region?: string, windowMs?: number): number;
  /** LookupEvents requests received (incl. throttled / failed). */
  lookupCount(region?: string): number;

  /** Clear events, Athena state, requests, tokens, rate-limit history and faults. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Helpers (exported)

/** Environment for child processes (or process.env) pointing the SDK at the fake. */
export function awsEnvFor(
  fake: Pick<AwsFake, 'url'>,
  region = 'us-east-1',
): {
  AWS_ENDPOINT_URL_CLOUDTRAIL: string;
  AWS_ENDPOINT_URL_ATHENA: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
} {
  return {
    AWS_ENDPOINT_URL_CLOUDTRAIL: fake.url,
    AWS_ENDPOINT_URL_ATHENA: fake.url,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'AKIDFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake',
  };
}

/** SDK client config for the fake (`new CloudTrailClient(sdkConfigFor(fake))`). */
export function sdkConfigFor(
  fake: Pick<AwsFake, 'url'>,
  region = 'us-east-1',
  accessKeyId = 'AKIDFAKE',
): { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number } {
  return { region, endpoint: fake.url, credentials: { accessKeyId, secretAccessKey: 'fake' }, maxAttempts: 1 };
}

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
export function athenaCalculation(
  o: { CalculationExecutionId: string; SessionId: string } & AthenaCalculationPatch,
): AthenaCalculation {
  const base: AthenaCalculation = {
    CalculationExecutionId: o.CalculationExecutionId,
    SessionId: o.SessionId,
    Status: { SubmissionDateTime: Date.now(), State: 'COMPLETED' },
    Statistics: { DpuExecutionInMillis: 0 },
  };
  return mergeCalculation(base, o);
}

// ---------------------------------------------------------------------------------------------
// Internals

const DAY_MS = 86_400_000;
const RETENTION_MS = 90 * DAY_MS;
const MAX_TOKENS = 10_000;
const LOOKUP_KEYS = new Set([
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
]);
const CLOUDTRAIL_PREFIXES = ['CloudTrail_20131101.', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.'];
const ATHENA_PREFIX = 'AmazonAthena.';

interface StoredEvent {
  item: Record<string, unknown>;
  timeMs: number;
  visibleAt: number;
  seq: number;
}

interface RegionEvents {
  list: StoredEvent[];
  sorted: boolean;
}

interface PageState {
  key: string;
  scope: string;
  items: StoredEvent[];
  offset: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string | undefined,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message ?? type);
  }
}

const realNow = (): number => performance.timeOrigin + performance.now();

/** A tiny seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function mergeSession(base: AthenaSession, p: AthenaSessionPatch): AthenaSession {
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

function mergeCalculation(base: AthenaCalculation, p: AthenaCalculationPatch): AthenaCalculation {
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

/** ms → awsJson1_1 timestamp (epoch seconds, fractional). */
const secs = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

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

function parseAuth(header: string | undefined): { account: string; region: string; service: string } {
  if (!header) throw new ApiError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(header);
  if (!header.startsWith('AWS4-HMAC-SHA256') || !m) {
    throw new ApiError(
      400,
      'IncompleteSignatureException',
      `Authorization header requires 'Credential' parameter. Authorization=${header}`,
    );
  }
  return { account: m[1]!, region: m[3]!, service: m[4]! };
}

function serviceOf(target: string, scopeService: string | undefined): AwsService {
  if (target.startsWith(ATHENA_PREFIX)) return 'athena';
  if (CLOUDTRAIL_PREFIXES.some((p) => target.startsWith(p))) return 'cloudtrail';
  return scopeService === 'athena' ? 'athena' : 'cloudtrail';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------

export async function startAwsFake(opts: AwsFakeOptions = {}): Promise<AwsFake> {
  const now = opts.now ?? Date.now;
  const notFoundAs: NotFoundType = opts.notFoundAs ?? 'ResourceNotFoundException';
  let ratePerSecond = opts.ratePerSecond ?? 2;
  let delayMs = opts.delayMs ?? 0;

  const requests: RecordedRequest[] = [];
  const events = new Map<string, RegionEvents>();
  const sessions = new Map<string, Map<string, AthenaSession>>();
  const calcs = new Map<string, Map<string, AthenaCalculation>>();
  const tokens = new Map<string, PageState>();
  const admitted = new Map<string, number[]>();
  let seq = 0;
  let deny: { all: boolean; ops: Set<string> } | null = null;
  let throttleP = 0;
  let rng = mulberry32(1);
  let failures: Array<{ status: number; service?: AwsService }> = [];
  let down = false;

  // -- CloudTrail storage ---------------------------------------------------------------------
  function regionEvents(region: string): RegionEvents {
    let r = events.get(region);
    if (!r) events.set(region, (r = { list: [], sorted: true }));
    return r;
  }

  function store(region: string, item: Record<string, unknown>, timeMs: number, visibleAt: number): void {
    const r = regionEvents(region);
    r.list.push({ item, timeMs, visibleAt, seq: seq++ });
    r.sorted = false;
  }

  function sortedEvents(region: string): StoredEvent[] {
    const r = events.get(region);
    if (!r) return [];
    if (!r.sorted) {
      // Newest first; ties: later-added first (stable and deterministic).
      r.list.sort((a, b) => b.timeMs - a.timeMs || b.seq - a.seq);
      r.sorted = true;
    }
    return r.list;
  }

  function addEvents(records: CloudTrailRecord[], o: AddEventsOptions = {}): void {
    const visibleAt = o.visibleAt ?? now() + (o.delayMs ?? 0);
    for (const rec of records) {
      const item = toLookupEvent(rec);
      if (o.resources) item.Resources = typeof o.resources === 'function' ? o.resources(rec) : clone(o.resources);
      store(o.region ?? rec.awsRegion, item, Date.parse(rec.eventTime), visibleAt);
    }
  }

  function addRawEvent(region: string, item: Record<string, unknown>, visibleAt?: number): void {
    const t = item.EventTime;
    let timeMs = typeof t === 'number' ? t * 1000 : typeof t === 'string' ? Date.parse(t) : NaN;
    if (!Number.isFinite(timeMs)) timeMs = now();
    store(region, item, timeMs, visibleAt ?? now());
  }

  // -- Rate limiting --------------------------------------------------------------------------
  function overLimit(scope: string, at: number): boolean {
    const list = admitted.get(scope) ?? [];
    while (list.length > 0 && list[0]! <= at - 1000) list.shift();
    admitted.set(scope, list);
    if (list.length >= ratePerSecond) return true;
    if (throttleP > 0 && rng() < throttleP) return true;
    if (Number.isFinite(ratePerSecond)) list.push(at);
    return false;
  }

  // -- LookupEvents ---------------------------------------------------------------------------
  function lookupEvents(body: Record<string, unknown>, region: string, account: string): unknown {
    const attrs = body.LookupAttributes;
    const { StartTime, EndTime, MaxResults, NextToken, EventCategory } = body;

    let attr: { key: string; value: string } | undefined;
    if (attrs !== undefined && attrs !== null) {
      if (!Array.isArray(attrs)) throw new ApiError(400, 'SerializationException', 'LookupAttributes must be a list');
      if (attrs.length > 1) {
        throw new ApiError(400, 'InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
      }
      const a: unknown = attrs[0];
      if (a !== undefined) {
        if (!isObj(a) || typeof a.AttributeKey !== 'string' || typeof a.AttributeValue !== 'string') {
          throw new ApiError(400, 'InvalidLookupAttributesException', 'AttributeKey and AttributeValue are required.');
        }
        if (!LOOKUP_KEYS.has(a.AttributeKey)) {
          throw new ApiError(400, 'InvalidLookupAttributesException', `Invalid attribute key: ${a.AttributeKey}`);
        }
        if (a.AttributeValue.length < 1 || a.AttributeValue.length > 2000) {
          throw new ApiError(400, 'InvalidLookupAttributesException', 'AttributeValue must be 1 to 2000 characters.');
        }
        if (a.AttributeKey === 'ReadOnly' && a.AttributeValue !== 'true' && a.AttributeValue !== 'false') {
          throw new ApiError(400, 'InvalidLookupAttributesException', 'ReadOnly must be "true" or "false".');
        }
        attr = { key: a.AttributeKey, value: a.AttributeValue };
      }
    }
    for (const [name, v] of [
      ['StartTime', StartTime],
      ['EndTime', EndTime],
    ] as const) {
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw new ApiError(400, 'SerializationException', `${name} must be a timestamp (epoch seconds number)`);
      }
    }
    let maxResults = 50;
    if (MaxResults !== undefined && MaxResults !== null) {
      if (typeof MaxResults !== 'number' || !Number.isInteger(MaxResults) || MaxResults < 1 || MaxResults > 50) {
        throw new ApiError(400, 'InvalidMaxResultsException', 'MaxResults must be between 1 and 50.');
      }
      maxResults = MaxResults;
    }
    if (EventCategory !== undefined && EventCategory !== null && EventCategory !== 'insight') {
      throw new ApiError(400, 'InvalidEventCategoryException', `Invalid EventCategory: ${String(EventCategory)}`);
    }
    const clock = now();
    const startMs = typeof StartTime === 'number' ? StartTime * 1000 : clock - RETENTION_MS;
    const endMs = typeof EndTime === 'number' ? EndTime * 1000 : clock;
    if (startMs > endMs) throw new ApiError(400, 'InvalidTimeRangeException', 'Start time must be before end time.');

    const key = JSON.stringify([attrs ?? null, StartTime ?? null, EndTime ?? null, MaxResults ?? null, EventCategory ?? null]);
    const scope = `${account}|${region}`;

    let page: PageState;
    if (NextToken !== undefined && NextToken !== null && NextToken !== '') {
      const p = typeof NextToken === 'string' ? tokens.get(NextToken) : undefined;
      if (!p || p.key !== key || p.scope !== scope) {
        throw new ApiError(400, 'InvalidNextTokenException', 'Invalid NextToken.');
      }
      page = p;
    } else {
      const retainFrom = clock - RETENTION_MS;
      const items =
        EventCategory === 'insight'
          ? []
          : sortedEvents(region).filter(
              (e) =>
                e.visibleAt <= clock &&
                e.timeMs >= startMs &&
                e.timeMs <= endMs &&
                e.timeMs >= retainFrom &&
                (attr === undefined || matches(e.item, attr)),
            );
      page = { key, scope, items, offset: 0 };
    }
    const slice = page.items.slice(page.offset, page.offset + maxResults);
    const out: Record<string, unknown> = { Events: slice.map((e) => e.item) };
    const nextOffset = page.offset + slice.length;
    if (nextOffset < page.items.length) {
      const tok = randomBytes(24).toString('base64');
      tokens.set(tok, { ...page, offset: nextOffset });
      if (tokens.size > MAX_TOKENS) {
        const oldest = tokens.keys().next().value;
        if (oldest !== undefined) tokens.delete(oldest);
      }
      out.NextToken = tok;
    }
    return out;
  }

  function matches(item: Record<string, unknown>, attr: { key: string; value: string }): boolean {
    if (attr.key === 'ResourceType' || attr.key === 'ResourceName') {
      const res = item.Resources;
      return Array.isArray(res) && res.some((r) => isObj(r) && r[attr.key] === attr.value);
    }
    const v = item[attr.key];
    return v === attr.value || (attr.key === 'ReadOnly' && typeof v === 'boolean' && String(v) === attr.value);
  }

  // -- Athena ---------------------------------------------------------------------------------
  function notFound(kind: 'Session' | 'Calculation', id: string): ApiError {
    const msg = kind === 'Session' ? `Session ${id} not found` : `Calculation ${id} not found`;
    return notFoundAs === 'ResourceNotFoundException'
      ? new ApiError(400, 'ResourceNotFoundException', msg, { ResourceName: id })
      : new ApiError(400, 'InvalidRequestException', msg, { AthenaErrorCode: 'INVALID_INPUT' });
  }

  function requireId(body: Record<string, unknown>, field: string): string {
    const v = body[field];
    if (typeof v !== 'string' || v.length === 0) {
      throw new ApiError(400, 'InvalidRequestException', `${field} is required`, { AthenaErrorCode: 'INVALID_INPUT' });
    }
    return v;
  }

  function athena(op: string, body: Record<string, unknown>, region: string, account: string): unknown {
    const known = ['GetSession', 'GetSessionStatus', 'GetCalculationExecution', 'GetCalculationExecutionStatus'];
    if (!known.includes(op)) throw new ApiError(400, 'UnknownOperationException', undefined);
    if (deny && (deny.all || deny.ops.has(op) || deny.ops.has(`athena:${op}`))) {
      const sid = typeof body.SessionId === 'string' ? body.SessionId : undefined;
      const wg = (sid && sessions.get(region)?.get(sid)?.WorkGroup) || 'primary';
      throw new ApiError(
        400,
        'AccessDeniedException',
        `User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/athena-session-bot/${account} is not authorized to perform: ` +
          `athena:${op} on resource: arn:aws:athena:${region}:${ACCOUNT_ID}:workgroup/${wg} ` +
          `because no identity-based policy allows the athena:${op} action`,
      );
    }
    if (op === 'GetSession' || op === 'GetSessionStatus') {
      const id = requireId(body, 'SessionId');
      const s = sessions.get(region)?.get(id);
      if (!s) throw notFound('Session', id);
      if (op === 'GetSessionStatus') return { SessionId: s.SessionId, Status: sessionStatusWire(s.Status) };
      return {
        SessionId: s.SessionId,
        Description: s.Description,
        WorkGroup: s.WorkGroup,
        EngineVersion:
          typeof s.EngineVersion === 'string'
            ? s.EngineVersion
            : (s.EngineVersion.EffectiveEngineVersion ?? s.EngineVersion.SelectedEngineVersion),
        EngineConfiguration: s.EngineConfiguration,
        NotebookVersion: s.NotebookVersion,
        SessionConfiguration: s.SessionConfiguration,
        Status: sessionStatusWire(s.Status),
        Statistics: s.Statistics,
      };
    }
    const id = requireId(body, 'CalculationExecutionId');
    const c = calcs.get(region)?.get(id);
    if (!c) throw notFound('Calculation', id);
    if (op === 'GetCalculationExecutionStatus') return { Status: calcStatusWire(c.Status), Statistics: c.Statistics };
    return {
      CalculationExecutionId: c.CalculationExecutionId,
      SessionId: c.SessionId,
      Description: c.Description,
      WorkingDirectory: c.WorkingDirectory,
      Status: calcStatusWire(c.Status),
      Statistics: c.Statistics,
      Result: c.Result,
    };
  }

  function regionMap<T>(m: Map<string, Map<string, T>>, region: string): Map<string, T> {
    let r = m.get(region);
    if (!r) m.set(region, (r = new Map()));
    return r;
  }

  // -- HTTP -----------------------------------------------------------------------------------
  function send(
    res: http.ServerResponse,
    rec: RecordedRequest | undefined,
    status: number,
    payload: unknown,
    errorType?: string,
  ): void {
    const text = JSON.stringify(payload);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
    };
    if (errorType) headers['x-amzn-ErrorType'] = errorType;
    if (rec) {
      rec.status = status;
      if (errorType) rec.errorType = errorType;
    }
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, headers);
      res.end(text);
    };
    if (delayMs > 0) setTimeout(write, delayMs);
    else write();
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string, at: number): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    let auth: { account: string; region: string; service: string } | undefined;
    let authError: ApiError | undefined;
    try {
      auth = parseAuth(req.headers.authorization);
    } catch (e) {
      authError = e as ApiError;
    }
    const service = serviceOf(target, auth?.service);
    let body: any;
    let bodyError: ApiError | undefined;
    try {
      body = raw.length === 0 ? {} : JSON.parse(raw);
      if (!isObj(body)) bodyError = new ApiError(400, 'SerializationException', 'Request body must be a JSON object');
    } catch {
      body = raw;
      bodyError = new ApiError(400, 'SerializationException', 'Request body is not valid JSON');
    }
    const rec: RecordedRequest = {
      service,
      target,
      region: auth?.region ?? '',
      account: auth?.account ?? '',
      at,
      status: 0,
      body,
    };
    requests.push(rec);
    const msgKey = service === 'athena' ? 'Message' : 'message';
    const fail = (e: unknown): void => {
      if (e instanceof ApiError) {
        send(res, rec, e.status, { __type: e.type, [msgKey]: e.message, ...e.extra }, e.type);
      } else {
        send(res, rec, 500, { __type: 'InternalFailure', [msgKey]: String(e) }, 'InternalFailure');
      }
    };
    try {
      if (req.method !== 'POST') throw new ApiError(404, 'UnknownOperationException', `Method ${req.method} not supported`);
      const fi = failures.findIndex((f) => f.service === undefined || f.service === service);
      if (fi >= 0) {
        const f = failures[fi]!;
        failures.splice(fi, 1);
        send(res, rec, f.status, { __type: 'InternalFailure' }, 'InternalFailure');
        return;
      }
      if (authError) throw authError;
      const { region, account } = auth!;
      if (service === 'cloudtrail') {
        const op = CLOUDTRAIL_PREFIXES.reduce((t, p) => (t.startsWith(p) ? t.slice(p.length) : t), target);
        if (op !== 'LookupEvents') throw new ApiError(400, 'UnknownOperationException', undefined);
        if (overLimit(`${account}|${region}`, at)) throw new ApiError(400, 'ThrottlingException', 'Rate exceeded');
        if (bodyError) throw bodyError;
        send(res, rec, 200, lookupEvents(body, region, account));
      } else {
        const op = target.startsWith(ATHENA_PREFIX) ? target.slice(ATHENA_PREFIX.length) : '';
        if (bodyError) throw bodyError;
        send(res, rec, 200, athena(op, body, region, account));
      }
    } catch (e) {
      fail(e);
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

  const fake: AwsFake = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    addEvents,
    addEvent: (r, o) => addEvents([r], o),
    addRawEvent,
    eventCount: (region) =>
      region === undefined ? [...events.values()].reduce((n, r) => n + r.list.length, 0) : (events.get(region)?.list.length ?? 0),

    setSession: (region, s) => void regionMap(sessions, region).set(s.SessionId, clone(s)),
    setCalculation: (region, c) => void regionMap(calcs, region).set(c.CalculationExecutionId, clone(c)),
    getSession: (region, id) => {
      const s = sessions.get(region)?.get(id);
      return s && clone(s);
    },
    getCalculation: (region, id) => {
      const c = calcs.get(region)?.get(id);
      return c && clone(c);
    },
    updateSession: (region, id, patch) => {
      const m = regionMap(sessions, region);
      const s = m.get(id);
      if (!s) throw new Error(`aws-fake: no session ${id} in ${region}`);
      const next = mergeSession(s, patch);
      m.set(id, next);
      return clone(next);
    },
    updateCalculation: (region, id, patch) => {
      const m = regionMap(calcs, region);
      const c = m.get(id);
      if (!c) throw new Error(`aws-fake: no calculation ${id} in ${region}`);
      const next = mergeCalculation(c, patch);
      m.set(id, next);
      return clone(next);
    },
    deleteSession: (region, id) => sessions.get(region)?.delete(id) ?? false,
    deleteCalculation: (region, id) => calcs.get(region)?.delete(id) ?? false,

    denyAthena: (d) => {
      if (d === false) deny = null;
      else if (d === true || d.operations === undefined) deny = { all: true, ops: new Set() };
      else deny = { all: false, ops: new Set(d.operations) };
    },
    throttleRatio: (p, seed = 1) => {
      throttleP = Math.min(1, Math.max(0, p));
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

    maxRequestsInAnyWindow: (region, windowMs = 1000) => {
      const times = requests
        .filter((r) => r.service === 'cloudtrail' && r.target.endsWith('.LookupEvents') && (region === undefined || r.region === region))
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
    lookupCount: (region) =>
      requests.filter(
        (r) => r.service === 'cloudtrail' && r.target.endsWith('.LookupEvents') && (region === undefined || r.region === region),
      ).length,

    reset: () => {
      requests.length = 0;
      events.clear();
      sessions.clear();
      calcs.clear();
      tokens.clear();
      admitted.clear();
      deny = null;
      throttleP = 0;
      rng = mulberry32(1);
      failures = [];
      down = false;
      delayMs = opts.delayMs ?? 0;
      ratePerSecond = opts.ratePerSecond ?? 2;
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
