import { describe, expect, it } from 'vitest';
import { PollHealth, pollHealthJson } from '../../src/schedule/poll-health.js';
import type { AccountStatus } from '../../src/sources/accounts/accounts.js';
import { TestClock } from '../support/harness.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const LIMIT = 180_000;
const A = '111111111111';
const B = '222222222222';

describe('PollHealth', () => {
  it('with one account (no AWS_ROLE_ARNS), any region failing past the limit is unhealthy, as before', () => {
    const clock = new TestClock(T0);
    const h = new PollHealth(['us-east-1', 'eu-west-1'], clock.now);
    h.success('us-east-1');
    h.failure('eu-west-1', 'socket hang up');
    clock.advance(LIMIT);
    expect(h.healthy(LIMIT)).toBe(true);
    clock.advance(1);
    expect(h.healthy(LIMIT)).toBe(false);
    expect(h.failingLongerThan(LIMIT).map((t) => t.target)).toEqual([{ account: '', region: 'eu-west-1' }]);
    h.success('eu-west-1');
    expect(h.healthy(LIMIT)).toBe(true);
  });

  it('with many accounts, one failing account is reported but the bot stays healthy; all failing is unhealthy', () => {
    const clock = new TestClock(T0);
    const targets = [A, B].flatMap((account) => ['us-east-1', 'eu-west-1'].map((region) => ({ account, region })));
    const h = new PollHealth(targets, clock.now);
    for (const t of targets) h.success(t);
    h.failure({ account: B, region: 'us-east-1' }, 'cannot assume arn:aws:iam::222222222222:role/reader (account 222222222222): AccessDenied: …');
    h.failure(`${B}/eu-west-1`, 'cannot assume …');
    clock.advance(LIMIT + 1);
    expect(h.healthy(LIMIT)).toBe(true);
    expect(h.failingLongerThan(LIMIT).map((t) => `${t.target.account}/${t.target.region}`)).toEqual([`${B}/us-east-1`, `${B}/eu-west-1`]);
    // One region of A failing too: A still has a working region, so it is not all accounts.
    h.failure({ account: A, region: 'eu-west-1' }, 'ThrottlingException');
    clock.advance(LIMIT + 1);
    expect(h.healthy(LIMIT)).toBe(false);
  });

  it('reports /healthz lines: regions for the default account, accounts with their role and regions otherwise', () => {
    const clock = new TestClock(T0);
    const h = new PollHealth([{ account: A, region: 'us-east-1' }, { account: B, region: 'us-east-1' }], clock.now);
    h.success({ account: A, region: 'us-east-1' });
    h.failure({ account: B, region: 'us-east-1' }, 'cannot assume');
    const status: AccountStatus[] = [
      { account: A, roleArn: `arn:aws:iam::${A}:role/reader`, state: 'ok', lastAssumedAt: T0, expiresAt: T0 + 3_600_000, failingSince: null, lastError: null },
      { account: B, roleArn: `arn:aws:iam::${B}:role/reader`, state: 'failing', lastAssumedAt: null, expiresAt: null, failingSince: T0, lastError: 'cannot assume' },
    ];
    expect(pollHealthJson(h, status)).toEqual({
      regions: {},
      accounts: {
        [A]: {
          roleArn: `arn:aws:iam::${A}:role/reader`,
          assumeRole: { state: 'ok', lastAssumed: '2026-11-24T12:00:00.000Z', expires: '2026-11-24T13:00:00.000Z', failingSince: null, lastError: null },
          regions: { 'us-east-1': { lastSuccessfulPoll: '2026-11-24T12:00:00.000Z', failingSince: null, lastError: null } },
        },
        [B]: {
          roleArn: `arn:aws:iam::${B}:role/reader`,
          assumeRole: { state: 'failing', lastAssumed: null, expires: null, failingSince: '2026-11-24T12:00:00.000Z', lastError: 'cannot assume' },
          regions: { 'us-east-1': { lastSuccessfulPoll: null, failingSince: '2026-11-24T12:00:00.000Z', lastError: 'cannot assume' } },
        },
      },
    });
    const single = new PollHealth(['us-east-1'], clock.now);
    single.success('us-east-1');
    expect(pollHealthJson(single, [])).toEqual({ regions: { 'us-east-1': { lastSuccessfulPoll: '2026-11-24T12:00:00.000Z', failingSince: null, lastError: null } } });
  });
});
