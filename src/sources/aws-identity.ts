import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Store } from '../store/store.js';
import { AssumeRoleError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { Accounts } from './accounts/accounts.js';
import { awsClientConfig } from './aws-client-config.js';

export interface BotIdentity {
  account: string;
  arn: string;
}

/**
 * Asks STS who the bot runs as (GetCallerIdentity) and remembers the principal, so that its own
 * calls coming back through CloudTrail are set apart even without its user agent (SPEC §2).
 * With `credentials` (a watched account's role) it is the bot's principal in that account.
 * A failure is one warning line: the user agent alone still recognises the bot's calls.
 */
export async function learnBotIdentity(d: { store: Store; logger: Logger; region: string; credentials?: AwsCredentialIdentityProvider }): Promise<BotIdentity | undefined> {
  try {
    const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const client = new STSClient(awsClientConfig(d.region, { quick: true, credentials: d.credentials }));
    try {
      const out = await client.send(new GetCallerIdentityCommand({}));
      if (!out.Arn || !out.Account) throw new Error('STS gave no ARN');
      const moved = d.store.addBotPrincipal(out.Arn);
      d.logger.info({ account: out.Account, arn: out.Arn, ...(moved ? { earlierCallsSetApart: moved } : {}) }, 'running as this AWS principal; its own calls in CloudTrail are set apart');
      return { account: out.Account, arn: out.Arn };
    } finally {
      client.destroy();
    }
  } catch (err) {
    // A role that cannot be assumed has been logged once already, with its account.
    if (!(err instanceof AssumeRoleError)) {
      d.logger.warn({ error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) }, "could not ask STS who the bot is; its own calls are still recognised by the bot's user agent");
    }
    return undefined;
  }
}

/**
 * The bot's principal in every watched account (issue 12): GetCallerIdentity with each role's
 * credentials, all at once, so that each account's trail sets the bot's calls apart. Without
 * AWS_ROLE_ARNS, the default credentials' principal, whose account then bounds where Athena is
 * asked (a session recorded in another account is not that account's to answer).
 */
export async function learnBotIdentities(d: { store: Store; logger: Logger; accounts: Accounts; region: string }): Promise<BotIdentity[]> {
  if (d.accounts.mode === 'default') {
    const identity = await learnBotIdentity(d);
    if (identity) d.accounts.defaultAccountId = identity.account;
    return identity ? [identity] : [];
  }
  const learned = await Promise.all(
    d.accounts.status().map((s) => learnBotIdentity({ ...d, credentials: d.accounts.credentials(s.account)!.provider })),
  );
  return learned.filter((x): x is BotIdentity => x !== undefined);
}
