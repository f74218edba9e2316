import type { Logger } from '../../util/logger.js';
import { createRoleCredentials, type AssumeOutcome, type RoleCredentials } from './role-credentials.js';
import { accountOfRoleArn, DEFAULT_ACCOUNT, defaultTargets, type AwsTarget } from './targets.js';

export interface AccountsOptions {
  /** AWS_REGIONS: every account is watched in each. */
  regions: readonly string[];
  /** AWS_ROLE_ARNS: one role per watched account; empty = the default credentials' account only. */
  roleArns: readonly string[];
  /** AWS_ROLE_EXTERNAL_ID */
  externalId?: string;
  logger: Logger;
  /** Short STS timeouts for interactive commands. */
  quick?: boolean;
  /** Real time (credential expiry); tests pass their own. */
  now?: () => number;
  /** After STS failed a refresh, how long the credentials in hand are used before asking again. */
  refreshRetryMs?: number;
}

/** How assuming one account's role goes, for /healthz and `poll --once`. */
export interface AccountStatus {
  account: string;
  roleArn: string;
  state: 'not-yet' | 'ok' | 'failing';
  lastAssumedAt: number | null;
  expiresAt: number | null;
  failingSince: number | null;
  lastError: string | null;
}

/** The accounts the bot watches, their credentials, and where a session's questions go. */
export interface Accounts {
  /** 'roles' with AWS_ROLE_ARNS, else 'default': the default credentials' one account. */
  readonly mode: 'default' | 'roles';
  /** Every account × region to poll: roles in AWS_ROLE_ARNS order, each in every region. */
  readonly targets: readonly AwsTarget[];
  /** The default credentials' account id, once STS has said it (default mode). */
  defaultAccountId: string | undefined;
  /** A watched account's role credentials; undefined for the default account (the SDK's chain). */
  credentials(account: string): RoleCredentials | undefined;
  /**
   * The target to ask about something recorded in `account` and `region` (a session's records
   * name their account): its own account's, never another's, where Athena would not know the
   * id. Undefined when no watched account holds it (an organization's records ingested from
   * files or pushed through SQS for an account without a role here).
   */
  targetOf(account: string | null, region: string): AwsTarget | undefined;
  /** Each role's AssumeRole state, in AWS_ROLE_ARNS order (empty in default mode). */
  status(): AccountStatus[];
}

/**
 * Builds the watched accounts from AWS_ROLE_ARNS (issue 12): each role's credentials come from
 * STS AssumeRole with AWS_ROLE_EXTERNAL_ID and are refreshed before they expire. An account
 * whose role cannot be assumed is logged once when it starts failing and once when it works
 * again; its targets fail on their own and the other accounts go on.
 */
export function createAccounts(o: AccountsOptions): Accounts {
  const now = o.now ?? Date.now;
  const roles = new Map<string, RoleCredentials>();
  const states = new Map<string, AccountStatus>();
  for (const roleArn of o.roleArns) {
    const account = accountOfRoleArn(roleArn);
    // Config validation accepts role ARNs only, and one role per account is all the bot can use.
    if (!account || roles.has(account)) continue;
    const status: AccountStatus = { account, roleArn, state: 'not-yet', lastAssumedAt: null, expiresAt: null, failingSince: null, lastError: null };
    states.set(account, status);
    roles.set(
      account,
      createRoleCredentials({
        roleArn,
        account,
        externalId: o.externalId,
        stsRegion: o.regions[0] ?? 'us-east-1',
        quick: o.quick,
        now,
        refreshRetryMs: o.refreshRetryMs,
        onAssume: (outcome) => noteAssume(status, outcome),
      }),
    );
  }

  function noteAssume(s: AccountStatus, outcome: AssumeOutcome): void {
    const t = now();
    if (outcome.ok) {
      if (s.state === 'failing') o.logger.info({ account: s.account, roleArn: s.roleArn }, 'assumed the role of a watched account again; its regions are polled again');
      else if (s.state === 'not-yet') o.logger.info({ account: s.account, roleArn: s.roleArn }, 'assumed the role of a watched account');
      Object.assign(s, { state: 'ok', lastAssumedAt: t, expiresAt: outcome.expiresAt, failingSince: null, lastError: null });
      return;
    }
    if (outcome.usableUntil !== null) {
      // A failed refresh: the account is still polled with the credentials in hand, until they expire.
      if (s.lastError === null) o.logger.warn({ account: s.account, roleArn: s.roleArn, error: outcome.error.message, usableUntil: new Date(outcome.usableUntil).toISOString() }, "could not refresh a watched account's credentials; the current ones are used until they expire");
      s.lastError = outcome.error.message;
      return;
    }
    if (s.state !== 'failing') {
      o.logger.error({ account: s.account, roleArn: s.roleArn, error: outcome.error.message }, 'cannot assume the role of a watched account: it is not polled nor asked until it can be; the other accounts go on');
    }
    Object.assign(s, { state: 'failing', failingSince: s.failingSince ?? t, lastError: outcome.error.message });
  }

  const mode = roles.size > 0 ? 'roles' : 'default';
  const targets = mode === 'roles' ? [...roles.keys()].flatMap((account) => o.regions.map((region) => ({ account, region }))) : defaultTargets(o.regions);

  return {
    mode,
    targets,
    defaultAccountId: undefined,
    credentials: (account) => roles.get(account),
    targetOf(account, region) {
      if (mode === 'roles') return account !== null && roles.has(account) ? { account, region } : undefined;
      if (this.defaultAccountId !== undefined && account !== null && account !== this.defaultAccountId) return undefined;
      return { account: DEFAULT_ACCOUNT, region };
    },
    status: () => [...states.values()].map((s) => ({ ...s })),
  };
}
