import { parseArgs } from 'node:util';
import { createApp } from '../../slack/app.js';
import { DigestScheduler } from '../../slack/digest/digest-scheduler.js';
import { Outbox } from '../../store/outbox.js';
import { UsageError } from '../../util/errors.js';
import { learnBotIdentities } from '../../sources/aws-identity.js';
import { confirmDigestDay } from '../../sources/athena/confirm-digest.js';
import type { CliIO } from '../io.js';
import { createRuntime } from '../../runtime/runtime.js';
import { createPollLoop, createQueueConsumer } from '../../runtime/watchers.js';

/**
 * `start`: the poller (a sweep beside the SQS consumer when SQS_QUEUE_URL is set), the Slack
 * app (with its alerts, live feed, buttons and Home), the digest schedule, until SIGTERM/SIGINT. Stopping: stop taking Slack
 * requests, let the SQS batch and the poll write in flight finish, let sends in flight be
 * recorded, close the store, exit 0.
 */
export async function startCommand(argv: string[], io: CliIO): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
  if (positionals.length) throw new UsageError('usage: athena-session-bot start');
  const rt = createRuntime(io, { needs: ['regions', 'slack-http-or-socket'], defaultMetrics: true, oneShot: false });
  // The bot's principal in every watched account, so that each account's trail sets its calls apart.
  await learnBotIdentities({ store: rt.store, logger: rt.logger, accounts: rt.accounts, region: rt.config.regions[0]! });
  const outbox = new Outbox(rt.store);
  const loop = createPollLoop(rt, io);
  const consumer = createQueueConsumer(rt, io);
  const bot = createApp({ runtime: rt, outbox, clock: io.clock, pollLoop: loop, queueConsumer: consumer });
  loop.watchSessions(() => bot.alerts.watched());
  loop.setAfterCycle((cycle) => bot.afterCycle(cycle));
  const enricher = rt.enricher;
  const digests = new DigestScheduler({
    store: rt.store,
    outbox,
    delivery: bot.delivery,
    config: rt.config,
    clock: io.clock,
    logger: rt.logger,
    // Athena confirms the day's sessions first (at most a minute; then the digest says what stays unconfirmed).
    confirm: enricher ? (opts) => confirmDigestDay(rt.store, enricher, opts, 60_000) : undefined,
  });

  try {
    await bot.start();
  } catch (err) {
    rt.close();
    throw err;
  }
  rt.logger.info(
    {
      regions: rt.config.regions,
      ...(rt.accounts.mode === 'roles' ? { accounts: rt.accounts.status().map((a) => a.account) } : {}),
      intervalSeconds: rt.config.pollIntervalSeconds,
      ...(consumer ? { queue: consumer.status().queue, sweepMinutes: rt.config.sqs.sweepMinutes } : {}),
      digest: Boolean(rt.config.digest.channel),
      alerts: Boolean(rt.config.alertChannel),
      feed: Boolean(rt.config.feed.channel),
      actions: rt.config.actions.enabled,
      socketMode: Boolean(rt.config.slack.appToken),
    },
    'athena-session-bot started',
  );
  await digests.start();
  loop.start();
  consumer?.start();

  await new Promise<void>((resolve) => {
    if (io.stopSignal?.aborted) return resolve();
    io.stopSignal?.addEventListener('abort', () => resolve(), { once: true });
  });
  rt.logger.info('stopping: no new Slack requests; finishing the SQS batch, the poll write and sends in flight');
  await bot.stopReceiving();
  await digests.stop();
  await consumer?.close();
  await loop.close();
  await bot.stop();
  rt.close();
  rt.logger.info('stopped');
  return 0;
}
