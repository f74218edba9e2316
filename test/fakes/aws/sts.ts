/**
 * AWS STS over the awsQuery protocol (form-encoded `Action=…&Version=2011-06-15`, XML
 * answers), as @aws-sdk/client-sts sends and parses it: GetCallerIdentity and AssumeRole,
 * with roles registered by the test (trust, external id, maximum session duration).
 */
import { isoSeconds } from '../../support/cloudtrail-records.js';
import type { Principal, Principals } from './principals.js';
import { ApiError } from './wire.js';

const STS_VERSION = '2011-06-15';
const XMLNS = `https://sts.amazonaws.com/doc/${STS_VERSION}/`;
const HOUR_MS = 3_600_000;

export interface RoleOptions {
  /** AssumeRole must present exactly this ExternalId. */
  externalId?: string;
  /** Accounts the trust policy lets assume the role; default: any caller. */
  trustedAccounts?: string[];
  /** The role's MaxSessionDuration (ms); default one hour, as IAM's. */
  maxSessionMs?: number;
}

interface Role extends RoleOptions {
  arn: string;
  account: string;
}

/** What a successful AssumeRole did, for the trail. */
export interface AssumedRole {
  roleArn: string;
  account: string;
  issued: Principal & { secretAccessKey: string };
  params: Record<string, string | number>;
}

export function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** The awsQuery error document (`ErrorResponse`), as STS sends it. */
export function stsErrorXml(e: ApiError, requestId: string): string {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return (
    `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(e.type)}</Code>\n` +
    `    <Message>${xmlEscape(e.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`
  );
}

function resultXml(action: string, inner: string, requestId: string): string {
  return (
    `<${action}Response xmlns="${XMLNS}">\n  <${action}Result>\n${inner}  </${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`
  );
}

const validation = (field: string, value: unknown, constraint: string): ApiError =>
  new ApiError(
    400,
    'ValidationError',
    `1 validation error detected: Value ${value === undefined ? 'null' : `'${String(value)}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
  );

export function createSts(o: { now: () => number; principals: Principals; credentialLifetimeMs?: () => number | undefined }) {
  const roles = new Map<string, Role>();

  function assumeRole(p: URLSearchParams, caller: Principal): { xml: string; assumed: AssumedRole } {
    const roleArn = p.get('RoleArn') ?? undefined;
    const sessionName = p.get('RoleSessionName') ?? undefined;
    const externalId = p.get('ExternalId') ?? undefined;
    const durationRaw = p.get('DurationSeconds') ?? undefined;
    if (roleArn === undefined) throw validation('roleArn', undefined, 'Member must not be null');
    if (roleArn.length < 20 || roleArn.length > 2048) throw validation('roleArn', roleArn, 'Member must have length greater than or equal to 20');
    if (sessionName === undefined) throw validation('roleSessionName', undefined, 'Member must not be null');
    if (sessionName.length < 2 || sessionName.length > 64) {
      throw validation('roleSessionName', sessionName, `Member must have length ${sessionName.length < 2 ? 'greater than or equal to 2' : 'less than or equal to 64'}`);
    }
    if (!/^[\w+=,.@-]*$/.test(sessionName)) {
      throw validation('roleSessionName', sessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
    }
    if (externalId !== undefined && (externalId.length < 2 || externalId.length > 1224 || !/^[\w+=,.@:/-]*$/.test(externalId))) {
      throw validation('externalId', externalId, 'Member must have length greater than or equal to 2');
    }
    let durationSeconds = 3600;
    if (durationRaw !== undefined) {
      durationSeconds = Number(durationRaw);
      if (!Number.isInteger(durationSeconds) || durationSeconds < 900) {
        throw validation('durationSeconds', durationRaw, 'Member must have value greater than or equal to 900');
      }
      if (durationSeconds > 43_200) throw validation('durationSeconds', durationRaw, 'Member must have value less than or equal to 43200');
    }
    const role = roles.get(roleArn);
    const denied = (): ApiError =>
      new ApiError(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    // IAM says AccessDenied alike for a role that does not exist, an untrusted caller and a
    // wrong external id: the caller cannot tell them apart.
    if (!role) throw denied();
    if (role.trustedAccounts && !role.trustedAccounts.includes(caller.account)) throw denied();
    if (role.externalId !== undefined && externalId !== role.externalId) throw denied();
    if (durationSeconds * 1000 > (role.maxSessionMs ?? HOUR_MS)) {
      throw new ApiError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    if (caller.type === 'AssumedRole' && caller.sessionToken !== undefined && durationSeconds > 3600) {
      throw new ApiError(400, 'ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    const lifetimeMs = o.credentialLifetimeMs?.() ?? durationSeconds * 1000;
    const issued = o.principals.issue(role.arn, sessionName, lifetimeMs);
    const inner =
      `    <AssumedRoleUser>\n      <Arn>${xmlEscape(issued.arn)}</Arn>\n      <AssumedRoleId>${issued.userId}</AssumedRoleId>\n    </AssumedRoleUser>\n` +
      `    <Credentials>\n      <AccessKeyId>${issued.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${xmlEscape(issued.secretAccessKey)}</SecretAccessKey>\n` +
      `      <SessionToken>${xmlEscape(issued.sessionToken!)}</SessionToken>\n      <Expiration>${isoSeconds(issued.expiresAt!)}</Expiration>\n    </Credentials>\n` +
      `    <PackedPolicySize>0</PackedPolicySize>\n`;
    const params: Record<string, string | number> = { roleArn, roleSessionName: sessionName };
    if (externalId !== undefined) params.externalId = externalId;
    if (durationRaw !== undefined) params.durationSeconds = durationSeconds;
    return { xml: inner, assumed: { roleArn: role.arn, account: role.account, issued, params } };
  }

  return {
    addRole(roleArn: string, opts: RoleOptions = {}): void {
      const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?[^/]+$/.exec(roleArn);
      if (!m) throw new Error(`aws-fake: ${roleArn} is not a role ARN`);
      roles.set(roleArn, { ...opts, arn: roleArn, account: m[1]! });
    },

    /** Answers one STS request; throws ApiError for error answers. */
    handle(body: string, caller: Principal, requestId: string): { action: string; xml: string; assumed?: AssumedRole } {
      const p = new URLSearchParams(body);
      const action = p.get('Action');
      if (!action) throw new ApiError(400, 'MissingAction', 'Missing Action');
      if (p.get('Version') !== STS_VERSION) {
        throw new ApiError(400, 'InvalidAction', `Could not find operation ${action} for version ${p.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
      }
      if (action === 'GetCallerIdentity') {
        const inner = `    <Arn>${xmlEscape(caller.arn)}</Arn>\n    <UserId>${caller.userId}</UserId>\n    <Account>${caller.account}</Account>\n`;
        return { action, xml: resultXml(action, inner, requestId) };
      }
      if (action === 'AssumeRole') {
        const { xml, assumed } = assumeRole(p, caller);
        return { action, xml: resultXml(action, xml, requestId), assumed };
      }
      throw new ApiError(400, 'InvalidAction', `Could not find operation ${action} for version ${STS_VERSION}`);
    },

    reset: () => roles.clear(),
  };
}

export type Sts = ReturnType<typeof createSts>;
