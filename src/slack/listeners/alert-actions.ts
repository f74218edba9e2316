import type { App } from '@slack/bolt';
import type { Metrics } from '../../observability/metrics.js';
import type { Logger } from '../../util/logger.js';
import { readPress, type AlertButtons } from '../interactivity/alert-buttons.js';
import type { ReportService } from '../report-service.js';

export interface AlertActionsDeps {
  buttons: AlertButtons;
  /** The pacing slash commands use: work waits while a burst of requests is being acknowledged. */
  pacing: Pick<ReportService, 'noteArrival' | 'enqueue'>;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Button presses on the bot's messages (block_actions, on the same /slack/events URL or over
 * Socket Mode). Every press is acknowledged first, within Slack's 3 s whatever follows, and a
 * burst of presses is acknowledged before any of them is worked on; the
 * presser gets any answer as an ephemeral line. A press the bot cannot read, or one that fails,
 * is logged and answered, never left to crash the listener.
 */
export function registerAlertActions(app: App, deps: AlertActionsDeps): void {
  app.action(/.*/, async ({ ack, body, respond, context }) => {
    deps.pacing.noteArrival();
    await ack();
    deps.metrics?.actionLatency.observe((Date.now() - ((context as { receivedAt?: number }).receivedAt ?? Date.now())) / 1000);
    // The press's work (store reads and writes, a re-rendered alert) waits until the presses
    // arriving with it are acknowledged; it then runs outside the queue, so an Athena call in
    // it does not hold up the reports queued behind.
    await deps.pacing.enqueue(() => undefined);
    const say = (text: string) =>
      respond({ response_type: 'ephemeral', replace_original: false, text }).catch((err: Error) => deps.logger.warn({ error: err.message }, 'could not answer a button press'));
    const press = readPress(body);
    if (!press) {
      deps.logger.warn({ type: (body as { type?: string }).type }, 'interaction payload the bot cannot read');
      await say('That interaction could not be read; nothing was done.');
      return;
    }
    try {
      const answer = await deps.buttons.handle(press);
      if (answer) await say(answer);
    } catch (err) {
      deps.logger.error({ actionId: press.actionId, user: press.userId, error: (err as Error).message }, 'button press failed');
      await say('Sorry, something went wrong handling that button. The error is in the bot’s log.');
    }
  });
}
