import { afterEach, describe, expect, it } from 'vitest';
import { startSlackFake, type FakeMessage, type SlackFake } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore, TestClock } from '../../support/harness.js';
import {
  call,
  createNotebook,
  EXAMPLE_IP,
  EXAMPLE_KEY_ID,
  executor,
  fakeUuid,
  human,
  importNotebook,
  startCalculation,
  startSession,
  terminateSession,
  type CloudTrailRecord,
} from '../../support/cloudtrail-records.js';
import { toEvents } from '../../support/events.js';
import { readConfig, type Config } from '../../../src/config/config.js';
import { DeliveryQueue } from '../../../src/slack/delivery/delivery-queue.js';
import { UpdateQueue } from '../../../src/slack/delivery/update-queue.js';
import { FeedManager } from '../../../src/slack/feed/feed-manager.js';
import { createWebClient } from '../../../src/slack/slack-client.js';
import { MessageUpdates } from '../../../src/store/message-updates.js';
import { Outbox } from '../../../src/store/outbox.js';
import type { Store } from '../../../src/store/store.js';
import { MINUTE } from '../../../src/util/clock.js';

const TOKEN = 'xoxb-test-token';
const FEED = 'C0LIVEFEED';
const PROD = 'C0PRODUCTION';
const REGION = 'us-east-1';
const T0 = Date.parse('2026-11-23T12:00:00Z');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Env {
  slack: SlackFake;
  store: Store;
  outbox: Outbox;
  config: Config;
  clock: TestClock;
  queue: DeliveryQueue;
  updates: UpdateQueue;
  log: ReturnType<typeof captureLogger>;
  feed(confirm?: ConstructorParameters<typeof FeedManager>[0]['confirm']): FeedManager;
  /** Runs a feed cycle and waits until every post and edit it recorded has reached Slack. */
  cycle(f: FeedManager): Promise<Awaited<ReturnType<FeedManager['onCycle']>>>;
  insert(records: CloudTrailRecord[]): void;
}

async function setup(extraEnv: Record<string, string> = {}, slackOptions: Parameters<typeof startSlackFake>[0] = {}): Promise<Env> {
  const slack = await startSlackFake({ rateLimitPerChannelPerSecond: 0, channels: [FEED, PROD, 'C0ALERTS', 'C0EUROPE'], ...slackOptions });
  const { store } = tempStore();
  const outbox = new Outbox(store);
  const log = captureLogger('info');
  const config = readConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: slack.apiUrl, FEED_CHANNEL: FEED, FEED_BACKFILL_MINUTES: '60', ...extraEnv });
  const clock = new TestClock(T0);
  const web = createWebClient(TOKEN, slack.apiUrl, log.logger);
  const queue = new DeliveryQueue({ outbox, web, logger: log.logger, channelSpacingMs: 5 });
  const updates = new UpdateQueue({ updates: new MessageUpdates(store), web, logger: log.logger, channelSpacingMs: 5 });
  cleanups.push(
    () => store.close(),
    () => slack.close(),
    () => queue.close(),
    () => updates.close(),
  );
  return {
    slack,
    store,
    outbox,
    config,
    clock,
    queue,
    updates,
    log,
    feed: (confirm) => new FeedManager({ store, outbox, delivery: queue, updates, config, clock, logger: log.logger, ...(confirm ? { confirm } : {}) }),
    async cycle(f) {
      const r = await f.onCycle();
      expect(await queue.drain(undefined, 10_000)).toBe(true);
      expect(await updates.drain(10_000)).toBe(true);
      return r;
    },
    insert: (records) => store.insertEvents(toEvents(records), clock.now()),
  };
}

const keyOf = (m: FakeMessage) => m.metadata?.event_payload.key as string | undefined;
const content = (m: FakeMessage) => `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
const edits = (env: Env) => env.slack.calls.filter((c) => c.method === 'chat.update' && c.ok);
const feedMessage = (env: Env, sid: string, channel = FEED) => env.slack.messages(channel).find((m) => keyOf(m) === `feed:session:${sid}`);

/** A session started `ago` minutes ago by `who`. */
function session(env: Env, o: { ago: number; who?: string; workGroup?: string; tags?: Record<string, string>; region?: string; notebookId?: string | null }): string {
  const sid = fakeUuid();
  env.insert([
    startSession({
      sessionId: sid,
      eventTime: env.clock.now() - o.ago * MINUTE,
      actor: human(o.who ?? 'alice'),
      workGroup: o.workGroup ?? 'analytics',
      maxConcurrentDpus: 20,
      ...(o.tags ? { tags: o.tags } : {}),
      ...(o.region ? { region: o.region } : {}),
      ...(o.notebookId !== undefined ? { notebookId: o.notebookId } : {}),
    }),
  ]);
  return sid;
}

describe('live feed: sessions', () => {
  it('announces a new session once — owner, workgroup, account/region, engine, DPU settings, notebook — also after a restart', async () => {
    const env = await setup();
    const notebook = fakeUuid();
    env.insert([importNotebook({ notebookId: notebook, eventTime: T0 - 30 * MINUTE, actor: human('alice'), name: 'churn-model', workGroup: 'analytics' })]);
    const sid = session(env, { ago: 10, notebookId: notebook });
    const f = env.feed();
    expect(await env.cycle(f)).toMatchObject({ sessions: 1, notebookEvents: 1 });

    const msg = feedMessage(env, sid)!;
    expect(msg).toBeDefined();
    expect(msg.text).toBe(`Athena session started by alice in analytics (${REGION}): ${sid}`);
    const body = content(msg);
    for (const s of ['alice', 'analytics', `123456789012 / ${REGION}`, 'PySpark (notebook)', 'max 20 DPUs, coordinator 1, executor 1', `churn-model (${notebook})`, 'CREATED', '10m so far']) {
      expect(body).toContain(s);
    }
    expect(body).toContain('Open in the Athena console');
    expect(body).not.toContain(EXAMPLE_IP);
    expect(body).not.toContain(EXAMPLE_KEY_ID);

    // Again, and after a restart (a new manager on the same store): nothing new.
    expect(await env.cycle(f)).toMatchObject({ sessions: 0, notebookEvents: 0 });
    expect(await env.cycle(env.feed())).toMatchObject({ sessions: 0, notebookEvents: 0 });
    expect(env.slack.messages(FEED).filter((m) => keyOf(m) === `feed:session:${sid}`)).toHaveLength(1);
    expect(env.slack.messages(FEED)).toHaveLength(2);
  });

  it('edits the message in place as the session runs and ends: at most one edit a cycle, none when nothing changed', async () => {
    const env = await setup();
    const sid = session(env, { ago: 2 });
    const f = env.feed();
    await env.cycle(f);
    expect(edits(env)).toHaveLength(0);

    // A busy cycle: a calculation and fifty status polls land together.
    const cid = fakeUuid();
    env.clock.advance(MINUTE);
    const busy: CloudTrailRecord[] = [startCalculation({ sessionId: sid, calculationId: cid, eventTime: env.clock.now() - 50_000 })];
    for (let i = 0; i < 50; i++) busy.push(call('GetCalculationExecutionStatus', { actor: executor(sid), eventTime: env.clock.now() - 40_000 + i * 500, params: { calculationExecutionId: cid } }));
    env.insert(busy);
    expect(await env.cycle(f)).toMatchObject({ edits: 1 });
    expect(edits(env)).toHaveLength(1);
    expect(content(feedMessage(env, sid)!)).toContain('1, 1 running');

    // Nothing changed (the clock moved less than a live step): no edit.
    env.clock.advance(MINUTE);
    expect(await env.cycle(f)).toMatchObject({ edits: 0 });
    expect(edits(env)).toHaveLength(1);

    // It ends: the last edit shows TERMINATED and the run time; the item settles (no Athena to ask).
    env.clock.advance(MINUTE);
    env.insert([terminateSession({ sessionId: sid, eventTime: env.clock.now() - 10_000 })]);
    expect(await env.cycle(f)).toMatchObject({ edits: 1, settled: 1 });
    const ended = feedMessage(env, sid)!;
    expect(ended.text).toContain(`Athena session ${sid} by alice ended: TERMINATED (TerminateSession record), ran 4m`);
    expect(ended.edited).toBeDefined();
    env.clock.advance(30 * MINUTE);
    expect(await env.cycle(f)).toMatchObject({ edits: 0 });
    expect(edits(env)).toHaveLength(2);
    expect(env.slack.messages(FEED)).toHaveLength(1);
  });

  it('a session that ended is asked about in Athena, and its last edit shows the end Athena confirmed', async () => {
    const env = await setup();
    const sid = session(env, { ago: 5 });
    const asked: string[][] = [];
    // The enricher's part, played by hand: Athena answers TERMINATED with its own end and DPU use.
    const confirm = async (refs: Array<{ sessionId: string }>) => {
      asked.push(refs.map((r) => r.sessionId));
      for (const r of refs) {
        env.store.putEnrichment({
          kind: 'session',
          id: r.sessionId,
          region: REGION,
          status: 'ok',
          terminal: true,
          payload: { state: 'TERMINATED', startedAt: T0 - 5 * MINUTE, endedAt: T0 + MINUTE, dpuExecutionMillis: 3 * 3_600_000 },
          fetchedAt: env.clock.now(),
        });
      }
    };
    const f = env.feed(confirm);
    await env.cycle(f);
    expect(asked).toEqual([]);
    env.clock.advance(2 * MINUTE);
    env.insert([terminateSession({ sessionId: sid, eventTime: T0 + MINUTE })]);
    expect(await env.cycle(f)).toMatchObject({ settled: 1 });
    expect(asked).toEqual([[sid]]);
    const msg = feedMessage(env, sid)!;
    expect(msg.text).toContain('TERMINATED (confirmed by Athena), ran 6m');
    expect(content(msg)).toContain('3.00 (measured by Athena)');
    // Settled: never asked or edited again.
    env.clock.advance(10 * MINUTE);
    await env.cycle(f);
    expect(asked).toHaveLength(1);
  });

  it('Athena unable to confirm: asked three cycles, then the message keeps CloudTrail’s end and settles', async () => {
    const env = await setup();
    const sid = session(env, { ago: 20 });
    let asks = 0;
    const f = env.feed(async () => {
      asks++;
    });
    await env.cycle(f);
    env.insert([terminateSession({ sessionId: sid, eventTime: T0 })]);
    for (let i = 0; i < 5; i++) {
      env.clock.advance(MINUTE);
      await env.cycle(f);
    }
    expect(asks).toBe(3);
    expect(f.items.get(`session:${sid}`)!.live).toBe(false);
    expect(feedMessage(env, sid)!.text).toContain('TERMINATED (TerminateSession record)');
  });

  it('first start announces only the last FEED_BACKFILL_MINUTES; a StartSession delivered late is announced in the next cycle', async () => {
    const env = await setup({ FEED_BACKFILL_MINUTES: '60' });
    const old = session(env, { ago: 90 });
    const recent = session(env, { ago: 45 });
    const f = env.feed();
    expect(await env.cycle(f)).toMatchObject({ sessions: 1 });
    expect(feedMessage(env, recent)).toBeDefined();
    expect(feedMessage(env, old)).toBeUndefined();

    // Two hours later a StartSession from 70 minutes ago arrives (CloudTrail delivers late):
    // after the floor set at the first start, so it is announced; one from before the floor is not.
    env.clock.advance(2 * 60 * MINUTE);
    const late = session(env, { ago: 70 });
    const beforeFloor = session(env, { ago: 3 * 60 + 10 });
    expect(await env.cycle(f)).toMatchObject({ sessions: 1 });
    expect(feedMessage(env, late)).toBeDefined();
    expect(feedMessage(env, beforeFloor)).toBeUndefined();
    expect(feedMessage(env, old)).toBeUndefined();
  });

  it('CHANNEL_ROUTES picks the channel: workgroup, tag, account, region; first match wins; else FEED_CHANNEL', async () => {
    const env = await setup({ CHANNEL_ROUTES: 'workgroup:prod=C0PRODUCTION,tag:team=risk=C0ALERTS,region:eu-west-1=C0EUROPE,account:123456789012=C0ALERTS' });
    const prod = session(env, { ago: 5, workGroup: 'prod', tags: { team: 'risk' } });
    const risk = session(env, { ago: 5, workGroup: 'adhoc', tags: { team: 'risk' } });
    const eu = session(env, { ago: 5, workGroup: 'adhoc', region: 'eu-west-1' });
    const other = session(env, { ago: 5, workGroup: 'adhoc' });
    await env.cycle(env.feed());
    expect(feedMessage(env, prod, PROD)).toBeDefined();
    expect(feedMessage(env, risk, 'C0ALERTS')).toBeDefined();
    expect(feedMessage(env, eu, 'C0EUROPE')).toBeDefined();
    // The account route matches every session of the account not matched before it.
    expect(feedMessage(env, other, 'C0ALERTS')).toBeDefined();
    expect(env.slack.messages(FEED)).toHaveLength(0);
  });

  it('a 429 on chat.update is waited out for its Retry-After: the edit arrives, nothing is dropped', async () => {
    const env = await setup();
    const sid = session(env, { ago: 2 });
    const f = env.feed();
    await env.cycle(f);
    env.clock.advance(MINUTE);
    env.insert([terminateSession({ sessionId: sid, eventTime: env.clock.now() })]);
    env.slack.rateLimitNext(1, 1, ['chat.update']);
    const started = Date.now();
    await env.cycle(f);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(env.slack.calls.filter((c) => c.method === 'chat.update').map((c) => c.status)).toEqual([429, 200]);
    expect(feedMessage(env, sid)!.text).toContain('ended');
    expect(env.log.text()).toContain('Slack rate limit on chat.update: waiting Retry-After');
  });

  it('messages posted before a restart keep being edited after it', async () => {
    const env = await setup();
    const sid = session(env, { ago: 2 });
    await env.cycle(env.feed());
    env.clock.advance(MINUTE);
    env.insert([terminateSession({ sessionId: sid, eventTime: env.clock.now() })]);
    await env.cycle(env.feed());
    expect(feedMessage(env, sid)!.text).toContain('ended');
    expect(env.slack.messages(FEED)).toHaveLength(1);
  });

  it('an edit recorded while its message is still unposted waits for the post, then lands on it', async () => {
    const env = await setup();
    const sid = session(env, { ago: 2 });
    env.slack.setDown(true);
    const f = env.feed();
    await f.onCycle();
    env.clock.advance(MINUTE);
    env.insert([terminateSession({ sessionId: sid, eventTime: env.clock.now() })]);
    expect(await f.onCycle()).toMatchObject({ edits: 1 });
    env.slack.setDown(false);
    expect(await env.queue.drain(undefined, 15_000)).toBe(true);
    expect(await env.updates.drain(15_000)).toBe(true);
    const msg = feedMessage(env, sid)!;
    expect(msg.text).toContain('ended');
    expect(env.slack.messages(FEED)).toHaveLength(1);
  });
});

describe('live feed: notebook events', () => {
  it('a line each for imports, creations and deletions; more than ten in one cycle become one grouped message', async () => {
    const env = await setup();
    const nb = fakeUuid();
    env.insert([
      importNotebook({ notebookId: nb, eventTime: T0 - 3 * MINUTE, actor: human('kim'), name: 'churn-model', workGroup: 'prod' }),
      createNotebook({ notebookId: fakeUuid(), eventTime: T0 - 2 * MINUTE, actor: human('lee'), name: 'scratch', workGroup: 'adhoc' }),
      call('DeleteNotebook', { actor: human('kim'), eventTime: T0 - MINUTE, params: { notebookId: nb } }),
    ]);
    const f = env.feed();
    expect(await env.cycle(f)).toMatchObject({ notebookEvents: 3 });
    const lines = env.slack.messages(FEED);
    expect(lines.map((m) => m.text)).toEqual([
      `kim imported notebook churn-model (${nb}) in prod (123456789012 / ${REGION}) at 2026-11-23 11:57 UTC`,
      expect.stringContaining('lee created notebook scratch'),
      `kim deleted notebook churn-model (${nb}) (123456789012 / ${REGION}) at 2026-11-23 11:59 UTC`,
    ]);

    env.clock.advance(MINUTE);
    const many: CloudTrailRecord[] = [];
    for (let i = 0; i < 12; i++) many.push(importNotebook({ notebookId: fakeUuid(), eventTime: env.clock.now() - (12 - i) * 1000, actor: human('bulk'), name: `nb-${i}`, workGroup: 'adhoc' }));
    env.insert(many);
    expect(await env.cycle(f)).toMatchObject({ notebookEvents: 12 });
    const after = env.slack.messages(FEED);
    expect(after).toHaveLength(4);
    const group = after[3]!;
    expect(keyOf(group)).toMatch(/^feed:notebooks:/);
    expect(group.text).toBe('12 notebook events: 12 imported');
    for (let i = 0; i < 12; i++) expect(content(group)).toContain(`nb-${i}`);
    // Nothing announced twice.
    expect(await env.cycle(env.feed())).toMatchObject({ notebookEvents: 0 });
    expect(env.slack.messages(FEED)).toHaveLength(4);
  });

  it('posts nothing without FEED_CHANNEL', async () => {
    const env = await setup({ FEED_CHANNEL: '' });
    session(env, { ago: 2 });
    expect(await env.cycle(env.feed())).toEqual({ sessions: 0, notebookEvents: 0, edits: 0, settled: 0 });
    expect(env.slack.calls).toEqual([]);
  });
});
