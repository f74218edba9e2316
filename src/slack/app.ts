import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver, SocketModeReceiver, type App as BoltApp, type CustomRoute } from '@slack/bolt';
import type { Config } from '../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import { operatorAdvice, type Runtime } from '../runtime/runtime.js';
import type { CycleReport, PollLoop } from '../schedule/poll-loop.js';
import { pollHealthJson } from '../schedule/poll-health.js';
import type { QueueConsumer } from '../sources/sqs/queue-consumer.js';
import { MessageUpdates } from '../store/message-updates.js';
import type { Outbox } from '../store/outbox.js';
import { DAY, sleep, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { AlertManager } from './alerts/alert-manager.js';
import { DeliveryQueue } from './delivery/delivery-queue.js';
import { UpdateQueue } from './delivery/update-queue.js';
import { FeedManager } from './feed/feed-manager.js';
import { HomePublisher } from './home/home-publisher.js';
import { AlertButtons } from './interactivity/alert-buttons.js';
import { registerAlertActions } from './listeners/alert-actions.js';
import { registerCommand } from './listeners/command.js';
import { registerHome } from './listeners/home.js';
import { registerMention } from './listeners/mention.js';
import { ReportService } from './report-service.js';
import { createWebClient, slackLogger, type WebClient } from './slack-client.js';

export interface AppDeps {
  runtime: Pick<Runtime, 'config' | 'store' | 'accounts' | 'targets' | 'cloudTrail' | 'enricher' | 'logger' | 'metrics'> & Partial<Pick<Runtime, 'athena' | 'actions'>>;
  outbox: Outbox;
  clock: Clock;
  /** For /healthz: the poll loop whose per-region health is reported. */
  pollLoop?: PollLoop;
  /** For /healthz: the SQS consumer, when SQS_QUEUE_URL is set. */
  queueConsumer?: Pick<QueueConsumer, 'status' | 'healthy'>;
  /** Injected for tests; default: a client for SLACK_BOT_TOKEN at SLACK_API_URL. */
  web?: WebClient;
}

export interface SlackBot {
  app: BoltApp;
  web: WebClient;
  delivery: DeliveryQueue;
  /** Edits of posted messages (live feed items and alerts). */
  updates: UpdateQueue;
  reports: ReportService;
  alerts: AlertManager;
  feed: FeedManager;
  home: HomePublisher;
  /**
   * The Slack work of a poll cycle: settle actions a crash interrupted, then alerts (new ones,
   * follow-ups, reminders, edits) and the live feed (announcements, edits).
   */
  afterCycle(cycle?: Pick<CycleReport, 'enrichment'>): Promise<void>;
  /** Starts listening; resolves once the receiver is up (Slack itself may still be unreachable). */
  start(): Promise<void>;
  /** Stops taking Slack requests (first step of a shutdown). */
  stopReceiving(): Promise<void>;
  /** Stops receiving (if not yet) and waits for sends in flight to be recorded. */
  stop(): Promise<void>;
  /** Slack identity once auth.test has succeeded. */
  identity(): { botId: string; botUserId: string; team: string } | undefined;
}

/**
 * Builds the Slack side of the bot (SPEC §5): Bolt's receiver (HTTP at /slack/events with
 * signature checks, or Socket Mode), /healthz and /metrics, the slash command, mentions and
 * the delivery queue. Nothing here starts until `start()`; nothing here polls AWS.
 */
export function createApp(deps: AppDeps): SlackBot {
  const { config, logger, metrics } = deps.runtime;
  const token = config.slack.botToken!;
  const web = deps.web ?? createWebClient(token, config.slack.apiUrl, logger);
  const delivery = new DeliveryQueue({ outbox: deps.outbox, web, logger, metrics });
  const messageUpdates = new MessageUpdates(deps.runtime.store);
  const updates = new UpdateQueue({ updates: messageUpdates, web, logger, metrics });
  const reports = new ReportService(deps.runtime, deps.clock);
  const posting = { store: deps.runtime.store, outbox: deps.outbox, delivery, config, clock: deps.clock, logger };
  const alerts = new AlertManager({ ...posting, athenaConfigured: Boolean(deps.runtime.enricher), updates });
  const enricher = deps.runtime.enricher;
  const feed = new FeedManager({ ...posting, updates, ...(enricher ? { confirm: (sessions, maxCalls) => enricher.confirmSessions(sessions, undefined, maxCalls) } : {}) });
  const home = new HomePublisher({ store: deps.runtime.store, config, clock: deps.clock, web, logger, metrics, pacing: reports });
  const buttons = new AlertButtons({ config, alerts, actions: deps.runtime.actions, clock: deps.clock, logger });
  let identity: { botId: string; botUserId: string; team: string } | undefined;
  let authError: string | undefined;

  const routes: CustomRoute[] = [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => health(res) },
    { path: '/metrics', method: ['GET'], handler: (_req, res) => void serveMetrics(res, metrics) },
  ];

  function health(res: ServerResponse): void {
    const healthy = (deps.pollLoop ? deps.pollLoop.healthy() : true) && (deps.queueConsumer ? deps.queueConsumer.healthy() : true);
    // One watched account failing among several (its role refused) is reported, not a 503: a restart would not bring it back.
    const degraded = healthy && (deps.pollLoop?.failingTargets().length ?? 0) > 0;
    const body = JSON.stringify({
      status: healthy ? (degraded ? 'degraded' : 'ok') : 'failing',
      ...(deps.pollLoop ? pollHealthJson(deps.pollLoop.health, deps.runtime.accounts.status()) : { regions: {} }),
      slack: identity ? 'connected' : authError ? `unreachable: ${authError}` : 'connecting',
      // Socket Mode: whether commands and mentions can reach us right now (the token alone does not say).
      ...(socketState ? { socket: socketState } : {}),
      outbox: deps.outbox.counts(),
      edits: messageUpdates.counts(),
      // Missing Athena permissions, from the bot's refused calls (live, and echoed by CloudTrail over the last day).
      athena: { advice: operatorAdvice(deps.runtime, Date.now() - DAY) },
      ...(deps.queueConsumer ? { sqs: sqsHealth(deps.queueConsumer.status()) } : {}),
    });
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(body);
  }

  // Our own authorize: Bolt would otherwise call auth.test at construction and keep a
  // rejected promise forever if Slack was down at that moment.
  const authorize = async () => ({ botToken: token, botId: identity?.botId, botUserId: identity?.botUserId });
  const socketMode = Boolean(config.slack.appToken);
  const receiver = socketMode
    ? new SocketModeReceiver({
        appToken: config.slack.appToken!,
        customRoutes: routes,
        // The port serves /healthz and /metrics; clientOptions points apps.connections.open at SLACK_API_URL.
        installerOptions: { port: config.port, clientOptions: { slackApiUrl: config.slack.apiUrl } },
        logger: slackLogger(logger),
        customPropertiesExtractor: () => ({ receivedAt: Date.now() }),
      })
    : new HTTPReceiver({
        signingSecret: config.slack.signingSecret!,
        endpoints: '/slack/events',
        customRoutes: routes,
        logger: slackLogger(logger),
        customPropertiesExtractor: (req: IncomingMessage) => ({ receivedAt: (req as IncomingMessage & { receivedAt?: number }).receivedAt ?? Date.now() }),
      });
  let socketState: string | undefined;
  if (receiver instanceof SocketModeReceiver) {
    socketState = 'connecting';
    for (const state of ['connecting', 'connected', 'reconnecting', 'disconnecting', 'disconnected']) {
      receiver.client.on(state, () => (socketState = state));
    }
  }
  const app = new App({
    receiver,
    authorize,
    logger: slackLogger(logger),
    clientOptions: { slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 2 } },
  });
  app.error(async (err) => {
    logger.error({ error: err.message, code: (err as { code?: string }).code }, 'Slack listener error');
  });
  registerCommand(app, { config, reports, logger, metrics });
  registerMention(app, { config, reports, outbox: deps.outbox, delivery, logger });
  registerHome(app, { home, logger });
  registerAlertActions(app, { buttons, pacing: reports, logger, metrics });

  const stopAuth = new AbortController();
  async function authenticate(): Promise<void> {
    for (let attempt = 1; !stopAuth.signal.aborted; attempt++) {
      try {
        const res = await web.auth.test();
        identity = { botId: res.bot_id ?? '', botUserId: res.user_id ?? '', team: res.team ?? '' };
        authError = undefined;
        logger.info({ team: identity.team, botUserId: identity.botUserId }, 'connected to Slack');
        delivery.kick();
        updates.kick();
        return;
      } catch (err) {
        authError = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
        const delay = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
        logger.warn({ attempt, error: authError, retryInMs: delay }, 'Slack auth.test failed; retrying');
        await sleep(delay, stopAuth.signal);
      }
    }
  }

  let socketRetry: Promise<void> | undefined;
  let receiving: Promise<void> | undefined;
  const stopReceiving = () =>
    (receiving ??= (async () => {
      stopAuth.abort();
      await app.stop().catch((err: Error) => logger.warn({ error: err.message }, 'stopping the Slack receiver'));
      await socketRetry;
    })());
  async function afterCycle(cycle?: Pick<CycleReport, 'enrichment'>): Promise<void> {
    // Each part on its own: a failure in one is logged and does not hold back the others.
    const step = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        logger.error({ error: (err as Error).message, step: what }, 'Slack cycle work failed');
      }
    };
    await step('actions', () => deps.runtime.actions?.recover());
    await step('alerts', () => alerts.onCycle(cycle?.enrichment?.views));
    await step('feed', () => feed.onCycle());
  }

  return {
    app,
    web,
    delivery,
    updates,
    reports,
    alerts,
    feed,
    home,
    afterCycle,
    identity: () => identity,
    async start() {
      if (socketMode) {
        // Socket Mode needs Slack to connect; keep trying in the background rather than fail start-up.
        socketRetry = (async () => {
          const stopped = new Promise<false>((resolve) => stopAuth.signal.addEventListener('abort', () => resolve(false), { once: true }));
          for (let attempt = 1; !stopAuth.signal.aborted; attempt++) {
            try {
              // app.start() also listens on PORT, and a second listen() throws: later attempts only
              // start the Socket Mode client again. The race: once stop() disconnects the client while
              // it waits to retry apps.connections.open, its start() never settles, or (its Web API
              // client still retrying an HTTP error) connects after the stop, so that is disconnected.
              const client = (receiver as SocketModeReceiver).client;
              const starting = Promise.resolve(attempt === 1 ? app.start() : client.start());
              if (!(await Promise.race([starting.then(() => true), stopped]))) {
                starting.then(() => client.disconnect(), () => undefined);
                return;
              }
              logger.info({ port: config.port }, 'Socket Mode connected; /healthz and /metrics served');
              return;
            } catch (err) {
              logger.warn({ attempt, error: (err as Error).message }, 'Socket Mode connection failed; retrying');
              await sleep(Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6)), stopAuth.signal);
            }
          }
        })();
      } else {
        await app.start(config.port);
        logger.info({ port: config.port }, 'listening for Slack at /slack/events; /healthz and /metrics served');
      }
      void authenticate();
      delivery.kick();
      updates.kick();
    },
    stopReceiving,
    async stop() {
      await stopReceiving();
      await home.close();
      await delivery.close();
      await updates.close();
    },
  };
}

/** The consumer's status for /healthz, times as ISO 8601. */
function sqsHealth(s: ReturnType<QueueConsumer['status']>) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    queue: s.queue,
    state: s.state,
    lastReceive: iso(s.lastReceiveAt),
    failingSince: iso(s.failingSince),
    lastError: s.lastError,
    messages: { received: s.received, deleted: s.deleted, junk: s.junk, failed: s.failed },
    backlog: s.backlog && { visible: s.backlog.visible, inFlight: s.backlog.inFlight, at: iso(s.backlog.at) },
  };
}

async function serveMetrics(res: ServerResponse, metrics: Metrics): Promise<void> {
  try {
    const text = await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType });
    res.end(text);
  } catch (err) {
    res.writeHead(500).end((err as Error).message);
  }
}

export type { Config };
