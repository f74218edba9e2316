/** `detail-type` of every event CloudTrail delivers to EventBridge. */
export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
/** EventBridge `source` of Athena's events. */
export const ATHENA_EVENTBRIDGE_SOURCE = 'aws.athena';

/** What an SQS message body holds: the CloudTrail record of an Athena call, or something else. */
export type EventBridgeMessage = { kind: 'record'; record: Record<string, unknown> } | { kind: 'junk'; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads the body of a message that an EventBridge rule put on the queue: the whole event
 * (`{"version":"0","id":…,"detail-type":"AWS API Call via CloudTrail","source":"aws.athena",
 * "account":…,"time":…,"region":…,"resources":[],"detail":{…the CloudTrail record…}}`).
 * Anything else is junk, with a reason a person can act on (a rule that is too wide, a
 * target with an input transformer, a topic without raw delivery in between).
 */
export function parseEventBridgeMessage(body: string | undefined): EventBridgeMessage {
  if (!body) return { kind: 'junk', reason: 'empty message body' };
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return { kind: 'junk', reason: 'message body is not JSON' };
  }
  if (!isObject(event)) return { kind: 'junk', reason: 'message body is not a JSON object' };
  if (event.Type === 'Notification' && typeof event.Message === 'string') {
    return { kind: 'junk', reason: 'an SNS notification, not an EventBridge event: turn on raw message delivery, or target the queue from the rule directly' };
  }
  const source = event.source;
  const detailType = event['detail-type'];
  if (typeof source !== 'string' || typeof detailType !== 'string') return { kind: 'junk', reason: 'not an EventBridge event (no source or detail-type)' };
  if (source !== ATHENA_EVENTBRIDGE_SOURCE) return { kind: 'junk', reason: `an EventBridge event from ${clip(source)}, not ${ATHENA_EVENTBRIDGE_SOURCE}` };
  if (detailType !== CLOUDTRAIL_DETAIL_TYPE) return { kind: 'junk', reason: `an ${ATHENA_EVENTBRIDGE_SOURCE} event of type ${clip(detailType)}, not "${CLOUDTRAIL_DETAIL_TYPE}"` };
  if (!isObject(event.detail)) return { kind: 'junk', reason: 'an Athena CloudTrail event without its record in detail' };
  return { kind: 'record', record: event.detail };
}

const clip = (s: string) => JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
