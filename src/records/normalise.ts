import { z } from 'zod';
import { ATHENA_EVENT_SOURCE, EXECUTOR_PREFIX, isSparkEventName, isWellFormedSessionId } from './athena-events.js';
import type { EventDetail, NotebookEvent } from './types.js';

/** Outcome of reading one raw item: a notebook event, an event we do not watch, or a reject. */
export type Normalised =
  | { kind: 'event'; event: NotebookEvent }
  | { kind: 'ignored' }
  | { kind: 'rejected'; reason: string };

const optString = z.string().optional().nullable();
const optNumber = z.number().optional().nullable();

const userIdentitySchema = z.looseObject({
  type: optString,
  arn: optString,
  userName: optString,
  principalId: optString,
  accountId: optString,
  accessKeyId: optString,
  invokedBy: optString,
  onBehalfOf: z.looseObject({ userId: optString }).optional().nullable(),
});

const tagSchema = z.looseObject({ key: z.string(), value: z.string().optional().nullable() });

const requestSchema = z
  .looseObject({
    sessionId: optString,
    calculationExecutionId: optString,
    notebookId: optString,
    workGroup: optString,
    name: optString,
    type: optString,
    notebookVersion: optString,
    sessionIdleTimeoutInMinutes: optNumber,
    tags: z.array(z.unknown()).optional().nullable(),
    engineConfiguration: z
      .looseObject({
        coordinatorDpuSize: optNumber,
        maxConcurrentDpus: optNumber,
        defaultExecutorDpuSize: optNumber,
        additionalConfigs: z.looseObject({ NotebookId: optString }).optional().nullable(),
      })
      .optional()
      .nullable(),
  })
  .nullable()
  .optional();

const responseSchema = z
  .looseObject({ sessionId: optString, calculationExecutionId: optString, notebookId: optString, state: optString })
  .nullable()
  .optional();

const recordSchema = z.looseObject({
  eventVersion: z.string({ error: 'eventVersion missing or not a string' }),
  eventID: z.string({ error: 'eventID missing or not a string' }).min(1, 'eventID is empty').max(128, 'eventID too long'),
  eventTime: z.string({ error: 'eventTime missing or not a string' }),
  eventSource: z.string(),
  eventName: z.string(),
  awsRegion: z.string({ error: 'awsRegion missing or not a string' }).regex(/^[a-z0-9-]{1,32}$/, 'awsRegion is not a region'),
  userIdentity: userIdentitySchema.optional().nullable(),
  sourceIPAddress: optString,
  requestParameters: requestSchema,
  responseElements: responseSchema,
  errorCode: optString,
  errorMessage: optString,
  userAgent: z.unknown().optional(),
  readOnly: z.union([z.boolean(), z.string()]).optional().nullable(),
  recipientAccountId: optString,
});

/** CloudTrail record format versions we understand: 1.0x (the documented major version). */
const SUPPORTED_VERSION = /^1\.\d{1,3}$/;

/**
 * Normalises one CloudTrail record (an S3 log file `Records[]` element, or a parsed
 * LookupEvents `CloudTrailEvent`). Never throws: bad input becomes a `rejected` outcome
 * with a reason a person can act on.
 */
export function normaliseRecord(value: unknown): Normalised {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'rejected', reason: 'record is not a JSON object' };
  }
  const v = value as Record<string, unknown>;
  // Cheap checks first: almost every record in an account is not one we watch.
  if (typeof v.eventSource === 'string' && v.eventSource !== ATHENA_EVENT_SOURCE) return { kind: 'ignored' };
  if (typeof v.eventName === 'string' && v.eventSource === ATHENA_EVENT_SOURCE && !isSparkEventName(v.eventName)) {
    return { kind: 'ignored' };
  }
  const parsed = recordSchema.safeParse(v);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    return { kind: 'rejected', reason: `invalid record: ${where}${issue.message}` };
  }
  const r = parsed.data;
  if (!SUPPORTED_VERSION.test(r.eventVersion)) {
    return { kind: 'rejected', reason: `unknown event version ${JSON.stringify(r.eventVersion.slice(0, 20))}` };
  }
  const eventTime = Date.parse(r.eventTime);
  if (!Number.isFinite(eventTime)) return { kind: 'rejected', reason: `invalid eventTime ${JSON.stringify(r.eventTime.slice(0, 40))}` };

  const req = r.requestParameters ?? {};
  const res = r.responseElements ?? {};
  const ui = r.userIdentity ?? {};
  const errorCode = r.errorCode ?? null;
  const principal = readablePrincipal(ui);
  const principalType = ui.type ? ui.type.slice(0, 32) : ui.invokedBy ? 'AWSService' : null;

  const executorSession = principal.startsWith(EXECUTOR_PREFIX) ? principal.slice(EXECUTOR_PREFIX.length) : null;
  const rawSession =
    (r.eventName === 'StartSession' ? res.sessionId : null) ?? req.sessionId ?? executorSession ?? null;
  const sessionId = rawSession && isWellFormedSessionId(rawSession) ? rawSession.toLowerCase() : null;

  const engine = req.engineConfiguration ?? undefined;
  const detail: EventDetail = {};
  if (res.state) detail.state = res.state.slice(0, 32);
  if (r.eventName === 'StartSession') {
    if (engine?.maxConcurrentDpus != null) detail.maxConcurrentDpus = engine.maxConcurrentDpus;
    if (engine?.coordinatorDpuSize != null) detail.coordinatorDpuSize = engine.coordinatorDpuSize;
    if (engine?.defaultExecutorDpuSize != null) detail.defaultExecutorDpuSize = engine.defaultExecutorDpuSize;
    if (req.sessionIdleTimeoutInMinutes != null) detail.idleTimeoutMinutes = req.sessionIdleTimeoutInMinutes;
    if (req.notebookVersion) detail.notebookVersion = req.notebookVersion.slice(0, 128);
    const tags = readTags(req.tags);
    if (tags) detail.tags = tags;
  }
  if ((r.eventName === 'ImportNotebook' || r.eventName === 'CreateNotebook') && req.name) {
    detail.notebookName = req.name.slice(0, 256);
    if (req.type) detail.notebookType = req.type.slice(0, 32);
  }
  if (errorCode && r.errorMessage) detail.errorMessage = r.errorMessage.slice(0, 500);
  if (r.sourceIPAddress) detail.sourceIp = r.sourceIPAddress.slice(0, 64);
  if (ui.accessKeyId) detail.accessKeyId = ui.accessKeyId.slice(0, 64);

  const notebookId =
    res.notebookId ?? req.notebookId ?? (r.eventName === 'StartSession' ? engine?.additionalConfigs?.NotebookId : null) ?? null;

  const event: NotebookEvent = {
    eventId: r.eventID,
    eventName: r.eventName,
    eventTime,
    region: r.awsRegion,
    account: accountOf(r.recipientAccountId ?? ui.accountId),
    sessionId,
    calculationId: (res.calculationExecutionId ?? req.calculationExecutionId)?.slice(0, 128) ?? null,
    notebookId: notebookId ? notebookId.slice(0, 128) : null,
    workgroup: req.workGroup ? req.workGroup.slice(0, 128) : null,
    principal: principal.slice(0, 256),
    principalType,
    principalArn: ui.arn ? ui.arn.slice(0, 512) : null,
    errorCode: errorCode ? errorCode.slice(0, 128) : null,
    readOnly: r.readOnly === true || r.readOnly === 'true',
    botAgent: typeof r.userAgent === 'string' && BOT_AGENT.test(r.userAgent),
    detail,
  };
  return { kind: 'event', event };
}

const ACCOUNT_ID = /^\d{12}$/;

function accountOf(v: string | null | undefined): string | null {
  return v && ACCOUNT_ID.test(v) ? v : null;
}

/** StartSession's `tags` (`[{key, value}]`); malformed entries are skipped, not fatal. */
function readTags(raw: unknown[] | null | undefined): Record<string, string> | undefined {
  if (!raw?.length) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const t of raw) {
    const parsed = tagSchema.safeParse(t);
    if (!parsed.success || n >= 50) continue;
    out[parsed.data.key.slice(0, 128)] = (parsed.data.value ?? '').slice(0, 256);
    n++;
  }
  return n ? out : undefined;
}

/** The user agent the bot's SDK clients send (`athena-session-bot/<version>`), anywhere in the header. */
const BOT_AGENT = /(^|[\s(])athena-session-bot\/\d/;

/** A name a person recognises, for every `userIdentity` type CloudTrail documents. */
function readablePrincipal(ui: z.infer<typeof userIdentitySchema>): string {
  switch (ui.type) {
    case 'IAMUser':
    case 'WebIdentityUser':
    case 'SAMLUser':
      if (ui.userName) return ui.userName;
      break;
    case 'Root':
      return 'root';
    case 'AWSAccount':
      if (ui.accountId) return `account ${ui.accountId}`;
      break;
    case 'IdentityCenterUser':
      if (ui.onBehalfOf?.userId) return ui.onBehalfOf.userId;
      break;
    case 'AWSService':
      if (ui.invokedBy) return ui.invokedBy;
      break;
  }
  // No type at all, only the service that acted (some service-initiated records).
  if (!ui.type && ui.invokedBy) return ui.invokedBy;
  if (ui.arn) {
    const slash = ui.arn.lastIndexOf('/');
    if (slash >= 0) return ui.arn.slice(slash + 1);
  }
  if (ui.principalId) {
    const colon = ui.principalId.indexOf(':');
    return colon >= 0 ? ui.principalId.slice(colon + 1) : ui.principalId;
  }
  return 'unknown';
}

const lookupEventSchema = z.looseObject({
  EventId: optString,
  EventTime: z.union([z.number(), z.string(), z.date()]).optional().nullable(),
  CloudTrailEvent: z.string({ error: 'CloudTrailEvent missing or not a string' }),
});

/**
 * Normalises one LookupEvents item (API: EventTime in epoch seconds; AWS CLI v2 output:
 * ISO 8601; the SDK: a Date). The record inside `CloudTrailEvent` is authoritative.
 */
export function normaliseLookupEvent(value: unknown): Normalised {
  const parsed = lookupEventSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: 'rejected', reason: `invalid LookupEvents item: ${issue.path.join('.') || 'item'}: ${issue.message}` };
  }
  let inner: unknown;
  try {
    inner = JSON.parse(parsed.data.CloudTrailEvent);
  } catch {
    return { kind: 'rejected', reason: 'CloudTrailEvent is not valid JSON' };
  }
  return normaliseRecord(inner);
}

/** Parses and normalises the JSON text of one file element (see sources/files). */
export function normaliseText(text: string, format: 'records' | 'events'): Normalised {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'rejected', reason: 'element is not valid JSON' };
  }
  return format === 'events' ? normaliseLookupEvent(value) : normaliseRecord(value);
}
