import { afterEach, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake, type SlackFakeOptions } from '../../fakes/slack-fake.js';
import { captureLogger, tempStore } from '../../support/harness.js';
import { DeliveryQueue, type DeliveryOptions } from '../../../src/slack/delivery/delivery-queue.js';
import { createWebClient } from '../../../src/slack/slack-client.js';
import { Outbox, type NewPost } from '../../../src/store/outbox.js';
import type { Store } from '../../../src/store/store.js';

const TOKEN = 'xoxb-test-token';
const CHANNEL = 'C0DIGEST';
const BYTES = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('a chart, byte for byte \u0000\u00ff')]);

interface Env {
  slack: SlackFake;
  store: Store;
  outbox: Outbox;
  queue(o?: Partial<DeliveryOptions>): DeliveryQueue;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(fake: SlackFakeOptions = {}): Promise<Env> {
  const slack = await startSlackFake({ rateLimitPerChannelPerSecond: 0, ...fake });
  const { store } = tempStore();
  const outbox = new Outbox(store);
  const log = captureLogger('silent');
  cleanups.push(() => store.close(), () => slack.close());
  const queue = (o: Partial<DeliveryOptions> = {}) => {
    const q = new DeliveryQueue({ outbox, web: createWebClient(TOKEN, slack.apiUrl, log.logger), logger: log.logger, channelSpacingMs: 10, ...o });
    cleanups.push(() => q.close());
    return q;
  };
  return { slack, store, outbox, queue };
}

const summary: NewPost = { key: 'digest:2026-11-22', kind: 'digest', channel: CHANNEL, payload: { text: 'the digest', blocks: [] } };
const chart: NewPost = {
  key: 'digest:2026-11-22:chart',
  kind: 'digest-chart',
  channel: CHANNEL,
  parentKey: 'digest:2026-11-22',
  payload: { text: 'chart', blocks: [], file: { filename: 'athena-spark-digest-2026-11-22.png', title: 'Athena Spark digest — 2026-11-22', altText: 'Bar charts of sessions' } },
  file: BYTES,
};
const KEYS = [summary.key, chart.key];

const methods = (slack: SlackFake) => slack.calls.map((c) => c.method);
const completions = (slack: SlackFake) => slack.calls.filter((c) => c.method === 'files.completeUploadExternal' && c.ok);
const shares = (slack: SlackFake) => slack.messages(CHANNEL).filter((m) => m.files);

/** Runs a queue whose process "dies" right after Slack completed the upload, before it is recorded. */
async function crashAfterCompleting(env: Env): Promise<void> {
  let crashed!: () => void;
  const died = new Promise<void>((r) => (crashed = r));
  const q = env.queue({
    afterSend: (p) => {
      if (p.key === chart.key) {
        crashed();
        throw new Error('process died');
      }
    },
  });
  q.kick();
  await died;
  await q.close();
}

describe('DeliveryQueue: a file with the files upload v2 flow', () => {
  it('gets an upload URL, uploads the bytes, completes into the digest’s thread: three calls, once', async () => {
    const env = await setup();
    env.outbox.enqueue([summary, chart], Date.now());
    expect(await env.queue().drain(KEYS, 10_000)).toBe(true);

    expect(methods(env.slack)).toEqual(['chat.postMessage', 'files.getUploadURLExternal', 'files.completeUploadExternal']);
    const parent = env.slack.messages(CHANNEL)[0]!;
    const [getUrl, complete] = env.slack.calls.slice(1);
    expect(getUrl!.body).toMatchObject({ filename: 'athena-spark-digest-2026-11-22.png', length: String(BYTES.length), alt_text: 'Bar charts of sessions' });
    const [file] = env.slack.files();
    expect(file!.bytes).toEqual(BYTES);
    expect(file!.uploads).toBe(1);
    expect(JSON.parse(String(complete!.body.files))).toEqual([{ id: file!.id, title: 'Athena Spark digest — 2026-11-22' }]);
    expect(complete!.body).toMatchObject({ channel_id: CHANNEL, thread_ts: parent.ts });
    expect(file!.completions).toEqual([{ title: 'Athena Spark digest — 2026-11-22', channel: CHANNEL, threadTs: parent.ts }]);
    // Slack shows it as a message in the thread carrying the file.
    expect(shares(env.slack)).toEqual([expect.objectContaining({ thread_ts: parent.ts, files: [expect.objectContaining({ id: file!.id })] })]);
    expect(env.outbox.get(chart.key)).toMatchObject({ status: 'posted', fileId: file!.id, maybeSent: false });
  });

  it('waits out a 429 on the upload URL (Retry-After) and still uploads one file, once', async () => {
    const env = await setup();
    env.outbox.enqueue([summary, chart], Date.now());
    env.slack.rateLimitNext(1, 1, 'files.getUploadURLExternal');
    expect(await env.queue().drain(KEYS, 15_000)).toBe(true);
    const statuses = env.slack.calls.filter((c) => c.method.startsWith('files.')).map((c) => `${c.method} ${c.status}`);
    expect(statuses).toEqual(['files.getUploadURLExternal 429', 'files.getUploadURLExternal 200', 'files.completeUploadExternal 200']);
    expect(env.slack.files()).toHaveLength(1);
    expect(shares(env.slack)).toHaveLength(1);
  });

  it('waits out a 429 on the completion: the same file, its bytes sent again, completed once', async () => {
    const env = await setup();
    env.outbox.enqueue([summary, chart], Date.now());
    env.slack.rateLimitNext(1, 1, 'files.completeUploadExternal');
    const started = Date.now();
    expect(await env.queue().drain(KEYS, 15_000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const statuses = env.slack.calls.filter((c) => c.method.startsWith('files.')).map((c) => `${c.method} ${c.status}`);
    expect(statuses).toEqual(['files.getUploadURLExternal 200', 'files.completeUploadExternal 429', 'files.completeUploadExternal 200']);
    expect(env.slack.files()).toHaveLength(1);
    expect(env.slack.files()[0]!.uploads).toBe(2);
    expect(completions(env.slack)).toHaveLength(1);
    expect(shares(env.slack)).toHaveLength(1);
  });

  it('after a crash between completing and recording, finds the file in the thread and does not upload it again', async () => {
    const env = await setup();
    env.outbox.enqueue([summary, chart], Date.now());
    await crashAfterCompleting(env);
    expect(env.outbox.get(chart.key)).toMatchObject({ status: 'pending', maybeSent: true });
    expect(shares(env.slack)).toHaveLength(1);

    expect(await env.queue().drain(KEYS, 10_000)).toBe(true);
    expect(completions(env.slack)).toHaveLength(1);
    expect(env.slack.calls.filter((c) => c.method === 'files.getUploadURLExternal')).toHaveLength(1);
    expect(shares(env.slack)).toHaveLength(1);
    expect(env.outbox.get(chart.key)).toMatchObject({ status: 'posted', ts: shares(env.slack)[0]!.ts });
  });

  it('a share Slack shows late is waited for, not uploaded twice', async () => {
    const env = await setup({ fileShareDelayMs: 1_500 });
    env.outbox.enqueue([summary, chart], Date.now());
    await crashAfterCompleting(env);
    expect(shares(env.slack)).toHaveLength(0); // completed, not visible yet

    expect(await env.queue({ shareSettleMs: 3_000 }).drain(KEYS, 15_000)).toBe(true);
    expect(completions(env.slack)).toHaveLength(1);
    expect(shares(env.slack)).toHaveLength(1);
    expect(env.slack.calls.filter((c) => c.method === 'conversations.replies').length).toBeGreaterThanOrEqual(2);
  });

  it('control: a completion that never reached Slack is repeated, with the same file, once the share had time to appear', async () => {
    const env = await setup();
    env.outbox.enqueue([summary], Date.now());
    const first = env.queue();
    expect(await first.drain([summary.key], 10_000)).toBe(true);
    await first.close();
    // The process recorded the upload, sent the bytes and died just before completing.
    env.outbox.enqueue([chart], Date.now());
    env.outbox.markSending(chart.key, Date.now() - 2_000);
    const web = createWebClient(TOKEN, env.slack.apiUrl, captureLogger('silent').logger);
    const url = await web.files.getUploadURLExternal({ filename: 'x.png', length: BYTES.length });
    env.outbox.markUploadStarted(chart.key, url.file_id!, url.upload_url!);
    await fetch(url.upload_url!, { method: 'POST', body: BYTES });

    expect(await env.queue({ shareSettleMs: 1_000 }).drain(KEYS, 10_000)).toBe(true);
    expect(env.slack.calls.filter((c) => c.method === 'files.getUploadURLExternal')).toHaveLength(1);
    expect(completions(env.slack)).toHaveLength(1);
    expect(env.slack.files()[0]!.completions).toHaveLength(1);
    expect(shares(env.slack)).toHaveLength(1);
  });

  it('an upload URL Slack no longer takes is dropped for a new upload; the old file is never completed', async () => {
    const env = await setup();
    env.outbox.enqueue([summary, chart], Date.now());
    env.outbox.markUploadStarted(chart.key, 'F0GONE', `${env.slack.url}/upload/v1/0123456789abcdef`);
    expect(await env.queue().drain(KEYS, 15_000)).toBe(true);
    expect(env.slack.files()).toHaveLength(1);
    expect(env.slack.files()[0]!.completions).toHaveLength(1);
    expect(env.outbox.get(chart.key)!.fileId).toBe(env.slack.files()[0]!.id);
    expect(shares(env.slack)).toHaveLength(1);
  });

  it('a refusal Slack will repeat (missing files:write) fails the file, and the rest of the digest still goes out', async () => {
    const env = await setup();
    const reply: NewPost = { key: 'digest:2026-11-22:reply:0', kind: 'digest-reply', channel: CHANNEL, parentKey: summary.key, payload: { text: 'a list', blocks: [] } };
    env.outbox.enqueue([summary, chart, reply], Date.now());
    const web = createWebClient(TOKEN, env.slack.apiUrl, captureLogger('silent').logger);
    web.files.getUploadURLExternal = (async () => {
      const e = new Error('An API error occurred: missing_scope') as Error & { code: string; data: { ok: false; error: string } };
      e.code = 'slack_webapi_platform_error';
      e.data = { ok: false, error: 'missing_scope' };
      throw e;
    }) as typeof web.files.getUploadURLExternal;
    expect(await env.queue({ web }).drain([...KEYS, reply.key], 10_000)).toBe(true);
    expect(env.outbox.get(chart.key)).toMatchObject({ status: 'failed', lastError: 'missing_scope' });
    expect(env.outbox.get(reply.key)!.status).toBe('posted');
  });
});
