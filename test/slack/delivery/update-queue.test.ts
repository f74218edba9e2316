import { afterEach, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore } from '../../support/harness.js';
import { until } from '../../support/slack-requests.js';
import { DeliveryQueue } from '../../../src/slack/delivery/delivery-queue.js';
import { UpdateQueue } from '../../../src/slack/delivery/update-queue.js';
import { createWebClient } from '../../../src/slack/slack-client.js';
import { MessageUpdates } from '../../../src/store/message-updates.js';
import { Outbox } from '../../../src/store/outbox.js';

const TOKEN = 'xoxb-test-token';
const CHANNEL = 'C0ALERTS';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup() {
  const slack: SlackFake = await startSlackFake({ rateLimitPerChannelPerSecond: 0 });
  const { store } = tempStore();
  const log = captureLogger('info');
  const web = createWebClient(TOKEN, slack.apiUrl, log.logger);
  const outbox = new Outbox(store);
  const updates = new MessageUpdates(store);
  const delivery = new DeliveryQueue({ outbox, web, logger: log.logger, channelSpacingMs: 5 });
  const queue = new UpdateQueue({ updates, web, logger: log.logger, channelSpacingMs: 5 });
  cleanups.push(
    () => store.close(),
    () => slack.close(),
    () => delivery.close(),
    () => queue.close(),
  );
  const post = (key: string, text: string, channel = CHANNEL) => outbox.enqueue([{ key, kind: 'test', channel, payload: { text, blocks: [] } }], Date.now());
  const edit = (key: string, text: string, channel = CHANNEL) => queue.put(key, channel, { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  const calls = () => slack.calls.filter((c) => c.method === 'chat.update');
  return { slack, store, log, outbox, updates, delivery, queue, post, edit, calls };
}

describe('UpdateQueue (chat.update)', () => {
  it('waits for its message to be posted, then sends only the newest of several contents', async () => {
    const env = await setup();
    env.post('m1', 'first');
    env.edit('m1', 'second');
    env.edit('m1', 'third');
    env.queue.kick();
    await new Promise((r) => setTimeout(r, 300));
    expect(env.calls()).toHaveLength(0); // the post is not out yet
    env.delivery.kick();
    expect(await env.delivery.drain(undefined, 5000)).toBe(true);
    expect(await env.queue.drain(5000)).toBe(true);
    expect(env.calls()).toHaveLength(1);
    const [msg] = env.slack.messages(CHANNEL);
    expect(msg!.text).toBe('third');
    expect(msg!.edited).toBeDefined();
    // The metadata that finds the message after a crash is kept.
    expect(msg!.metadata?.event_payload).toEqual({ key: 'm1' });
    expect(env.updates.get('m1')).toMatchObject({ status: 'done', revision: 2, sentRevision: 2 });
  });

  it('content recorded while an edit is on its way is sent after it', async () => {
    const env = await setup();
    env.post('m1', 'first');
    env.delivery.kick();
    await env.delivery.drain(undefined, 5000);
    env.slack.setDown(true);
    env.edit('m1', 'second');
    env.queue.kick();
    await until(() => env.updates.get('m1')!.attempts > 0, 5000);
    env.edit('m1', 'third');
    env.slack.setDown(false);
    env.queue.kick();
    expect(await env.queue.drain(10_000)).toBe(true);
    expect(env.slack.messages(CHANNEL)[0]!.text).toBe('third');
  });

  it('a 5xx is retried; a message Slack no longer has is given up, loudly, without holding up other edits', async () => {
    const env = await setup();
    env.post('gone', 'x');
    env.post('kept', 'y');
    env.delivery.kick();
    await env.delivery.drain(undefined, 5000);
    const goneTs = env.outbox.get('gone')!.ts!;
    await createWebClient(TOKEN, env.slack.apiUrl, env.log.logger).chat.delete({ channel: CHANNEL, ts: goneTs });
    env.edit('gone', 'x2');
    env.edit('kept', 'y2');
    env.slack.failNext(1, 503);
    env.queue.kick();
    expect(await env.queue.drain(15_000)).toBe(true);
    expect(env.updates.get('gone')).toMatchObject({ status: 'failed', lastError: 'message_not_found' });
    expect(env.updates.get('kept')).toMatchObject({ status: 'done' });
    expect(env.slack.messages(CHANNEL).map((m) => m.text)).toEqual(['y2']);
    expect(env.log.text()).toContain('Slack refused the edit; giving up on it');
  });

  it('the edit of a message Slack refused to post is dropped with it', async () => {
    const env = await setup();
    env.post('lost', 'z', 'C0NOSUCHCHANNEL');
    env.edit('lost', 'z2', 'C0NOSUCHCHANNEL');
    env.delivery.kick();
    await env.delivery.drain(undefined, 5000);
    expect(env.outbox.get('lost')!.status).toBe('failed');
    env.queue.kick();
    expect(await env.queue.drain(5000)).toBe(true);
    expect(env.updates.get('lost')).toMatchObject({ status: 'failed', lastError: 'post failed' });
    expect(env.calls()).toHaveLength(0);
  });
});
