import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { webApi } from '@slack/bolt';
import { startSlackFake, type SlackFake } from './slack-fake.js';

const { WebClient, ErrorCode, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIHTTPError, WebAPIRequestError } = webApi;
type WebClient = webApi.WebClient;

const TOKEN = 'xoxb-test-token';

const silentLogger: webApi.Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => undefined,
};

/** `token: null` builds a client that sends no token at all. */
function clientFor(fake: SlackFake, token: string | null = TOKEN, extra: webApi.WebClientOptions = {}): WebClient {
  return new WebClient(token ?? undefined, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: silentLogger,
    ...extra,
  });
}

/** Runs `fn`, expecting it to reject; returns the error. */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function platformError(fn: () => Promise<unknown>): Promise<string> {
  const e = await rejection(fn);
  expect(e).toBeInstanceOf(WebAPIPlatformError);
  return (e as InstanceType<typeof WebAPIPlatformError>).data.error;
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('slack fake (no per-channel rate limit)', () => {
  let fake: SlackFake;
  let client: WebClient;

  beforeEach(async () => {
    fake = await startSlackFake({ rateLimitPerChannelPerSecond: Infinity });
    client = clientFor(fake);
  });
  afterEach(async () => {
    await fake.close();
  });

  it('listens on 127.0.0.1 and answers auth.test', async () => {
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fake.apiUrl).toBe(`${fake.url}/api/`);
    const res = await client.auth.test();
    expect(res).toMatchObject({
      ok: true,
      url: 'https://fake.slack.com/',
      team: 'Fake',
      user: 'athena-session-bot',
      team_id: 'T0TEAM',
      user_id: 'U0BOT',
      bot_id: 'B0BOT',
    });
    expect(fake.calls.map((c) => c.method)).toEqual(['auth.test']);
    expect(fake.calls[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('rejects a wrong token (invalid_auth) and a missing one (not_authed)', async () => {
    expect(await platformError(() => clientFor(fake, 'xoxb-wrong').auth.test())).toBe('invalid_auth');
    expect(await platformError(() => clientFor(fake, null).auth.test())).toBe('not_authed');
    // a token form field is accepted too
    const viaField = await clientFor(fake, null).auth.test({ token: TOKEN });
    expect(viaField.ok).toBe(true);
    expect(fake.calls.map((c) => [c.ok, c.error])).toEqual([
      [false, 'invalid_auth'],
      [false, 'not_authed'],
      [true, undefined],
    ]);
  });

  it('answers unknown_method', async () => {
    expect(await platformError(() => client.apiCall('chat.frobnicate', {}))).toBe('unknown_method');
  });

  it('chat.postMessage stores the message and returns a unique, increasing ts', async () => {
    const a = await client.chat.postMessage({ channel: 'C0DIGEST', text: 'hello', blocks: [section('*hi*')] });
    const b = await client.chat.postMessage({ channel: 'C0DIGEST', text: 'again' });
    expect(a.ok).toBe(true);
    expect(a.channel).toBe('C0DIGEST');
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(Math.abs(Number(a.ts) - Date.now() / 1000)).toBeLessThan(5);
    expect(a.message).toMatchObject({ type: 'message', text: 'hello', user: 'U0BOT', bot_id: 'B0BOT', ts: a.ts });
    const stored = fake.messages('C0DIGEST');
    expect(stored.map((m) => m.text)).toEqual(['hello', 'again']);
    expect(stored[0]).toMatchObject({ channel: 'C0DIGEST', ts: a.ts, user: 'U0BOT', bot_id: 'B0BOT', blocks: [section('*hi*')] });
    expect(fake.messages('C0ALERTS')).toEqual([]);
    // the WebClient sends form-encoded bodies with blocks as a JSON string; the record decodes it
    const call = fake.calls[0]!;
    expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(call.rawBody).get('blocks')).toBe(JSON.stringify([section('*hi*')]));
    expect(call.body.blocks).toEqual([section('*hi*')]);
  });

  it('rejects unknown channels, missing text, and over-long text', async () => {
    expect(await platformError(() => client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).toBe('channel_not_found');
    expect(await platformError(() => client.apiCall('chat.postMessage', { channel: 'C0DIGEST' }))).toBe('no_text');
    expect(await platformError(() => client.chat.postMessage({ channel: 'C0DIGEST', text: '' }))).toBe('no_text');
    expect(await platformError(() => client.chat.postMessage({ channel: 'C0DIGEST', text: 'x'.repeat(40_001) }))).toBe(
      'msg_too_long',
    );
    await client.chat.postMessage({ channel: 'C0DIGEST', text: 'x'.repeat(40_000) });
    expect(fake.messages()).toHaveLength(1);
    expect(fake.calls.map((c) => c.error)).toEqual(['channel_not_found', 'no_text', 'no_text', 'msg_too_long', undefined]);
  });

  it('enforces Block Kit limits (50 blocks, 3000-char sections, headers, fields)', async () => {
    const post = (blocks: unknown[]) => client.chat.postMessage({ channel: 'C0DIGEST', text: 'fallback', blocks: blocks as never });
    const fifty = Array.from({ length: 50 }, (_, i) => section(`line ${i}`));
    await post(fifty);
    const tooMany = await rejection(() => post([...fifty, section('one more')]));
    expect((tooMany as InstanceType<typeof WebAPIPlatformError>).data).toMatchObject({
      error: 'invalid_blocks',
      response_metadata: { messages: ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]'] },
    });

    await post([section('y'.repeat(3000))]);
    expect(await platformError(() => post([section('y'.repeat(3001))]))).toBe('invalid_blocks');

    const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text } });
    await post([header('h'.repeat(150))]);
    expect(await platformError(() => post([header('h'.repeat(151))]))).toBe('invalid_blocks');

    const field = (text: string) => ({ type: 'mrkdwn', text });
    await post([{ type: 'section', fields: Array.from({ length: 10 }, () => field('f'.repeat(2000))) }]);
    expect(await platformError(() => post([{ type: 'section', fields: [field('f'.repeat(2001))] }]))).toBe('invalid_blocks');
    expect(await platformError(() => post([{ type: 'section', fields: Array.from({ length: 11 }, () => field('f')) }]))).toBe(
      'invalid_blocks',
    );
    expect(await platformError(() => post([section('')]))).toBe('invalid_blocks');
    expect(await platformError(() => post([{ type: 'bogus' }]))).toBe('invalid_blocks');
    expect(await platformError(() => client.apiCall('chat.postMessage', { channel: 'C0DIGEST', blocks: '[not json' }))).toBe(
      'invalid_blocks_format',
    );
    // only the four valid posts were stored
    expect(fake.messages()).toHaveLength(4);
  });

  it('threads: a reply lands in the thread, conversations.replies returns parent then replies', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'calculation running long' });
    const r1 = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'finished', thread_ts: parent.ts! });
    const r2 = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'session terminated', thread_ts: parent.ts! });
    expect(r1.message).toMatchObject({ thread_ts: parent.ts, parent_user_id: 'U0BOT' });
    expect(fake.messages('C0ALERTS').map((m) => m.thread_ts)).toEqual([undefined, parent.ts, parent.ts]);

    const replies = await client.conversations.replies({ channel: 'C0ALERTS', ts: parent.ts! });
    expect(replies.messages!.map((m) => m.text)).toEqual(['calculation running long', 'finished', 'session terminated']);
    expect(replies.messages![0]).toMatchObject({ ts: parent.ts, thread_ts: parent.ts, reply_count: 2, latest_reply: r2.ts });
    // asking with a reply's ts returns the same thread
    const again = await client.conversations.replies({ channel: 'C0ALERTS', ts: r1.ts! });
    expect(again.messages!.map((m) => m.ts)).toEqual([parent.ts, r1.ts, r2.ts]);

    // history holds only top-level messages
    const history = await client.conversations.history({ channel: 'C0ALERTS' });
    expect(history.messages!.map((m) => m.ts)).toEqual([parent.ts]);

    // thread_ts must name a top-level message in that channel
    expect(await platformError(() => client.chat.postMessage({ channel: 'C0ALERTS', text: 'x', thread_ts: '1.000001' }))).toBe(
      'thread_not_found',
    );
    expect(await platformError(() => client.chat.postMessage({ channel: 'C0ALERTS', text: 'x', thread_ts: r1.ts! }))).toBe(
      'thread_not_found',
    );
    expect(await platformError(() => client.chat.postMessage({ channel: 'C0DIGEST', text: 'x', thread_ts: parent.ts! }))).toBe(
      'thread_not_found',
    );
    expect(await platformError(() => client.conversations.replies({ channel: 'C0ALERTS', ts: '1.000001' }))).toBe(
      'thread_not_found',
    );
  });

  it('history is newest first and carries metadata only with include_all_metadata', async () => {
    const metadata = { event_type: 'athena_alert', event_payload: { calculationId: 'calc-1', minutes: 42 } };
    const first = await client.chat.postMessage({ channel: 'C0DIGEST', text: 'one', metadata });
    const second = await client.chat.postMessage({ channel: 'C0DIGEST', text: 'two' });
    expect(fake.messages('C0DIGEST')[0]!.metadata).toEqual(metadata);

    const plain = await client.conversations.history({ channel: 'C0DIGEST' });
    expect(plain.messages!.map((m) => m.ts)).toEqual([second.ts, first.ts]);
    expect(plain.messages!.some((m) => 'metadata' in m)).toBe(false);
    expect(plain.has_more).toBe(false);

    const withMeta = await client.conversations.history({ channel: 'C0DIGEST', include_all_metadata: true });
    expect(withMeta.messages![1]!.metadata).toEqual(metadata);
    expect(withMeta.messages![0]!.metadata).toBeUndefined();

    expect(await platformError(() => client.conversations.history({ channel: 'C0NOPE' }))).toBe('channel_not_found');
    expect(
      await platformError(() => client.chat.postMessage({ channel: 'C0DIGEST', text: 'x', metadata: { event_type: 'x' } as never })),
    ).toBe('invalid_metadata_schema');
  });

  it('history paginates with next_cursor / has_more and honours oldest, latest, inclusive', async () => {
    const ts: string[] = [];
    for (let i = 0; i < 5; i += 1) ts.push((await client.chat.postMessage({ channel: 'C0GENERAL', text: `m${i}` })).ts!);

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.conversations.history({ channel: 'C0GENERAL', limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.messages!.map((m) => m.text!));
      cursor = page.response_metadata?.next_cursor || undefined;
      expect(page.has_more).toBe(cursor !== undefined);
    } while (cursor);
    expect(pages).toEqual([['m4', 'm3'], ['m2', 'm1'], ['m0']]);

    // the WebClient's own paginator agrees
    const all: string[] = [];
    for await (const page of client.paginate('conversations.history', { channel: 'C0GENERAL', limit: 2 })) {
      all.push(...((page as { messages?: Array<{ text: string }> }).messages ?? []).map((m) => m.text));
    }
    expect(all).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);

    const window = await client.conversations.history({ channel: 'C0GENERAL', oldest: ts[1]!, latest: ts[3]! });
    expect(window.messages!.map((m) => m.text)).toEqual(['m2']);
    const inclusive = await client.conversations.history({ channel: 'C0GENERAL', oldest: ts[1]!, latest: ts[3]!, inclusive: true });
    expect(inclusive.messages!.map((m) => m.text)).toEqual(['m3', 'm2', 'm1']);

    expect(await platformError(() => client.conversations.history({ channel: 'C0GENERAL', cursor: 'garbage' }))).toBe(
      'invalid_cursor',
    );
  });

  it('chat.postEphemeral and chat.update', async () => {
    const eph = await client.chat.postEphemeral({ channel: 'C0GENERAL', user: 'U123', text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(fake.ephemerals()).toMatchObject([{ channel: 'C0GENERAL', ephemeralTo: 'U123', text: 'only you', ts: eph.message_ts }]);
    expect(fake.messages()).toEqual([]);

    const posted = await client.chat.postMessage({ channel: 'C0GENERAL', text: 'v1' });
    const updated = await client.chat.update({ channel: 'C0GENERAL', ts: posted.ts!, text: 'v2', blocks: [section('v2')] });
    expect(updated).toMatchObject({ ok: true, channel: 'C0GENERAL', ts: posted.ts, text: 'v2' });
    expect(fake.messages('C0GENERAL')).toMatchObject([{ ts: posted.ts, text: 'v2', blocks: [section('v2')] }]);
    expect(await platformError(() => client.chat.update({ channel: 'C0GENERAL', ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
  });

  it('accepts application/json bodies (token only in the Authorization header)', async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${fake.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
        body: JSON.stringify({
          channel: 'C0DIGEST',
          text: 'json',
          blocks: [section('json')],
          metadata: { event_type: 'digest_posted', event_payload: { date: '2024-05-01' } },
          token: TOKEN,
        }),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    expect(await post({})).toEqual({ ok: false, error: 'not_authed' });
    const res = await post({ Authorization: `Bearer ${TOKEN}` });
    expect(res).toMatchObject({ ok: true, channel: 'C0DIGEST' });
    expect(fake.messages('C0DIGEST')[0]).toMatchObject({
      text: 'json',
      blocks: [section('json')],
      metadata: { event_type: 'digest_posted', event_payload: { date: '2024-05-01' } },
    });
  });

  it('injectMessage lets the bot reply in the thread of a human message', async () => {
    const human = fake.injectMessage({ channel: 'C0GENERAL', user: 'U0ALICE', text: '<@U0BOT> session abc' });
    expect(human.bot_id).toBe('');
    await client.chat.postMessage({ channel: 'C0GENERAL', text: 'report', thread_ts: human.ts });
    const thread = await client.conversations.replies({ channel: 'C0GENERAL', ts: human.ts });
    expect(thread.messages!.map((m) => [m.user, m.text])).toEqual([
      ['U0ALICE', '<@U0BOT> session abc'],
      ['U0BOT', 'report'],
    ]);
    expect(thread.messages![0]!.bot_id).toBeUndefined();
  });

  it('records what is POSTed to response_urls', async () => {
    const url = fake.responseUrl('cmd-1');
    expect(url).toBe(`${fake.url}/response/cmd-1`);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'report', response_type: 'ephemeral', replace_original: false }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    const other = fake.responseUrl();
    expect(other).not.toBe(url);
    await fetch(other, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"x"}' });
    expect(fake.responses('cmd-1')).toEqual([
      { id: 'cmd-1', body: { text: 'report', response_type: 'ephemeral', replace_original: false }, at: expect.any(Number) },
    ]);
    expect(fake.responses()).toHaveLength(2);
    const bad = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
  });

  it('rateLimitNext answers the next n chat.* calls with 429 + Retry-After', async () => {
    fake.rateLimitNext(2, 7);
    expect((await client.auth.test()).ok).toBe(true); // not a chat.* call
    const e1 = await rejection(() => client.chat.postMessage({ channel: 'C0DIGEST', text: 'a' }));
    expect(e1).toBeInstanceOf(WebAPIRateLimitedError);
    expect((e1 as InstanceType<typeof WebAPIRateLimitedError>).retryAfter).toBe(7);
    const raw = await fetch(`${fake.apiUrl}chat.update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0DIGEST&ts=1.000001&text=x',
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('7');
    expect(await raw.json()).toEqual({ ok: false, error: 'ratelimited' });
    await client.chat.postMessage({ channel: 'C0DIGEST', text: 'b' });
    expect(fake.messages().map((m) => m.text)).toEqual(['b']);
    expect(fake.calls.map((c) => c.status)).toEqual([200, 429, 429, 200]);
  });

  it('failNext answers the next n API calls with HTTP 5xx', async () => {
    fake.failNext(1);
    const e = await rejection(() => client.auth.test());
    expect(e).toBeInstanceOf(WebAPIHTTPError);
    expect((e as InstanceType<typeof WebAPIHTTPError>).statusCode).toBe(503);
    fake.failNext(1, 500);
    const e2 = await rejection(() => client.chat.postMessage({ channel: 'C0DIGEST', text: 'x' }));
    expect((e2 as InstanceType<typeof WebAPIHTTPError>).statusCode).toBe(500);
    expect(fake.messages()).toEqual([]);
    expect((await client.chat.postMessage({ channel: 'C0DIGEST', text: 'x' })).ok).toBe(true);
    expect(fake.calls.map((c) => [c.status, c.error])).toEqual([
      [503, 'http_503'],
      [500, 'http_500'],
      [200, undefined],
    ]);
  });

  it('setDown makes the client see a network error, including on kept-alive sockets', async () => {
    await client.auth.test(); // opens a keep-alive connection
    fake.setDown(true);
    const e = await rejection(() => client.auth.test());
    expect(e).toBeInstanceOf(WebAPIRequestError);
    expect((e as { code: string }).code).toBe(ErrorCode.RequestError);
    await expect(fetch(`${fake.url}/response/x`, { method: 'POST', body: '{}' })).rejects.toThrow();
    fake.setDown(false);
    expect((await client.auth.test()).ok).toBe(true);
    expect(fake.calls).toHaveLength(2);
  });

  it('reset clears calls, messages and faults', async () => {
    await client.chat.postMessage({ channel: 'C0DIGEST', text: 'x' });
    await client.chat.postEphemeral({ channel: 'C0DIGEST', user: 'U1', text: 'y' });
    fake.failNext(5);
    fake.rateLimitNext(5);
    fake.reset();
    expect(fake.calls).toEqual([]);
    expect(fake.messages()).toEqual([]);
    expect(fake.ephemerals()).toEqual([]);
    expect((await client.chat.postMessage({ channel: 'C0DIGEST', text: 'z' })).ok).toBe(true);
  });
});

describe('slack fake per-channel rate limit (default 1/s)', () => {
  let fake: SlackFake;

  beforeEach(async () => {
    fake = await startSlackFake();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await fake.close();
  });

  it('answers a second immediate post to the same channel with 429 + Retry-After: 1', async () => {
    const client = clientFor(fake);
    await client.chat.postMessage({ channel: 'C0DIGEST', text: 'first' });
    const e = await rejection(() => client.chat.postMessage({ channel: 'C0DIGEST', text: 'second' }));
    expect(e).toBeInstanceOf(WebAPIRateLimitedError);
    expect((e as { code: string }).code).toBe(ErrorCode.RateLimitedError);
    expect((e as InstanceType<typeof WebAPIRateLimitedError>).retryAfter).toBe(1);
    // another channel is not affected
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'elsewhere' });
    expect(fake.messages().map((m) => m.text)).toEqual(['first', 'elsewhere']);
    expect(fake.calls.map((c) => [c.method, c.status, c.error])).toEqual([
      ['chat.postMessage', 200, undefined],
      ['chat.postMessage', 429, 'ratelimited'],
      ['chat.postMessage', 200, undefined],
    ]);

    const raw = await fetch(`${fake.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0DIGEST&text=third',
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(await raw.json()).toEqual({ ok: false, error: 'ratelimited' });
  });

  it('accepts the channel again once the one-second window has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const client = clientFor(fake);
    await client.chat.postMessage({ channel: 'C0DIGEST', text: 'first' });
    await expect(client.chat.postMessage({ channel: 'C0DIGEST', text: 'too soon' })).rejects.toBeInstanceOf(
      WebAPIRateLimitedError,
    );
    vi.setSystemTime(Date.now() + 1001);
    await client.chat.postMessage({ channel: 'C0DIGEST', text: 'later' });
    const [a, b] = fake.messages('C0DIGEST');
    expect([a?.text, b?.text]).toEqual(['first', 'later']);
    expect(Number(b!.ts)).toBeGreaterThan(Number(a!.ts));
  });

  it('the real WebClient waits out the 429 and retries when allowed to', async () => {
    const client = clientFor(fake, TOKEN, { rejectRateLimitedCalls: false, retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    fake.rateLimitNext(1, 0);
    const res = await client.chat.postMessage({ channel: 'C0GENERAL', text: 'eventually' });
    expect(res.ok).toBe(true);
    expect(fake.calls.map((c) => c.status)).toEqual([429, 200]);
  });
});

describe('slack fake: chat.update', () => {
  let fake: SlackFake;
  let client: WebClient;
  beforeEach(async () => {
    fake = await startSlackFake();
    client = clientFor(fake);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await fake.close();
  });

  it('updates only the bot\'s own message in place, marks it edited, and validates like chat.postMessage', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const posted = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'running 31 min', blocks: [section('running 31 min')] });
    vi.setSystemTime(Date.now() + 1001);
    const metadata = { event_type: 'alert', event_payload: { key: 'alert:c1', state: 'CANCELED' } };
    const res = await client.chat.update({ channel: 'C0ALERTS', ts: posted.ts!, text: 'canceled', blocks: [section('canceled')], metadata });
    expect(res).toMatchObject({ ok: true, channel: 'C0ALERTS', ts: posted.ts, text: 'canceled', message: { text: 'canceled', blocks: [section('canceled')] } });
    const [msg] = fake.messages('C0ALERTS');
    expect(msg).toMatchObject({ ts: posted.ts, text: 'canceled', blocks: [section('canceled')], metadata, edited: { user: 'U0BOT', ts: expect.stringMatching(/^\d+\.\d{6}$/) } });
    expect(Number(msg!.edited!.ts)).toBeGreaterThan(Number(posted.ts));
    const history = await client.conversations.history({ channel: 'C0ALERTS', include_all_metadata: true });
    expect(history.messages).toHaveLength(1);
    expect(history.messages![0]).toMatchObject({ ts: posted.ts, text: 'canceled', edited: { user: 'U0BOT' }, metadata });

    const human = fake.injectMessage({ channel: 'C0ALERTS', text: 'ack', user: 'U0ALICE' });
    vi.setSystemTime(Date.now() + 1001);
    expect(await platformError(() => client.chat.update({ channel: 'C0ALERTS', ts: human.ts, text: 'hijack' }))).toBe('cant_update_message');
    expect(await platformError(() => client.chat.update({ channel: 'C0GENERAL', ts: posted.ts!, text: 'wrong channel' }))).toBe('message_not_found');
    const eph = await client.chat.postEphemeral({ channel: 'C0ALERTS', user: 'U0ALICE', text: 'only you' });
    expect(await platformError(() => client.chat.update({ channel: 'C0ALERTS', ts: eph.message_ts!, text: 'x' }))).toBe('message_not_found');
    expect(await platformError(() => client.chat.update({ channel: 'C0NOPE', ts: posted.ts!, text: 'x' }))).toBe('channel_not_found');
    expect(await platformError(() => client.chat.update({ channel: 'C0ALERTS', ts: posted.ts!, blocks: [] } as never))).toBe('no_text');
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`b${i}`));
    const e = await rejection(() => client.chat.update({ channel: 'C0ALERTS', ts: posted.ts!, text: 'x', blocks: tooMany }));
    expect((e as InstanceType<typeof WebAPIPlatformError>).data).toMatchObject({
      error: 'invalid_blocks',
      response_metadata: { messages: ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]'] },
    });
    expect(fake.messages('C0ALERTS').find((m) => m.ts === posted.ts)?.text).toBe('canceled');
    expect(await platformError(() => clientFor(fake, 'xoxb-wrong').chat.update({ channel: 'C0ALERTS', ts: posted.ts!, text: 'x' }))).toBe('invalid_auth');
    expect(await platformError(() => clientFor(fake, null).chat.update({ channel: 'C0ALERTS', ts: posted.ts!, text: 'x' }))).toBe('not_authed');
  });

  it('has its own per-channel rate, and rateLimitNext can target it alone', async () => {
    const first = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'v1' });
    // An update in the same second as the post: another method, another window.
    await client.chat.update({ channel: 'C0ALERTS', ts: first.ts!, text: 'v2' });
    const e = await rejection(() => client.chat.update({ channel: 'C0ALERTS', ts: first.ts!, text: 'v3' }));
    expect(e).toBeInstanceOf(WebAPIRateLimitedError);
    expect((e as InstanceType<typeof WebAPIRateLimitedError>).retryAfter).toBe(1);
    expect(fake.messages('C0ALERTS')[0]!.text).toBe('v2');

    const quiet = await startSlackFake({ rateLimitPerChannelPerSecond: Infinity });
    try {
      const c = clientFor(quiet);
      const m = await c.chat.postMessage({ channel: 'C0ALERTS', text: 'v1' });
      quiet.rateLimitNext(1, 4, ['chat.update']);
      await c.chat.postMessage({ channel: 'C0ALERTS', text: 'a post is not limited' });
      const limited = await rejection(() => c.chat.update({ channel: 'C0ALERTS', ts: m.ts!, text: 'v2' }));
      expect((limited as InstanceType<typeof WebAPIRateLimitedError>).retryAfter).toBe(4);
      await c.chat.update({ channel: 'C0ALERTS', ts: m.ts!, text: 'v2' });
      await c.chat.update({ channel: 'C0ALERTS', ts: m.ts!, text: 'v3' });
      expect(quiet.calls.map((x) => [x.method, x.status])).toEqual([
        ['chat.postMessage', 200],
        ['chat.postMessage', 200],
        ['chat.update', 429],
        ['chat.update', 200],
        ['chat.update', 200],
      ]);
    } finally {
      await quiet.close();
    }
  });
});

describe('slack fake: views.publish (App Home)', () => {
  let fake: SlackFake;
  let client: WebClient;
  beforeEach(async () => {
    fake = await startSlackFake();
    client = clientFor(fake);
  });
  afterEach(async () => {
    await fake.close();
  });
  const home = (n = 1) => ({ type: 'home' as const, callback_id: 'home', blocks: Array.from({ length: n }, (_, i) => section(`row ${i}`)) });

  it('publishes a home view per user, keeps its id and gives a new hash each time', async () => {
    const first = await client.views.publish({ user_id: 'U0ALICE', view: home(2) });
    expect(first).toMatchObject({
      ok: true,
      view: { id: expect.stringMatching(/^V/), team_id: 'T0TEAM', type: 'home', callback_id: 'home', blocks: home(2).blocks, hash: expect.any(String), app_id: 'A0APP', bot_id: 'B0BOT' },
    });
    expect(fake.homeView('U0ALICE')).toEqual(first.view);
    expect(fake.homeView('U0BOB')).toBeUndefined();
    const second = await client.views.publish({ user_id: 'U0ALICE', view: home(100), hash: first.view!.hash! });
    expect(second.view!.id).toBe(first.view!.id);
    expect(second.view!.hash).not.toBe(first.view!.hash);
    expect(fake.homeView('U0ALICE')?.blocks).toHaveLength(100);
    // A publish based on a view that is no longer the latest is refused.
    expect(await platformError(() => client.views.publish({ user_id: 'U0ALICE', view: home(1), hash: first.view!.hash! }))).toBe('hash_conflict');
    expect(fake.homeView('U0ALICE')?.blocks).toHaveLength(100);
    const bob = await client.views.publish({ user_id: 'U0BOB', view: home(1) });
    expect(bob.view!.id).not.toBe(first.view!.id);
    expect(fake.calls.filter((c) => c.method === 'views.publish').map((c) => c.error ?? 'ok')).toEqual(['ok', 'ok', 'hash_conflict', 'ok']);
  });

  it('refuses what Slack refuses, with its messages', async () => {
    const invalid = async (args: Record<string, unknown>) => {
      const e = await rejection(() => client.views.publish(args as never));
      expect(e).toBeInstanceOf(WebAPIPlatformError);
      return (e as InstanceType<typeof WebAPIPlatformError>).data as { error: string; response_metadata?: { messages?: string[] } };
    };
    expect(await invalid({ user_id: 'U0ALICE', view: home(101) })).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]'] },
    });
    expect(await invalid({ user_id: 'U0ALICE', view: { type: 'modal', blocks: [] } })).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] must be one of home [json-pointer:/view/type]'] },
    });
    expect(await invalid({ user_id: 'U0ALICE', view: { type: 'home', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }] } })).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] must be one of plain_text [json-pointer:/view/blocks/0/text/type]'] },
    });
    expect((await invalid({ view: home(1) })).error).toBe('invalid_arguments');
    expect((await invalid({ user_id: 'U0ALICE' })).error).toBe('invalid_arguments');
    expect((await invalid({ user_id: 'U0ALICE', view: { ...home(1), private_metadata: 'x'.repeat(3001) } })).error).toBe('invalid_arguments');
    expect((await invalid({ user_id: 'U0ALICE', view: { ...home(1), blocks: [section('x'.repeat(3000)), ...Array.from({ length: 90 }, () => section('y'.repeat(2900)))] } })).error).toBe(
      'view_too_large',
    );
    expect(fake.homeView('U0ALICE')).toBeUndefined();
    expect(await platformError(() => clientFor(fake, null).views.publish({ user_id: 'U0ALICE', view: home(1) }))).toBe('not_authed');

    const noHome = await startSlackFake({ homeTabEnabled: false });
    try {
      expect(await platformError(() => clientFor(noHome).views.publish({ user_id: 'U0ALICE', view: home(1) }))).toBe('not_enabled');
    } finally {
      await noHome.close();
    }
  });

  it('refuseNext refuses the next call of one method as Slack refuses a payload, then serves it again', async () => {
    fake.refuseNext('views.publish', 'invalid_arguments', 1, ['[ERROR] something Slack did not like [json-pointer:/view/blocks/0]']);
    const e = await rejection(() => client.views.publish({ user_id: 'U0ALICE', view: home(1) }));
    expect(e).toBeInstanceOf(WebAPIPlatformError);
    expect((e as InstanceType<typeof WebAPIPlatformError>).data).toMatchObject({ error: 'invalid_arguments', response_metadata: { messages: ['[ERROR] something Slack did not like [json-pointer:/view/blocks/0]'] } });
    expect(fake.homeView('U0ALICE')).toBeUndefined();
    expect((await client.views.publish({ user_id: 'U0ALICE', view: home(1) })).ok).toBe(true);
    expect(fake.calls.filter((c) => c.method === 'views.publish').map((c) => c.error ?? 'ok')).toEqual(['invalid_arguments', 'ok']);
  });

  it('answers 429 + Retry-After through rateLimitNext, as for chat.*', async () => {
    fake.rateLimitNext(1, 3);
    const e = await rejection(() => client.views.publish({ user_id: 'U0ALICE', view: home(1) }));
    expect(e).toBeInstanceOf(WebAPIRateLimitedError);
    expect((e as InstanceType<typeof WebAPIRateLimitedError>).retryAfter).toBe(3);
    expect((await client.views.publish({ user_id: 'U0ALICE', view: home(1) })).ok).toBe(true);
  });
});

describe('slack fake: response_url of an interaction', () => {
  let fake: SlackFake;
  let client: WebClient;
  beforeEach(async () => {
    fake = await startSlackFake({ rateLimitPerChannelPerSecond: Infinity });
    client = clientFor(fake);
  });
  afterEach(async () => {
    await fake.close();
  });
  const respond = (url: string, body: Record<string, unknown>) =>
    fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => [r.status, await r.text()]);

  it('replaces or deletes the original message, posts in channel, or answers the user alone', async () => {
    const alert = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'long-running', blocks: [section('long-running')] });
    const ctx = { channel: 'C0ALERTS', messageTs: alert.ts!, userId: 'U0ALICE' };
    const url = fake.responseUrl('act-1', ctx);

    expect(await respond(url, { replace_original: true, text: 'acknowledged by alice', blocks: [section('acknowledged by alice')] })).toEqual([200, 'ok']);
    expect(fake.messages('C0ALERTS')).toMatchObject([{ ts: alert.ts, text: 'acknowledged by alice', blocks: [section('acknowledged by alice')] }]);
    expect(await respond(url, { text: 'only you can see this' })).toEqual([200, 'ok']);
    expect(fake.ephemerals()).toMatchObject([{ channel: 'C0ALERTS', ephemeralTo: 'U0ALICE', text: 'only you can see this' }]);
    expect(await respond(url, { response_type: 'in_channel', text: 'stopped by alice', thread_ts: alert.ts })).toEqual([200, 'ok']);
    expect(fake.messages('C0ALERTS').map((m) => [m.text, m.thread_ts])).toEqual([
      ['acknowledged by alice', undefined],
      ['stopped by alice', alert.ts],
    ]);
    expect(await respond(url, { replace_original: true, blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }] })).toEqual([400, 'invalid_blocks']);
    expect(await respond(url, { delete_original: true })).toEqual([200, 'ok']);
    expect(fake.messages('C0ALERTS').map((m) => m.text)).toEqual(['stopped by alice']);
    // The original is gone now; five uses at most, as Slack allows.
    const again = fake.responseUrl('act-2', ctx);
    expect(await respond(again, { replace_original: true, text: 'too late' })).toEqual([404, 'message_not_found']);
    expect(fake.responses('act-1').map((r) => Object.keys(r.body).sort().join(','))).toEqual([
      'blocks,replace_original,text',
      'text',
      'response_type,text,thread_ts',
      'delete_original',
    ]);
    expect(await respond(url, { text: 'fifth' })).toEqual([200, 'ok']);
    expect(await respond(url, { text: 'sixth' })).toEqual([404, 'used_url']);
  });

  it('without a context, only records what was posted (slash command response_urls)', async () => {
    await client.chat.postMessage({ channel: 'C0GENERAL', text: 'unrelated' });
    const url = fake.responseUrl('cmd-9');
    expect(await respond(url, { response_type: 'in_channel', text: 'report' })).toEqual([200, 'ok']);
    expect(await respond(url, { delete_original: true })).toEqual([200, 'ok']);
    expect(fake.messages().map((m) => m.text)).toEqual(['unrelated']);
    expect(fake.ephemerals()).toEqual([]);
    expect(fake.responses('cmd-9')).toHaveLength(2);
  });
});

describe('slack fake: files upload v2', () => {
  let fake: SlackFake;
  let client: WebClient;
  const BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);

  beforeEach(async () => {
    fake = await startSlackFake({ rateLimitPerChannelPerSecond: Infinity });
    client = clientFor(fake);
  });
  afterEach(async () => {
    await fake.close();
  });

  it('getUploadURLExternal → POST the bytes (raw or multipart) → completeUploadExternal shares the file into a thread', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0DIGEST', text: 'digest' });
    const url = await client.files.getUploadURLExternal({ filename: 'chart.png', length: BYTES.length, alt_text: 'a chart' });
    expect(url.file_id).toMatch(/^F[0-9A-F]{10}$/);
    expect(url.upload_url).toMatch(new RegExp(`^${fake.url}/upload/v1/[0-9a-f]+$`));
    // The WebClient's own filesUploadV2 sends multipart; raw bytes work too.
    const form = new FormData();
    form.append('file', new Blob([BYTES]), 'chart.png');
    expect((await fetch(url.upload_url!, { method: 'POST', body: form })).status).toBe(200);
    expect(fake.files()[0]!.bytes).toEqual(BYTES);
    const raw = await fetch(url.upload_url!, { method: 'POST', body: BYTES });
    expect(await raw.text()).toBe(`OK - ${BYTES.length}`);

    const done = await client.files.completeUploadExternal({ files: [{ id: url.file_id!, title: 'Chart' }], channel_id: 'C0DIGEST', thread_ts: parent.ts! });
    // As at Slack, the answer's shares are usually still empty: sharing is asynchronous.
    expect(done.files).toEqual([expect.objectContaining({ id: url.file_id, title: 'Chart', size: BYTES.length, shares: {} })]);
    const replies = await client.conversations.replies({ channel: 'C0DIGEST', ts: parent.ts! });
    expect(replies.messages![1]).toMatchObject({ thread_ts: parent.ts, upload: true, files: [{ id: url.file_id, name: 'chart.png', title: 'Chart' }] });
    expect(fake.files()[0]).toMatchObject({ filename: 'chart.png', altText: 'a chart', uploads: 2, completions: [{ title: 'Chart', channel: 'C0DIGEST', threadTs: parent.ts }] });
    // Once completed, the upload URL is spent.
    expect((await fetch(url.upload_url!, { method: 'POST', body: BYTES })).status).toBe(410);
  });

  it('refuses what Slack refuses: no filename or length, bytes that never arrived or arrived short, unknown channel or thread, unknown upload URL', async () => {
    expect(await platformError(() => client.files.getUploadURLExternal({ filename: '', length: 3 }))).toBe('invalid_arguments');
    expect(await platformError(() => client.files.getUploadURLExternal({ filename: 'x.png', length: 0 }))).toBe('invalid_arguments');
    const url = await client.files.getUploadURLExternal({ filename: 'x.png', length: BYTES.length });
    expect(await platformError(() => client.files.completeUploadExternal({ files: [{ id: url.file_id! }], channel_id: 'C0DIGEST' }))).toBe('file_not_found');
    await fetch(url.upload_url!, { method: 'POST', body: BYTES.subarray(0, 3) });
    expect(await platformError(() => client.files.completeUploadExternal({ files: [{ id: url.file_id! }], channel_id: 'C0DIGEST' }))).toBe('file_not_found');
    await fetch(url.upload_url!, { method: 'POST', body: BYTES });
    expect(await platformError(() => client.files.completeUploadExternal({ files: [{ id: url.file_id! }], channel_id: 'C0NOPE' }))).toBe('channel_not_found');
    expect(await platformError(() => client.files.completeUploadExternal({ files: [{ id: url.file_id! }], channel_id: 'C0DIGEST', thread_ts: '123.456' }))).toBe('thread_not_found');
    expect((await fetch(`${fake.url}/upload/v1/0000`, { method: 'POST', body: BYTES })).status).toBe(404);
    expect(fake.messages('C0DIGEST')).toEqual([]);
  });

  it('fileShareDelayMs: the share appears in the channel only after the delay; rateLimitNext can target files.*', async () => {
    const slow = await startSlackFake({ fileShareDelayMs: 300 });
    const c = clientFor(slow);
    try {
      const url = await c.files.getUploadURLExternal({ filename: 'x.png', length: BYTES.length });
      await fetch(url.upload_url!, { method: 'POST', body: BYTES });
      await c.files.completeUploadExternal({ files: [{ id: url.file_id! }], channel_id: 'C0DIGEST' });
      expect(slow.messages('C0DIGEST')).toHaveLength(0);
      await new Promise((r) => setTimeout(r, 450));
      expect(slow.messages('C0DIGEST').map((m) => m.files?.[0]?.id)).toEqual([url.file_id]);
      slow.rateLimitNext(1, 2, 'files.');
      const e = await rejection(() => c.files.getUploadURLExternal({ filename: 'y.png', length: 1 }));
      expect(e).toBeInstanceOf(WebAPIRateLimitedError);
      expect((e as InstanceType<typeof WebAPIRateLimitedError>).retryAfter).toBe(2);
    } finally {
      await slow.close();
    }
  });
});
