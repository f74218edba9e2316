import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Accounts } from './accounts.js';
import { targetKey, type AwsTarget } from './targets.js';

/** One SDK client per target, signed with its account's credentials. */
export interface TargetClients<C> {
  /**
   * The target's client, once its account's credentials are in hand: a role that cannot be
   * assumed fails here (AssumeRoleError), before a request is counted or takes a rate-limit slot.
   */
  get(target: AwsTarget): Promise<C>;
  /**
   * AWS refused `target`'s credentials as expired: the client is dropped (an SDK client keeps
   * its credentials until it thinks they expire) and its account's cached credentials with it,
   * so the next call builds a client that gets new ones.
   */
  renew(target: AwsTarget): void;
}

/**
 * Builds each target's client on first use with its account's role credentials (none for the
 * default account: the SDK's chain), remembering which credentials it signed with so that
 * `renew` forgets exactly those, not newer ones another client already fetched.
 */
export function targetClients<C>(make: (target: AwsTarget, credentials: AwsCredentialIdentityProvider | undefined) => Promise<C>, accounts?: Pick<Accounts, 'credentials'>): TargetClients<C> {
  const clients = new Map<string, { client: Promise<C>; used?: AwsCredentialIdentity }>();
  return {
    async get(target) {
      const key = targetKey(target);
      const role = accounts?.credentials(target.account);
      let entry = clients.get(key);
      if (!entry) {
        const e: { client?: Promise<C>; used?: AwsCredentialIdentity } = {};
        const credentials: AwsCredentialIdentityProvider | undefined = role && (async () => (e.used = await role.provider()));
        e.client = make(target, credentials);
        clients.set(key, (entry = e as { client: Promise<C>; used?: AwsCredentialIdentity }));
      }
      // Cached until they near expiry: this only assumes the role when the client would.
      if (role) await role.provider();
      return entry.client;
    },
    renew(target) {
      const key = targetKey(target);
      const entry = clients.get(key);
      if (!entry) return;
      clients.delete(key);
      accounts?.credentials(target.account)?.expire(entry.used);
    },
  };
}
