import type { AccountStatus } from '../sources/accounts/accounts.js';
import { DEFAULT_ACCOUNT, defaultTargets, targetKey, type AwsTarget } from '../sources/accounts/targets.js';

export interface RegionHealth {
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  failingSince: number | null;
  lastError: string | null;
}

/** One target's health: which account and region, and how polling it goes. */
export interface TargetHealth extends RegionHealth {
  target: AwsTarget;
}

/**
 * Polling health per account × region for /healthz (SPEC §5). Fed by every LookupEvents
 * attempt, not only by whole cycles, so an endpoint that is down shows as failing while the
 * cycle is still retrying. A throttled attempt is not a failure (the poller is working, just
 * slowly), but a cycle that gives up on throttling is: an account whose budget another tool
 * spends stays failing until a cycle gets through.
 */
export class PollHealth {
  /** By target key (`targetKey`: the region alone for the default credentials' account). */
  readonly targets = new Map<string, TargetHealth>();

  /** `targets`: the watched account × regions; plain regions stand for the default credentials' account. */
  constructor(
    targets: readonly (AwsTarget | string)[],
    private readonly now: () => number = () => Date.now(),
  ) {
    for (const t of targets) this.get(typeof t === 'string' ? defaultTargets([t])[0]! : t);
  }

  private get(target: AwsTarget | string): TargetHealth {
    const key = typeof target === 'string' ? target : targetKey(target);
    let h = this.targets.get(key);
    if (!h) {
      const t = typeof target === 'string' ? parseKey(target) : target;
      this.targets.set(key, (h = { target: t, lastSuccessAt: null, lastFailureAt: null, failingSince: null, lastError: null }));
    }
    return h;
  }

  /** A target (or its key) answered. */
  success(target: AwsTarget | string): void {
    Object.assign(this.get(target), { lastSuccessAt: this.now(), failingSince: null, lastError: null });
  }

  failure(target: AwsTarget | string, error: string): void {
    const h = this.get(target);
    const now = this.now();
    Object.assign(h, { lastFailureAt: now, failingSince: h.failingSince ?? now, lastError: error.slice(0, 300) });
  }

  /**
   * False once every watched account has a target that has been failing for longer than
   * `limitMs`: with one account, any region failing (as before many accounts). One account
   * failing among several (its role refused, its trail throttled) is reported, not fatal: a
   * restart would not bring it back, and the bot still serves the others.
   */
  healthy(limitMs: number): boolean {
    const failing = new Set(this.failingLongerThan(limitMs).map((h) => h.target.account));
    const accounts = new Set([...this.targets.values()].map((h) => h.target.account));
    return [...accounts].some((a) => !failing.has(a)) || accounts.size === 0;
  }

  /** Targets that have been failing for longer than `limitMs` (/healthz says `degraded` while others still work). */
  failingLongerThan(limitMs: number): TargetHealth[] {
    const now = this.now();
    return [...this.targets.values()].filter((h) => h.failingSince !== null && now - h.failingSince > limitMs);
  }
}

/** A target key back into its target (`111122223333/us-east-1` or `us-east-1`). */
function parseKey(key: string): AwsTarget {
  const slash = key.indexOf('/');
  return slash < 0 ? { account: DEFAULT_ACCOUNT, region: key } : { account: key.slice(0, slash), region: key.slice(slash + 1) };
}

/** One target's line in /healthz, times as ISO 8601. */
function healthLine(h: RegionHealth) {
  return {
    lastSuccessfulPoll: h.lastSuccessAt ? new Date(h.lastSuccessAt).toISOString() : null,
    failingSince: h.failingSince ? new Date(h.failingSince).toISOString() : null,
    lastError: h.lastError,
  };
}

/**
 * Polling in /healthz: `regions` for the default credentials' account (as with one account),
 * and with AWS_ROLE_ARNS `accounts`: per watched account, how assuming its role goes and a line
 * per region.
 */
export function pollHealthJson(health: PollHealth, accounts: readonly AccountStatus[]): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const regions: Record<string, ReturnType<typeof healthLine>> = {};
  const byAccount = new Map<string, Record<string, ReturnType<typeof healthLine>>>();
  for (const h of health.targets.values()) {
    if (h.target.account === DEFAULT_ACCOUNT) regions[h.target.region] = healthLine(h);
    else {
      const lines = byAccount.get(h.target.account) ?? {};
      lines[h.target.region] = healthLine(h);
      byAccount.set(h.target.account, lines);
    }
  }
  if (accounts.length === 0) return { regions };
  return {
    regions,
    accounts: Object.fromEntries(
      accounts.map((a) => [
        a.account,
        {
          roleArn: a.roleArn,
          assumeRole: { state: a.state, lastAssumed: iso(a.lastAssumedAt), expires: iso(a.expiresAt), failingSince: iso(a.failingSince), lastError: a.lastError },
          regions: byAccount.get(a.account) ?? {},
        },
      ]),
    ),
  };
}
