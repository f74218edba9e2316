import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient, LookupEventsCommand, type Event } from '@aws-sdk/client-cloudtrail';
import {
  AthenaClient,
  GetCalculationExecutionCommand,
  GetResourceDashboardCommand,
  GetSessionCommand,
  ListSessionsCommand,
  ListWorkGroupsCommand,
  StopCalculationExecutionCommand,
  TerminateSessionCommand,
} from '@aws-sdk/client-athena';
import { toLookupEvent, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { athenaCalculation, athenaSession, athenaSessionArn, startAwsFake, type AwsFake } from './aws-fake.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const MIN = 60_000;
const REGION = 'us-east-1';
const SID = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
const CID = '82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5';
const BOT_AGENT = 'athena-session-bot/1.2.3';
const OTHER_ACCOUNT = '210987654321';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('aws-fake: the Athena calls it serves come back as CloudTrail records', () => {
  let clock = NOW;
  let fake: AwsFake;
  const clients: Array<{ destroy(): void }> = [];
  const athena = (accessKeyId = 'AKIDFAKE', region = REGION): AthenaClient => {
    const c = new AthenaClient({
      region,
      endpoint: fake.url,
      credentials: { accessKeyId, secretAccessKey: 'fake' },
      maxAttempts: 1,
      customUserAgent: BOT_AGENT,
    });
    clients.push(c);
    return c;
  };
  const trail = (accessKeyId = 'AKIDFAKE', region = REGION): CloudTrailClient => {
    const c = new CloudTrailClient({ region, endpoint: fake.url, credentials: { accessKeyId, secretAccessKey: 'fake' }, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const lookup = async (accessKeyId = 'AKIDFAKE', region = REGION): Promise<Event[]> =>
    (await trail(accessKeyId, region).send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'athena.amazonaws.com' }] })))
      .Events ?? [];
  const parsed = (e: Event): CloudTrailRecord => JSON.parse(e.CloudTrailEvent!) as CloudTrailRecord;

  beforeAll(async () => {
    fake = await startAwsFake({
      now: () => clock,
      ratePerSecond: Infinity,
      identities: { AKIDOTHERUSER: { account: OTHER_ACCOUNT, arn: `arn:aws:iam::${OTHER_ACCOUNT}:user/ops-monitor` } },
    });
  });
  afterEach(() => {
    fake.reset();
    clock = NOW;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await fake.close();
  });

  it('writes a read as a record shaped like the real ones, visible five minutes later', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'prod-notebooks', Status: { StartDateTime: NOW - 30 * MIN, State: 'IDLE' } }));
    const out = await athena().send(new GetSessionCommand({ SessionId: SID }));
    expect(await lookup()).toEqual([]);
    clock = NOW + 5 * MIN - 1;
    expect(await lookup()).toEqual([]);
    clock = NOW + 5 * MIN;
    const events = await lookup();
    expect(events).toHaveLength(1);
    const item = events[0]!;
    const rec = parsed(item);
    const req = fake.athenaCalls('GetSession')[0]!;
    expect(req.userAgent).toContain(BOT_AGENT);
    expect(rec).toEqual({
      eventVersion: '1.08',
      userIdentity: {
        type: 'AssumedRole',
        principalId: expect.stringMatching(/^AROA[A-Z2-7]{17}:bot$/),
        arn: 'arn:aws:sts::123456789012:assumed-role/athena-session-bot/bot',
        accountId: '123456789012',
        accessKeyId: 'AKIDFAKE',
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: expect.stringMatching(/^AROA[A-Z2-7]{17}$/),
            arn: 'arn:aws:iam::123456789012:role/athena-session-bot',
            accountId: '123456789012',
            userName: 'athena-session-bot',
          },
          webIdFederationData: {},
          attributes: { creationDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), mfaAuthenticated: 'false' },
        },
      },
      eventTime: '2026-11-24T12:00:00Z',
      eventSource: 'athena.amazonaws.com',
      eventName: 'GetSession',
      awsRegion: REGION,
      sourceIPAddress: '127.0.0.1',
      userAgent: req.userAgent,
      requestParameters: { sessionId: SID },
      responseElements: null,
      requestID: out.$metadata.requestId,
      eventID: expect.stringMatching(UUID),
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: '123456789012',
      eventCategory: 'Management',
      tlsDetails: { tlsVersion: 'TLSv1.2', cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256', clientProvidedHostHeader: `127.0.0.1:${fake.port}` },
    });
    // The principal ids agree with each other, as IAM's do.
    const ui = rec.userIdentity as any;
    expect(ui.principalId).toBe(`${ui.sessionContext.sessionIssuer.principalId}:bot`);
    // The LookupEvents item is exactly what toLookupEvent makes of the record.
    expect(item).toEqual({ ...toLookupEvent(rec), EventTime: new Date(NOW) });
    expect(item).toMatchObject({ EventName: 'GetSession', ReadOnly: 'true', AccessKeyId: 'AKIDFAKE', Username: 'bot', Resources: [] });
    // The bot finds its own calls by its session name, as a real trail allows.
    const byName = await trail().send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'bot' }] }));
    expect(byName.Events?.map((e) => e.EventId)).toEqual([item.EventId]);
    expect(fake.callRecords()).toEqual([{ ...rec, visibleAt: NOW + 5 * MIN }]);
  });

  it('writes refused calls with the errorCode and the message the caller got', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'prod-notebooks' }));
    fake.denyAthena({ operations: ['GetSession'] });
    const denied = await rejection(athena().send(new GetSessionCommand({ SessionId: SID })));
    expect(denied.name).toBe('AccessDeniedException');
    const missing = await rejection(athena().send(new GetCalculationExecutionCommand({ CalculationExecutionId: CID })));
    expect(missing.name).toBe('ResourceNotFoundException');
    const invalid = await rejection(athena().send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', MaxResults: 0 })));
    expect(invalid.name).toBe('InvalidRequestException');
    clock = NOW + 5 * MIN;
    const recs = (await lookup()).map(parsed).reverse();
    expect(recs.map((r) => [r.eventName, r.errorCode, r.errorMessage, r.responseElements, r.readOnly])).toEqual([
      ['GetSession', 'AccessDeniedException', denied.message, null, true],
      ['GetCalculationExecution', 'ResourceNotFoundException', missing.message, null, true],
      ['ListSessions', 'InvalidRequestException', invalid.message, null, true],
    ]);
    expect(denied.message).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/athena-session-bot/bot is not authorized to perform: athena:GetSession on resource: ' +
        'arn:aws:athena:us-east-1:123456789012:workgroup/prod-notebooks because no identity-based policy allows the athena:GetSession action',
    );
    expect(recs[2]!.requestParameters).toEqual({ workGroup: 'prod-notebooks', maxResults: 0 });
  });

  it('writes actions as write calls with their responseElements', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, Status: { State: 'BUSY', StartDateTime: NOW - 30 * MIN } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: CID, SessionId: SID, Status: { State: 'RUNNING', SubmissionDateTime: NOW - 20 * MIN } }));
    await athena().send(new StopCalculationExecutionCommand({ CalculationExecutionId: CID }));
    await athena().send(new TerminateSessionCommand({ SessionId: SID }));
    clock = NOW + 5 * MIN;
    const recs = (await lookup()).map(parsed).reverse();
    expect(recs.map((r) => [r.eventName, r.readOnly, r.requestParameters, r.responseElements])).toEqual([
      ['StopCalculationExecution', false, { calculationExecutionId: CID }, { state: 'CANCELING' }],
      ['TerminateSession', false, { sessionId: SID }, { state: 'TERMINATING' }],
    ]);
    const lookedUp = await trail().send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }] }));
    expect(lookedUp.Events?.map((e) => [e.EventName, e.ReadOnly])).toEqual([
      ['TerminateSession', 'false'],
      ['StopCalculationExecution', 'false'],
    ]);
  });

  it('names every request parameter in lowerCamel, and gives none for a call without any', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'prod-notebooks' }));
    await athena().send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', StateFilter: 'IDLE', MaxResults: 10 }));
    await athena().send(new ListWorkGroupsCommand({}));
    const arn = athenaSessionArn(REGION, '123456789012', 'prod-notebooks', SID);
    await athena().send(new GetResourceDashboardCommand({ ResourceARN: arn }));
    clock = NOW + 5 * MIN;
    const recs = (await lookup()).map(parsed).reverse();
    expect(recs.map((r) => [r.eventName, r.requestParameters])).toEqual([
      ['ListSessions', { workGroup: 'prod-notebooks', stateFilter: 'IDLE', maxResults: 10 }],
      ['ListWorkGroups', null],
      ['GetResourceDashboard', { resourceARN: arn }],
    ]);
  });

  it('does not write throttled calls, injected faults or unknown operations', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID }));
    fake.setAthenaRatePerSecond(1);
    await athena().send(new GetSessionCommand({ SessionId: SID }));
    const throttled = await rejection(athena().send(new GetSessionCommand({ SessionId: SID })));
    expect(throttled.name).toBe('ThrottlingException');
    fake.setAthenaRatePerSecond(Infinity);
    fake.failNext(1, 503, 'athena');
    expect((await rejection(athena().send(new GetSessionCommand({ SessionId: SID })))).$metadata.httpStatusCode).toBe(503);
    const raw = await fetch(fake.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AmazonAthena.DeleteNotebook',
        Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDFAKE/20261124/us-east-1/athena/aws4_request, SignedHeaders=host, Signature=00',
      },
      body: JSON.stringify({ NotebookId: 'x' }),
    });
    expect(raw.status).toBe(400);
    clock = NOW + 5 * MIN;
    expect((await lookup()).map((e) => e.EventName)).toEqual(['GetSession']);
    expect(fake.athenaCalls('GetSession')).toHaveLength(3);
  });

  it('writes into the caller account and region only', async () => {
    fake.setSession('eu-west-1', athenaSession({ SessionId: SID }), { account: OTHER_ACCOUNT });
    await athena('AKIDOTHERUSER', 'eu-west-1').send(new GetSessionCommand({ SessionId: SID }));
    clock = NOW + 5 * MIN;
    expect(await lookup()).toEqual([]);
    expect(await lookup('AKIDFAKE', 'eu-west-1')).toEqual([]);
    const theirs = await lookup('AKIDOTHERUSER', 'eu-west-1');
    expect(theirs).toHaveLength(1);
    expect(theirs[0]!.Username).toBe('ops-monitor');
    const rec = parsed(theirs[0]!);
    expect(rec.recipientAccountId).toBe(OTHER_ACCOUNT);
    expect(rec.awsRegion).toBe('eu-west-1');
    expect(rec.userIdentity).toEqual({
      type: 'IAMUser',
      principalId: expect.stringMatching(/^AIDA[A-Z2-7]{17}$/),
      arn: `arn:aws:iam::${OTHER_ACCOUNT}:user/ops-monitor`,
      accountId: OTHER_ACCOUNT,
      accessKeyId: 'AKIDOTHERUSER',
      userName: 'ops-monitor',
    });
    expect(fake.eventCount('eu-west-1', OTHER_ACCOUNT)).toBe(1);
    expect(fake.eventCount(undefined, '123456789012')).toBe(0);
  });

  it('honours callLogDelayMs and logCallsToCloudTrail: false', async () => {
    const quick = await startAwsFake({ now: () => clock, callLogDelayMs: 1000 });
    const quiet = await startAwsFake({ now: () => clock, logCallsToCloudTrail: false });
    try {
      for (const f of [quick, quiet]) {
        f.setSession(REGION, athenaSession({ SessionId: SID }));
        const c = new AthenaClient({ region: REGION, endpoint: f.url, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' }, maxAttempts: 1 });
        clients.push(c);
        await c.send(new GetSessionCommand({ SessionId: SID }));
      }
      expect(quick.callRecords().map((r) => r.visibleAt)).toEqual([NOW + 1000]);
      expect(quiet.callRecords()).toEqual([]);
      expect(quiet.eventCount()).toBe(0);
    } finally {
      await quick.close();
      await quiet.close();
    }
  });
});
