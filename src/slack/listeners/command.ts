import type { App } from '@slack/bolt';
import type { Config } from '../../config/config.js';
import type { Metrics } from '../../observability/metrics.js';
import type { Logger } from '../../util/logger.js';
import { isAllowed, malformedText, parseCommandText, refusalText, USAGE_TEXT, type ReportService } from '../report-service.js';

export const COMMAND = '/athena-session';

export interface CommandDeps {
  config: Config;
  reports: ReportService;
  logger: Logger;
  metrics: Metrics;
}

/**
 * `/athena-session`: acknowledged at once, always; the answer follows through respond()
 * (ephemeral unless `public`), so a slow CloudTrail look-up never risks Slack's 3 s limit.
 */
export function registerCommand(app: App, deps: CommandDeps): void {
  // A command routed here that is not ours (a manifest pointing another command at this URL)
  // gets a prompt answer; unanswered, Bolt holds the request 3 s and Slack shows a timeout.
  app.command(new RegExp(`^(?!${COMMAND}$)`), async ({ command, ack }) => {
    await ack({ response_type: 'ephemeral', text: `This app answers \`${COMMAND}\` only; \`${command.command.slice(0, 40)}\` is not one of its commands.` });
    deps.logger.warn({ command: command.command.slice(0, 40) }, 'slash command that is not ours; check the Slack app manifest');
  });
  app.command(COMMAND, async ({ command, ack, respond, context }) => {
    deps.reports.noteArrival();
    const receivedAt = (context as { receivedAt?: number }).receivedAt ?? Date.now();
    const observe = () => deps.metrics.commandLatency.observe((Date.now() - receivedAt) / 1000);
    if (!isAllowed(deps.config, command.user_id, command.channel_id)) {
      await ack({ response_type: 'ephemeral', text: refusalText() });
      observe();
      deps.logger.info({ user: command.user_id, channel: command.channel_id }, 'slash command refused by allowlist');
      return;
    }
    const request = parseCommandText(command.text ?? '');
    if (request.kind === 'help' || request.kind === 'malformed') {
      await ack({ response_type: 'ephemeral', text: request.kind === 'help' ? USAGE_TEXT : malformedText(request.text) });
      observe();
      return;
    }
    const responseType = request.public ? 'in_channel' : 'ephemeral';
    if (request.kind === 'session' && !deps.reports.knows(request.sessionId)) {
      await ack({ response_type: 'ephemeral', text: `Looking ${request.sessionId} up in CloudTrail; this can take a few seconds…` });
    } else {
      await ack();
    }
    observe();
    try {
      const message = await deps.reports.enqueue(async () =>
        request.kind === 'active' ? deps.reports.activeMessage() : (await deps.reports.sessionMessage(request.sessionId)).message,
      );
      await respond({ response_type: responseType, replace_original: false, text: message.text, ...(message.blocks.length ? { blocks: message.blocks } : {}) } as never);
    } catch (err) {
      deps.logger.error({ error: (err as Error).message }, 'slash command answer failed');
      await respond({ response_type: 'ephemeral', text: 'Sorry, something went wrong building that report. The error is in the bot’s log.' }).catch(() => undefined);
    }
  });
}
