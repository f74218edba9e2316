import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnCallBot, type OnCallBot } from '../../support/oncall-bot.js';
import { appHomeOpenedBody, postEvent, until } from '../../support/slack-requests.js';
import { executor, fakeUuid, human, startCalculation, startSession, terminateSession, call } from '../../support/cloudtrail-records.js';
import { toEvents } from '../../support/events.js';
import { dayBounds, localDate } from '../../../src/model/zoned-day.js';
import { startSlackFake } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore } from '../../support/harness.js';
import { readConfig } from '../../../src/config/config.js';
import { HomePublisher } from '../../../src/slack/home/home-publisher.js';
import { createWebClient } from '../../../src/slack/slack-client.js';

const MINUTE = 60_000;

let o: OnCallBot;
const ids = { active: fakeUuid(), long: fakeUuid(), ended: fakeUuid(), calc: fakeUuid() };

beforeAll(async () => {
  o = await startOnCallBot({ ALLOWED_USER_IDS: 'U0ALICE,U0BOB', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // Today's sessions start at today's start at the earliest, so the test holds just after midnight too.
  const now = Date.now();
  const today = dayBounds(localDate(now, 'UTC'), 'UTC').start;
  const at = (minutesAgo: number) => Math.max(today, now - minutesAgo * MINUTE);
  o.rt.store.insertEvents(
    toEvents([
      // Alice: active now, 40 DPUs.
      startSession({ sessionId: ids.active, eventTime: at(10), actor: human('alice'), workGroup: 'analytics', maxConcurrentDpus: 40 }),
      // Bob: a calculation running for 50 minutes (the session may have started yesterday).
      startSession({ sessionId: ids.long, eventTime: now - 55 * MINUTE, actor: human('bob'), workGroup: 'prod-notebooks', maxConcurrentDpus: 20 }),
      startCalculation({ sessionId: ids.long, calculationId: ids.calc, eventTime: now - 50 * MINUTE }),
      call('GetCalculationExecutionStatus', { actor: executor(ids.long), eventTime: now - MINUTE, params: { calculationExecutionId: ids.calc } }),
      // Carol: a session that ended today, with DPU use Athena measured.
      startSession({ sessionId: ids.ended, eventTime: at(30), actor: human('carol'), workGroup: 'analytics' }),
      terminateSession({ sessionId: ids.ended, eventTime: at(5) }),
    ]),
    now,
  );
  o.rt.store.putEnrichment({ kind: 'session', id: ids.ended, region: 'us-east-1', status: 'ok', terminal: true, payload: { state: 'TERMINATED', dpuExecutionMillis: 12 * 3_600_000 }, fetchedAt: now });
}, 60_000);
afterAll(async () => {
  await o?.close();
});

const viewText = (userId: string) => JSON.stringify(o.slack.homeView(userId)?.blocks ?? []);
const publishes = () => o.slack.calls.filter((c) => c.method === 'views.publish');

describe('App Home (app_home_opened → views.publish), on the real Bolt app', () => {
  it('publishes the sessions active now, open long-running calculations, today’s DPU-hours and cost, top spenders — from the store, no AWS call', async () => {
    const awsBefore = o.aws.requests.length;
    const r = await postEvent(o.base, appHomeOpenedBody({ userId: 'U0ALICE' }));
    expect(r.status).toBe(200);
    const view = await until(() => o.slack.homeView('U0ALICE'));
    expect(view.type).toBe('home');
    const text = viewText('U0ALICE');
    for (const s of ['Active now: 2 sessions', 'alice · analytics', 'max 40 DPUs', 'bob · prod-notebooks', ids.active, ids.long]) expect(text).toContain(s);
    expect(text).toContain(`Long-running calculations still open: 1`);
    // Run times that still run are shown in five-minute steps.
    expect(text).toMatch(new RegExp(`${ids.calc} — running (4[5-9]|50)m in bob's session ${ids.long}`));
    expect(text).toContain('Top spenders today');
    expect(text).toContain('carol — 12.00 DPU-hours ≈ $4.20 (1 session)');
    expect(text).not.toContain(ids.ended);
    expect(o.aws.requests.length).toBe(awsBefore);
  });

  it('opening the Messages tab publishes nothing; a user outside ALLOWED_USER_IDS sees that it is not for them', async () => {
    const before = publishes().length;
    await postEvent(o.base, appHomeOpenedBody({ userId: 'U0BOB', tab: 'messages' }));
    await postEvent(o.base, appHomeOpenedBody({ userId: 'U0MALLORY' }));
    await until(() => o.slack.homeView('U0MALLORY'));
    expect(viewText('U0MALLORY')).toContain('This overview is not available to you');
    expect(viewText('U0MALLORY')).not.toContain(ids.active);
    expect(o.slack.homeView('U0BOB')).toBeUndefined();
    expect(publishes().length).toBe(before + 1);
  });

  it('a 429 on views.publish is waited out for its Retry-After, then the Home is published', async () => {
    o.slack.rateLimitNext(1, 1, ['views.publish']);
    const started = Date.now();
    await postEvent(o.base, appHomeOpenedBody({ userId: 'U0BOB' }));
    await until(() => o.slack.homeView('U0BOB'), 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(publishes().slice(-2).map((c) => c.status)).toEqual([429, 200]);
  });

  it('a view Slack rejects is logged and replaced by a short line saying so; the bot carries on', async () => {
    o.slack.refuseNext('views.publish', 'invalid_arguments', 1, ['[ERROR] failed to match all allowed schemas [json-pointer:/view/blocks/2]']);
    await postEvent(o.base, appHomeOpenedBody({ userId: 'U0ALICE' }));
    await until(() => viewText('U0ALICE').includes('could not be shown'));
    expect(viewText('U0ALICE')).toContain('Slack refused it (invalid_arguments)');
    // Opened again, the full view is back.
    await postEvent(o.base, appHomeOpenedBody({ userId: 'U0ALICE' }));
    await until(() => viewText('U0ALICE').includes('Active now'));
  });
});

describe('HomePublisher: what it logs when Slack refuses', () => {
  it('logs the refusal with Slack’s messages, and says when the Home tab is off', async () => {
    for (const homeTabEnabled of [true, false]) {
      const slack = await startSlackFake({ homeTabEnabled });
      const { store } = tempStore();
      const log = captureLogger('info');
      try {
        const config = readConfig({ SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_API_URL: slack.apiUrl });
        const home = new HomePublisher({ store, config, clock: { now: () => Date.now() }, web: createWebClient('xoxb-test-token', slack.apiUrl, log.logger), logger: log.logger });
        if (homeTabEnabled) {
          slack.refuseNext('views.publish', 'invalid_blocks', 1, ['[ERROR] nope [json-pointer:/view/blocks/0]']);
          expect(await home.publish('U0ALICE')).toBe('fallback');
          const line = log.lines().find((l) => l.msg === 'Slack rejected the App Home view; publishing a short one instead')!;
          expect(line).toMatchObject({ level: 50, user: 'U0ALICE', error: 'invalid_blocks', messages: ['[ERROR] nope [json-pointer:/view/blocks/0]'] });
        } else {
          expect(await home.publish('U0ALICE')).toBe('failed');
          expect(log.text()).toContain('the app’s Home tab is off');
        }
      } finally {
        store.close();
        await slack.close();
      }
    }
  });
});
