import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import { appHomeOpenedEvent, blockActionsPayload, until } from '../support/slack-requests.js';
import { startSlackFake, type SlackFake } from './slack-fake.js';
import { startSocketFake, type SocketFake } from './slack-socket-fake.js';

const TOKEN = 'xoxb-socket-fake-test';
const APP_TOKEN = 'xapp-1-A0APP-socket-fake-test';

/** A real Bolt app in Socket Mode, with one button handler and an App Home, pointed at the fakes. */
describe('socket fake: interactive and events_api envelopes to a real Bolt app', () => {
  let slack: SlackFake;
  let socket: SocketFake;
  let app: App;
  const pressed: Array<BlockAction<ButtonAction>> = [];

  beforeAll(async () => {
    slack = await startSlackFake({ token: TOKEN, channels: ['C0ALERTS'], rateLimitPerChannelPerSecond: Infinity });
    socket = await startSocketFake({ webApiUrl: slack.apiUrl, appToken: APP_TOKEN });
    app = new App({
      token: TOKEN,
      appToken: APP_TOKEN,
      socketMode: true,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: socket.apiUrl },
      installerOptions: { clientOptions: { slackApiUrl: socket.apiUrl } },
    });
    app.action<BlockAction<ButtonAction>>('alert_ack', async ({ ack, body, respond }) => {
      await ack();
      pressed.push(body);
      await respond({ replace_original: true, text: `Acknowledged by <@${body.user.id}>` });
    });
    app.event('app_home_opened', async ({ event, client }) => {
      if (event.tab !== 'home') return;
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `Hello <@${event.user}>` } }] } });
    });
    await app.start();
    await until(() => socket.connections() === 1, 10_000);
  });

  afterAll(async () => {
    await app?.stop();
    await until(() => socket.connections() === 0, 5000);
    await socket?.close();
    await slack?.close();
  });

  it('delivers a block_actions payload as an interactive envelope and returns the app\'s ack', async () => {
    const alert = slack.injectMessage({ channel: 'C0ALERTS', text: 'placeholder', user: 'U0HUMAN' });
    const posted = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'C0ALERTS', text: 'Calculation running for 31 min', thread_ts: alert.ts }),
    }).then((r) => r.json() as Promise<{ ts: string }>);
    const payload = blockActionsPayload({
      actionId: 'alert_ack',
      value: 'alert:82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5',
      userId: 'U0ALICE',
      channelId: 'C0ALERTS',
      messageTs: posted.ts,
      threadTs: alert.ts,
      responseUrl: slack.responseUrl('sm-ack', { channel: 'C0ALERTS', messageTs: posted.ts, userId: 'U0ALICE' }),
    });
    const ack = await socket.sendInteractive(payload);
    expect(ack).toEqual({});
    expect(pressed).toHaveLength(1);
    expect(pressed[0]).toEqual(payload);
    expect(pressed[0]!.actions[0]).toMatchObject({ action_id: 'alert_ack', block_id: 'alert_actions', type: 'button', value: 'alert:82c1ebb4-bd08-e4c3-5631-a662fb2ff2c5' });
    const replaced = await until(() => slack.messages('C0ALERTS').find((m) => m.ts === posted.ts && m.text?.startsWith('Acknowledged')), 5000);
    expect(replaced.text).toBe('Acknowledged by <@U0ALICE>');
    expect(socket.ackLog().at(-1)).toMatchObject({ type: 'interactive', payload: {}, ms: expect.any(Number) });
    expect(socket.unmatched()).toEqual([]);
  });

  it('delivers app_home_opened as an events_api envelope; the app publishes its Home', async () => {
    const ack = await socket.sendEventsApi(appHomeOpenedEvent({ userId: 'U0BOB' }));
    expect(ack).toEqual({});
    const view = await until(() => slack.homeView('U0BOB'), 5000);
    expect(view.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'Hello <@U0BOB>' } }]);
    // The messages tab is not the Home: nothing is published for it.
    await socket.sendEventsApi(appHomeOpenedEvent({ userId: 'U0CAROL', tab: 'messages' }));
    expect(slack.homeView('U0CAROL')).toBeUndefined();
    expect(socket.ackLog().map((a) => a.type).slice(-2)).toEqual(['events_api', 'events_api']);
  });
});
