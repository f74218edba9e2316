import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { USER_AGENT } from '../version.js';

/** Timeouts: interactive commands must not wait long for an AWS that cannot be reached. */
export interface AwsClientTimeouts {
  quick?: boolean;
}

export interface AwsClientOptions extends AwsClientTimeouts {
  requestTimeoutMs?: number;
  /** A watched account's role credentials; absent: the SDK's default chain (one account). */
  credentials?: AwsCredentialIdentityProvider;
}

/**
 * What every AWS SDK client of the bot is built with: its own user agent (its calls come back
 * as CloudTrail records, and this is how they are recognised), the SDK's retries off (callers
 * retry through their rate limiters), timeouts, and the credentials of the account it calls.
 */
export function awsClientConfig(region: string, o: AwsClientOptions = {}) {
  return {
    region,
    maxAttempts: 1,
    customUserAgent: USER_AGENT,
    requestHandler: { connectionTimeout: o.quick ? 1500 : 5000, requestTimeout: o.quick ? 4000 : (o.requestTimeoutMs ?? 20_000) },
    ...(o.credentials ? { credentials: o.credentials } : {}),
  };
}
