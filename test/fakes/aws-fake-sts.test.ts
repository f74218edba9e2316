import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type Credentials } from '@aws-sdk/client-sts';
import { AthenaClient, GetSessionCommand } from '@aws-sdk/client-athena';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { useAwsFakeEnv } from '../support/harness.js';
import { athenaSession, awsEnvFor, startAwsFake, type AwsFake } from './aws-fake.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const REGION = 'us-east-1';
const BOT_ACCOUNT = '123456789012';
const WATCHED = '210987654321';
const STRANGER = '333333333333';
const READER_ROLE = `arn:aws:iam::${WATCHED}:role/athena-session-bot-reader`;
const SID = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const keys = (accessKeyId: string): Creds => ({ accessKeyId, secretAccessKey: 'fake' });
const fromSts = (c: Credentials | undefined): Creds => ({ accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! });

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('aws-fake: principals, accounts and STS', () => {
  let clock = NOW;
  let fake: AwsFake;
  const clients: Array<{ destroy(): void }> = [];
  const track = <T extends { destroy(): void }>(c: T): T => {
    clients.push(c);
    return c;
  };
  const sts = (credentials: Creds) => track(new STSClient({ region: REGION, endpoint: fake.url, credentials, maxAttempts: 1 }));
  const athena = (credentials: Creds) => track(new AthenaClient({ region: REGION, endpoint: fake.url, credentials, maxAttempts: 1 }));
  const trail = (credentials: Creds) => track(new CloudTrailClient({ region: REGION, endpoint: fake.url, credentials, maxAttempts: 1 }));
  const assume = (o: { ExternalId?: string; DurationSeconds?: number; RoleArn?: string; RoleSessionName?: string } = {}, as: Creds = keys('AKIDFAKE')) =>
    sts(as).send(new AssumeRoleCommand({ RoleArn: READER_ROLE, RoleSessionName: 'athena-session-bot', ExternalId: 'ext-7f3a', ...o }));

  beforeAll(async () => {
    fake = await startAwsFake({
      now: () => clock,
      identities: {
        AKIDSTRANGER: { account: STRANGER, arn: `arn:aws:iam::${STRANGER}:user/mallory` },
        AKIDROOT: { account: WATCHED, arn: `arn:aws:iam::${WATCHED}:root` },
      },
    });
  });
  const setup = () => {
    fake.addRole(READER_ROLE, { externalId: 'ext-7f3a', trustedAccounts: [BOT_ACCOUNT] });
  };
  afterEach(() => {
    fake.reset();
    clock = NOW;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await fake.close();
  });

  it('GetCallerIdentity names the caller: the default bot role, a user, root', async () => {
    const bot = await sts(keys('AKIDFAKE')).send(new GetCallerIdentityCommand({}));
    expect(bot).toMatchObject({
      Account: BOT_ACCOUNT,
      Arn: `arn:aws:sts::${BOT_ACCOUNT}:assumed-role/athena-session-bot/bot`,
      UserId: expect.stringMatching(/^AROA[A-Z2-7]{17}:bot$/),
    });
    expect(bot.$metadata.httpStatusCode).toBe(200);
    expect(bot.$metadata.requestId).toBe(fake.stsCalls('GetCallerIdentity')[0]!.requestId);
    const user = await sts(keys('AKIDSTRANGER')).send(new GetCallerIdentityCommand({}));
    expect(user).toMatchObject({ Account: STRANGER, Arn: `arn:aws:iam::${STRANGER}:user/mallory`, UserId: expect.stringMatching(/^AIDA[A-Z2-7]{17}$/) });
    const root = await sts(keys('AKIDROOT')).send(new GetCallerIdentityCommand({}));
    expect(root).toMatchObject({ Account: WATCHED, Arn: `arn:aws:iam::${WATCHED}:root`, UserId: WATCHED });
    // Not Athena calls: nothing in the trail.
    expect(fake.callRecords()).toEqual([]);
    expect(fake.stsCalls().map((r) => [r.service, r.operation, r.account, r.status])).toEqual([
      ['sts', 'GetCallerIdentity', BOT_ACCOUNT, 200],
      ['sts', 'GetCallerIdentity', STRANGER, 200],
      ['sts', 'GetCallerIdentity', WATCHED, 200],
    ]);
  });

  it('AssumeRole hands out credentials that act in the role account', async () => {
    setup();
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'team-a' }), { account: WATCHED });
    const out = await assume({ DurationSeconds: 900 });
    expect(out.AssumedRoleUser).toEqual({
      Arn: `arn:aws:sts::${WATCHED}:assumed-role/athena-session-bot-reader/athena-session-bot`,
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:athena-session-bot$/),
    });
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(out.Credentials?.SecretAccessKey).toEqual(expect.any(String));
    expect(out.Credentials?.SessionToken).toEqual(expect.any(String));
    expect(out.Credentials?.Expiration).toEqual(new Date(NOW + 900_000));
    const creds = fromSts(out.Credentials);

    const who = await sts(creds).send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: WATCHED, Arn: out.AssumedRoleUser!.Arn, UserId: out.AssumedRoleUser!.AssumedRoleId });
    // The watched account's Athena state, not the bot's own account's.
    expect((await athena(creds).send(new GetSessionCommand({ SessionId: SID }))).WorkGroup).toBe('team-a');
    expect((await rejection(athena(keys('AKIDFAKE')).send(new GetSessionCommand({ SessionId: SID })))).name).toBe('ResourceNotFoundException');
    expect(fake.athenaCalls('GetSession')[0]).toMatchObject({
      account: WATCHED,
      accessKeyId: creds.accessKeyId,
      principal: { account: WATCHED, arn: out.AssumedRoleUser!.Arn, type: 'AssumedRole' },
    });
    // Its Athena calls are logged in the watched account, under the role's session name.
    const [rec] = fake.callRecords({ eventName: 'GetSession', account: WATCHED });
    expect(rec!.userIdentity).toMatchObject({
      type: 'AssumedRole',
      arn: out.AssumedRoleUser!.Arn,
      principalId: out.AssumedRoleUser!.AssumedRoleId,
      accountId: WATCHED,
      accessKeyId: creds.accessKeyId,
      sessionContext: { sessionIssuer: { arn: READER_ROLE, accountId: WATCHED, userName: 'athena-session-bot-reader' }, attributes: { creationDate: '2026-11-24T12:00:00Z' } },
    });
  });

  it('refuses AssumeRole like IAM: unknown role, untrusted caller, wrong or missing external id', async () => {
    setup();
    const cases: Array<[string, Promise<unknown>, string]> = [
      ['unknown role', assume({ RoleArn: `arn:aws:iam::${WATCHED}:role/nope` }), `arn:aws:iam::${WATCHED}:role/nope`],
      ['untrusted caller', assume({}, keys('AKIDSTRANGER')), READER_ROLE],
      ['wrong external id', assume({ ExternalId: 'guess' }), READER_ROLE],
      ['missing external id', sts(keys('AKIDFAKE')).send(new AssumeRoleCommand({ RoleArn: READER_ROLE, RoleSessionName: 's1' })), READER_ROLE],
    ];
    for (const [what, call, resource] of cases) {
      const e = await rejection(call);
      expect(e.name, what).toBe('AccessDenied');
      expect(e.$metadata.httpStatusCode, what).toBe(403);
      expect(e.$fault, what).toBe('client');
      const caller = what === 'untrusted caller' ? `arn:aws:iam::${STRANGER}:user/mallory` : `arn:aws:sts::${BOT_ACCOUNT}:assumed-role/athena-session-bot/bot`;
      expect(e.message, what).toBe(`User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${resource}`);
    }
    // The answer is the awsQuery error document, as STS sends it.
    const res = await fetch(fake.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `AWS4-HMAC-SHA256 Credential=AKIDFAKE/20261124/${REGION}/sts/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: `Action=AssumeRole&Version=2011-06-15&RoleArn=${encodeURIComponent(READER_ROLE)}&RoleSessionName=x1`,
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('text/xml');
    const xml = await res.text();
    expect(xml).toMatch(
      /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>AccessDenied<\/Code>\s*<Message>User: arn:aws:sts::123456789012:assumed-role\/athena-session-bot\/bot is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role\/athena-session-bot-reader<\/Message>\s*<\/Error>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>\s*<\/ErrorResponse>/,
    );
  });

  it('validates AssumeRole parameters and durations (ValidationError, 400)', async () => {
    fake.addRole(READER_ROLE, { maxSessionMs: 12 * 3_600_000 });
    fake.addRole(`arn:aws:iam::${WATCHED}:role/short`, { maxSessionMs: 3_600_000 });
    const bad: Array<[Promise<unknown>, RegExp]> = [
      [assume({ DurationSeconds: 600 }), /at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900/],
      [assume({ DurationSeconds: 50_000 }), /at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200/],
      [assume({ RoleSessionName: 'a' }), /at 'roleSessionName' failed to satisfy constraint/],
      [assume({ RoleSessionName: 'has space' }), /at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      [assume({ RoleArn: `arn:aws:iam::${WATCHED}:role/short`, DurationSeconds: 7200 }), /^The requested DurationSeconds exceeds the MaxSessionDuration set for this role\.$/],
    ];
    for (const [call, message] of bad) {
      const e = await rejection(call);
      expect(e.name).toBe('ValidationError');
      expect(e.$metadata.httpStatusCode).toBe(400);
      expect(e.message).toMatch(message);
    }
    // Twelve hours are fine for long-term keys; role chaining is capped at one hour.
    const out = await assume({ DurationSeconds: 43_200 });
    expect(out.Credentials?.Expiration).toEqual(new Date(NOW + 43_200_000));
    const chained = await rejection(assume({ DurationSeconds: 7200 }, fromSts(out.Credentials)));
    expect(chained.name).toBe('ValidationError');
    expect(chained.message).toBe('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  });

  it('refuses expired credentials, a wrong session token, and (strictCredentials) unknown keys', async () => {
    setup();
    const creds = fromSts((await assume()).Credentials);
    expect((await athena(creds).send(new GetSessionCommand({ SessionId: SID })).catch((e: any) => e)).name).toBe('ResourceNotFoundException');
    clock = NOW + 3_600_000;
    const expired = await rejection(athena(creds).send(new GetSessionCommand({ SessionId: SID })));
    expect([expired.name, expired.$metadata.httpStatusCode, expired.message]).toEqual([
      'ExpiredTokenException',
      400,
      'The security token included in the request is expired',
    ]);
    expect((await rejection(trail(creds).send(new LookupEventsCommand({})))).name).toBe('ExpiredTokenException');
    const stsExpired = await rejection(sts(creds).send(new GetCallerIdentityCommand({})));
    expect([stsExpired.name, stsExpired.$metadata.httpStatusCode]).toEqual(['ExpiredTokenException', 400]);
    // Refused before Athena: nothing logged for them.
    expect(fake.callRecords({ account: WATCHED, eventName: 'GetSession' })).toHaveLength(1);

    const fresh = fromSts((await assume()).Credentials);
    const forged = await rejection(athena({ ...fresh, sessionToken: 'forged' }).send(new GetSessionCommand({ SessionId: SID })));
    expect([forged.name, forged.$metadata.httpStatusCode, forged.message]).toEqual([
      'UnrecognizedClientException',
      400,
      'The security token included in the request is invalid.',
    ]);

    const strict = await startAwsFake({ strictCredentials: true, identities: { AKIDKNOWN: { account: WATCHED, arn: `arn:aws:iam::${WATCHED}:user/reader` } } });
    try {
      const c = (k: string) => track(new AthenaClient({ region: REGION, endpoint: strict.url, credentials: keys(k), maxAttempts: 1 }));
      expect((await rejection(c('AKIDUNKNOWN').send(new GetSessionCommand({ SessionId: SID })))).name).toBe('UnrecognizedClientException');
      expect((await rejection(c('AKIDKNOWN').send(new GetSessionCommand({ SessionId: SID })))).name).toBe('ResourceNotFoundException');
      expect((await rejection(c('AKIDFAKE').send(new GetSessionCommand({ SessionId: SID })))).name).toBe('ResourceNotFoundException');
      const s = track(new STSClient({ region: REGION, endpoint: strict.url, credentials: keys('AKIDUNKNOWN'), maxAttempts: 1 }));
      const e = await rejection(s.send(new GetCallerIdentityCommand({})));
      expect([e.name, e.$metadata.httpStatusCode]).toEqual(['InvalidClientTokenId', 403]);
    } finally {
      await strict.close();
    }
  });

  it('credentialLifetimeMs makes AssumeRole credentials expire early', async () => {
    const quick = await startAwsFake({ now: () => clock, credentialLifetimeMs: 30_000 });
    try {
      quick.addRole(READER_ROLE);
      const s = track(new STSClient({ region: REGION, endpoint: quick.url, credentials: keys('AKIDFAKE'), maxAttempts: 1 }));
      const out = await s.send(new AssumeRoleCommand({ RoleArn: READER_ROLE, RoleSessionName: 'quick' }));
      expect(out.Credentials?.Expiration).toEqual(new Date(NOW + 30_000));
      const c = track(new AthenaClient({ region: REGION, endpoint: quick.url, credentials: fromSts(out.Credentials), maxAttempts: 1 }));
      clock = NOW + 30_000;
      expect((await rejection(c.send(new GetSessionCommand({ SessionId: SID })))).name).toBe('ExpiredTokenException');
    } finally {
      await quick.close();
    }
  });

  it('serves the SDK credential provider (fromTemporaryCredentials) through AWS_ENDPOINT_URL_STS', async () => {
    // The SDK judges expiry by the real clock, so this fake keeps real time.
    const real = await startAwsFake({ credentialLifetimeMs: 10 * 60_000 });
    real.addRole(READER_ROLE, { externalId: 'ext-7f3a', trustedAccounts: [BOT_ACCOUNT] });
    real.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'team-a' }), { account: WATCHED });
    expect(awsEnvFor(real).AWS_ENDPOINT_URL_STS).toBe(real.url);
    const restore = useAwsFakeEnv(real);
    try {
      const client = track(
        new AthenaClient({
          region: REGION,
          maxAttempts: 1,
          credentials: fromTemporaryCredentials({ params: { RoleArn: READER_ROLE, RoleSessionName: 'athena-session-bot', ExternalId: 'ext-7f3a' } }),
        }),
      );
      expect((await client.send(new GetSessionCommand({ SessionId: SID }))).WorkGroup).toBe('team-a');
      expect((await client.send(new GetSessionCommand({ SessionId: SID }))).WorkGroup).toBe('team-a');
      expect(real.stsCalls('AssumeRole').map((r) => [r.status, r.account, r.body.RoleArn, r.body.ExternalId])).toEqual([[200, BOT_ACCOUNT, READER_ROLE, 'ext-7f3a']]);
      expect(real.athenaCalls('GetSession').map((r) => [r.status, r.account])).toEqual([
        [200, WATCHED],
        [200, WATCHED],
      ]);
    } finally {
      restore();
      await real.close();
    }
  });

  it('logs AssumeRole as an sts.amazonaws.com record, apart from the Athena trail', async () => {
    setup();
    const out = await assume();
    await rejection(assume({ ExternalId: 'wrong' }));
    const [ok, refused] = fake.callRecords({ eventName: 'AssumeRole' });
    expect(ok).toMatchObject({
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      recipientAccountId: WATCHED,
      readOnly: true,
      requestParameters: { roleArn: READER_ROLE, roleSessionName: 'athena-session-bot', externalId: 'ext-7f3a' },
      responseElements: {
        credentials: { accessKeyId: out.Credentials!.AccessKeyId, sessionToken: out.Credentials!.SessionToken, expiration: 'Nov 24, 2026, 1:00:00 PM' },
        assumedRoleUser: { assumedRoleId: out.AssumedRoleUser!.AssumedRoleId, arn: out.AssumedRoleUser!.Arn },
      },
      userIdentity: { arn: `arn:aws:sts::${BOT_ACCOUNT}:assumed-role/athena-session-bot/bot` },
    });
    expect(JSON.stringify(ok)).not.toContain(out.Credentials!.SecretAccessKey!);
    expect(refused).toMatchObject({ eventSource: 'sts.amazonaws.com', recipientAccountId: BOT_ACCOUNT, errorCode: 'AccessDenied', responseElements: null });
    clock = NOW + 5 * 60_000;
    const bot = trail(keys('AKIDFAKE'));
    const all = await bot.send(new LookupEventsCommand({}));
    expect(all.Events?.map((e) => [e.EventSource, e.EventName])).toEqual([['sts.amazonaws.com', 'AssumeRole']]);
    const athenaOnly = await bot.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'athena.amazonaws.com' }] }));
    expect(athenaOnly.Events).toEqual([]);
  });
});
