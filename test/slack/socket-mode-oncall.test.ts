import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackFake, type FakeMessage, type SlackFake } from '../fakes/slack-fake.js';
import { startSocketFake, type SocketFake } from '../fakes/slack-socket-fake.js';
import { tempDir } from '../support/harness.js';
import { call, executor, fakeUuid, human, startCalculation, startSession } from '../support/cloudtrail-records.js';
import { toEvents } from '../support/events.js';
import { appHomeOpenedEvent, blockActionsPayload, freePort, until } from '../support/slack-requests.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { ALERT_ACTION, encodeActionValue } from '../../src/reports/alert-document.js';
import { createApp, type SlackBot } from '../../src/slack/app.js';
import { Outbox } from '../../src/store/outbox.js';

const TOKEN = 'xoxb-test-token';
const APP_TOKEN = 'xapp-1-A0APP-1234567890-abcdef0123456789';
const ALERTS = 'C0ALERTS';
const MINUTE = 60_000;

let slack: SlackFake;
let socket: SocketFake;
let rt: Runtime;
let bot: SlackBot;
const sid = fakeUuid();
const cid = fakeUuid();

beforeAll(async () => {
  slack = await startSlackFake({ token: TOKEN, rateLimitPerChannelPerSecond: 0, channels: [ALERTS, 'C0LIVEFEED'] });
  socket = await startSocketFake({ webApiUrl: slack.apiUrl, appToken: APP_TOKEN });
  rt = createRuntime(
    {
      clock: { now: () => Date.now() },
      env: {
        ...process.env,
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_SIGNING_SECRET: undefined,
        SLACK_API_URL: socket.apiUrl,
        PORT: String(await freePort()),
        DATABASE_PATH: path.join(tempDir('asb-socket-oncall-'), 'app.sqlite'),
        ALERT_CHANNEL: ALERTS,
        FEED_CHANNEL: 'C0LIVEFEED',
        ACTIONS_ENABLED: 'true',
        ACTION_USER_IDS: 'U0ONCALL',
        AWS_REGIONS: '',
        AWS_REGION: '',
        LOG_LEVEL: 'silent',
      },
    },
    { needs: ['slack-http-or-socket'] },
  );
  const now = Date.now();
  rt.store.insertEvents(
    toEvents([
      startSession({ sessionId: sid, eventTime: now - 50 * MINUTE, actor: human('heidi'), workGroup: 'prod-notebooks' }),
      startCalculation({ sessionId: sid, calculationId: cid, eventTime: now - 45 * MINUTE }),
      call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: now - MINUTE, params: { calculationExecutionId: cid } }),
    ]),
    now,
  );
  bot = createApp({ runtime: rt, outbox: new Outbox(rt.store), clock: { now: () => Date.now() } });
  await bot.start();
  await until(() => socket.connections() === 1, 5000);
  await until(() => bot.identity(), 5000);
}, 30_000);

afterAll(async () => {
  await bot?.stop();
  rt?.close();
  await socket?.close();
  await slack?.close();
});

async function alert(): Promise<FakeMessage> {
  return until(() => slack.messages(ALERTS).find((m) => m.metadata?.event_payload.key === `alert:${cid}`), 5000);
}

describe('on call over Socket Mode', () => {
  it('posts the alert and the feed item, without AWS (unconfirmed, CloudTrail only)', async () => {
    await bot.afterCycle();
    const a = await alert();
    expect(a.text).toContain('unconfirmed');
    await until(() => slack.messages('C0LIVEFEED').find((m) => m.metadata?.event_payload.key === `feed:session:${sid}`), 5000);
  });

  it('a block_actions envelope is acknowledged at once and acts: Acknowledge edits the alert', async () => {
    const a = await alert();
    const payload = blockActionsPayload({ actionId: ALERT_ACTION.acknowledge, value: `alert:${cid}`, userId: 'U0ALICE', channelId: ALERTS, messageTs: a.ts, responseUrl: slack.responseUrl('sm-ack', { channel: ALERTS, messageTs: a.ts, userId: 'U0ALICE' }) });
    const ack = await socket.sendInteractive(payload);
    expect(ack).toEqual({});
    await until(() => JSON.stringify(slack.messages(ALERTS).find((m) => m.ts === a.ts)?.blocks).includes('Acknowledged by <@U0ALICE>'), 5000);
    expect(socket.ackLog().filter((x) => x.type === 'interactive')).toHaveLength(1);
  });

  it('Stop with no Athena configured says so to the presser, and nothing else happens', async () => {
    const a = await alert();
    const payload = blockActionsPayload({
      actionId: ALERT_ACTION.stopCalculation,
      value: encodeActionValue({ sessionId: sid, calculationId: cid }),
      userId: 'U0ONCALL',
      channelId: ALERTS,
      messageTs: a.ts,
      responseUrl: slack.responseUrl('sm-stop', { channel: ALERTS, messageTs: a.ts, userId: 'U0ONCALL' }),
    });
    await socket.sendInteractive(payload);
    const told = await until(() => slack.responses('sm-stop')[0], 5000);
    expect(told.body).toMatchObject({ response_type: 'ephemeral', text: 'Athena is not configured for this bot (no AWS region), so it cannot act; nothing was done.' });
  });

  it('an app_home_opened events_api envelope publishes the Home', async () => {
    const ack = await socket.sendEventsApi(appHomeOpenedEvent({ userId: 'U0ALICE' }));
    expect(ack).toEqual({});
    const view = await until(() => slack.homeView('U0ALICE'), 5000);
    expect(JSON.stringify(view.blocks)).toContain(sid);
    expect(socket.unmatched()).toEqual([]);
  });
});
