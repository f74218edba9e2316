/**
 * The CloudFormation templates under deploy/ are parsed and checked: every reference resolves
 * (Ref, Fn::GetAtt, Fn::Sub, conditions), the rules match exactly what the bot reads (with
 * read-only calls opted in), the queue has its dead-letter queue, only the rules may send to
 * it, and the bot may do nothing but receive, delete and count.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATHENA_EVENT_SOURCE, SPARK_EVENT_NAMES } from '../../src/records/athena-events.js';
import { ATHENA_EVENTBRIDGE_SOURCE, CLOUDTRAIL_DETAIL_TYPE } from '../../src/sources/sqs/eventbridge-message.js';
import { SQS_MAX_WAIT_SECONDS } from '../../src/sources/sqs/sqs-queue.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/cloudformation/', import.meta.url));

interface Template {
  AWSTemplateFormatVersion: string;
  Parameters?: Record<string, { Type: string; Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, any> }>;
  Outputs?: Record<string, { Value: unknown; Condition?: string }>;
}

const load = (name: string) => JSON.parse(fs.readFileSync(path.join(DEPLOY, name), 'utf8')) as Template;
const central = load('athena-events-queue.json');
const member = load('member-account-forwarder.json');

/** Every Ref / Fn::GetAtt / Fn::Sub variable / condition name used anywhere in a value. */
function references(value: unknown, out: { refs: string[]; getAtts: string[]; conditions: string[] } = { refs: [], getAtts: [], conditions: [] }) {
  if (Array.isArray(value)) for (const v of value) references(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref') out.refs.push(v as string);
      else if (k === 'Fn::GetAtt') out.getAtts.push((v as string[])[0]!);
      else if (k === 'Fn::Sub') for (const m of String(Array.isArray(v) ? v[0] : v).matchAll(/\$\{([^}!]+)\}/g)) out.refs.push(m[1]!.split('.')[0]!);
      else if (k === 'Fn::If') out.conditions.push((v as unknown[])[0] as string);
      else if (k === 'Condition' && typeof v === 'string') out.conditions.push(v);
      references(v, out);
    }
  }
  return out;
}

const PSEUDO = ['AWS::AccountId', 'AWS::Region', 'AWS::Partition', 'AWS::StackName', 'AWS::NoValue', 'AWS::URLSuffix'];

function rules(t: Template) {
  return Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');
}

describe.each([
  ['athena-events-queue.json', central],
  ['member-account-forwarder.json', member],
])('%s', (_name, t) => {
  it('is a CloudFormation template whose every reference resolves', () => {
    expect(t.AWSTemplateFormatVersion).toBe('2010-09-09');
    const { refs, getAtts, conditions } = references({ Resources: t.Resources, Outputs: t.Outputs, Conditions: t.Conditions });
    const names = new Set([...Object.keys(t.Parameters ?? {}), ...Object.keys(t.Resources), ...PSEUDO]);
    expect(refs.filter((r) => !names.has(r))).toEqual([]);
    expect(getAtts.filter((r) => !(r in t.Resources))).toEqual([]);
    expect(conditions.filter((c) => !(c in (t.Conditions ?? {})))).toEqual([]);
    for (const [name, p] of Object.entries(t.Parameters ?? {})) expect(['String', 'Number'], name).toContain(p.Type);
  });

  it('matches exactly the Athena calls the bot reads, read-only ones included', () => {
    expect(rules(t).length).toBeGreaterThan(0);
    for (const [name, rule] of rules(t)) {
      // Plain ENABLED leaves out read-only management events (Get*, List*, …): status polls, GetSessionEndpoint, the bot's own reads.
      expect(rule.Properties.State, name).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
      expect(rule.Properties.EventPattern).toEqual({
        source: [ATHENA_EVENTBRIDGE_SOURCE],
        'detail-type': [CLOUDTRAIL_DETAIL_TYPE],
        detail: { eventSource: [ATHENA_EVENT_SOURCE], eventName: [...SPARK_EVENT_NAMES] },
      });
      expect(JSON.stringify(rule.Properties.EventPattern).length).toBeLessThanOrEqual(4096);
    }
  });
});

describe('athena-events-queue.json', () => {
  const r = central.Resources;

  it('gives the queue a dead-letter queue and settings the consumer relies on', () => {
    const q = r.EventsQueue!.Properties;
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }, maxReceiveCount: { Ref: 'MaxReceiveCount' } });
    expect(r.DeadLetterQueue!.Type).toBe('AWS::SQS::Queue');
    expect(q.ReceiveMessageWaitTimeSeconds).toBe(SQS_MAX_WAIT_SECONDS);
    // Fourteen days (the SQS maximum) on both, so a bot down for days loses nothing.
    expect(q.MessageRetentionPeriod).toBe(1209600);
    expect(r.DeadLetterQueue!.Properties.MessageRetentionPeriod).toBe(1209600);
  });

  it('targets the queue from every rule, with the DLQ for what EventBridge cannot deliver', () => {
    for (const [, rule] of rules(central)) {
      expect(rule.Properties.Targets).toHaveLength(1);
      expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['EventsQueue', 'Arn'] });
      expect(rule.Properties.Targets[0].DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] });
    }
    expect(r.AccountRule!.Properties.EventBusName).toBe('default');
    expect(r.ForwardedEventsRule!.Properties.EventBusName).toEqual({ Ref: 'ForwardedEventsBus' });
  });

  it('lets only its own rules send to the queues', () => {
    const policy = r.QueuePolicy!.Properties;
    expect(policy.Queues).toEqual([{ Ref: 'EventsQueue' }, { Ref: 'DeadLetterQueue' }]);
    const [statement, ...more] = policy.PolicyDocument.Statement;
    expect(more).toEqual([]);
    expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(statement.Condition).toEqual({ ArnEquals: { 'aws:SourceArn': rules(central).map(([name]) => ({ 'Fn::GetAtt': [name, 'Arn'] })) } });
  });

  it('opens its bus to the organization, and only to it, when given one', () => {
    expect(r.OrganizationBusPolicy!.Condition).toBe('IsOrganization');
    const s = r.OrganizationBusPolicy!.Properties.Statement;
    expect(s).toMatchObject({ Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': ['ForwardedEventsBus', 'Arn'] } });
    expect(s.Condition).toEqual({ StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } });
  });

  it('grants the bot ReceiveMessage, DeleteMessage and GetQueueAttributes on that queue and nothing more', () => {
    const [statement, ...more] = r.BotQueuePolicy!.Properties.PolicyDocument.Statement;
    expect(more).toEqual([]);
    expect(statement.Effect).toBe('Allow');
    expect([...statement.Action].sort()).toEqual(['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
    expect(statement.Resource).toEqual({ 'Fn::GetAtt': ['EventsQueue', 'Arn'] });
  });

  it('outputs what the bot and the member accounts need', () => {
    expect(central.Outputs!.QueueUrl!.Value).toEqual({ Ref: 'EventsQueue' });
    expect(central.Outputs!.EventBusArn!.Value).toEqual({ 'Fn::GetAtt': ['ForwardedEventsBus', 'Arn'] });
    expect(Object.keys(member.Parameters!)).toEqual(['CentralEventBusArn']);
  });
});

describe('member-account-forwarder.json', () => {
  const r = member.Resources;

  it('forwards to the central bus with a role that may put events there and nowhere else', () => {
    const target = r.ForwardRule!.Properties.Targets[0];
    expect(target.Arn).toEqual({ Ref: 'CentralEventBusArn' });
    // Required when the bus grants PutEvents to the organization rather than to account ids.
    expect(target.RoleArn).toEqual({ 'Fn::GetAtt': ['ForwarderRole', 'Arn'] });
    const role = r.ForwarderRole!.Properties;
    expect(role.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(role.Policies).toHaveLength(1);
    expect(role.Policies[0].PolicyDocument.Statement).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'CentralEventBusArn' } }]);
  });

  it('accepts only an event bus ARN as the central bus', () => {
    const pattern = new RegExp(member.Parameters!.CentralEventBusArn!['AllowedPattern' as keyof object] as string);
    expect(pattern.test('arn:aws:events:eu-west-1:123456789012:event-bus/athena-session-bot')).toBe(true);
    expect(pattern.test('arn:aws:sqs:eu-west-1:123456789012:athena-session-bot-events')).toBe(false);
  });
});
