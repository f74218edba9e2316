import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AthenaClient,
  GetCalculationExecutionCommand,
  GetResourceDashboardCommand,
  GetSessionCommand,
  GetSessionStatusCommand,
  ListCalculationExecutionsCommand,
  ListSessionsCommand,
  ListWorkGroupsCommand,
  StopCalculationExecutionCommand,
  TerminateSessionCommand,
  type CalculationSummary,
} from '@aws-sdk/client-athena';
import { fakeUuid } from '../support/cloudtrail-records.js';
import { athenaCalculation, athenaSession, athenaSessionArn, startAwsFake, type AwsFake, type SessionState } from './aws-fake.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
const MIN = 60_000;
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const SID = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('aws-fake: the Athena operations the bot calls', () => {
  let clock = NOW;
  let fake: AwsFake;
  let client: AthenaClient;
  const clients: AthenaClient[] = [];
  const athenaAs = (accessKeyId: string, region = REGION): AthenaClient => {
    const c = new AthenaClient({ region, endpoint: fake.url, credentials: { accessKeyId, secretAccessKey: 'fake' }, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const calcIds = (cs: CalculationSummary[] | undefined) => (cs ?? []).map((c) => c.CalculationExecutionId);

  beforeAll(async () => {
    fake = await startAwsFake({
      now: () => clock,
      stopDelayMs: 3_000,
      terminateDelayMs: 20_000,
      identities: { AKIDOTHER: { account: OTHER, arn: `arn:aws:sts::${OTHER}:assumed-role/reader/bot` } },
    });
    client = athenaAs('AKIDFAKE');
  });
  afterEach(() => {
    fake.reset();
    clock = NOW;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await fake.close();
  });

  it('ListCalculationExecutions: a session\'s calculations newest first, filtered, paged', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID }));
    const states = ['COMPLETED', 'RUNNING', 'FAILED', 'COMPLETED', 'CANCELED', 'COMPLETED', 'QUEUED'] as const;
    const ids = states.map((State, i) => {
      const id = fakeUuid(9000 + i);
      fake.setCalculation(
        REGION,
        athenaCalculation({
          CalculationExecutionId: id,
          SessionId: SID,
          Description: `cell ${i}`,
          Status: { State, SubmissionDateTime: NOW - (10 - i) * MIN, ...(State === 'RUNNING' || State === 'QUEUED' ? {} : { CompletionDateTime: NOW - (9 - i) * MIN }) },
        }),
      );
      return id;
    });
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: fakeUuid(9999), SessionId: 'another-session' }));
    const newestFirst = [...ids].reverse();

    const all = await client.send(new ListCalculationExecutionsCommand({ SessionId: SID }));
    expect(calcIds(all.Calculations)).toEqual(newestFirst);
    expect(all.NextToken).toBeUndefined();
    expect(all.Calculations![0]).toEqual({
      CalculationExecutionId: ids[6],
      Description: 'cell 6',
      Status: { SubmissionDateTime: new Date(NOW - 4 * MIN), State: 'QUEUED' },
    });
    expect(all.Calculations![1]!.Status).toEqual({ SubmissionDateTime: new Date(NOW - 5 * MIN), CompletionDateTime: new Date(NOW - 4 * MIN), State: 'COMPLETED' });

    const completed = await client.send(new ListCalculationExecutionsCommand({ SessionId: SID, StateFilter: 'COMPLETED' }));
    expect(calcIds(completed.Calculations)).toEqual([ids[5], ids[3], ids[0]]);

    const p1 = await client.send(new ListCalculationExecutionsCommand({ SessionId: SID, MaxResults: 3 }));
    const p2 = await client.send(new ListCalculationExecutionsCommand({ SessionId: SID, MaxResults: 3, NextToken: p1.NextToken }));
    const p3 = await client.send(new ListCalculationExecutionsCommand({ SessionId: SID, MaxResults: 3, NextToken: p2.NextToken }));
    expect([...calcIds(p1.Calculations), ...calcIds(p2.Calculations), ...calcIds(p3.Calculations)]).toEqual(newestFirst);
    expect(p3.NextToken).toBeUndefined();
    // A token is bound to the parameters it was made for.
    const moved = await rejection(client.send(new ListCalculationExecutionsCommand({ SessionId: SID, MaxResults: 3, StateFilter: 'COMPLETED', NextToken: p1.NextToken })));
    expect(moved.name).toBe('InvalidRequestException');

    for (const MaxResults of [0, 101]) {
      const e = await rejection(client.send(new ListCalculationExecutionsCommand({ SessionId: SID, MaxResults })));
      expect(e.name).toBe('InvalidRequestException');
      expect(e.message).toMatch(new RegExp(`^1 validation error detected: Value '${MaxResults}' at 'maxResults' failed to satisfy constraint`));
    }
    expect((await client.send(new ListCalculationExecutionsCommand({ SessionId: SID, MaxResults: 100 }))).Calculations).toHaveLength(7);
    const noId = await rejection(client.send(new ListCalculationExecutionsCommand({} as never)));
    expect([noId.name, noId.message]).toEqual([
      'InvalidRequestException',
      "1 validation error detected: Value null at 'sessionId' failed to satisfy constraint: Member must not be null",
    ]);
    const badState = await rejection(client.send(new ListCalculationExecutionsCommand({ SessionId: SID, StateFilter: 'DONE' as never })));
    expect(badState.name).toBe('InvalidRequestException');
    const unknown = await rejection(client.send(new ListCalculationExecutionsCommand({ SessionId: fakeUuid(1) })));
    expect(unknown.name).toBe('ResourceNotFoundException');
  });

  it('ListSessions: active sessions of a work group newest first; other states only by StateFilter', async () => {
    const states: SessionState[] = ['IDLE', 'TERMINATED', 'BUSY', 'FAILED', 'CREATING', 'TERMINATING', 'CREATED', 'DEGRADED'];
    const ids = states.map((State, i) => {
      const id = fakeUuid(7000 + i);
      fake.setSession(
        REGION,
        athenaSession({
          SessionId: id,
          WorkGroup: 'prod-notebooks',
          Description: `session ${i}`,
          EngineVersion: { SelectedEngineVersion: 'PySpark engine version 3', EffectiveEngineVersion: 'PySpark engine version 3' },
          NotebookVersion: 'Athena notebook version 1',
          Status: { State, StartDateTime: NOW - (60 - i) * MIN },
        }),
      );
      return id;
    });
    fake.setSession(REGION, athenaSession({ SessionId: fakeUuid(7100), WorkGroup: 'other', Status: { State: 'IDLE', StartDateTime: NOW } }));

    const active = await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks' }));
    // The API reference: "sessions in a workgroup that are in an active state like CREATING, CREATED, IDLE, or BUSY".
    expect(active.Sessions?.map((s) => s.SessionId)).toEqual([ids[6], ids[4], ids[2], ids[0]]);
    expect(active.Sessions![3]).toEqual({
      SessionId: ids[0],
      Description: 'session 0',
      EngineVersion: { SelectedEngineVersion: 'PySpark engine version 3', EffectiveEngineVersion: 'PySpark engine version 3' },
      NotebookVersion: 'Athena notebook version 1',
      Status: { StartDateTime: new Date(NOW - 60 * MIN), State: 'IDLE' },
    });
    const terminated = await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', StateFilter: 'TERMINATED' }));
    expect(terminated.Sessions?.map((s) => s.SessionId)).toEqual([ids[1]]);
    const degraded = await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', StateFilter: 'DEGRADED' }));
    expect(degraded.Sessions?.map((s) => s.SessionId)).toEqual([ids[7]]);

    const p1 = await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', MaxResults: 3 }));
    expect(p1.Sessions).toHaveLength(3);
    const p2 = await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', MaxResults: 3, NextToken: p1.NextToken }));
    expect(p2.Sessions?.map((s) => s.SessionId)).toEqual([ids[0]]);
    expect(p2.NextToken).toBeUndefined();
    expect((await rejection(client.send(new ListSessionsCommand({ WorkGroup: 'other', MaxResults: 3, NextToken: p1.NextToken })))).name).toBe('InvalidRequestException');

    const missing = await rejection(client.send(new ListSessionsCommand({ WorkGroup: 'no-such-group' })));
    expect([missing.name, missing.message]).toEqual(['InvalidRequestException', 'WorkGroup no-such-group is not found.']);
    expect((await client.send(new ListSessionsCommand({ WorkGroup: 'primary' }))).Sessions).toEqual([]);
    for (const MaxResults of [0, 101]) {
      expect((await rejection(client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', MaxResults })))).name).toBe('InvalidRequestException');
    }
    // Sessions are per account: another account's work group is not this one's.
    expect((await rejection(athenaAs('AKIDOTHER').send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks' })))).name).toBe('InvalidRequestException');
  });

  it('ListWorkGroups: primary, those sessions name and those added, paged by 50 at most', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'spark-wg', EngineVersion: 'PySpark engine version 3', Status: { StartDateTime: NOW - 90 * MIN } }));
    fake.addWorkGroup(REGION, { Name: 'analytics', Description: 'SQL', CreationTime: NOW - 86_400_000, EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' } });
    fake.addWorkGroup(REGION, { Name: 'old', State: 'DISABLED', EngineVersion: 'PySpark engine version 3' });
    const out = await client.send(new ListWorkGroupsCommand({}));
    expect(out.WorkGroups?.map((w) => [w.Name, w.State])).toEqual([
      ['analytics', 'ENABLED'],
      ['old', 'DISABLED'],
      ['primary', 'ENABLED'],
      ['spark-wg', 'ENABLED'],
    ]);
    expect(out.WorkGroups![0]).toEqual({
      Name: 'analytics',
      State: 'ENABLED',
      Description: 'SQL',
      CreationTime: new Date(NOW - 86_400_000),
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    });
    expect(out.WorkGroups![3]).toEqual({
      Name: 'spark-wg',
      State: 'ENABLED',
      CreationTime: new Date(NOW - 90 * MIN),
      EngineVersion: { SelectedEngineVersion: 'PySpark engine version 3', EffectiveEngineVersion: 'PySpark engine version 3' },
    });
    const p1 = await client.send(new ListWorkGroupsCommand({ MaxResults: 3 }));
    const p2 = await client.send(new ListWorkGroupsCommand({ MaxResults: 3, NextToken: p1.NextToken }));
    expect([...p1.WorkGroups!, ...p2.WorkGroups!].map((w) => w.Name)).toEqual(['analytics', 'old', 'primary', 'spark-wg']);
    expect((await rejection(client.send(new ListWorkGroupsCommand({ MaxResults: 51 })))).name).toBe('InvalidRequestException');
    // Another account starts with primary only; another region too.
    expect((await athenaAs('AKIDOTHER').send(new ListWorkGroupsCommand({}))).WorkGroups?.map((w) => w.Name)).toEqual(['primary']);
    expect((await athenaAs('AKIDFAKE', 'eu-west-1').send(new ListWorkGroupsCommand({}))).WorkGroups?.map((w) => w.Name)).toEqual(['primary']);
    // A work group added in another account shows there.
    fake.addWorkGroup(REGION, { Name: 'theirs' }, { account: OTHER });
    expect((await athenaAs('AKIDOTHER').send(new ListWorkGroupsCommand({}))).WorkGroups?.map((w) => w.Name)).toEqual(['primary', 'theirs']);
  });

  it('GetResourceDashboard: a fresh Spark UI link for a session ARN; refusals and unknown sessions', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'prod-notebooks' }));
    const arn = athenaSessionArn(REGION, ACCOUNT, 'prod-notebooks', SID);
    expect(arn).toBe(`arn:aws:athena:us-east-1:123456789012:workgroup/prod-notebooks/session/${SID}`);
    const a = await client.send(new GetResourceDashboardCommand({ ResourceARN: arn }));
    const b = await client.send(new GetResourceDashboardCommand({ ResourceARN: `arn:aws:athena:us-east-1:123456789012:session/${SID}` }));
    expect(a.Url).toMatch(new RegExp(`^https://${SID}\\.spark-ui\\.athena\\.us-east-1\\.amazonaws\\.com/\\?`));
    expect(b.Url).not.toBe(a.Url);

    const notFound: string[] = [
      athenaSessionArn(REGION, ACCOUNT, 'other-group', SID),
      athenaSessionArn('eu-west-1', ACCOUNT, 'prod-notebooks', SID),
      athenaSessionArn(REGION, OTHER, 'prod-notebooks', SID),
      athenaSessionArn(REGION, ACCOUNT, 'prod-notebooks', fakeUuid(5)),
    ];
    for (const ResourceARN of notFound) {
      expect((await rejection(client.send(new GetResourceDashboardCommand({ ResourceARN })))).name, ResourceARN).toBe('ResourceNotFoundException');
    }
    expect((await rejection(client.send(new GetResourceDashboardCommand({ ResourceARN: SID })))).name).toBe('InvalidRequestException');

    fake.setDashboard(REGION, SID, 'not-found');
    expect((await rejection(client.send(new GetResourceDashboardCommand({ ResourceARN: arn })))).name).toBe('ResourceNotFoundException');
    fake.setDashboard(REGION, SID, 'denied');
    const denied = await rejection(client.send(new GetResourceDashboardCommand({ ResourceARN: arn })));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('athena:GetResourceDashboard on resource: arn:aws:athena:us-east-1:123456789012:workgroup/prod-notebooks');
    fake.setDashboard(REGION, SID, 'available');
    expect((await client.send(new GetResourceDashboardCommand({ ResourceARN: arn }))).Url).toMatch(/^https:/);
  });

  it('StopCalculationExecution: RUNNING → CANCELING → CANCELED after stopDelayMs; an ended one is left alone', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, Status: { State: 'BUSY', StartDateTime: NOW - 60 * MIN } }));
    const running = fakeUuid(1);
    const done = fakeUuid(2);
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: running, SessionId: SID, Status: { State: 'RUNNING', SubmissionDateTime: NOW - 40 * MIN } }));
    fake.setCalculation(
      REGION,
      athenaCalculation({ CalculationExecutionId: done, SessionId: SID, Status: { State: 'COMPLETED', SubmissionDateTime: NOW - 50 * MIN, CompletionDateTime: NOW - 45 * MIN } }),
    );
    expect((await client.send(new StopCalculationExecutionCommand({ CalculationExecutionId: running }))).State).toBe('CANCELING');
    const canceling = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: running }));
    expect(canceling.Status).toEqual({ SubmissionDateTime: new Date(NOW - 40 * MIN), State: 'CANCELING' });
    // A second press while it cancels changes nothing.
    clock = NOW + 1_000;
    expect((await client.send(new StopCalculationExecutionCommand({ CalculationExecutionId: running }))).State).toBe('CANCELING');
    clock = NOW + 2_999;
    expect(fake.getCalculation(REGION, running)?.Status.State).toBe('CANCELING');
    clock = NOW + 3_000;
    const canceled = await client.send(new GetCalculationExecutionCommand({ CalculationExecutionId: running }));
    expect(canceled.Status).toEqual({ SubmissionDateTime: new Date(NOW - 40 * MIN), CompletionDateTime: new Date(NOW + 3_000), State: 'CANCELED' });
    // Best effort: stopping what has ended succeeds and changes nothing.
    expect((await client.send(new StopCalculationExecutionCommand({ CalculationExecutionId: running }))).State).toBe('CANCELED');
    expect((await client.send(new StopCalculationExecutionCommand({ CalculationExecutionId: done }))).State).toBe('COMPLETED');
    expect(fake.getCalculation(REGION, done)?.Status).toEqual({ State: 'COMPLETED', SubmissionDateTime: NOW - 50 * MIN, CompletionDateTime: NOW - 45 * MIN });
    expect(fake.getSession(REGION, SID)?.Status.State).toBe('BUSY');
    expect((await rejection(client.send(new StopCalculationExecutionCommand({ CalculationExecutionId: fakeUuid(3) })))).name).toBe('ResourceNotFoundException');
  });

  it('TerminateSession: TERMINATING → TERMINATED after terminateDelayMs, its running calculations CANCELED', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'prod-notebooks', Status: { State: 'BUSY', StartDateTime: NOW - 60 * MIN } }));
    const running = fakeUuid(11);
    const queued = fakeUuid(12);
    const done = fakeUuid(13);
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: running, SessionId: SID, Status: { State: 'RUNNING', SubmissionDateTime: NOW - 30 * MIN } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: queued, SessionId: SID, Status: { State: 'QUEUED', SubmissionDateTime: NOW - 1 * MIN } }));
    fake.setCalculation(
      REGION,
      athenaCalculation({ CalculationExecutionId: done, SessionId: SID, Status: { State: 'COMPLETED', SubmissionDateTime: NOW - 50 * MIN, CompletionDateTime: NOW - 49 * MIN } }),
    );
    expect((await client.send(new TerminateSessionCommand({ SessionId: SID }))).State).toBe('TERMINATING');
    expect((await client.send(new GetSessionStatusCommand({ SessionId: SID }))).Status).toEqual({
      StartDateTime: new Date(NOW - 60 * MIN),
      LastModifiedDateTime: new Date(NOW),
      State: 'TERMINATING',
    });
    expect((await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks' }))).Sessions).toEqual([]);
    clock = NOW + 20_000;
    const s = await client.send(new GetSessionCommand({ SessionId: SID }));
    expect(s.Status).toEqual({ StartDateTime: new Date(NOW - 60 * MIN), LastModifiedDateTime: new Date(NOW + 20_000), EndDateTime: new Date(NOW + 20_000), State: 'TERMINATED' });
    const calcs = await client.send(new ListCalculationExecutionsCommand({ SessionId: SID }));
    expect(calcs.Calculations?.map((c) => [c.CalculationExecutionId, c.Status?.State, c.Status?.CompletionDateTime?.getTime()])).toEqual([
      [queued, 'CANCELED', NOW + 20_000],
      [running, 'CANCELED', NOW + 20_000],
      [done, 'COMPLETED', NOW - 49 * MIN],
    ]);
    // Terminating an ended session succeeds and changes nothing.
    clock = NOW + 60_000;
    expect((await client.send(new TerminateSessionCommand({ SessionId: SID }))).State).toBe('TERMINATED');
    expect(fake.getSession(REGION, SID)?.Status.EndDateTime).toBe(NOW + 20_000);
    expect((await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks', StateFilter: 'TERMINATED' }))).Sessions?.map((x) => x.SessionId)).toEqual([SID]);
    expect((await rejection(client.send(new TerminateSessionCommand({ SessionId: fakeUuid(14) })))).name).toBe('ResourceNotFoundException');
  });

  it("throttles over athenaRatePerSecond per account and region the way AWS does (400 ThrottlingException)", async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID }));
    fake.setAthenaRatePerSecond(2);
    await client.send(new GetSessionCommand({ SessionId: SID }));
    await client.send(new ListWorkGroupsCommand({}));
    const e = await rejection(client.send(new GetSessionCommand({ SessionId: SID })));
    expect([e.name, e.message, e.$metadata.httpStatusCode]).toEqual(['ThrottlingException', 'Rate exceeded', 400]);
    // Another account, or another region, has its own budget.
    await athenaAs('AKIDOTHER').send(new ListWorkGroupsCommand({}));
    await athenaAs('AKIDFAKE', 'eu-west-1').send(new ListWorkGroupsCommand({}));
    expect(fake.athenaCalls().map((r) => [r.operation, r.region, r.account, r.status])).toEqual([
      ['GetSession', REGION, ACCOUNT, 200],
      ['ListWorkGroups', REGION, ACCOUNT, 200],
      ['GetSession', REGION, ACCOUNT, 400],
      ['ListWorkGroups', REGION, OTHER, 200],
      ['ListWorkGroups', 'eu-west-1', ACCOUNT, 200],
    ]);
    expect(fake.athenaCalls('GetSession', REGION)).toHaveLength(2);
    expect(fake.athenaCalls('ListWorkGroups', 'eu-west-1')).toHaveLength(1);
  });

  it('denyAthena covers every operation, per operation or per account', async () => {
    fake.setSession(REGION, athenaSession({ SessionId: SID, WorkGroup: 'prod-notebooks', Status: { State: 'BUSY' } }));
    fake.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: fakeUuid(21), SessionId: SID, Status: { State: 'RUNNING' } }));
    fake.denyAthena({ operations: ['athena:StopCalculationExecution', 'TerminateSession'] });
    const stop = await rejection(client.send(new StopCalculationExecutionCommand({ CalculationExecutionId: fakeUuid(21) })));
    expect(stop.name).toBe('AccessDeniedException');
    expect(stop.message).toContain('athena:StopCalculationExecution on resource: arn:aws:athena:us-east-1:123456789012:workgroup/prod-notebooks');
    expect((await rejection(client.send(new TerminateSessionCommand({ SessionId: SID })))).name).toBe('AccessDeniedException');
    expect(fake.getCalculation(REGION, fakeUuid(21))?.Status.State).toBe('RUNNING');
    expect(fake.getSession(REGION, SID)?.Status.State).toBe('BUSY');
    expect((await client.send(new ListSessionsCommand({ WorkGroup: 'prod-notebooks' }))).Sessions).toHaveLength(1);

    fake.denyAthena(false);
    fake.denyAthena(true, { account: OTHER });
    const other = await rejection(athenaAs('AKIDOTHER').send(new ListWorkGroupsCommand({})));
    expect(other.name).toBe('AccessDeniedException');
    expect(other.message).toBe(
      `User: arn:aws:sts::${OTHER}:assumed-role/reader/bot is not authorized to perform: athena:ListWorkGroups because no identity-based policy allows the athena:ListWorkGroups action`,
    );
    expect((await client.send(new ListWorkGroupsCommand({}))).WorkGroups?.length).toBeGreaterThan(0);
    fake.denyAthena(false, { account: OTHER });
    expect((await athenaAs('AKIDOTHER').send(new ListWorkGroupsCommand({}))).WorkGroups).toHaveLength(1);
  });
});
