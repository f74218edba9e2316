/**
 * Writes samples/demo-cloudtrail.json: a day of Athena Spark activity (and the week before it,
 * lighter), in S3 log file format, for `athena-session-bot demo`. Run: npx tsx scripts/make-demo-samples.ts
 */
import fs from 'node:fs';
import {
  call,
  executor,
  human,
  iamUser,
  importNotebook,
  createNotebook,
  startCalculation,
  startSession,
  stopCalculation,
  terminateSession,
  updateNotebook,
  fakeUuid,
  type CloudTrailRecord,
} from '../test/support/cloudtrail-records.js';

const day = '2026-11-02';
const at = (hhmm: string, s = 0) => new Date(`${day}T${hhmm}:00Z`).getTime() + s * 1000;
const records: CloudTrailRecord[] = [];
let seed = 0x5eed0000;
const id = () => fakeUuid(seed++);

// alice: a churn model notebook, three short calculations and one that runs 95 minutes.
const alice = human('alice', 'DataScientist');
const s1 = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
const nb1 = 'b8f5854b-1042-4b90-9d82-51d3c2fd5c04';
records.push(createNotebook({ notebookId: nb1, eventTime: at('08:55'), actor: alice, workGroup: 'analytics', name: 'churn-model', eventId: id() }));
records.push(startSession({ sessionId: s1, eventTime: at('09:00'), actor: alice, workGroup: 'analytics', maxConcurrentDpus: 40, notebookId: nb1, idleTimeoutMinutes: 30, tags: { team: 'growth', project: 'churn' }, eventId: id() }));
const shortCalcs = ['09:05', '09:12', '09:20'];
shortCalcs.forEach((t, i) => {
  const c = `82c1ebb4-bd08-e4c3-5631-a662fb2ff2c${i}`;
  records.push(startCalculation({ sessionId: s1, calculationId: c, eventTime: at(t), eventId: id() }));
  for (let k = 1; k <= 4; k++) records.push(call('GetCalculationExecutionStatus', { actor: executor(s1), eventTime: at(t, k * 15), params: { calculationExecutionId: c }, eventId: id() }));
});
const longCalc = '82c1ebb4-bd08-e4c3-5631-a662fb2ff2d9';
records.push(startCalculation({ sessionId: s1, calculationId: longCalc, eventTime: at('09:30'), eventId: id() }));
for (let m = 1; m < 95; m++) {
  records.push(call('GetCalculationExecutionStatus', { actor: executor(s1), eventTime: at('09:30', m * 60), params: { calculationExecutionId: longCalc }, eventId: id() }));
  if (m % 10 === 0) records.push(updateNotebook({ notebookId: nb1, sessionId: s1, eventTime: at('09:30', m * 60 + 5), eventId: id() }));
}
records.push(stopCalculation({ calculationId: longCalc, sessionId: s1, eventTime: at('11:05'), eventId: id() }));
records.push(call('GetCalculationExecutionStatus', { actor: executor(s1), eventTime: at('11:06'), params: { calculationExecutionId: longCalc }, errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded', eventId: id() }));
records.push(terminateSession({ sessionId: s1, eventTime: at('11:10'), actor: alice, eventId: id() }));

// bob: imports a notebook into the production workgroup; its session times out idle.
const bob = human('bob', 'Analyst');
const nb2 = '05f6225d-bdcc-4935-bc25-a8e19434652d';
const s2 = '9cc1ebb2-aac5-b1ca-8247-5d827bd8232f';
records.push(importNotebook({ notebookId: nb2, eventTime: at('13:00'), actor: bob, workGroup: 'prod-notebooks', name: 'revenue-forecast', eventId: id() }));
records.push(startSession({ sessionId: s2, eventTime: at('13:05'), actor: bob, workGroup: 'prod-notebooks', maxConcurrentDpus: 20, notebookId: nb2, idleTimeoutMinutes: 20, tags: { team: 'finance' }, eventId: id() }));
const c2 = '72c1ebb4-bd08-e4c3-5631-a662fb2ff2aa';
records.push(startCalculation({ sessionId: s2, calculationId: c2, eventTime: at('13:06'), eventId: id() }));
for (let m = 1; m <= 44; m++) records.push(call('GetCalculationExecutionStatus', { actor: executor(s2), eventTime: at('13:06', m * 60), params: { calculationExecutionId: c2 }, eventId: id() }));
records.push(updateNotebook({ notebookId: nb2, sessionId: s2, eventTime: at('13:50'), eventId: id() }));

// carol: an Apache Spark 3.5 session used through Spark Connect.
const carol = iamUser('carol');
const s3 = '3d5e7f90-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
records.push(startSession({ sessionId: s3, eventTime: at('15:00'), actor: carol, workGroup: 'spark35', maxConcurrentDpus: 60, notebookId: null, idleTimeoutMinutes: 15, tags: { team: 'platform' }, eventId: id() }));
for (let m = 0; m < 3; m++) records.push(call('GetSessionEndpoint', { actor: carol, eventTime: at('15:01', m * 600), params: { sessionId: s3 }, eventId: id() }));
records.push(call('GetSessionStatus', { actor: carol, eventTime: at('15:02'), params: { sessionId: s3 }, eventId: id() }));
records.push(terminateSession({ sessionId: s3, eventTime: at('15:45'), actor: carol, eventId: id() }));

// dave: not allowed to start sessions in the production workgroup.
records.push(startSession({ sessionId: 'ffffffff-0000-0000-0000-000000000000', eventTime: at('16:20'), actor: human('dave', 'Intern'), workGroup: 'prod-notebooks', errorCode: 'AccessDeniedException', errorMessage: 'User: arn:aws:sts::123456789012:assumed-role/Intern/dave is not authorized to perform: athena:StartSession', eventId: id() }));

// The rest of the team, that day and the week before (for the digest's chart, its trend and
// its tag tables): nightly ETL sessions, ad-hoc analysis through the day, each a session that
// runs one calculation and is terminated when done.
const DAY_MS = 86_400_000;
const dateBefore = (n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);
function job(date: string, hhmm: string, o: { actor: ReturnType<typeof human>; workGroup: string; dpus: number; minutes: number; tags: Record<string, string> }): void {
  const sessionId = id();
  const start = Date.parse(`${date}T${hhmm}:00Z`);
  records.push(startSession({ sessionId, eventTime: start, actor: o.actor, workGroup: o.workGroup, maxConcurrentDpus: o.dpus, idleTimeoutMinutes: 20, tags: o.tags, eventId: id() }));
  records.push(startCalculation({ sessionId, calculationId: id(), eventTime: start + 60_000, eventId: id() }));
  records.push(terminateSession({ sessionId, eventTime: start + o.minutes * 60_000, actor: o.actor, eventId: id() }));
}
const etl = human('etl-scheduler', 'EtlRole');
const analysts = [human('erin', 'Analyst'), human('frank', 'Analyst'), alice];
for (let n = 7; n >= 0; n--) {
  const date = n === 0 ? day : dateBefore(n);
  const weekend = [0, 6].includes(new Date(`${date}T12:00:00Z`).getUTCDay());
  for (const [hhmm, dpus] of [['01:10', 30], ['02:40', 20], ['04:05', 40]] as const) {
    job(date, hhmm, { actor: etl, workGroup: 'etl-nightly', dpus, minutes: 35 + ((n * 7) % 20), tags: { team: 'data-eng', project: 'warehouse' } });
  }
  const adhoc = weekend ? 0 : 3 + (n % 3);
  for (let i = 0; i < adhoc; i++) {
    job(date, `${String(10 + ((i * 3 + n) % 8)).padStart(2, '0')}:${String((i * 17) % 60).padStart(2, '0')}`, {
      actor: analysts[(i + n) % analysts.length]!,
      workGroup: 'analytics',
      dpus: 8 + 4 * ((i + n) % 3),
      minutes: 20 + ((i * 13 + n * 5) % 40),
      tags: i % 2 ? { team: 'growth', project: 'pricing' } : { team: 'finance', project: 'forecast' },
    });
  }
}

// Noise the reader must skip: an S3 call and an Athena SQL query.
records.push({ ...call('GetBucketAcl', { actor: alice, eventTime: at('10:00'), eventId: id() }), eventSource: 's3.amazonaws.com' } as CloudTrailRecord);
records.push(call('GetQueryExecution', { actor: alice, eventTime: at('10:01'), params: { queryExecutionId: id() }, eventId: id() }));

records.sort((a, b) => a.eventTime.localeCompare(b.eventTime));
fs.writeFileSync(new URL('../samples/demo-cloudtrail.json', import.meta.url), JSON.stringify({ Records: records }, null, 1) + '\n');
console.log(`wrote ${records.length} records`);
