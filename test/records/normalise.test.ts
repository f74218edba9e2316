import { describe, expect, it } from 'vitest';
import {
  call,
  executor,
  fakeUuid,
  human,
  iamUser,
  referenceRecords,
  record,
  startCalculation,
  startSession,
  stopCalculation,
  toLookupEvent,
  type CloudTrailRecord,
} from '../support/cloudtrail-records.js';
import { normaliseLookupEvent, normaliseRecord, normaliseText, type Normalised } from '../../src/records/normalise.js';
import { isSparkEventName, isWellFormedSessionId, SPARK_EVENT_NAMES } from '../../src/records/athena-events.js';
import type { NotebookEvent } from '../../src/records/types.js';

const NOTEBOOK_SESSION = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
const EXECUTOR_SESSION = '9cc1ebb2-aac5-b1ca-8247-5d827bd8232f';
const T0 = Date.parse('2026-05-04T10:00:00Z');

function event(n: Normalised): NotebookEvent {
  if (n.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(n)}`);
  return n.event;
}
function reason(n: Normalised): string {
  if (n.kind !== 'rejected') throw new Error(`expected a reject, got ${JSON.stringify(n)}`);
  return n.reason;
}
const clone = (r: CloudTrailRecord) => JSON.parse(JSON.stringify(r)) as Record<string, unknown>;

describe('normaliseRecord: the reference records of AWS’s documentation', () => {
  const [start, terminate, imp, update, calc] = referenceRecords().map((r) => event(normaliseRecord(r))) as [NotebookEvent, NotebookEvent, NotebookEvent, NotebookEvent, NotebookEvent];

  it('StartSession', () => {
    expect(start).toEqual({
      eventId: 'b58ce998-eb89-43e9-8d67-d3d8e30561c9',
      eventName: 'StartSession',
      eventTime: Date.parse('2022-10-14T17:05:36Z'),
      region: 'us-east-1',
      account: '123456789012',
      sessionId: NOTEBOOK_SESSION,
      calculationId: null,
      notebookId: 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04',
      workgroup: 'notebook-workgroup',
      principal: 'alias',
      principalType: 'AssumedRole',
      principalArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alias',
      errorCode: null,
      readOnly: false,
      botAgent: false,
      detail: {
        state: 'CREATED',
        maxConcurrentDpus: 20,
        coordinatorDpuSize: 1,
        defaultExecutorDpuSize: 1,
        idleTimeoutMinutes: 20,
        notebookVersion: 'KeplerJupyter-1.x',
        sourceIp: '203.0.113.10',
        accessKeyId: 'ASIAEXAMPLEKEYID0001',
      },
    });
  });

  it('TerminateSession', () => {
    expect(terminate).toMatchObject({
      eventId: '49026c5a-bf58-4cdb-86ca-978e711ad238',
      eventName: 'TerminateSession',
      eventTime: Date.parse('2022-10-14T17:21:03Z'),
      sessionId: NOTEBOOK_SESSION,
      calculationId: null,
      notebookId: null,
      workgroup: null,
      principal: 'alias',
      errorCode: null,
      readOnly: false,
      detail: { state: 'TERMINATING', sourceIp: '203.0.113.10', accessKeyId: 'ASIAEXAMPLEKEYID0001' },
    });
  });

  it('ImportNotebook', () => {
    expect(imp).toMatchObject({
      eventName: 'ImportNotebook',
      sessionId: null,
      notebookId: '05f6225d-bdcc-4935-bc25-a8e19434652d',
      workgroup: 'notebook-workgroup',
      principal: 'alias',
      detail: { notebookName: 'example-notebook-name', notebookType: 'IPYNB' },
    });
  });

  it('UpdateNotebook, signed by the executor role', () => {
    expect(update).toMatchObject({
      eventName: 'UpdateNotebook',
      sessionId: EXECUTOR_SESSION,
      notebookId: 'c87553ff-e740-44b5-884f-a70e575e08b9',
      principal: `AthenaExecutor-${EXECUTOR_SESSION}`,
      principalArn: `arn:aws:sts::123456789012:assumed-role/AWSAthenaSparkExecutionRole-om0yj71w5l/AthenaExecutor-${EXECUTOR_SESSION}`,
      readOnly: false,
    });
    expect(update.detail.state).toBeUndefined();
  });

  it('StartCalculationExecution, signed by the executor role', () => {
    expect(calc).toMatchObject({
      eventName: 'StartCalculationExecution',
      eventTime: Date.parse('2022-10-14T16:52:37Z'),
      sessionId: EXECUTOR_SESSION,
      calculationId: '82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5',
      principal: `AthenaExecutor-${EXECUTOR_SESSION}`,
      detail: { state: 'CREATING' },
    });
  });
});

describe('normaliseRecord: identities, ids and details', () => {
  it('reads an IAM user by name, a role by session name', () => {
    expect(event(normaliseRecord(startSession({ sessionId: fakeUuid(), eventTime: T0, actor: iamUser('dana') }))).principal).toBe('dana');
    expect(event(normaliseRecord(startSession({ sessionId: fakeUuid(), eventTime: T0, actor: human('erin', 'DataSci') }))).principal).toBe('erin');
  });

  it('names the caller of every userIdentity type CloudTrail documents, with its type', () => {
    const r = clone(call('GetSession', { actor: human('x'), eventTime: T0 }));
    const who = (userIdentity: unknown) => {
      r.userIdentity = userIdentity;
      const e = event(normaliseRecord(r));
      return [e.principal, e.principalType];
    };
    expect(who({ type: 'IAMUser', principalId: 'AIDAJ45Q7YFFAREXAMPLE', arn: 'arn:aws:iam::123456789012:user/Alice', accountId: '123456789012', userName: 'Alice' })).toEqual(['Alice', 'IAMUser']);
    expect(
      who({
        type: 'AssumedRole',
        principalId: 'AROAIDPPEZS35WEXAMPLE:MySessionName',
        arn: 'arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName',
        accountId: '123456789012',
        sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::123456789012:role/RoleToBeAssumed', userName: 'RoleToBeAssumed' } },
      }),
    ).toEqual(['MySessionName', 'AssumedRole']);
    expect(who({ type: 'Root', principalId: '123456789012', arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012' })).toEqual(['root', 'Root']);
    expect(who({ type: 'FederatedUser', principalId: '123456789012:Bob', arn: 'arn:aws:sts::123456789012:federated-user/Bob', accountId: '123456789012', sessionContext: { sessionIssuer: { type: 'IAMUser', userName: 'Alice' } } })).toEqual(['Bob', 'FederatedUser']);
    expect(who({ type: 'AWSService', invokedBy: 'elasticmapreduce.amazonaws.com' })).toEqual(['elasticmapreduce.amazonaws.com', 'AWSService']);
    expect(who({ type: 'AWSAccount', principalId: 'AIDAEXAMPLE', accountId: '111122223333' })).toEqual(['account 111122223333', 'AWSAccount']);
    expect(who({ type: 'WebIdentityUser', principalId: 'accounts.google.com:app-id.apps.googleusercontent.com:user-id', userName: 'user-id', identityProvider: 'accounts.google.com' })).toEqual(['user-id', 'WebIdentityUser']);
    expect(who({ type: 'SAMLUser', principalId: 'SAMPLE:alice@example.com', userName: 'alice@example.com', identityProvider: 'bdGOnTesti4+0sHgR8HZ5A==' })).toEqual(['alice@example.com', 'SAMLUser']);
    expect(
      who({
        type: 'IdentityCenterUser',
        accountId: '123456789012',
        onBehalfOf: { userId: '544894e8-80c1-707f-60e3-3ba6510dfac1', identityStoreArn: 'arn:aws:identitystore::123456789012:identitystore/d-9067642ac7' },
        credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
      }),
    ).toEqual(['544894e8-80c1-707f-60e3-3ba6510dfac1', 'IdentityCenterUser']);
    // No type at all, only the service that acted.
    expect(who({ invokedBy: 'athena.amazonaws.com' })).toEqual(['athena.amazonaws.com', 'AWSService']);
    expect(who({ type: 'Unknown', principalId: 'ANONYMOUS' })).toEqual(['ANONYMOUS', 'Unknown']);
  });

  it("recognises the bot's own user agent, whatever its version and wherever it sits in the header", () => {
    const r = clone(call('GetSession', { actor: human('x'), eventTime: T0 }));
    const bot = (userAgent: unknown) => {
      r.userAgent = userAgent;
      return event(normaliseRecord(r)).botAgent;
    };
    expect(bot('aws-sdk-js/3.1164.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.20.2 api/athena#3.1164.0 m/E athena-session-bot/0.1.0')).toBe(true);
    expect(bot('athena-session-bot/12.3.4')).toBe(true);
    expect(bot('aws-sdk-js/3.1 (athena-session-bot/0.2.0)')).toBe(true);
    expect(bot('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36')).toBe(false);
    expect(bot('my-athena-session-bot/1.0')).toBe(false);
    expect(bot(undefined)).toBe(false);
    expect(bot(42)).toBe(false);
  });

  it('reads Root, AWS services and bare principal ids', () => {
    const r = clone(call('GetSession', { actor: human('x'), eventTime: T0 }));
    r.userIdentity = { type: 'Root', arn: 'arn:aws:iam::123456789012:root' };
    expect(event(normaliseRecord(r)).principal).toBe('root');
    r.userIdentity = { type: 'AWSService', invokedBy: 'athena.amazonaws.com' };
    expect(event(normaliseRecord(r)).principal).toBe('athena.amazonaws.com');
    r.userIdentity = { type: 'AssumedRole', principalId: 'AROAEXAMPLE:someone' };
    expect(event(normaliseRecord(r)).principal).toBe('someone');
    r.userIdentity = null;
    expect(event(normaliseRecord(r)).principal).toBe('unknown');
  });

  it('reads StartSession tags, skipping malformed entries, and the account of the call', () => {
    const r = clone(startSession({ sessionId: NOTEBOOK_SESSION, eventTime: T0, tags: { team: 'data', project: 'churn' } }));
    ((r.requestParameters as Record<string, unknown>).tags as unknown[]).push({ key: 42 }, 'junk', { key: 'empty' });
    r.recipientAccountId = '210987654321';
    const e = event(normaliseRecord(r));
    expect(e.detail.tags).toEqual({ team: 'data', project: 'churn', empty: '' });
    expect(e.account).toBe('210987654321');
    delete r.recipientAccountId;
    expect(event(normaliseRecord(r)).account).toBe('123456789012');
  });

  it('attaches a call to a session by its AthenaExecutor caller when the request names none', () => {
    const sid = fakeUuid();
    const e = event(normaliseRecord(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: T0, params: { calculationExecutionId: 'calc-1' } })));
    expect(e.sessionId).toBe(sid);
    expect(e.calculationId).toBe('calc-1');
    expect(e.readOnly).toBe(true);
  });

  it('takes the calculation id from the request when the response has none', () => {
    const e = event(normaliseRecord(stopCalculation({ calculationId: 'calc-2', eventTime: T0 })));
    expect(e).toMatchObject({ calculationId: 'calc-2', sessionId: null, principal: 'alias', detail: { state: 'CANCELING' } });
  });

  it('lower-cases upper-case session ids from the response, the request and the caller', () => {
    const sid = 'ABCDEF01-2345-6789-ABCD-EF0123456789';
    const lower = sid.toLowerCase();
    expect(event(normaliseRecord(startSession({ sessionId: sid, eventTime: T0 }))).sessionId).toBe(lower);
    expect(event(normaliseRecord(call('GetSession', { actor: human('a'), eventTime: T0, params: { sessionId: sid } }))).sessionId).toBe(lower);
    expect(event(normaliseRecord(call('UpdateNotebook', { actor: executor(sid), eventTime: T0, params: { notebookId: 'nb' } }))).sessionId).toBe(lower);
  });

  it('keeps a call with a malformed session id, attached to no session', () => {
    const e = event(normaliseRecord(call('GetSession', { actor: human('a'), eventTime: T0, params: { sessionId: 'not-a-session' }, errorCode: 'InvalidRequestException' })));
    expect(e.sessionId).toBeNull();
    expect(e.errorCode).toBe('InvalidRequestException');
    expect(e.detail.errorMessage).toBe('InvalidRequestException for GetSession');
  });

  it('keeps failed calls with their error code and message, and no response facts', () => {
    const e = event(normaliseRecord(startSession({ sessionId: fakeUuid(), eventTime: T0, errorCode: 'AccessDeniedException', errorMessage: 'not allowed' })));
    expect(e).toMatchObject({ eventName: 'StartSession', sessionId: null, errorCode: 'AccessDeniedException', detail: { errorMessage: 'not allowed' } });
    expect(e.detail.state).toBeUndefined();
  });

  it('reads a string readOnly flag', () => {
    const r = clone(call('GetSession', { actor: human('a'), eventTime: T0 }));
    r.readOnly = 'true';
    expect(event(normaliseRecord(r)).readOnly).toBe(true);
    r.readOnly = 'false';
    expect(event(normaliseRecord(r)).readOnly).toBe(false);
  });

  it('truncates huge strings', () => {
    const big = 'x'.repeat(100_000);
    const r = clone(startSession({ sessionId: fakeUuid(), eventTime: T0, errorCode: 'InternalServerException', errorMessage: big, workGroup: big }));
    r.sourceIPAddress = big;
    (r.userIdentity as Record<string, unknown>).accessKeyId = big;
    const e = event(normaliseRecord(r));
    expect(e.detail.errorMessage).toHaveLength(500);
    expect(e.detail.sourceIp).toHaveLength(64);
    expect(e.detail.accessKeyId).toHaveLength(64);
    expect(e.workgroup).toHaveLength(128);
    expect(e.notebookId).toBe('b8f5854b-1042-4b90-9d82-51d3c2fd5c04');

    const imp = clone(record({ eventName: 'ImportNotebook', actor: human('a'), eventTime: T0, requestParameters: { name: big, type: 'IPYNB', workGroup: 'wg' }, responseElements: { notebookId: big } }));
    const ie = event(normaliseRecord(imp));
    expect(ie.detail.notebookName).toHaveLength(256);
    expect(ie.notebookId).toHaveLength(128);
    expect(JSON.stringify(ie).length).toBeLessThan(2_000);
  });

  it('rejects an over-long eventID', () => {
    const r = clone(call('GetSession', { actor: human('a'), eventTime: T0 }));
    r.eventID = 'e'.repeat(129);
    expect(reason(normaliseRecord(r))).toMatch(/eventID too long/);
  });
});

describe('normaliseRecord: rejects', () => {
  const good = () => clone(startSession({ sessionId: fakeUuid(), eventTime: T0 }));

  it('rejects what is not a JSON object', () => {
    for (const v of [null, undefined, 42, 'text', [], [good()], true]) {
      expect(reason(normaliseRecord(v))).toBe('record is not a JSON object');
    }
  });

  it('rejects a record without eventID', () => {
    const r = good();
    delete r.eventID;
    expect(reason(normaliseRecord(r))).toMatch(/eventID missing or not a string/);
    r.eventID = '';
    expect(reason(normaliseRecord(r))).toMatch(/eventID is empty/);
  });

  it('rejects an eventTime that is not a date', () => {
    const r = good();
    r.eventTime = 'yesterday afternoon';
    const why = reason(normaliseRecord(r));
    expect(why).toMatch(/invalid eventTime/);
    expect(why).toContain('yesterday afternoon');
    r.eventTime = 1_700_000_000;
    expect(reason(normaliseRecord(r))).toMatch(/eventTime missing or not a string/);
  });

  it('rejects a requestParameters.sessionId that is a number', () => {
    const r = clone(call('GetSession', { actor: human('a'), eventTime: T0 }));
    r.requestParameters = { sessionId: 12345 };
    expect(reason(normaliseRecord(r))).toMatch(/^invalid record: requestParameters\.sessionId: /);
  });

  it('rejects an unknown eventVersion', () => {
    const r = good();
    r.eventVersion = '2.0';
    expect(reason(normaliseRecord(r))).toBe('unknown event version "2.0"');
    r.eventVersion = '1.11';
    expect(normaliseRecord(r).kind).toBe('event');
    delete r.eventVersion;
    expect(reason(normaliseRecord(r))).toMatch(/eventVersion missing or not a string/);
  });

  it('rejects a bad region and a missing eventName', () => {
    const r = good();
    r.awsRegion = 'US EAST <1>';
    expect(reason(normaliseRecord(r))).toMatch(/awsRegion is not a region/);
    const s = good();
    delete s.eventName;
    expect(reason(normaliseRecord(s))).toMatch(/^invalid record: eventName: /);
  });

  it('rejects a wrongly typed engine configuration', () => {
    const r = good();
    (r.requestParameters as Record<string, unknown>).engineConfiguration = { maxConcurrentDpus: 'twenty' };
    expect(reason(normaliseRecord(r))).toMatch(/requestParameters\.engineConfiguration\.maxConcurrentDpus/);
  });
});

describe('normaliseRecord: records we do not watch', () => {
  it('ignores other services', () => {
    expect(normaliseRecord(record({ eventName: 'GetObject', eventSource: 's3.amazonaws.com', actor: human('a'), eventTime: T0 }))).toEqual({ kind: 'ignored' });
    // Same name as an Athena Spark call, other service: still not ours.
    expect(normaliseRecord(record({ eventName: 'StartSession', eventSource: 'ssm.amazonaws.com', actor: human('a'), eventTime: T0 }))).toEqual({ kind: 'ignored' });
  });

  it('ignores Athena SQL calls', () => {
    for (const name of ['StartQueryExecution', 'GetQueryExecution', 'GetQueryResults', 'ListWorkGroups']) {
      expect(normaliseRecord(call(name, { actor: human('etl'), eventTime: T0, params: { queryExecutionId: fakeUuid() } }))).toEqual({ kind: 'ignored' });
    }
  });

  it('ignores a malformed record of another service rather than rejecting it', () => {
    expect(normaliseRecord({ eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' })).toEqual({ kind: 'ignored' });
  });

  it('knows every Spark and notebook event name', () => {
    expect(SPARK_EVENT_NAMES).toHaveLength(23);
    for (const name of SPARK_EVENT_NAMES) {
      expect(isSparkEventName(name)).toBe(true);
      expect(normaliseRecord(call(name, { actor: human('a'), eventTime: T0 })).kind).toBe('event');
    }
    expect(isSparkEventName('StartQueryExecution')).toBe(false);
  });
});

describe('normaliseLookupEvent', () => {
  const rec = () => startCalculation({ sessionId: EXECUTOR_SESSION, calculationId: 'calc-9', eventTime: T0 });

  it('accepts EventTime as epoch seconds, ISO 8601 and Date, and reads the inner record', () => {
    const r = rec();
    const expected = event(normaliseRecord(r));
    const item = toLookupEvent(r);
    expect(typeof item.EventTime).toBe('number');
    expect(event(normaliseLookupEvent(item))).toEqual(expected);
    expect(event(normaliseLookupEvent({ ...item, EventTime: new Date(T0).toISOString() }))).toEqual(expected);
    expect(event(normaliseLookupEvent({ ...item, EventTime: new Date(T0) }))).toEqual(expected);
    expect(event(normaliseLookupEvent({ ...item, EventTime: undefined }))).toEqual(expected);
  });

  it('rejects a CloudTrailEvent that is not JSON', () => {
    expect(reason(normaliseLookupEvent({ ...toLookupEvent(rec()), CloudTrailEvent: '{"eventVersion": "1.08",' }))).toBe('CloudTrailEvent is not valid JSON');
  });

  it('rejects an item without CloudTrailEvent', () => {
    const item = toLookupEvent(rec());
    delete item.CloudTrailEvent;
    expect(reason(normaliseLookupEvent(item))).toBe('invalid LookupEvents item: CloudTrailEvent: CloudTrailEvent missing or not a string');
  });

  it('rejects a bad EventTime and a non-object item', () => {
    expect(reason(normaliseLookupEvent({ ...toLookupEvent(rec()), EventTime: { when: 'now' } }))).toMatch(/^invalid LookupEvents item: EventTime: /);
    expect(reason(normaliseLookupEvent('text'))).toMatch(/^invalid LookupEvents item: item: /);
  });

  it('passes the inner record’s verdict through', () => {
    const noise = call('StartQueryExecution', { actor: human('etl'), eventTime: T0 });
    expect(normaliseLookupEvent(toLookupEvent(noise))).toEqual({ kind: 'ignored' });
    expect(reason(normaliseLookupEvent({ EventId: 'x', CloudTrailEvent: '[1,2]' }))).toBe('record is not a JSON object');
  });
});

describe('normaliseText', () => {
  it('parses a file element in either format', () => {
    const r = rec2();
    expect(event(normaliseText(JSON.stringify(r), 'records')).eventId).toBe(r.eventID);
    expect(event(normaliseText(JSON.stringify(toLookupEvent(r)), 'events')).eventId).toBe(r.eventID);
    expect(reason(normaliseText('{oops', 'records'))).toBe('element is not valid JSON');
  });
  const rec2 = () => startSession({ sessionId: fakeUuid(), eventTime: T0 });
});

describe('session ids', () => {
  it('are 8-4-4-4-12 hex digits with dashes, in any case', () => {
    expect(isWellFormedSessionId('a2c1ebba-ad01-865f-ed2d-a142b7451f7e')).toBe(true);
    expect(isWellFormedSessionId('A2C1EBBA-AD01-865F-ED2D-A142B7451F7E')).toBe(true);
    for (const bad of ['', 'a2c1ebba-ad01-865f-ed2d-a142b7451f7', 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e0', 'a2c1ebbaad01865fed2da142b7451f7e', 'g2c1ebba-ad01-865f-ed2d-a142b7451f7e', ' a2c1ebba-ad01-865f-ed2d-a142b7451f7e', 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e\n']) {
      expect(isWellFormedSessionId(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
