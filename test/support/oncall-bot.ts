import path from 'node:path';
import { athenaCalculation, athenaSession, startAwsFake, type AwsFake } from '../fakes/aws-fake.js';
import { startSlackFake, type FakeMessage, type SlackFake } from '../fakes/slack-fake.js';
import { fakeUuid, human, startCalculation, startSession } from './cloudtrail-records.js';
import { tempDir, useAwsFakeEnv } from './harness.js';
import { blockActionsBody, freePort, postInteraction, SIGNING_SECRET, until } from './slack-requests.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { createPollLoop } from '../../src/runtime/watchers.js';
import type { PollLoop } from '../../src/schedule/poll-loop.js';
import { createApp, type SlackBot } from '../../src/slack/app.js';
import { Outbox } from '../../src/store/outbox.js';

export const TOKEN = 'xoxb-test-token';
export const ALERTS = 'C0ALERTS';
export const REGION = 'us-east-1';

export interface OnCallBot {
  aws: AwsFake;
  slack: SlackFake;
  rt: Runtime;
  bot: SlackBot;
  loop: PollLoop;
  /** `http://127.0.0.1:<port>` of the bot's receiver. */
  base: string;
  /** One poll cycle (CloudTrail, Athena, then the Slack work), and every post and edit it made delivered. */
  cycle(): Promise<void>;
  /** A calculation that has run 45 minutes in a new session (Athena says RUNNING), alerted: its message. */
  alertFor(o?: { workGroup?: string; who?: string }): Promise<{ sid: string; cid: string; alert: FakeMessage }>;
  /** Presses a button on a message as `userId` (signed like Slack, unless `sign` says otherwise): the HTTP status, and the id of its response_url. */
  press(o: { actionId: string; value: string; userId: string; message: FakeMessage; sign?: Parameters<typeof postInteraction>[2] }): Promise<{ status: number; ms: number; responseId: string }>;
  /** What the presser was told (ephemeral, through the response_url), once it arrives. */
  told(responseId: string): Promise<string>;
  /** The message as Slack has it now. */
  current(message: FakeMessage): FakeMessage;
  close(): Promise<void>;
}

/**
 * The whole bot in-process, as `start` wires it: runtime, poll loop and the real Bolt app over
 * signed HTTP, against the AWS fake (Athena's Stop/Terminate play out on it, and every call it
 * serves is in its trail at once) and the Slack fake.
 */
export async function startOnCallBot(env: Record<string, string> = {}): Promise<OnCallBot> {
  const aws = await startAwsFake({ callLogDelayMs: 0 });
  aws.setRatePerSecond(Infinity);
  const restoreEnv = useAwsFakeEnv(aws);
  const slack = await startSlackFake({ token: TOKEN, rateLimitPerChannelPerSecond: 0, channels: ['C0GENERAL', ALERTS, 'C0LIVEFEED', 'C0PRODUCTION'] });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const clock = { now: () => Date.now() };
  const rt = createRuntime(
    {
      clock,
      env: {
        ...process.env,
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        PORT: String(port),
        DATABASE_PATH: path.join(tempDir('asb-oncall-'), 'oncall.sqlite'),
        ALERT_CHANNEL: ALERTS,
        LONG_RUNNING_MINUTES: '30',
        // The scenario's records arrive 45-50 minutes after their eventTime: past the default 20-minute lookback.
        LOOKBACK_MINUTES: '90',
        // Athena's answers are asked again after a second (the loop itself is driven by cycle()).
        POLL_INTERVAL_SECONDS: '1',
        LOG_LEVEL: 'silent',
        ...env,
      },
    },
    { quickAws: true, oneShot: false },
  );
  const bot = createApp({ runtime: rt, outbox: new Outbox(rt.store), clock });
  const loop = createPollLoop(rt, { clock });
  loop.watchSessions(() => bot.alerts.watched());
  loop.setAfterCycle((c) => bot.afterCycle(c));
  await bot.start();
  await until(() => bot.identity());

  const cycle = async () => {
    await loop.cycle();
    await bot.delivery.drain(undefined, 10_000);
    await bot.updates.drain(10_000);
  };
  const current = (m: FakeMessage) => slack.messages(m.channel).find((x) => x.ts === m.ts)!;
  return {
    aws,
    slack,
    rt,
    bot,
    loop,
    base,
    cycle,
    current,
    async alertFor(o = {}) {
      const sid = fakeUuid();
      const cid = fakeUuid();
      const now = Date.now();
      const workGroup = o.workGroup ?? 'prod-notebooks';
      aws.setSession(REGION, athenaSession({ SessionId: sid, WorkGroup: workGroup, Status: { State: 'BUSY', StartDateTime: now - 50 * 60_000 } }));
      aws.setCalculation(REGION, athenaCalculation({ CalculationExecutionId: cid, SessionId: sid, Status: { State: 'RUNNING', SubmissionDateTime: now - 45 * 60_000 } }));
      aws.addEvents([
        startSession({ sessionId: sid, eventTime: now - 50 * 60_000, actor: human(o.who ?? 'heidi'), workGroup }),
        startCalculation({ sessionId: sid, calculationId: cid, eventTime: now - 45 * 60_000 }),
      ]);
      await cycle();
      const alert = await until(() => slack.messages().find((m) => !m.thread_ts && m.metadata?.event_payload.key === `alert:${cid}`));
      return { sid, cid, alert };
    },
    async press(o) {
      const responseId = `R${fakeUuid().slice(0, 8)}`;
      const responseUrl = slack.responseUrl(responseId, { channel: o.message.channel, messageTs: o.message.ts, userId: o.userId });
      const body = blockActionsBody({ actionId: o.actionId, value: o.value, userId: o.userId, channelId: o.message.channel, messageTs: o.message.ts, responseUrl });
      const r = await postInteraction(base, body, o.sign);
      return { status: r.status, ms: r.ms, responseId };
    },
    async told(responseId) {
      const r = await until(() => slack.responses(responseId)[0], 10_000);
      return String((r.body as { text?: unknown }).text);
    },
    async close() {
      await bot.stop();
      await loop.close();
      rt.close();
      restoreEnv();
      await slack.close();
      await aws.close();
    },
  };
}
