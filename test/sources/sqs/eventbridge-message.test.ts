import { describe, expect, it } from 'vitest';
import { parseEventBridgeMessage } from '../../../src/sources/sqs/eventbridge-message.js';
import { queueName, queueRegion } from '../../../src/sources/sqs/sqs-queue.js';
import { fakeUuid, startSession } from '../../support/cloudtrail-records.js';
import { eventBridgeEvent } from '../../support/sqs-emulator.js';

describe('parseEventBridgeMessage', () => {
  const record = startSession({ sessionId: fakeUuid(), eventTime: '2026-11-23T10:00:00Z' });

  it('takes the CloudTrail record out of an aws.athena "AWS API Call via CloudTrail" event', () => {
    expect(parseEventBridgeMessage(eventBridgeEvent(record))).toEqual({ kind: 'record', record });
  });

  it.each([
    [undefined, 'empty message body'],
    ['', 'empty message body'],
    ['{"source":', 'message body is not JSON'],
    ['"a string"', 'message body is not a JSON object'],
    ['[]', 'message body is not a JSON object'],
    ['{"hello":"world"}', 'not an EventBridge event (no source or detail-type)'],
    [eventBridgeEvent(record, { source: 'aws.s3' }), 'an EventBridge event from "aws.s3", not aws.athena'],
    [eventBridgeEvent(record, { 'detail-type': 'Athena Query State Change' }), 'an aws.athena event of type "Athena Query State Change", not "AWS API Call via CloudTrail"'],
    [eventBridgeEvent(record, { detail: null }), 'an Athena CloudTrail event without its record in detail'],
    [eventBridgeEvent(record, { detail: [record] }), 'an Athena CloudTrail event without its record in detail'],
  ])('calls %j junk: %s', (body, reason) => {
    expect(parseEventBridgeMessage(body)).toEqual({ kind: 'junk', reason });
  });

  it('says what to change when a topic without raw delivery sits between the rule and the queue', () => {
    const wrapped = JSON.stringify({ Type: 'Notification', MessageId: 'm1', TopicArn: 'arn:aws:sns:us-east-1:123456789012:t', Message: eventBridgeEvent(record) });
    expect(parseEventBridgeMessage(wrapped)).toEqual({ kind: 'junk', reason: expect.stringMatching(/^an SNS notification.*raw message delivery/) });
  });

  it('keeps a junk reason to one short line however long the source is', () => {
    const out = parseEventBridgeMessage(eventBridgeEvent(record, { source: 'x'.repeat(5000) }));
    expect(out.kind === 'junk' && out.reason.length).toBeLessThan(120);
  });
});

describe('queue URLs', () => {
  it.each([
    ['https://sqs.eu-west-1.amazonaws.com/123456789012/athena-events', 'eu-west-1', 'athena-events'],
    ['https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q', 'cn-north-1', 'q'],
    ['https://us-gov-west-1.queue.amazonaws.com/123456789012/q', 'us-gov-west-1', 'q'],
    ['http://sqs.ap-southeast-2.localhost:4566/000000000000/local', 'ap-southeast-2', 'local'],
    ['http://127.0.0.1:4566/000000000000/local', undefined, 'local'],
  ])('%s is in %s and named %s', (url, region, name) => {
    expect(queueRegion(url)).toBe(region);
    expect(queueName(url)).toBe(name);
  });
});
