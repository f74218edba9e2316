import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient, LookupEventsCommand, type LookupEventsCommandInput } from '@aws-sdk/client-cloudtrail';
import {
  AthenaClient,
  GetCalculationExecutionCommand,
  GetCalculationExecutionStatusCommand,
  GetSessionCommand,
  GetSessionStatusCommand,
  StartSessionCommand,
} from '@aws-sdk/client-athena';
import {
  type Actor,
  call,
  executor,
  fakeUuid,
  human,
  iamUser,
  record,
  startCalculation,
  startSession,
  terminateSession,
  toLookupEvent,
} from '../support/cloudtrail-records.js';
import { athenaCalculation, athenaSession, awsEnvFor, startAwsFake, type AwsFake } from './aws-fake.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const sec = (ms: number): number => ms / 1000;
const creds = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' };

function ct(fake: AwsFake, region = 'us-east-1', accessKeyId = 'AKIDFAKE'): CloudTrailClient {
  return new CloudTrailClient({ region, endpoint: fake.url, credentials: { ...creds, accessKeyId }, maxAttempts: 1 });
}
function ath(fake: AwsFake, region = 'us-east-1'): AthenaClient {
  return new AthenaClient({ region, endpoint: fake.url, credentials: creds, maxAttempts: 1 });
}
async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}
const ids = (out: { Events?: Array<{ EventId?: string }> }): string[] => (out.Events ?? []).map((e) => e.EventId!);

describe('aws-fake: CloudTrail LookupEvents', () => {
  let clock = NOW;
  let fake: AwsFake;
  let client: CloudTrailClient;
  beforeAll(async () => {
    fake = await startAwsFake({ now: () => clock, ratePerSecond: Infinity });
    client = ct(fake);
  });
  afterEach(() => {
    fake.reset();
    fake.setRatePerSecond(Infinity);
    clock = NOW;
  });
  afterAll(async () => {
    client.destroy();
    await fake.close();
  });

  it('returns newest first with the exact toLookupEvent item shape', async () => {
    const recs = [5, 1, 4, 2, 3].map((m) =>
      startSession({ sessionId: fakeUuid(), eventTime: NOW - m * 60_000, eventId: `ev-${m}` }),
    );
    // Two events in the same second: later-added first.
    const tieA = call('GetSession', { actor: human('a'), eventTime: NOW - 60_000, eventId: 'tie-a' });
    const tieB = call('GetSession', { actor: human('b'), eventTime: NOW - 60_000, eventId: 'tie-b' });
    fake.addEvents([...recs, tieA, tieB]);
    const out = await client.send(new LookupEventsCommand({}));
    expect(ids(out)).toEqual(['tie-b', 'tie-a', 'ev-1', 'ev-2', 'ev-3', 'ev-4', 'ev-5']);
    const times = out.Events!.map((e) => e.EventTime!.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const first = out.Events![2]!;
    expect(first.EventTime).toEqual(new Date(NOW - 60_000));
    expect(JSON.parse(first.CloudTrailEvent!)).toEqual(recs[1]);
    const expected = toLookupEvent(recs[1]!);
    expect(first.EventName).toBe(expected.EventName);
    expect(first.Username).toBe(expected.Username);
    expect(first.ReadOnly).toBe('false');
    expect(first.AccessKeyId).toBe(expected.AccessKeyId);
    expect(first.Resources).toEqual([]);
    // The wire item is exactly toLookupEvent().
    const wire = await fetchLookup(fake, 'CloudTrail_20131101.LookupEvents', {});
    expect((wire.body as any).Events[2]).toEqual(expected);
  });

  it('treats StartTime and EndTime as inclusive, with fractional seconds', async () => {
    const T = NOW - 3_600_000;
    fake.addEvents([-1, 0, 1, 2].map((d) => call('GetSession', { actor: human('x'), eventTime: T + d * 1000, eventId: `t${d}` })));
    const q = (StartTime: number, EndTime: number) =>
      client.send(new LookupEventsCommand({ StartTime: new Date(StartTime), EndTime: new Date(EndTime) })).then(ids);
    expect(await q(T, T + 1000)).toEqual(['t1', 't0']);
    expect(await q(T + 1, T + 1999)).toEqual(['t1']);
    expect(await q(T - 1, T + 2000)).toEqual(['t2', 't1', 't0']);
    expect(await q(T, T)).toEqual(['t0']);
    expect(await q(T + 1, T + 999)).toEqual([]);
    // Fractional seconds on the wire: the SDK sends epoch seconds with milliseconds.
    const raw = await fetchLookup(fake, 'CloudTrail_20131101.LookupEvents', { StartTime: sec(T) + 0.001, EndTime: sec(T) + 1.5 });
    expect((raw.body as any).Events.map((e: any) => e.EventId)).toEqual(['t1']);
    const e = await rejection(q(T + 1000, T));
    expect(e.name).toBe('InvalidTimeRangeException');
    expect(e.$metadata.httpStatusCode).toBe(400);
  });

  it('defaults StartTime to 90 days back and EndTime to now, and drops events past retention', async () => {
    fake.addEvents([
      call('GetSession', { actor: human('x'), eventTime: NOW - 91 * 86_400_000, eventId: 'old' }),
      call('GetSession', { actor: human('x'), eventTime: NOW - 89 * 86_400_000, eventId: 'kept' }),
      call('GetSession', { actor: human('x'), eventTime: NOW + 60_000, eventId: 'future' }),
    ]);
    expect(ids(await client.send(new LookupEventsCommand({})))).toEqual(['kept']);
    const all = await client.send(new LookupEventsCommand({ StartTime: new Date(NOW - 200 * 86_400_000), EndTime: new Date(NOW + 86_400_000) }));
    expect(ids(all)).toEqual(['future', 'kept']);
  });

  it('paginates 120 events in 3 stable pages and rejects a NextToken when parameters change', async () => {
    const recs = Array.from({ length: 120 }, (_, i) =>
      call('GetSessionStatus', { actor: executor('s'), eventTime: NOW - 1000 * Math.floor(i / 3), eventId: `p${i}` }),
    );
    fake.addEvents(recs);
    const input: LookupEventsCommandInput = { MaxResults: 50, StartTime: new Date(NOW - 86_400_000), EndTime: new Date(NOW) };
    const p1 = await client.send(new LookupEventsCommand(input));
    expect(p1.Events).toHaveLength(50);
    expect(p1.NextToken).toEqual(expect.any(String));
    // New events that become visible between pages do not disturb the listing.
    fake.addEvents([call('GetSession', { actor: human('late'), eventTime: NOW - 500, eventId: 'late' })]);
    const p2 = await client.send(new LookupEventsCommand({ ...input, NextToken: p1.NextToken }));
    expect(p2.Events).toHaveLength(50);
    const p3 = await client.send(new LookupEventsCommand({ ...input, NextToken: p2.NextToken }));
    expect(p3.Events).toHaveLength(20);
    expect(p3.NextToken).toBeUndefined();
    const seen = [...ids(p1), ...ids(p2), ...ids(p3)];
    expect(new Set(seen).size).toBe(120);
    expect([...seen].sort()).toEqual(recs.map((r) => r.eventID).sort());
    const times = [...p1.Events!, ...p2.Events!, ...p3.Events!].map((e) => e.EventTime!.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // A fresh listing now sees the late event.
    expect(ids(await client.send(new LookupEventsCommand(input)))).toContain('late');

    const changed: LookupEventsCommandInput[] = [
      { ...input, MaxResults: 49 },
      { ...input, StartTime: new Date(NOW - 86_399_000) },
      { ...input, EndTime: new Date(NOW - 1000) },
      { ...input, LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GetSessionStatus' }] },
    ];
    for (const c of changed) {
      const e = await rejection(client.send(new LookupEventsCommand({ ...c, NextToken: p1.NextToken })));
      expect(e.name).toBe('InvalidNextTokenException');
    }
    expect((await rejection(client.send(new LookupEventsCommand({ ...input, NextToken: 'bogus' })))).name).toBe(
      'InvalidNextTokenException',
    );
    // The token is bound to its region/account too.
    const other = ct(fake, 'eu-west-1');
    expect((await rejection(other.send(new LookupEventsCommand({ ...input, NextToken: p1.NextToken })))).name).toBe(
      'InvalidNextTokenException',
    );
    other.destroy();
    // And it stays valid with identical parameters.
    expect(ids(await client.send(new LookupEventsCommand({ ...input, NextToken: p1.NextToken })))).toEqual(ids(p2));
  });

  it('validates MaxResults and the lookup attributes', async () => {
    for (const MaxResults of [0, 51]) {
      expect((await rejection(client.send(new LookupEventsCommand({ MaxResults })))).name).toBe('InvalidMaxResultsException');
    }
    const two = await rejection(
      client.send(
        new LookupEventsCommand({
          LookupAttributes: [
            { AttributeKey: 'EventName', AttributeValue: 'StartSession' },
            { AttributeKey: 'EventSource', AttributeValue: 'athena.amazonaws.com' },
          ],
        }),
      ),
    );
    expect(two.name).toBe('InvalidLookupAttributesException');
    expect(two.$metadata.httpStatusCode).toBe(400);
    const unknown = await rejection(
      client.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Bogus' as any, AttributeValue: 'x' }] })),
    );
    expect(unknown.name).toBe('InvalidLookupAttributesException');
  });

  it('filters by EventName, EventSource, Username, ReadOnly, EventId and ResourceName', async () => {
    const sid = fakeUuid();
    fake.addEvents([
      startSession({ sessionId: sid, eventTime: NOW - 5000, eventId: 'start', actor: human('alice') }),
      startCalculation({ sessionId: sid, calculationId: fakeUuid(), eventTime: NOW - 4000, eventId: 'calc' }),
      terminateSession({ sessionId: sid, eventTime: NOW - 3000, eventId: 'term', actor: iamUser('bob') }),
      call('GetSession', { actor: human('alice'), eventTime: NOW - 2000, eventId: 'get', params: { sessionId: sid } }),
      record({ eventName: 'DescribeTrails', eventSource: 'cloudtrail.amazonaws.com', actor: human('carol'), eventTime: NOW - 1000, eventId: 'ct', readOnly: true }),
    ]);
    fake.addEvents([call('StartQueryExecution', { actor: human('dave'), eventTime: NOW - 500, eventId: 'wg' })], {
      resources: [{ ResourceType: 'AWS::Athena::WorkGroup', ResourceName: 'primary' }],
    });
    const by = async (AttributeKey: string, AttributeValue: string) =>
      ids(await client.send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: AttributeKey as any, AttributeValue }] })));
    expect(await by('EventName', 'StartSession')).toEqual(['start']);
    expect(await by('EventSource', 'athena.amazonaws.com')).toEqual(['wg', 'get', 'term', 'calc', 'start']);
    expect(await by('Username', `AthenaExecutor-${sid}`)).toEqual(['calc']);
    expect(await by('Username', 'bob')).toEqual(['term']);
    expect(await by('Username', 'alice')).toEqual(['get', 'start']);
    expect(await by('ReadOnly', 'true')).toEqual(['ct', 'get']);
    expect(await by('EventId', 'term')).toEqual(['term']);
    expect(await by('ResourceName', 'primary')).toEqual(['wg']);
    expect(await by('ResourceType', 'AWS::Athena::WorkGroup')).toEqual(['wg']);
  });

  it('accepts the AWS CLI long target form and takes region/account from the credential scope', async () => {
    fake.addEvents([call('GetSession', { actor: human('x'), eventTime: NOW - 1000, eventId: 'eu', region: 'eu-west-1' })]);
    fake.addEvents([call('GetSession', { actor: human('x'), eventTime: NOW - 1000, eventId: 'us' })]);
    const long = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents';
    const r = await fetchLookup(fake, long, { MaxResults: 5 }, 'eu-west-1', 'AKIDCLI');
    expect(r.status).toBe(200);
    expect((r.body as any).Events.map((e: any) => e.EventId)).toEqual(['eu']);
    // An access key the fake does not know acts as the default identity (strictCredentials is off).
    expect(fake.requests.at(-1)).toMatchObject({
      service: 'cloudtrail',
      target: long,
      operation: 'LookupEvents',
      region: 'eu-west-1',
      account: '123456789012',
      accessKeyId: 'AKIDCLI',
      status: 200,
    });
    const bad = await fetchLookup(fake, 'CloudTrail_20131101.DescribeTrails', {});
    expect(bad.status).toBe(400);
    expect((bad.body as any).__type).toBe('UnknownOperationException');
  });

  it("keeps each account's trail apart: a record goes to its recipientAccountId, raw items to the account named", async () => {
    const theirs = '210987654321';
    fake.addIdentity('AKIDTHEIRS', { account: theirs, arn: `arn:aws:iam::${theirs}:root` });
    const root: Actor = { kind: 'root', account: theirs };
    fake.addEvents([
      call('GetSession', { actor: root, eventTime: NOW - 2000, eventId: 'their-root' }),
      call('GetSession', { actor: human('ours'), eventTime: NOW - 1000, eventId: 'ours' }),
    ]);
    fake.addRawEvent('us-east-1', { EventId: 'their-raw', EventTime: sec(NOW - 3000) }, undefined, theirs);
    fake.addEvents([call('GetSession', { actor: human('moved'), eventTime: NOW - 500, eventId: 'moved' })], { account: theirs });
    expect(ids(await client.send(new LookupEventsCommand({})))).toEqual(['ours']);
    const them = ct(fake, 'us-east-1', 'AKIDTHEIRS');
    const out = await them.send(new LookupEventsCommand({}));
    them.destroy();
    expect(ids(out)).toEqual(['moved', 'their-root', 'their-raw']);
    // A root record, as CloudTrail names root in LookupEvents.
    expect(out.Events![1]).toMatchObject({ Username: 'root', AccessKeyId: 'ASIAEXAMPLEKEYID0001' });
    expect(JSON.parse(out.Events![1]!.CloudTrailEvent!)).toMatchObject({
      userIdentity: { type: 'Root', principalId: theirs, arn: `arn:aws:iam::${theirs}:root`, accountId: theirs },
      recipientAccountId: theirs,
    });
    expect([fake.eventCount(), fake.eventCount('us-east-1', theirs), fake.eventCount(undefined, '123456789012')]).toEqual([4, 3, 1]);
  });

  it('honours AWS_ENDPOINT_URL_CLOUDTRAIL from the environment', async () => {
    fake.addEvents([call('GetSession', { actor: human('x'), eventTime: NOW - 1000, eventId: 'env' })]);
    const saved = process.env.AWS_ENDPOINT_URL_CLOUDTRAIL;
    process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = awsEnvFor(fake).AWS_ENDPOINT_URL_CLOUDTRAIL;
    try {
      const viaEnv = new CloudTrailClient({ region: 'us-east-1', credentials: creds, maxAttempts: 1 });
      expect(ids(await viaEnv.send(new LookupEventsCommand({})))).toEqual(['env']);
      viaEnv.destroy();
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_CLOUDTRAIL;
      else process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = saved;
    }
    expect(fake.lookupCount('us-east-1')).toBe(1);
  });

  it('hides late-delivered events until visibleAt on the fake clock', async () => {
    const rec = call('StartSession', { actor: human('x'), eventTime: NOW - 60_000, eventId: 'late' });
    fake.addEvents([rec], { delayMs: 5 * 60_000 });
    fake.addEvents([call('GetSession', { actor: human('x'), eventTime: NOW - 30_000, eventId: 'abs' })], { visibleAt: NOW + 10_000 });
    expect(ids(await client.send(new LookupEventsCommand({})))).toEqual([]);
    clock = NOW + 10_000;
    expect(ids(await client.send(new LookupEventsCommand({})))).toEqual(['abs']);
    clock = NOW + 5 * 60_000 - 1;
    expect(ids(await client.send(new LookupEventsCommand({})))).toEqual(['abs']);
    clock = NOW + 5 * 60_000;
    expect(ids(await client.send(new LookupEventsCommand({})))).toEqual(['abs', 'late']);
  });

  it('serves raw (malformed) items verbatim', async () => {
    fake.addRawEvent('us-east-1', { EventId: 'raw1', EventName: 'StartSession', EventTime: sec(NOW - 1000), CloudTrailEvent: '{not json' });
    fake.addRawEvent('us-east-1', { EventId: 'raw2', EventTime: sec(NOW - 2000) });
    const out = await client.send(new LookupEventsCommand({}));
    expect(out.Events).toEqual([
      { EventId: 'raw1', EventName: 'StartSession', EventTime: new Date(NOW - 1000), CloudTrailEvent: '{not json' },
      { EventId: 'raw2', EventTime: new Date(NOW - 2000) },
    ]);
  });

  it('fails the next n requests with 5xx and drops connections while down', async () => {
    fake.failNext(1, 500);
    const e500 = await rejection(client.send(new LookupEventsCommand({})));
    expect(e500.name).toBe('InternalFailure');
    expect(e500.$fault).toBe('server');
    expect(e500.$metadata.httpStatusCode).toBe(500);
    fake.failNext(1, 503);
    expect((await rejection(client.send(new LookupEventsCommand({})))).$metadata.httpStatusCode).toBe(503);
    await client.send(new LookupEventsCommand({}));

    fake.setDown(true);
    const net = await rejection(client.send(new LookupEventsCommand({})));
    expect(net.$metadata?.httpStatusCode).toBeUndefined();
    expect(String(net.code ?? net.name)).toMatch(/ECONNRESET|socket hang up|EPIPE|TimeoutError|Error/);
    fake.setDown(false);
    expect((await client.send(new LookupEventsCommand({}))).Events).toEqual([]);
    expect(fake.requests.map((r) => r.status)).toEqual([500, 503, 200, 200]);
  });
});

describe('aws-fake: LookupEvents rate limit', () => {
  let fake: AwsFake;
  beforeAll(async () => {
    fake = await startAwsFake({ identities: { AKIDOTHER: { account: '210987654321', arn: 'arn:aws:iam::210987654321:user/other' } } });
  });
  afterAll(async () => {
    await fake.close();
  });

  it('throttles the 3rd request within a second per (account, region) and records every request', async () => {
    const client = ct(fake);
    await client.send(new LookupEventsCommand({}));
    await client.send(new LookupEventsCommand({}));
    const e = await rejection(client.send(new LookupEventsCommand({})));
    expect(e.name).toBe('ThrottlingException');
    expect(e.message).toBe('Rate exceeded');
    expect(e.$metadata.httpStatusCode).toBe(400);
    const last = fake.requests.at(-1)!;
    expect(last).toMatchObject({ status: 400, errorType: 'ThrottlingException' });
    // Another region, or another account, has its own budget; another key of the same account does not.
    const eu = ct(fake, 'eu-west-1');
    await eu.send(new LookupEventsCommand({}));
    const other = ct(fake, 'us-east-1', 'AKIDOTHER');
    await other.send(new LookupEventsCommand({}));
    const sameAccount = ct(fake, 'us-east-1', 'AKIDSAMEACCOUNT');
    expect((await rejection(sameAccount.send(new LookupEventsCommand({})))).name).toBe('ThrottlingException');

    expect(fake.lookupCount('us-east-1')).toBe(5);
    expect(fake.maxRequestsInAnyWindow('us-east-1')).toBe(5);
    expect(fake.maxRequestsInAnyWindow('eu-west-1')).toBe(1);
    expect(fake.maxRequestsInAnyWindow()).toBe(6);

    // Throttled requests do not use up the budget: one second after the first two, it refills.
    const firstAt = fake.requests[0]!.at;
    await new Promise((r) => setTimeout(r, Math.max(0, firstAt + 1000 - performance.timeOrigin - performance.now()) + 60));
    await client.send(new LookupEventsCommand({}));
    expect(fake.maxRequestsInAnyWindow('us-east-1', 10)).toBeLessThanOrEqual(5);
    for (const c of [client, eu, other, sameAccount]) c.destroy();
  });

  it('throttleRatio throttles a seeded fraction of requests', async () => {
    fake.reset();
    fake.setRatePerSecond(Infinity);
    fake.throttleRatio(0.5, 42);
    const client = ct(fake);
    const results: string[] = [];
    for (let i = 0; i < 20; i++) {
      results.push(await client.send(new LookupEventsCommand({})).then(() => 'ok', (e: any) => e.name));
    }
    const throttled = results.filter((r) => r === 'ThrottlingException').length;
    expect(throttled).toBeGreaterThan(3);
    expect(throttled).toBeLessThan(17);
    expect(results.every((r) => r === 'ok' || r === 'ThrottlingException')).toBe(true);
    // Same seed → same sequence.
    fake.reset();
    fake.setRatePerSecond(Infinity);
    fake.throttleRatio(0.5, 42);
    const again: string[] = [];
    for (let i = 0; i < 20; i++) again.push(await client.send(new LookupEventsCommand({})).then(() => 'ok', (e: any) => e.name));
    expect(again).toEqual(results);
    client.destroy();
  });

  it('throttleRatio with { account } throttles that account only', async () => {
    fake.reset();
    fake.setRatePerSecond(Infinity);
    fake.addIdentity('AKIDBUSYACCOUNT', { account: '222222222222', arn: 'arn:aws:iam::222222222222:user/poller' });
    fake.throttleRatio(1, 1, { account: '222222222222' });
    const busy = ct(fake, 'us-east-1', 'AKIDBUSYACCOUNT');
    const quiet = ct(fake);
    expect((await rejection(busy.send(new LookupEventsCommand({})))).name).toBe('ThrottlingException');
    await quiet.send(new LookupEventsCommand({}));
    fake.throttleRatio(0, 1, { account: '222222222222' });
    await busy.send(new LookupEventsCommand({}));
    for (const c of [busy, quiet]) c.destroy();
  });
});

describe('aws-fake: Athena', () => {
  let fake: AwsFake;
  let client: AthenaClient;
  const sid = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
  const cid = '82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5';
  beforeAll(async () => {
    fake = await startAwsFake();
    client = ath(fake);
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    client.destroy();
    await fake.close();
  });

  it('round-trips GetSession / GetSessionStatus with Dates', async () => {
    const start = Date.UTC(2022, 9, 14, 17, 5, 36, 123);
    fake.setSession('us-east-1', {
      SessionId: sid,
      Description: 'notebook session',
      WorkGroup: 'notebook-workgroup',
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'PySpark engine version 3' },
      EngineConfiguration: {
        CoordinatorDpuSize: 1,
        MaxConcurrentDpus: 20,
        DefaultExecutorDpuSize: 1,
        AdditionalConfigs: { NotebookId: 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04' },
      },
      NotebookVersion: 'KeplerJupyter-1.x',
      SessionConfiguration: { IdleTimeoutSeconds: 1200 },
      Status: { StartDateTime: start, LastModifiedDateTime: start + 5000, IdleSinceDateTime: start + 5000, State: 'IDLE' },
      Statistics: { DpuExecutionInMillis: 12_345 },
    });
    const s = await client.send(new GetSessionCommand({ SessionId: sid }));
    expect(s.SessionId).toBe(sid);
    expect(s.WorkGroup).toBe('notebook-workgroup');
    expect(s.EngineConfiguration).toEqual({
      CoordinatorDpuSize: 1,
      MaxConcurrentDpus: 20,
      DefaultExecutorDpuSize: 1,
      AdditionalConfigs: { NotebookId: 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04' },
    });
    // GetSession's EngineVersion is a plain string in the API model.
    expect(s.EngineVersion).toBe('PySpark engine version 3');
    expect(s.NotebookVersion).toBe('KeplerJupyter-1.x');
    expect(s.SessionConfiguration?.IdleTimeoutSeconds).toBe(1200);
    expect(s.Status?.StartDateTime).toEqual(new Date(start));
    expect(s.Status?.LastModifiedDateTime).toEqual(new Date(start + 5000));
    expect(s.Status?.EndDateTime).toBeUndefined();
    expect(s.Statistics?.DpuExecutionInMillis).toBe(12_345);

    fake.updateSession('us-east-1', sid, { Status: { State: 'TERMINATED', EndDateTime: start + 60_000 } });
    const st = await client.send(new GetSessionStatusCommand({ SessionId: sid }));
    expect(st.SessionId).toBe(sid);
    expect(st.Status?.State).toBe('TERMINATED');
    expect(st.Status?.EndDateTime).toEqual(new Date(start + 60_000));
    expect(st.Status?.StartDateTime).toEqual(new Date(start));
    expect(fake.getSession('us-east-1', sid)?.Status.EndDateTime).toBe(start + 60_000);
    expect(fake.requests.map((r) => [r.service, r.target, r.region])).toEqual([
      ['athena', 'AmazonAthena.GetSession', 'us-east-1'],
      ['athena', 'AmazonAthena.GetSessionStatus', 'us-east-1'],
    ]);
  });

  it('round-trips GetCalculationExecution / GetCalculationExecutionStatus', async () => {
    const sub = Date.UTC(2022, 9, 14, 16, 52, 37);
    fake.setCalculation(
      'us-east-1',
      athenaCalculation({
        CalculationExecutionId: cid,
        SessionId: sid,
        Description: 'Calculation started via Jupyter notebook',
        WorkingDirectory: 's3://bucket/wd/',
        Status: { SubmissionDateTime: sub, CompletionDateTime: sub + 4500, State: 'COMPLETED' },
        Statistics: { DpuExecutionInMillis: 9000, Progress: '100%' },
        Result: { ResultS3Uri: 's3://bucket/res', ResultType: 'application/json' },
      }),
    );
    const c = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: cid }));
    expect(c).toMatchObject({
      CalculationExecutionId: cid,
      SessionId: sid,
      Description: 'Calculation started via Jupyter notebook',
      WorkingDirectory: 's3://bucket/wd/',
      Status: { SubmissionDateTime: new Date(sub), CompletionDateTime: new Date(sub + 4500), State: 'COMPLETED' },
      Statistics: { DpuExecutionInMillis: 9000, Progress: '100%' },
      Result: { ResultS3Uri: 's3://bucket/res', ResultType: 'application/json' },
    });
    const st = await client.send(new GetCalculationExecutionStatusCommand({ CalculationExecutionId: cid }));
    expect(st.Status?.State).toBe('COMPLETED');
    expect(st.Statistics?.DpuExecutionInMillis).toBe(9000);
    // Region scoping: the calculation is not in eu-west-1.
    const eu = ath(fake, 'eu-west-1');
    expect((await rejection(eu.send(new GetCalculationExecutionCommand({ CalculationExecutionId: cid })))).name).toBe(
      'ResourceNotFoundException',
    );
    eu.destroy();
  });

  it('reports unknown ids as ResourceNotFoundException (or InvalidRequestException when configured)', async () => {
    const e = await rejection(client.send(new GetSessionCommand({ SessionId: sid })));
    expect(e.name).toBe('ResourceNotFoundException');
    expect(e.message).toBe(`Session ${sid} not found`);
    expect(e.$metadata.httpStatusCode).toBe(400);
    const other = await startAwsFake({ notFoundAs: 'InvalidRequestException' });
    const c2 = ath(other);
    const e2 = await rejection(c2.send(new GetCalculationExecutionCommand({ CalculationExecutionId: cid })));
    expect(e2.name).toBe('InvalidRequestException');
    expect(e2.message).toContain(cid);
    c2.destroy();
    await other.close();
  });

  it('denies access per operation or entirely', async () => {
    fake.setSession('us-east-1', athenaSession({ SessionId: sid }));
    fake.denyAthena({ operations: ['GetSession'] });
    const e = await rejection(client.send(new GetSessionCommand({ SessionId: sid })));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toMatch(/^User: .* is not authorized to perform: athena:GetSession /);
    expect((await client.send(new GetSessionStatusCommand({ SessionId: sid }))).Status?.State).toBe('IDLE');
    fake.denyAthena(true);
    expect((await rejection(client.send(new GetSessionStatusCommand({ SessionId: sid })))).name).toBe('AccessDeniedException');
    fake.denyAthena(false);
    expect((await client.send(new GetSessionCommand({ SessionId: sid }))).SessionId).toBe(sid);
  });

  it('rejects unknown operations and surfaces failNext / setDown', async () => {
    const unknown = await rejection(
      client.send(new StartSessionCommand({ WorkGroup: 'primary', EngineConfiguration: { MaxConcurrentDpus: 4 } })),
    );
    expect(unknown.name).toBe('UnknownOperationException');
    fake.setSession('us-east-1', athenaSession({ SessionId: sid }));
    fake.failNext(1, 503, 'athena');
    const e = await rejection(client.send(new GetSessionCommand({ SessionId: sid })));
    expect(e.$metadata.httpStatusCode).toBe(503);
    expect(e.$fault).toBe('server');
    fake.setDown(true);
    const net = await rejection(client.send(new GetSessionCommand({ SessionId: sid })));
    expect(net.$metadata?.httpStatusCode).toBeUndefined();
    fake.setDown(false);
    expect((await client.send(new GetSessionCommand({ SessionId: sid }))).SessionId).toBe(sid);
  });

  it('awsEnvFor gives the child-process environment', () => {
    expect(awsEnvFor(fake, 'eu-west-1')).toEqual({
      AWS_ENDPOINT_URL_CLOUDTRAIL: fake.url,
      AWS_ENDPOINT_URL_ATHENA: fake.url,
      AWS_ENDPOINT_URL_STS: fake.url,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake',
    });
  });
});

/** A hand-made awsJson1_1 request, as the AWS CLI would send it (signature not checked). */
async function fetchLookup(
  fake: AwsFake,
  target: string,
  body: unknown,
  region = 'us-east-1',
  akid = 'AKIDFAKE',
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(fake.url + '/', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': target,
      'X-Amz-Date': '20261124T120000Z',
      Authorization: `AWS4-HMAC-SHA256 Credential=${akid}/20261124/${region}/cloudtrail/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef`,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}
