/**
 * Builders for CloudTrail records of Athena's Spark/notebook API, shaped exactly like the
 * records in AWS's "Using CloudTrail to troubleshoot Athena notebook API calls" page
 * (copied facts; nothing here reads outside the project). Used by tests, the AWS fake
 * and the workload generator, so they are written to be cheap to call a million times.
 */
export const ACCOUNT_ID = '123456789012';
export const EXECUTION_ROLE = 'AWSAthenaSparkExecutionRole-om0yj71w5l';
export const EXAMPLE_KEY_ID = 'ASIAEXAMPLEKEYID0001';
export const EXAMPLE_IP = '203.0.113.10';

/**
 * Who made a call. `account` defaults to ACCOUNT_ID; the optional ids default to the example
 * ids of AWS's documentation page, so records stay identical to the reference unless a test
 * (or the AWS fake, for the principals it serves) names them.
 */
export type Actor =
  | {
      kind: 'assumed-role';
      role: string;
      sessionName: string;
      account?: string;
      /** IAM path of the role (`service-role/`), kept in the session issuer's ARN only, as IAM does. */
      rolePath?: string;
      /** The role's unique id (`AROA…`). */
      roleId?: string;
      /** When the role session's credentials were issued (ISO 8601). */
      issuedAt?: string;
    }
  | { kind: 'iam-user'; userName: string; account?: string; userId?: string }
  | { kind: 'executor'; sessionId: string; account?: string }
  | { kind: 'root'; account?: string };

export const human = (sessionName: string, role = 'Admin'): Actor => ({ kind: 'assumed-role', role, sessionName });
export const iamUser = (userName: string): Actor => ({ kind: 'iam-user', userName });
export const executor = (sessionId: string): Actor => ({ kind: 'executor', sessionId });

/**
 * The actor an IAM or STS principal ARN names: `arn:aws:sts::A:assumed-role/R/S`,
 * `arn:aws:iam::A:user/[path/]U`, `arn:aws:iam::A:root`. Undefined for anything else.
 */
export function actorFromArn(arn: string): Actor | undefined {
  const m = /^arn:aws[a-z-]*:(sts|iam)::(\d{12}):(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, service, account, resource] = m as unknown as [string, string, string, string];
  if (service === 'sts') {
    const r = /^assumed-role\/([^/]+)\/([^/]+)$/.exec(resource);
    return r ? { kind: 'assumed-role', role: r[1]!, sessionName: r[2]!, account } : undefined;
  }
  if (resource === 'root') return { kind: 'root', account };
  const u = /^user\/(?:.*\/)?([^/]+)$/.exec(resource);
  return u ? { kind: 'iam-user', userName: u[1]!, account } : undefined;
}

/** The ARN CloudTrail shows for an actor (an assumed role's ARN carries no role path). */
export function actorArn(actor: Actor): string {
  const account = actor.account ?? ACCOUNT_ID;
  switch (actor.kind) {
    case 'iam-user':
      return `arn:aws:iam::${account}:user/${actor.userName}`;
    case 'root':
      return `arn:aws:iam::${account}:root`;
    case 'executor':
      return `arn:aws:sts::${account}:assumed-role/${EXECUTION_ROLE}/AthenaExecutor-${actor.sessionId}`;
    default:
      return `arn:aws:sts::${account}:assumed-role/${actor.role}/${actor.sessionName}`;
  }
}

export interface RecordInput {
  eventName: string;
  eventTime: Date | string | number;
  actor: Actor;
  region?: string;
  eventId?: string;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  readOnly?: boolean;
  eventSource?: string;
  eventVersion?: string;
  sourceIPAddress?: string;
  accessKeyId?: string;
  /** The SDK's or browser's `User-Agent`; default: the console's, or boto3's for an executor. */
  userAgent?: string;
  /** Default: a fresh id. */
  requestId?: string;
  /** `tlsDetails.clientProvidedHostHeader`; default `athena.<region>.amazonaws.com`. */
  host?: string;
}

export type CloudTrailRecord = Record<string, unknown> & {
  eventID: string;
  eventName: string;
  eventTime: string;
  awsRegion: string;
};

let counter = 0;
/** A deterministic, well-formed UUID-shaped id; `seed` keeps ids stable across runs. */
export function fakeUuid(seed?: number): string {
  const n = seed ?? ++counter;
  const hex = (n >>> 0).toString(16).padStart(8, '0');
  const hi = Math.floor(n / 2 ** 32).toString(16).padStart(4, '0').slice(-4);
  return `${hex}-${hi}-4000-8000-${hex}${hi}`;
}

export function isoSeconds(t: Date | string | number): string {
  const d = t instanceof Date ? t : new Date(t);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function identity(actor: Actor, accessKeyId: string): Record<string, unknown> {
  const account = actor.account ?? ACCOUNT_ID;
  if (actor.kind === 'iam-user') {
    return {
      type: 'IAMUser',
      principalId: actor.userId ?? 'AIDAEXAMPLEPRINCIPAL',
      arn: actorArn(actor),
      accountId: account,
      accessKeyId,
      userName: actor.userName,
    };
  }
  if (actor.kind === 'root') {
    return { type: 'Root', principalId: account, arn: actorArn(actor), accountId: account, accessKeyId };
  }
  const role = actor.kind === 'executor' ? EXECUTION_ROLE : actor.role;
  const sessionName = actor.kind === 'executor' ? `AthenaExecutor-${actor.sessionId}` : actor.sessionName;
  const rolePath = actor.kind === 'executor' ? 'service-role/' : (actor.rolePath ?? '');
  const roleId = (actor.kind === 'assumed-role' && actor.roleId) || 'AROAEXAMPLEPRINCIPAL';
  const issuedAt = (actor.kind === 'assumed-role' && actor.issuedAt) || '2022-10-14T16:41:51Z';
  return {
    type: 'AssumedRole',
    principalId: `${roleId}:${sessionName}`,
    arn: actorArn(actor),
    accountId: account,
    accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: roleId,
        arn: `arn:aws:iam::${account}:role/${rolePath}${role}`,
        accountId: account,
        userName: role,
      },
      webIdFederationData: {},
      attributes: { creationDate: issuedAt, mfaAuthenticated: 'false' },
    },
  };
}

const CONSOLE_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/106.0.0.0 Safari/537.36';
const EXECUTOR_AGENT = 'Boto3/1.24.84 Python/3.8.14 Linux/4.14.225-175.364.amzn2.aarch64 Botocore/1.27.84';

/** One CloudTrail record, in the shape AWS delivers (S3 log `Records[]` element). */
export function record(input: RecordInput): CloudTrailRecord {
  const region = input.region ?? 'us-east-1';
  const out: Record<string, unknown> = {
    eventVersion: input.eventVersion ?? '1.08',
    userIdentity: identity(input.actor, input.accessKeyId ?? EXAMPLE_KEY_ID),
    eventTime: isoSeconds(input.eventTime),
    eventSource: input.eventSource ?? 'athena.amazonaws.com',
    eventName: input.eventName,
    awsRegion: region,
    sourceIPAddress: input.sourceIPAddress ?? EXAMPLE_IP,
    userAgent: input.userAgent ?? (input.actor.kind === 'executor' ? EXECUTOR_AGENT : CONSOLE_AGENT),
  };
  if (input.errorCode) {
    out.errorCode = input.errorCode;
    out.errorMessage = input.errorMessage ?? `${input.errorCode} for ${input.eventName}`;
  }
  out.requestParameters = input.requestParameters ?? null;
  out.responseElements = input.errorCode ? null : (input.responseElements ?? null);
  out.requestID = input.requestId ?? fakeUuid();
  out.eventID = input.eventId ?? fakeUuid();
  out.readOnly = input.readOnly ?? /^(Get|List|Export)/.test(input.eventName);
  out.eventType = 'AwsApiCall';
  out.managementEvent = true;
  out.recipientAccountId = input.actor.account ?? ACCOUNT_ID;
  out.eventCategory = 'Management';
  out.tlsDetails = {
    tlsVersion: 'TLSv1.2',
    cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
    clientProvidedHostHeader: input.host ?? `athena.${region}.amazonaws.com`,
  };
  return out as CloudTrailRecord;
}

type Common = Pick<RecordInput, 'eventTime' | 'region' | 'eventId' | 'errorCode' | 'errorMessage'>;

export function startSession(
  o: Common & {
    sessionId: string;
    actor?: Actor;
    workGroup?: string;
    maxConcurrentDpus?: number;
    coordinatorDpuSize?: number;
    defaultExecutorDpuSize?: number;
    notebookId?: string | null;
    idleTimeoutMinutes?: number;
    notebookVersion?: string;
    /** StartSession's `tags` request parameter (key → value). */
    tags?: Record<string, string>;
  },
): CloudTrailRecord {
  const additionalConfigs: Record<string, string> = {};
  if (o.notebookId !== null) {
    additionalConfigs.NotebookId = o.notebookId ?? 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04';
    additionalConfigs.NotebookIframeParentUrl = `https://${o.region ?? 'us-east-1'}.console.aws.amazon.com`;
  }
  return record({
    ...o,
    eventName: 'StartSession',
    actor: o.actor ?? human('alias'),
    requestParameters: {
      workGroup: o.workGroup ?? 'notebook-workgroup',
      engineConfiguration: {
        coordinatorDpuSize: o.coordinatorDpuSize ?? 1,
        maxConcurrentDpus: o.maxConcurrentDpus ?? 20,
        defaultExecutorDpuSize: o.defaultExecutorDpuSize ?? 1,
        ...(o.notebookId === null ? {} : { additionalConfigs }),
      },
      ...(o.notebookId === null ? {} : { notebookVersion: o.notebookVersion ?? 'KeplerJupyter-1.x' }),
      sessionIdleTimeoutInMinutes: o.idleTimeoutMinutes ?? 20,
      clientRequestToken: fakeUuid(),
      ...(o.tags ? { tags: Object.entries(o.tags).map(([key, value]) => ({ key, value })) } : {}),
    },
    responseElements: { sessionId: o.sessionId, state: 'CREATED' },
  });
}

export function terminateSession(o: Common & { sessionId: string; actor?: Actor }): CloudTrailRecord {
  return record({
    ...o,
    eventName: 'TerminateSession',
    actor: o.actor ?? human('alias'),
    requestParameters: { sessionId: o.sessionId },
    responseElements: { state: 'TERMINATING' },
  });
}

export function startCalculation(
  o: Common & { sessionId: string; calculationId: string; actor?: Actor; description?: string },
): CloudTrailRecord {
  return record({
    ...o,
    eventName: 'StartCalculationExecution',
    actor: o.actor ?? executor(o.sessionId),
    requestParameters: {
      sessionId: o.sessionId,
      description: o.description ?? 'Calculation started via Jupyter notebook',
      codeBlock: 'HIDDEN_FOR_SECURITY_REASONS',
      clientRequestToken: fakeUuid(),
    },
    responseElements: { calculationExecutionId: o.calculationId, state: 'CREATING' },
  });
}

export function stopCalculation(
  o: Common & { calculationId: string; sessionId?: string; actor?: Actor },
): CloudTrailRecord {
  return record({
    ...o,
    eventName: 'StopCalculationExecution',
    actor: o.actor ?? (o.sessionId ? executor(o.sessionId) : human('alias')),
    requestParameters: { calculationExecutionId: o.calculationId },
    responseElements: { state: 'CANCELING' },
  });
}

export function importNotebook(
  o: Common & { notebookId: string; actor?: Actor; workGroup?: string; name?: string },
): CloudTrailRecord {
  return record({
    ...o,
    eventName: 'ImportNotebook',
    actor: o.actor ?? human('alias'),
    requestParameters: {
      workGroup: o.workGroup ?? 'notebook-workgroup',
      name: o.name ?? 'example-notebook-name',
      payload: 'HIDDEN_FOR_SECURITY_REASONS',
      type: 'IPYNB',
      contentMD5: 'HIDDEN_FOR_SECURITY_REASONS',
    },
    responseElements: { notebookId: o.notebookId },
  });
}

export function createNotebook(
  o: Common & { notebookId: string; actor?: Actor; workGroup?: string; name?: string },
): CloudTrailRecord {
  return record({
    ...o,
    eventName: 'CreateNotebook',
    actor: o.actor ?? human('alias'),
    requestParameters: { workGroup: o.workGroup ?? 'notebook-workgroup', name: o.name ?? 'new-notebook', clientRequestToken: fakeUuid() },
    responseElements: { notebookId: o.notebookId },
  });
}

export function updateNotebook(o: Common & { notebookId: string; sessionId: string; actor?: Actor }): CloudTrailRecord {
  return record({
    ...o,
    eventName: 'UpdateNotebook',
    actor: o.actor ?? executor(o.sessionId),
    requestParameters: {
      notebookId: o.notebookId,
      payload: 'HIDDEN_FOR_SECURITY_REASONS',
      type: 'IPYNB',
      contentMD5: 'HIDDEN_FOR_SECURITY_REASONS',
      sessionId: o.sessionId,
    },
    responseElements: null,
  });
}

/** Any other notebook/Spark call; `params` are its lowerCamel request parameters. */
export function call(
  eventName: string,
  o: Common & { actor: Actor; params?: Record<string, unknown>; response?: Record<string, unknown> | null; readOnly?: boolean },
): CloudTrailRecord {
  return record({
    ...o,
    eventName,
    actor: o.actor,
    requestParameters: o.params ?? null,
    responseElements: o.response ?? null,
    readOnly: o.readOnly,
  });
}

/** The same record as an item of a LookupEvents response (API shape: EventTime in epoch seconds). */
export function toLookupEvent(r: CloudTrailRecord): Record<string, unknown> {
  const ui = r.userIdentity as Record<string, unknown>;
  const arn = String(ui.arn ?? '');
  const username = ui.type === 'IAMUser' ? ui.userName : ui.type === 'Root' ? 'root' : arn.slice(arn.lastIndexOf('/') + 1);
  return {
    EventId: r.eventID,
    EventName: r.eventName,
    ReadOnly: String(r.readOnly),
    AccessKeyId: ui.accessKeyId,
    EventTime: Date.parse(r.eventTime) / 1000,
    EventSource: r.eventSource,
    Username: username,
    Resources: [],
    CloudTrailEvent: JSON.stringify(r),
  };
}

/** The six records of AWS's documentation page, with their original ids and times. */
export function referenceRecords(): CloudTrailRecord[] {
  const notebookSession = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
  const executorSession = '9cc1ebb2-aac5-b1ca-8247-5d827bd8232f';
  return [
    startSession({
      sessionId: notebookSession,
      eventTime: '2022-10-14T17:05:36Z',
      eventId: 'b58ce998-eb89-43e9-8d67-d3d8e30561c9',
      actor: human('alias'),
    }),
    terminateSession({
      sessionId: notebookSession,
      eventTime: '2022-10-14T17:21:03Z',
      eventId: '49026c5a-bf58-4cdb-86ca-978e711ad238',
    }),
    importNotebook({
      notebookId: '05f6225d-bdcc-4935-bc25-a8e19434652d',
      eventTime: '2022-10-14T17:08:54Z',
      eventId: '4abec837-143b-4458-9c1f-fa9fb88ab69b',
    }),
    updateNotebook({
      notebookId: 'c87553ff-e740-44b5-884f-a70e575e08b9',
      sessionId: executorSession,
      eventTime: '2022-10-14T16:52:22Z',
      eventId: '745cdd6f-645d-4250-8831-d0ffd2fe3847',
    }),
    startCalculation({
      sessionId: executorSession,
      calculationId: '82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5',
      eventTime: '2022-10-14T16:52:37Z',
      eventId: 'b74dbd00-e839-4bd1-a1da-b75fbc70ab9a',
    }),
  ];
}
