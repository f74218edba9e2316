import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { AssumeRoleError } from '../../util/errors.js';
import { isRetryableAwsError } from '../../util/retry.js';
import { awsClientConfig } from '../aws-client-config.js';

/**
 * The role session name of every AssumeRole: the bot's principal in each watched account is
 * then always `arn:aws:sts::<account>:assumed-role/<role>/athena-session-bot`, one ARN that its
 * own calls coming back through CloudTrail are recognised by (the SDK's default name changes
 * with every refresh).
 */
export const ROLE_SESSION_NAME = 'athena-session-bot';

/**
 * Credentials are refreshed when less than this is left. It is the SDK clients' own window, so
 * when a client asks for new credentials, new ones are fetched rather than the cached ones
 * handed back for it to ask again on every request.
 */
export const REFRESH_BEFORE_MS = 5 * 60_000;

/** A refusal (AccessDenied, a trust without this account) is not asked again sooner: every target of the account would ask. */
export const REFUSED_RETRY_MS = 60_000;

/** After STS failed a refresh, the credentials in hand are used this long before STS is asked again. */
export const REFRESH_RETRY_MS = 10_000;

/** Credentials within this of expiry are not handed out even when a refresh failed. */
const LAST_USABLE_MS = 15_000;

/**
 * What one AssumeRole gave. A failure says until when the credentials in hand still work
 * (`usableUntil`, a failed refresh) or that there are none (null: the account cannot be used).
 */
export type AssumeOutcome = { ok: true; expiresAt: number | null } | { ok: false; error: AssumeRoleError; usableUntil: number | null };

export interface RoleCredentialsOptions {
  roleArn: string;
  account: string;
  /** AWS_ROLE_EXTERNAL_ID: sent with every AssumeRole (the role's trust policy asks for it). */
  externalId?: string;
  /** The STS endpoint's region (a regional endpoint; AWS_ENDPOINT_URL_STS overrides it). */
  stsRegion: string;
  quick?: boolean;
  /** Real time: expiry is compared with it, as the SDK compares it. */
  now?: () => number;
  /** Told of every AssumeRole outcome. */
  onAssume?: (outcome: AssumeOutcome) => void;
  /** How long a failed refresh waits before STS is asked again (default REFRESH_RETRY_MS). */
  refreshRetryMs?: number;
}

/** One watched account's credentials: its role, assumed on first use and again before expiry. */
export interface RoleCredentials {
  readonly roleArn: string;
  readonly account: string;
  /** For the SDK clients of this account's targets. Concurrent callers share one AssumeRole. */
  readonly provider: AwsCredentialIdentityProvider;
  /**
   * AWS refused `used` as expired although they looked valid here (the clocks disagree): forget
   * them, so that the next use assumes the role again. Newer credentials are kept.
   */
  expire(used: AwsCredentialIdentity | undefined): void;
}

/**
 * Assumes a role through STS with `fromTemporaryCredentials` (@aws-sdk/credential-providers),
 * with the bot's client settings and a fixed session name, and caches the credentials until
 * REFRESH_BEFORE_MS before they expire. A failed refresh keeps handing out the old credentials
 * while they last (asking STS again after REFRESH_RETRY_MS); a refused AssumeRole is remembered
 * for REFUSED_RETRY_MS.
 */
export function createRoleCredentials(o: RoleCredentialsOptions): RoleCredentials {
  const now = o.now ?? Date.now;
  let assume: AwsCredentialIdentityProvider | undefined;
  let cached: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  let refused: { error: AssumeRoleError; until: number } | undefined;
  let retryRefreshAt = 0;

  const left = (c: AwsCredentialIdentity) => (c.expiration ? c.expiration.getTime() - now() : Infinity);
  const usable = (c: AwsCredentialIdentity | undefined): c is AwsCredentialIdentity => c !== undefined && left(c) > LAST_USABLE_MS;

  async function assumeRole(): Promise<AwsCredentialIdentity> {
    try {
      if (!assume) {
        const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
        assume = fromTemporaryCredentials({
          params: { RoleArn: o.roleArn, RoleSessionName: ROLE_SESSION_NAME, ...(o.externalId ? { ExternalId: o.externalId } : {}) },
          clientConfig: awsClientConfig(o.stsRegion, { quick: o.quick }),
        });
      }
      const credentials = await assume();
      cached = credentials;
      refused = undefined;
      o.onAssume?.({ ok: true, expiresAt: credentials.expiration?.getTime() ?? null });
      return credentials;
    } catch (err) {
      const error = err instanceof AssumeRoleError ? err : new AssumeRoleError(o.roleArn, o.account, err);
      if (!isRetryableAwsError(err)) refused = { error, until: now() + REFUSED_RETRY_MS };
      else if (usable(cached)) retryRefreshAt = now() + (o.refreshRetryMs ?? REFRESH_RETRY_MS);
      o.onAssume?.({ ok: false, error, usableUntil: usable(cached) ? (cached.expiration?.getTime() ?? null) : null });
      throw error;
    }
  }

  const provider: AwsCredentialIdentityProvider = async () => {
    if (cached && left(cached) > REFRESH_BEFORE_MS) return cached;
    if (refused && now() < refused.until) {
      if (usable(cached)) return cached;
      throw refused.error;
    }
    // STS failed a refresh moments ago: the credentials in hand still work; ask again a little later.
    if (usable(cached) && now() < retryRefreshAt) return cached;
    pending ??= assumeRole().finally(() => (pending = undefined));
    try {
      return await pending;
    } catch (err) {
      if (usable(cached)) return cached;
      throw err;
    }
  };

  return {
    roleArn: o.roleArn,
    account: o.account,
    provider,
    expire(used) {
      if (used === undefined || used === cached) cached = undefined;
    },
  };
}
