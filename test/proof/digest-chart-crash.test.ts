/**
 * Proof: the digest chart is uploaded exactly once across a SIGKILL at the moments that
 * matter — after Slack completed the upload but before the store recorded it, and after the
 * upload's file id was recorded but before its bytes went. The real built CLI (`digest --post`)
 * runs against the Slack fake and kills itself at an armed failpoint; the same command again
 * must finish the digest without a second chart.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackFake, type SlackFake } from '../fakes/slack-fake.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { fakeUuid, human, startCalculation, startSession, terminateSession, type CloudTrailRecord } from '../support/cloudtrail-records.js';
import { toEvents } from '../support/events.js';
import { Store } from '../../src/store/store.js';

const TOKEN = 'xoxb-chart-crash-token';
const CHANNEL = 'C0DIGEST';
const MINUTE = 60_000;

let slack: SlackFake;
let db: string;

function day(date: string): CloudTrailRecord[] {
  const out: CloudTrailRecord[] = [];
  for (let i = 0; i < 8; i++) {
    const sessionId = fakeUuid();
    const t = Date.parse(`${date}T08:00:00Z`) + i * 47 * MINUTE;
    out.push(
      startSession({ sessionId, eventTime: t, actor: human(`user-${i % 7}`), workGroup: ['etl', 'adhoc', 'ml'][i % 3]!, maxConcurrentDpus: 8 }),
      startCalculation({ sessionId, calculationId: fakeUuid(), eventTime: t + MINUTE }),
      terminateSession({ sessionId, eventTime: t + 90 * MINUTE }),
    );
  }
  return out;
}

beforeAll(async () => {
  slack = await startSlackFake({ token: TOKEN, channels: [CHANNEL] });
  db = path.join(tempDir('asb-chart-crash-'), 'store.sqlite');
  const store = Store.open(db);
  store.insertEvents(toEvents([...day('2026-11-20'), ...day('2026-11-21')]), Date.now());
  store.close();
});
afterAll(() => slack.close());

const env = (failpoint?: string) => ({
  DATABASE_PATH: db,
  SLACK_BOT_TOKEN: TOKEN,
  SLACK_API_URL: slack.apiUrl,
  DIGEST_CHANNEL: CHANNEL,
  LOG_LEVEL: 'warn',
  ...(failpoint ? { ATHENA_BOT_FAILPOINTS: failpoint } : {}),
});

/** The digest's thread in the fake: its summary, and the files shared into it. */
function thread(date: string) {
  const messages = slack.messages(CHANNEL);
  const summary = messages.filter((m) => m.thread_ts === undefined && m.metadata?.event_payload.key === `digest:${date}`);
  const replies = summary.length === 1 ? messages.filter((m) => m.thread_ts === summary[0]!.ts) : [];
  return { summary, charts: replies.filter((m) => m.files), replies: replies.filter((m) => !m.files) };
}

const completionsOf = (fileIds: string[]) =>
  slack.calls.filter((c) => c.method === 'files.completeUploadExternal' && c.ok && fileIds.some((id) => String(c.body.files).includes(id)));

describe('digest chart: exactly once across SIGKILL', () => {
  it('killed after Slack completed the upload, before it was recorded: the rerun finds the chart in the thread and does not upload it again', async () => {
    // Deliveries in order: the summary (send 1), the chart's completion (send 2), the replies.
    const killed = await runCli(['digest', '--post', '--date', '2026-11-20'], env('slack.after-send:2'));
    expect(killed.code).toBeNull();
    expect(killed.stderr).toContain('failpoint slack.after-send:2 reached: SIGKILL');
    expect(thread('2026-11-20').charts).toHaveLength(1);

    const rerun = await runCli(['digest', '--post', '--date', '2026-11-20'], env());
    expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: '' });
    expect(rerun.stdout).toMatch(/^posted the digest for 2026-11-20 to C0DIGEST \(ts [\d.]+, its chart, \d+ thread repl(y|ies)\)\n$/);

    const t = thread('2026-11-20');
    expect(t.summary).toHaveLength(1);
    expect(t.charts).toHaveLength(1);
    const fileId = t.charts[0]!.files![0]!.id;
    expect(completionsOf([fileId])).toHaveLength(1);
    expect(slack.files().filter((f) => f.id === fileId)[0]!.bytes!.subarray(1, 4).toString()).toBe('PNG');
    // Every reply once, each by its key.
    const keys = t.replies.map((m) => String(m.metadata?.event_payload.key));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('killed after the upload’s file id was recorded, before the bytes went: the rerun uploads to that file and completes it once', async () => {
    const before = slack.files().length;
    const killed = await runCli(['digest', '--post', '--date', '2026-11-21'], env('slack.file-upload-started:1'));
    expect(killed.code).toBeNull();
    expect(killed.stderr).toContain('failpoint slack.file-upload-started:1 reached: SIGKILL');
    const started = slack.files().slice(before);
    expect(started).toHaveLength(1);
    expect(started[0]!.bytes).toBeUndefined();

    const rerun = await runCli(['digest', '--post', '--date', '2026-11-21'], env());
    expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: '' });
    const t = thread('2026-11-21');
    expect(t.charts).toHaveLength(1);
    // The same file the killed run started: no second upload URL was asked for.
    expect(slack.files().slice(before).map((f) => f.id)).toEqual([started[0]!.id]);
    expect(t.charts[0]!.files![0]!.id).toBe(started[0]!.id);
    expect(completionsOf([started[0]!.id])).toHaveLength(1);
  });
});
