/**
 * Who is calling the AWS fake: access key id → principal (account, ARN, ids), the way IAM
 * resolves SigV4 credentials. Long-term keys are configured (`identities`); temporary keys
 * are issued by the fake's STS AssumeRole, carry a session token and expire on the fake's
 * clock. Signatures are not verified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ACCOUNT_ID, actorArn, actorFromArn, isoSeconds, type Actor } from '../../support/cloudtrail-records.js';

export const DEFAULT_ACCESS_KEY_ID = 'AKIDFAKE';
export const DEFAULT_PRINCIPAL_ARN = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/athena-session-bot/bot`;

/** A configured long-term identity: its account and its principal's ARN (user, assumed role or root). */
export interface IdentityInput {
  account: string;
  arn: string;
}

export interface Principal {
  accessKeyId: string;
  account: string;
  arn: string;
  type: 'AssumedRole' | 'IAMUser' | 'Root';
  /** GetCallerIdentity's UserId: `AROA…:<session>`, `AIDA…`, or the account id for root. */
  userId: string;
  /** The actor of the CloudTrail records of its calls. */
  actor: Actor;
  /** Issued by AssumeRole: requests must carry this X-Amz-Security-Token. */
  sessionToken?: string;
  /** Fake-clock ms from which requests signed with these credentials are refused as expired. */
  expiresAt?: number;
}

/** Why a request's credentials were refused; each protocol words it its own way. */
export type CredentialProblem = 'unknown' | 'bad-token' | 'expired';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A stable IAM-style unique id (`AROA` / `AIDA` + 17 characters) for a role or user ARN. */
export function uniqueId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = prefix;
  for (let i = 0; out.length < prefix.length + 17; i++) out += BASE32[digest[i]! % 32];
  return out;
}

function randomKey(prefix: string): string {
  const bytes = randomBytes(16);
  let out = prefix;
  for (let i = 0; i < 16; i++) out += BASE32[bytes[i]! % 32];
  return out;
}

/** The principal an ARN names, with the ids IAM would give it. */
export function principalFor(
  accessKeyId: string,
  input: IdentityInput,
  o: { issuedAtMs: number; rolePath?: string; sessionToken?: string; expiresAt?: number },
): Principal {
  const parsed = actorFromArn(input.arn);
  if (!parsed) throw new Error(`aws-fake: ${input.arn} is not a user, assumed-role or root ARN`);
  if (parsed.account !== input.account) throw new Error(`aws-fake: ${input.arn} is not in account ${input.account}`);
  let actor: Actor;
  let userId: string;
  let type: Principal['type'];
  if (parsed.kind === 'assumed-role') {
    const roleId = uniqueId('AROA', `arn:aws:iam::${input.account}:role/${parsed.role}`);
    actor = { ...parsed, roleId, issuedAt: isoSeconds(o.issuedAtMs), ...(o.rolePath ? { rolePath: o.rolePath } : {}) };
    userId = `${roleId}:${parsed.sessionName}`;
    type = 'AssumedRole';
  } else if (parsed.kind === 'iam-user') {
    const id = uniqueId('AIDA', input.arn);
    actor = { ...parsed, userId: id };
    userId = id;
    type = 'IAMUser';
  } else {
    actor = parsed;
    userId = input.account;
    type = 'Root';
  }
  const p: Principal = { accessKeyId, account: input.account, arn: actorArn(actor), type, userId, actor };
  if (o.sessionToken !== undefined) p.sessionToken = o.sessionToken;
  if (o.expiresAt !== undefined) p.expiresAt = o.expiresAt;
  return p;
}

/** The identity registry: configured keys, issued temporary keys, and how requests resolve. */
export function createPrincipals(o: { now: () => number; identities?: Record<string, IdentityInput>; strict: boolean }) {
  const configured = new Map<string, Principal>();
  const issued = new Map<string, Principal & { secretAccessKey: string }>();

  function configure(): void {
    configured.clear();
    const all = { [DEFAULT_ACCESS_KEY_ID]: { account: ACCOUNT_ID, arn: DEFAULT_PRINCIPAL_ARN }, ...o.identities };
    for (const [key, input] of Object.entries(all)) configured.set(key, principalFor(key, input, { issuedAtMs: o.now() }));
  }
  configure();

  return {
    add(accessKeyId: string, input: IdentityInput): void {
      configured.set(accessKeyId, principalFor(accessKeyId, input, { issuedAtMs: o.now() }));
    },

    /** Temporary credentials for an assumed role, as AssumeRole hands them out. */
    issue(roleArn: string, sessionName: string, lifetimeMs: number): Principal & { secretAccessKey: string } {
      const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(.*?)([^/]+)$/.exec(roleArn);
      if (!m) throw new Error(`aws-fake: ${roleArn} is not a role ARN`);
      const [, account, rolePath, roleName] = m as unknown as [string, string, string, string];
      const accessKeyId = randomKey('ASIA');
      const issuedAtMs = o.now();
      const principal = principalFor(
        accessKeyId,
        { account, arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}` },
        {
          issuedAtMs,
          rolePath,
          sessionToken: `FwoGZXIvYXdzE${randomBytes(96).toString('base64')}`,
          expiresAt: issuedAtMs + lifetimeMs,
        },
      );
      const full = { ...principal, secretAccessKey: randomBytes(30).toString('base64') };
      issued.set(accessKeyId, full);
      return full;
    },

    /**
     * The principal behind a request's access key, or why it is refused. Unknown long-term keys
     * act as the default identity unless `strict` (older tests sign with any key).
     */
    resolve(accessKeyId: string, sessionToken: string | undefined): Principal | CredentialProblem {
      const temporary = issued.get(accessKeyId);
      if (temporary) {
        if (sessionToken !== temporary.sessionToken) return 'bad-token';
        if (o.now() >= temporary.expiresAt!) return 'expired';
        const { secretAccessKey: _secret, ...principal } = temporary;
        return principal;
      }
      const known = configured.get(accessKeyId);
      if (known) return known;
      if (o.strict) return 'unknown';
      return { ...configured.get(DEFAULT_ACCESS_KEY_ID)!, accessKeyId };
    },

    reset(): void {
      issued.clear();
      configure();
    },
  };
}

export type Principals = ReturnType<typeof createPrincipals>;
