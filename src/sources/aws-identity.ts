import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { awsClientConfig } from './aws-client-config.js';

export interface BotIdentity {
  account: string;
  arn: string;
}

/**
 * Asks STS who the bot runs as (GetCallerIdentity) and remembers the principal, so that its own
 * calls coming back through CloudTrail are set apart even without its user agent (SPEC §2).
 * A failure is one warning line: the user agent alone still recognises the bot's calls.
 */
export async function learnBotIdentity(d: { store: Store; logger: Logger; region: string }): Promise<BotIdentity | undefined> {
  try {
    const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const client = new STSClient(awsClientConfig(d.region, { quick: true }));
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
    d.logger.warn({ error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300) }, "could not ask STS who the bot is; its own calls are still recognised by the bot's user agent");
    return undefined;
  }
}
