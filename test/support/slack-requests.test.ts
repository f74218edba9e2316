import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App, HTTPReceiver, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import {
  appHomeOpenedBody,
  blockActionsBody,
  freePort,
  postEvent,
  postInteraction,
  SIGNING_SECRET,
  until,
} from './slack-requests.js';

const TOKEN = 'xoxb-requests-test';

/** The signed request helpers against a real Bolt app over HTTP, answering through the Slack fake. */
describe('slack-requests: interactivity and App Home requests as Slack sends them', () => {
  let slack: SlackFake;
  let app: App;
  let base: string;
  const pressed: Array<BlockAction<ButtonAction>> = [];

  beforeAll(async () => {
    slack = await startSlackFake({ token: TOKEN, channels: ['C0ALERTS'] });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = new App({
      token: TOKEN,
      receiver: new HTTPReceiver({ signingSecret: SIGNING_SECRET, endpoints: '/slack/events', logLevel: LogLevel.ERROR }),
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: slack.apiUrl },
    });
    app.action<BlockAction<ButtonAction>>({ action_id: 'alert_snooze', block_id: 'alert_actions' }, async ({ ack, body, respond }) => {
      await ack();
      pressed.push(body);
      await respond({ response_type: 'ephemeral', text: `Snoozed for ${body.actions[0]!.value}` });
    });
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Active sessions' } }] } });
    });
    await app.start(port);
  });

  afterAll(async () => {
    await app?.stop();
    await slack?.close();
  });

  it('blockActionsBody is the form body of a button press, and Bolt reads it as one', async () => {
    const input = {
      actionId: 'alert_snooze',
      value: '1h',
      userId: 'U0ALICE',
      channelId: 'C0ALERTS',
      messageTs: '1764680000.000100',
      responseUrl: slack.responseUrl('snooze-1', { channel: 'C0ALERTS', messageTs: '1764680000.000100', userId: 'U0ALICE' }),
    };
    const body = blockActionsBody(input);
    expect(body.startsWith('payload=')).toBe(true);
    const payload = JSON.parse(decodeURIComponent(body.slice('payload='.length))) as Record<string, any>;
    expect(Object.keys(payload)).toEqual([
      'type',
      'user',
      'api_app_id',
      'token',
      'container',
      'trigger_id',
      'team',
      'enterprise',
      'is_enterprise_install',
      'channel',
      'message',
      'state',
      'response_url',
      'actions',
    ]);
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'alice', team_id: 'T0TEAM' },
      container: { type: 'message', message_ts: '1764680000.000100', channel_id: 'C0ALERTS', is_ephemeral: false },
      channel: { id: 'C0ALERTS' },
      message: { ts: '1764680000.000100' },
      response_url: input.responseUrl,
    });
    expect(payload.actions).toEqual([
      { action_id: 'alert_snooze', block_id: 'alert_actions', text: { type: 'plain_text', text: 'alert_snooze', emoji: true }, value: '1h', type: 'button', action_ts: expect.stringMatching(/^\d+\.\d{6}$/) },
    ]);

    const res = await postInteraction(base, body);
    expect(res.status).toBe(200);
    expect(pressed).toHaveLength(1);
    expect(pressed[0]).toEqual(payload);
    const answer = await until(() => slack.ephemerals()[0], 5000);
    expect(answer).toMatchObject({ channel: 'C0ALERTS', ephemeralTo: 'U0ALICE', text: 'Snoozed for 1h' });
    expect(slack.responses('snooze-1')).toHaveLength(1);
  });

  it('a bad, stale or missing signature gets 401 and reaches no listener', async () => {
    const body = blockActionsBody({
      actionId: 'alert_snooze',
      value: '4h',
      userId: 'U0MALLORY',
      channelId: 'C0ALERTS',
      messageTs: '1764680000.000200',
      responseUrl: slack.responseUrl('snooze-2'),
    });
    const before = pressed.length;
    expect((await postInteraction(base, body, { secret: 'not-the-signing-secret' })).status).toBe(401);
    expect((await postInteraction(base, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    expect((await postInteraction(base, body, { unsigned: true })).status).toBe(401);
    expect(pressed).toHaveLength(before);
    expect(slack.responses('snooze-2')).toEqual([]);
  });

  it('appHomeOpenedBody is the event callback Slack posts when a user opens the Home tab', async () => {
    const body = JSON.parse(appHomeOpenedBody({ userId: 'U0BOB', eventId: 'Ev0HOME1' })) as Record<string, any>;
    expect(body).toMatchObject({
      type: 'event_callback',
      event_id: 'Ev0HOME1',
      api_app_id: 'A0APP',
      team_id: 'T0TEAM',
      event: { type: 'app_home_opened', user: 'U0BOB', channel: 'D00BOB', tab: 'home', event_ts: expect.stringMatching(/^\d+\.\d{6}$/) },
    });
    const res = await postEvent(base, JSON.stringify(body));
    expect(res.status).toBe(200);
    const view = await until(() => slack.homeView('U0BOB'), 5000);
    expect(view.type).toBe('home');
  });
});

