import type { App } from '@slack/bolt';
import type { Config } from '../../config/config.js';
import type { Outbox } from '../../store/outbox.js';
import type { Logger } from '../../util/logger.js';
import type { DeliveryQueue } from '../delivery/delivery-queue.js';
import { isAllowed, refusalText, sessionIdInMention, type ReportService } from '../report-service.js';

export interface MentionDeps {
  config: Config;
  reports: ReportService;
  outbox: Outbox;
  delivery: DeliveryQueue;
  logger: Logger;
}

/**
 * Mentioning the bot with a session id answers in that thread (slash commands do not work
 * in threads, and on-call work happens there). The answer goes through the outbox keyed by
 * the mention, so Slack's event retries never produce a second answer.
 */
export function registerMention(app: App, deps: MentionDeps): void {
  app.event('app_mention', async ({ event }) => {
    deps.reports.noteArrival();
    const channel = event.channel;
    const threadTs = event.thread_ts ?? event.ts;
    const key = `mention:${channel}:${event.ts}`;
    if (deps.outbox.get(key)) return;
    let payload: { text: string; blocks: unknown[] };
    if (!isAllowed(deps.config, event.user ?? '', channel)) {
      payload = { text: refusalText(), blocks: [] };
    } else {
      const sessionId = sessionIdInMention(event.text ?? '');
      payload = sessionId
        ? (await deps.reports.enqueue(() => deps.reports.sessionMessage(sessionId))).message
        : { text: 'Mention me with a session id, e.g. `@athena-session-bot a2c1ebba-ad01-865f-ed2d-a142b7451f7e`, and I will answer in this thread.', blocks: [] };
    }
    deps.outbox.enqueue([{ key, kind: 'mention-reply', channel, threadTs, payload }], Date.now());
    deps.delivery.kick();
  });
}
