/**
 * A seeded organization trail: what an organization's CloudTrail bucket really holds, where
 * Athena Spark is about 1% of the records (issue 13).
 *
 * Around the Spark/notebook workload of one account (test/support/workload.ts, whose truth
 * stays the oracle) it generates the rest of an organization over the same span: many
 * accounts and regions, S3 data events, KMS calls made by AWS services (`userIdentity.type`
 * `AWSService`), STS, EC2, Glue and S3 calls made by Athena SQL on a user's behalf
 * (`invokedBy: athena.amazonaws.com`), the Athena SQL API itself (same eventSource as
 * Spark), EventBridge rules and CloudTrail look-ups that name Spark event names inside their
 * request parameters, IAM policy documents with escaped JSON, CloudFormation templates of
 * tens of kilobytes, non-ASCII object keys and tags, errors, CloudTrail Insights events, and
 * digest files. The layout is CloudTrail's for an organization trail:
 * `AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`,
 * one file per account and region per five minutes that had any record, plus
 * `CloudTrail-Digest/` (hourly) and `CloudTrail-Insight/` files.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzip } from 'node:zlib';
import { ACCOUNT_ID, type CloudTrailRecord } from './cloudtrail-records.js';
import { DEFAULT_REGIONS, planWorkload, Rng, type WorkloadTruth } from './workload.js';

export interface OrgTrailOptions {
  /** Total records, Spark included (Insights records and digests not counted). */
  records: number;
  seed?: number;
  /** Share of the records that are the Spark workload's (default 0.01). */
  sparkShare?: number;
  /** Accounts in the organization (default 40); the Spark account is one of them. */
  accounts?: number;
  /** Regions in use (default 12). */
  regions?: number;
  /** Spark sessions started per weekday (default 240): sets the span the trail covers. */
  sessionsPerDay?: number;
}

export interface OrgTrailSummary {
  dir: string;
  orgId: string;
  records: number;
  sparkRecords: number;
  insightRecords: number;
  logFiles: number;
  digestFiles: number;
  insightFiles: number;
  /** Gzipped bytes of the log files (digests and insights included). */
  bytes: number;
  uncompressedBytes: number;
  /** The largest single record, in bytes of JSON. */
  largestRecordBytes: number;
  start: string;
  end: string;
  /** The Spark workload's truth (athena-state.json in `dir`). */
  truthFile: string;
  elapsedMs: number;
}

export const ORG_ID = 'o-a1b2c3d4e5';
const DEFAULT_SEED = 7;
const WINDOW_S = 300;

const ALL_REGIONS = [
  'us-east-1',
  'eu-west-1',
  'us-west-2',
  'eu-central-1',
  'ap-northeast-1',
  'us-east-2',
  'ap-southeast-2',
  'eu-north-1',
  'ca-central-1',
  'sa-east-1',
  'ap-south-1',
  'eu-west-3',
];

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const isoS = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function accountIds(n: number, rng: Rng): string[] {
  const out = [ACCOUNT_ID];
  while (out.length < n) {
    let id = '';
    for (let i = 0; i < 12; i++) id += String(rng.int(0, 9));
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** Where records come from: an account, a region, and how busy that pair is. */
interface Source {
  account: string;
  region: string;
  weight: number;
}

function sources(accounts: string[], regions: string[], rng: Rng): Source[] {
  const out: Source[] = [];
  accounts.forEach((account, a) => {
    // A few busy accounts (the data lake, the platform), a long quiet tail.
    const accountWeight = 1 / (a + 1) ** 0.9;
    const active = new Set([0, 1 + (a % 3)]);
    if (a % 4 === 0) active.add(2 + (a % (regions.length - 2)));
    if (a < 3) for (let r = 0; r < regions.length; r++) active.add(r);
    for (const r of active) {
      const regionWeight = r === 0 ? 1 : r === 1 ? 0.5 : 0.12 + 0.1 * rng.next();
      out.push({ account, region: regions[r]!, weight: accountWeight * regionWeight });
    }
  });
  return out;
}

const NON_ASCII_WORDS = ['données', 'été', '日本語', 'файл', 'Ærø', 'naïve', 'München', '数据湖', 'ñandú', 'Zürich'];
const BUCKET_WORDS = ['datalake-raw', 'datalake-curated', 'athena-query-results', 'ml-artifacts', 'logs-archive', 'exports'];
const SERVICE_PRINCIPALS = ['s3.amazonaws.com', 'cloudtrail.amazonaws.com', 'lambda.amazonaws.com', 'ec2.amazonaws.com', 'glue.amazonaws.com', 'ecs-tasks.amazonaws.com'];
const AGENTS = [
  'aws-sdk-java/2.20.162 Linux/5.10.198-187.748.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.8+7-LTS Java/17.0.8 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE',
  'Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/linux#5.10.192-183.736.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.5 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.62',
  'aws-cli/2.13.25 Python/3.11.5 Darwin/22.6.0 exe/x86_64 prompt/off command/s3.cp',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36',
  '[aws-sdk-go/1.45.24 (go1.20.8; linux; amd64) exec-env/AWS_Lambda_go1.x]',
];
const PEOPLE = ['maria.garcia', 'li.wei', 'ole.nordmann', 'ana.souza', 'deploy-bot', 'j.müller', 'ci-runner', 'oncall'];
const ROLES = ['DataPlatformAdmin', 'GlueJobRole', 'EmrEc2Role', 'LambdaIngest', 'ReadOnly', 'OrganizationAccountAccessRole'];

/** Builds the records of the other services: one function, many shapes, all seeded. */
class NoiseMaker {
  constructor(private readonly rng: Rng) {}

  private hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.rng.uint32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }

  private assumedRole(account: string): Record<string, unknown> {
    const role = this.rng.pick(ROLES);
    const who = this.rng.pick(PEOPLE);
    return {
      type: 'AssumedRole',
      principalId: `AROA${this.hex(17).toUpperCase()}:${who}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${who}`,
      accountId: account,
      accessKeyId: `ASIA${this.hex(16).toUpperCase()}`,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: `AROA${this.hex(17).toUpperCase()}`, arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
        webIdFederationData: {},
        attributes: { creationDate: '2026-11-20T06:12:44Z', mfaAuthenticated: 'false' },
      },
    };
  }

  private awsService(by: string): Record<string, unknown> {
    return { type: 'AWSService', invokedBy: by };
  }

  private base(o: {
    t: number;
    account: string;
    region: string;
    source: string;
    name: string;
    identity: Record<string, unknown>;
    request: unknown;
    response?: unknown;
    readOnly: boolean;
    category?: 'Management' | 'Data';
    extra?: Record<string, unknown>;
    ip?: string;
    agent?: string;
  }): CloudTrailRecord {
    const failed = this.rng.chance(0.03);
    const error = failed ? this.rng.pick(['AccessDenied', 'ThrottlingException', 'Client.UnauthorizedOperation', 'NoSuchKey', 'ValidationException']) : null;
    const r: Record<string, unknown> = {
      eventVersion: o.category === 'Data' ? '1.09' : '1.08',
      userIdentity: o.identity,
      eventTime: isoS(o.t),
      eventSource: o.source,
      eventName: o.name,
      awsRegion: o.region,
      sourceIPAddress: o.ip ?? `${this.rng.int(3, 223)}.${this.rng.int(0, 255)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`,
      userAgent: o.agent ?? this.rng.pick(AGENTS),
    };
    if (error) {
      r.errorCode = error;
      r.errorMessage = `User: ${String(o.identity.arn ?? o.identity.invokedBy)} is not authorized to perform: ${o.source.split('.')[0]}:${o.name} on resource because no identity-based policy allows the action « ${this.rng.pick(NON_ASCII_WORDS)} »`;
    }
    r.requestParameters = o.request;
    r.responseElements = error ? null : (o.response ?? null);
    if (o.extra) Object.assign(r, o.extra);
    r.requestID = this.hex(16).toUpperCase();
    r.eventID = this.rng.uuid();
    r.readOnly = o.readOnly;
    r.eventType = 'AwsApiCall';
    r.managementEvent = o.category !== 'Data';
    r.recipientAccountId = o.account;
    if (o.identity.type === 'AWSService') r.sharedEventID = this.rng.uuid();
    r.eventCategory = o.category ?? 'Management';
    r.tlsDetails = { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${o.source.split('.')[0]}.${o.region}.amazonaws.com` };
    return r as CloudTrailRecord;
  }

  /** One record of another service at `t` (ms). */
  make(t: number, account: string, region: string): CloudTrailRecord {
    const k = this.rng.next();
    if (k < 0.38) return this.s3Data(t, account, region);
    if (k < 0.58) return this.kms(t, account, region);
    if (k < 0.69) return this.sts(t, account, region);
    if (k < 0.79) return this.ec2(t, account, region);
    if (k < 0.87) return this.athenaSql(t, account, region);
    if (k < 0.93) return this.glueForAthena(t, account, region);
    if (k < 0.965) return this.iamPolicy(t, account, region);
    if (k < 0.985) return this.mentionsSpark(t, account, region);
    if (k < 0.997) return this.logs(t, account, region);
    return this.cloudFormation(t, account, region);
  }

  private s3Data(t: number, account: string, region: string): CloudTrailRecord {
    const bucket = `${this.rng.pick(BUCKET_WORDS)}-${account}-${region}`;
    const key = this.rng.chance(0.15)
      ? `${this.rng.pick(NON_ASCII_WORDS)}/dt=2026-11-2${this.rng.int(0, 2)}/part-${this.hex(5)}-${this.rng.pick(NON_ASCII_WORDS)}.snappy.parquet`
      : `warehouse/events/dt=2026-11-2${this.rng.int(0, 2)}/hour=${pad2(this.rng.int(0, 23))}/part-${this.hex(8)}.snappy.parquet`;
    const name = this.rng.pick(['GetObject', 'GetObject', 'GetObject', 'PutObject', 'HeadObject', 'ListObjects']);
    const byAthena = this.rng.chance(0.25);
    const identity = this.assumedRole(account);
    if (byAthena) identity.invokedBy = 'athena.amazonaws.com';
    return this.base({
      t,
      account,
      region,
      source: 's3.amazonaws.com',
      name,
      identity,
      category: 'Data',
      readOnly: name !== 'PutObject',
      ip: byAthena ? 'athena.amazonaws.com' : undefined,
      agent: byAthena ? 'athena.amazonaws.com' : undefined,
      request: { bucketName: bucket, Host: `${bucket}.s3.${region}.amazonaws.com`, key },
      extra: {
        additionalEventData: {
          SignatureVersion: 'SigV4',
          CipherSuite: 'TLS_AES_128_GCM_SHA256',
          bytesTransferredIn: 0,
          AuthenticationMethod: 'AuthHeader',
          'x-amz-id-2': `${this.hex(48)}=`,
          bytesTransferredOut: this.rng.int(100, 90_000_000),
        },
        resources: [
          { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
          { accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
        ],
      },
    });
  }

  private kms(t: number, account: string, region: string): CloudTrailRecord {
    const by = this.rng.pick(SERVICE_PRINCIPALS);
    const keyArn = `arn:aws:kms:${region}:${account}:key/${this.rng.uuid()}`;
    const name = this.rng.pick(['Decrypt', 'GenerateDataKey', 'Decrypt', 'Encrypt']);
    return this.base({
      t,
      account,
      region,
      source: 'kms.amazonaws.com',
      name,
      identity: this.awsService(by),
      ip: by,
      agent: by,
      readOnly: true,
      request: {
        keyId: keyArn,
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${this.rng.pick(BUCKET_WORDS)}-${account}/AWSLogs/${account}/part-${this.hex(12)}` },
        ...(name === 'GenerateDataKey' ? { keySpec: 'AES_256' } : {}),
      },
      extra: { resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: keyArn }] },
    });
  }

  private sts(t: number, account: string, region: string): CloudTrailRecord {
    const byService = this.rng.chance(0.6);
    const session = byService ? `${this.hex(8)}-${this.hex(4)}` : this.rng.pick(PEOPLE);
    const role = this.rng.pick(ROLES);
    return this.base({
      t,
      account,
      region,
      source: 'sts.amazonaws.com',
      name: this.rng.chance(0.85) ? 'AssumeRole' : 'GetCallerIdentity',
      identity: byService ? this.awsService(this.rng.pick(SERVICE_PRINCIPALS)) : this.assumedRole(account),
      readOnly: true,
      request: { roleArn: `arn:aws:iam::${account}:role/${role}`, roleSessionName: session, durationSeconds: 3600 },
      response: {
        credentials: { accessKeyId: `ASIA${this.hex(16).toUpperCase()}`, sessionToken: 'HIDDEN_FOR_SECURITY_REASONS', expiration: new Date(t + 3_600_000).toUTCString() },
        assumedRoleUser: { assumedRoleId: `AROA${this.hex(17).toUpperCase()}:${session}`, arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}` },
      },
      extra: { resources: [{ accountId: account, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${account}:role/${role}` }] },
    });
  }

  private ec2(t: number, account: string, region: string): CloudTrailRecord {
    const describe = this.rng.chance(0.85);
    if (describe) {
      return this.base({
        t,
        account,
        region,
        source: 'ec2.amazonaws.com',
        name: this.rng.pick(['DescribeInstances', 'DescribeVolumes', 'DescribeSecurityGroups', 'DescribeNetworkInterfaces']),
        identity: this.rng.chance(0.5) ? this.awsService('autoscaling.amazonaws.com') : this.assumedRole(account),
        readOnly: true,
        request: { instancesSet: { items: [{ instanceId: `i-${this.hex(17)}` }] }, filterSet: {}, maxResults: 1000 },
      });
    }
    const tags = Array.from({ length: this.rng.int(3, 12) }, (_, i) => ({ key: `tag-${i}`, value: `${this.rng.pick(NON_ASCII_WORDS)} ${this.hex(6)}` }));
    return this.base({
      t,
      account,
      region,
      source: 'ec2.amazonaws.com',
      name: 'RunInstances',
      identity: this.assumedRole(account),
      readOnly: false,
      request: {
        instancesSet: { items: [{ imageId: `ami-${this.hex(17)}`, minCount: 1, maxCount: 1 }] },
        userData: '<sensitiveDataRemoved>',
        instanceType: 'r6g.2xlarge',
        tagSpecificationSet: { items: [{ resourceType: 'instance', tags }] },
      },
      response: {
        requestId: this.rng.uuid(),
        reservationId: `r-${this.hex(17)}`,
        instancesSet: { items: [{ instanceId: `i-${this.hex(17)}`, currentState: { code: 0, name: 'pending' }, privateDnsName: `ip-10-0-${this.rng.int(0, 255)}-${this.rng.int(0, 255)}.${region}.compute.internal`, tagSet: { items: tags } }] },
      },
    });
  }

  private athenaSql(t: number, account: string, region: string): CloudTrailRecord {
    const name = this.rng.pick(['GetQueryExecution', 'GetQueryExecution', 'GetQueryResults', 'StartQueryExecution', 'GetWorkGroup', 'ListQueryExecutions']);
    const request =
      name === 'StartQueryExecution'
        ? { queryString: `SELECT * FROM "${this.rng.pick(NON_ASCII_WORDS)}"."orders" WHERE note = 'say \\"hi\\"' LIMIT 10`, workGroup: 'primary', queryExecutionContext: { database: 'sales' } }
        : name === 'GetWorkGroup' || name === 'ListQueryExecutions'
          ? { workGroup: 'primary' }
          : { queryExecutionId: this.rng.uuid() };
    return this.base({
      t,
      account,
      region,
      source: 'athena.amazonaws.com',
      name,
      identity: this.assumedRole(account),
      readOnly: name !== 'StartQueryExecution',
      request,
      response: name === 'StartQueryExecution' ? { queryExecutionId: this.rng.uuid() } : null,
    });
  }

  /** Glue catalog reads Athena makes for a query: every field says athena.amazonaws.com, the record is Glue's. */
  private glueForAthena(t: number, account: string, region: string): CloudTrailRecord {
    const identity = this.assumedRole(account);
    identity.invokedBy = 'athena.amazonaws.com';
    return this.base({
      t,
      account,
      region,
      source: 'glue.amazonaws.com',
      name: this.rng.pick(['GetTable', 'GetPartitions', 'GetDatabase']),
      identity,
      ip: 'athena.amazonaws.com',
      agent: 'athena.amazonaws.com',
      readOnly: true,
      request: { catalogId: account, databaseName: 'sales', name: 'orders', expression: "dt >= '2026-11-20'" },
    });
  }

  /** An inline policy: a JSON document inside a string, quotes and all escaped. */
  private iamPolicy(t: number, account: string, region: string): CloudTrailRecord {
    const statements = Array.from({ length: this.rng.int(2, 30) }, (_, i) => ({
      Sid: `Stmt${i}`,
      Effect: 'Allow',
      Action: ['athena:StartSession', 'athena:GetSessionStatus', 'athena:StartCalculationExecution', 's3:GetObject'],
      Resource: [`arn:aws:athena:${region}:${account}:workgroup/analytics-${i}`, `arn:aws:s3:::${this.rng.pick(BUCKET_WORDS)}/*`],
      Condition: { StringEquals: { 'aws:PrincipalTag/team': this.rng.pick(NON_ASCII_WORDS) } },
    }));
    return this.base({
      t,
      account,
      region: 'us-east-1',
      source: 'iam.amazonaws.com',
      name: 'PutRolePolicy',
      identity: this.assumedRole(account),
      readOnly: false,
      request: { roleName: this.rng.pick(ROLES), policyName: 'athena-notebooks', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) },
    });
  }

  /**
   * Records of other services that name Spark event names: an EventBridge rule matching
   * StartSession (pattern as escaped JSON, and an `eventSource`/`eventName` pair as real keys
   * of a nested object), and a CloudTrail look-up by event name.
   */
  private mentionsSpark(t: number, account: string, region: string): CloudTrailRecord {
    if (this.rng.chance(0.5)) {
      const pattern = { source: ['aws.athena'], 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventSource: ['athena.amazonaws.com'], eventName: ['StartSession', 'TerminateSession'] } };
      return this.base({
        t,
        account,
        region,
        source: 'events.amazonaws.com',
        name: 'PutRule',
        identity: this.assumedRole(account),
        readOnly: false,
        request: { name: 'athena-spark-to-sqs', eventPattern: JSON.stringify(pattern), state: 'ENABLED', matched: { eventSource: 'athena.amazonaws.com', eventName: 'StartSession' } },
        response: { ruleArn: `arn:aws:events:${region}:${account}:rule/athena-spark-to-sqs` },
      });
    }
    return this.base({
      t,
      account,
      region,
      source: 'cloudtrail.amazonaws.com',
      name: 'LookupEvents',
      identity: this.assumedRole(account),
      readOnly: true,
      request: { lookupAttributes: [{ attributeKey: 'EventName', attributeValue: this.rng.pick(['StartSession', 'GetSessionStatus', 'StartCalculationExecution']) }], maxResults: 50, startTime: isoS(t - 1_200_000), endTime: isoS(t) },
    });
  }

  private logs(t: number, account: string, region: string): CloudTrailRecord {
    return this.base({
      t,
      account,
      region,
      source: 'logs.amazonaws.com',
      name: this.rng.pick(['CreateLogStream', 'DescribeLogGroups', 'PutRetentionPolicy']),
      identity: this.awsService('lambda.amazonaws.com'),
      readOnly: false,
      request: { logGroupName: `/aws/lambda/ingest-${this.rng.pick(NON_ASCII_WORDS)}`, logStreamName: `2026/11/21/[$LATEST]${this.hex(32)}` },
    });
  }

  /** Very large request parameters: a CloudFormation template body of 20–200 KB. */
  private cloudFormation(t: number, account: string, region: string): CloudTrailRecord {
    const resources: Record<string, unknown> = {};
    const n = this.rng.int(40, 400);
    for (let i = 0; i < n; i++) {
      resources[`Bucket${i}`] = { Type: 'AWS::S3::Bucket', Properties: { BucketName: `stack-${this.hex(8)}-${i}`, Tags: [{ Key: 'team', Value: this.rng.pick(NON_ASCII_WORDS) }] } };
    }
    return this.base({
      t,
      account,
      region,
      source: 'cloudformation.amazonaws.com',
      name: this.rng.pick(['CreateStack', 'UpdateStack']),
      identity: this.assumedRole(account),
      readOnly: false,
      request: { stackName: `platform-${this.hex(6)}`, templateBody: JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Description: 'Plateforme de données — ☃', Resources: resources }, null, 2), capabilities: ['CAPABILITY_NAMED_IAM'] },
      response: { stackId: `arn:aws:cloudformation:${region}:${account}:stack/platform/${this.rng.uuid()}` },
    });
  }

  /** A CloudTrail Insights event: no userIdentity, the service it is about inside insightDetails. */
  insight(t: number, account: string, region: string, state: 'Start' | 'End', shared: string): Record<string, unknown> {
    return {
      eventVersion: '1.08',
      eventTime: isoS(t),
      awsRegion: region,
      eventID: this.rng.uuid(),
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: account,
      sharedEventID: shared,
      insightDetails: {
        state,
        eventSource: this.rng.pick(['athena.amazonaws.com', 'ec2.amazonaws.com', 's3.amazonaws.com']),
        eventName: this.rng.pick(['StartSession', 'GetQueryExecution', 'RunInstances']),
        insightType: 'ApiCallRateInsight',
        insightContext: { statistics: { baseline: { average: 0.0017 }, insight: { average: 5.2 }, insightDuration: 1 }, attributions: [{ attribute: 'userIdentityArn', insight: [{ value: `arn:aws:iam::${account}:role/x`, average: 5.2 }], baseline: [] }] },
      },
      eventCategory: 'Insight',
    };
  }
}

function gzipAsync(data: string): Promise<Buffer> {
  return new Promise((res, rej) => gzip(data, { level: 6 }, (err, buf) => (err ? rej(err) : res(buf))));
}

/** The Spark workload part of an org trail (its truth is the oracle for answers). */
export function orgTrailSparkWorkload(o: OrgTrailOptions) {
  const sparkRecords = Math.max(1, Math.round(o.records * (o.sparkShare ?? 0.01)));
  return planWorkload({ seed: o.seed ?? DEFAULT_SEED, records: sparkRecords, sessionsPerDay: o.sessionsPerDay ?? 240, regions: DEFAULT_REGIONS });
}

/** Writes the organization trail under `dir` (plus athena-state.json: the Spark workload's truth). */
export async function writeOrgTrail(o: OrgTrailOptions, dir: string): Promise<OrgTrailSummary> {
  const t0 = performance.now();
  const seed = o.seed ?? DEFAULT_SEED;
  const rng = new Rng(seed, 901);
  const names = new Rng(seed, 902);
  const noise = new NoiseMaker(new Rng(seed, 903));
  const regions = ALL_REGIONS.slice(0, Math.max(2, Math.min(ALL_REGIONS.length, o.regions ?? 12)));
  const accounts = accountIds(Math.max(1, o.accounts ?? 40), rng);
  const srcs = sources(accounts, regions, rng);
  const weights = srcs.map((s) => s.weight);
  const wl = orgTrailSparkWorkload(o);
  const truth: WorkloadTruth = wl.truth;
  const noiseTotal = Math.max(0, o.records - wl.recordCount);
  const windows = Math.max(1, Math.ceil((truth.end - truth.start) / 1000 / WINDOW_S));
  const windowStart0 = Math.floor(truth.start / 1000 / WINDOW_S) * WINDOW_S;

  let bytes = 0;
  let uncompressed = 0;
  let logFiles = 0;
  let largest = 0;
  const inflight = new Set<Promise<void>>();
  const errors: unknown[] = [];
  const dirs = new Map<string, Promise<unknown>>();
  const put = async (key: string, content: string) => {
    const file = join(dir, key);
    const task = (async () => {
      const gz = await gzipAsync(content);
      bytes += gz.length;
      let made = dirs.get(dirname(file));
      if (!made) dirs.set(dirname(file), (made = mkdir(dirname(file), { recursive: true })));
      await made;
      await writeFile(file, gz);
    })();
    const tracked: Promise<void> = task.then(
      () => void inflight.delete(tracked),
      (err: unknown) => {
        inflight.delete(tracked);
        errors.push(err);
      },
    );
    inflight.add(tracked);
    while (inflight.size >= 4) await Promise.race(inflight);
  };
  const stamp = (sec: number) => {
    const d = new Date(sec * 1000);
    return { y: String(d.getUTCFullYear()), m: pad2(d.getUTCMonth() + 1), d: pad2(d.getUTCDate()), hh: pad2(d.getUTCHours()), mm: pad2(d.getUTCMinutes()), ss: pad2(d.getUTCSeconds()) };
  };
  // Hourly digests per account-region that delivered anything in that hour.
  const digestHours = new Map<string, { account: string; region: string; hour: number; files: string[] }>();

  const spark = wl.records()[Symbol.iterator]();
  let nextSpark = spark.next();
  let emitted = 0;
  let sparkEmitted = 0;
  for (let w = 0; w < windows; w++) {
    const from = (windowStart0 + w * WINDOW_S) * 1000;
    const to = from + WINDOW_S * 1000;
    const files = new Map<number, { t: number; json: string }[]>();
    const add = (srcIndex: number, t: number, rec: unknown) => {
      const json = JSON.stringify(rec);
      if (json.length > largest) largest = json.length;
      let list = files.get(srcIndex);
      if (!list) files.set(srcIndex, (list = []));
      list.push({ t, json });
    };
    // This window's share of the other services' records, spread over the sources by weight.
    const quota = Math.round((noiseTotal * (w + 1)) / windows) - Math.round((noiseTotal * w) / windows);
    for (let i = 0; i < quota; i++) {
      const s = rng.weighted(weights);
      const src = srcs[s]!;
      const t = from + Math.floor(rng.next() * WINDOW_S * 1000);
      add(s, t, noise.make(t, src.account, src.region));
    }
    while (!nextSpark.done && Date.parse(nextSpark.value.eventTime) < to) {
      const r = nextSpark.value;
      const s = srcs.findIndex((x) => x.account === ACCOUNT_ID && x.region === r.awsRegion);
      add(s, Date.parse(r.eventTime), r);
      sparkEmitted++;
      nextSpark = spark.next();
    }
    const delivered = stamp(to / 1000);
    for (const [s, list] of [...files].sort((a, b) => a[0] - b[0])) {
      const src = srcs[s]!;
      list.sort((a, b) => a.t - b.t);
      const key =
        `AWSLogs/${ORG_ID}/${src.account}/CloudTrail/${src.region}/${delivered.y}/${delivered.m}/${delivered.d}/` +
        `${src.account}_CloudTrail_${src.region}_${delivered.y}${delivered.m}${delivered.d}T${delivered.hh}${delivered.mm}Z_${names.chars(16)}.json.gz`;
      const content = `{"Records":[${list.map((x) => x.json).join(',')}]}`;
      uncompressed += content.length;
      emitted += list.length;
      logFiles++;
      const hour = Math.floor(to / 3_600_000);
      const hk = `${s}|${hour}`;
      let h = digestHours.get(hk);
      if (!h) digestHours.set(hk, (h = { account: src.account, region: src.region, hour, files: [] }));
      h.files.push(key);
      await put(key, content);
    }
  }
  if (!nextSpark.done) throw new Error('org trail: Spark records left after the last window');

  // Digest files: one per account-region-hour, naming the hour's log files.
  let digestFiles = 0;
  for (const h of digestHours.values()) {
    const end = stamp((h.hour + 1) * 3600);
    const key =
      `AWSLogs/${ORG_ID}/${h.account}/CloudTrail-Digest/${h.region}/${end.y}/${end.m}/${end.d}/` +
      `${h.account}_CloudTrail-Digest_${h.region}_org-trail_us-east-1_${end.y}${end.m}${end.d}T${end.hh}${end.mm}${end.ss}Z.json.gz`;
    const digest = {
      awsAccountId: h.account,
      digestStartTime: isoS(h.hour * 3_600_000),
      digestEndTime: isoS((h.hour + 1) * 3_600_000),
      digestS3Bucket: 'org-cloudtrail',
      digestS3Object: key,
      digestSignatureAlgorithm: 'SHA256withRSA',
      logFiles: h.files.map((f) => ({ s3Bucket: 'org-cloudtrail', s3Object: f, hashValue: createHash('sha256').update(f).digest('hex'), hashAlgorithm: 'SHA-256' })),
    };
    await put(key, JSON.stringify(digest));
    digestFiles++;
  }

  // A few CloudTrail Insights files (Start and End pairs) in busy accounts.
  let insightFiles = 0;
  let insightRecords = 0;
  for (let i = 0; i < Math.min(20, Math.max(2, windows / 20)); i++) {
    const src = srcs[i % Math.min(srcs.length, 6)]!;
    const t = truth.start + Math.floor(((truth.end - truth.start) * i) / 20);
    const shared = new Rng(seed, 904, i).uuid();
    const recs = [noise.insight(t, src.account, src.region, 'Start', shared), noise.insight(t + 1_800_000, src.account, src.region, 'End', shared)];
    const s = stamp(t / 1000 + 3600);
    const key =
      `AWSLogs/${ORG_ID}/${src.account}/CloudTrail-Insight/${src.region}/${s.y}/${s.m}/${s.d}/` +
      `${src.account}_CloudTrail-Insight_${src.region}_${s.y}${s.m}${s.d}T${s.hh}${s.mm}Z_${names.chars(16)}.json.gz`;
    await put(key, JSON.stringify({ Records: recs }));
    insightFiles++;
    insightRecords += recs.length;
  }

  await Promise.all(inflight);
  if (errors.length > 0) throw errors[0];
  const truthFile = join(dir, 'athena-state.json');
  await mkdir(dir, { recursive: true });
  await writeFile(truthFile, JSON.stringify(truth));
  return {
    dir,
    orgId: ORG_ID,
    records: emitted,
    sparkRecords: sparkEmitted,
    insightRecords,
    logFiles,
    digestFiles,
    insightFiles,
    bytes,
    uncompressedBytes: uncompressed,
    largestRecordBytes: largest,
    start: isoS(truth.start),
    end: isoS(truth.end),
    truthFile,
    elapsedMs: Math.round(performance.now() - t0),
  };
}
