import { readConfig, requireConfig, type Config, type Requirement } from '../config/config.js';
import { Metrics } from '../observability/metrics.js';
import { createAccounts, type Accounts } from '../sources/accounts/accounts.js';
import type { AwsTarget } from '../sources/accounts/targets.js';
import { createAthenaSource, type AthenaSource } from '../sources/athena/athena-source.js';
import { AthenaActions } from '../sources/athena/actions.js';
import { Enricher } from '../sources/athena/enrich.js';
import { createCloudTrailSource, type CloudTrailSource } from '../sources/cloudtrail/lookup-client.js';
import { Store } from '../store/store.js';
import { PollHealth } from '../schedule/poll-health.js';
import { createLogger, type Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { isRefusal, permissionAdvice } from '../model/advice.js';

/** What a runtime is built from: the environment and the clock (a CLI run, a test, the bot). */
export interface RuntimeContext {
  env: Record<string, string | undefined>;
  clock: Clock;
}

/**
 * The wired dependencies of one command run: the composition root. The CLI and the Slack
 * surface both build on it; it knows neither.
 */
export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  store: Store;
  /** The watched accounts (AWS_ROLE_ARNS, or the default credentials' one) and their credentials. */
  accounts: Accounts;
  /** Every account × region watched: what is polled, searched and asked. Empty without AWS regions. */
  targets: readonly AwsTarget[];
  cloudTrail: CloudTrailSource | undefined;
  athena: AthenaSource | undefined;
  enricher: Enricher | undefined;
  /** Stop calculation / Terminate session from Slack (whether they are offered is ACTIONS_ENABLED's business). */
  actions: AthenaActions | undefined;
  health: PollHealth;
  close(): void;
}

export interface RuntimeOptions {
  needs?: Requirement[];
  /** Interactive commands use short AWS timeouts and fall back to the store. */
  quickAws?: boolean;
  /** Commands that never touch AWS (demo) or choose not to. */
  aws?: boolean;
  databasePath?: string;
  defaultLogLevel?: string;
  defaultMetrics?: boolean;
  /** A command that runs once (not `start`): nothing is "retried next cycle". Default true. */
  oneShot?: boolean;
}

export function loadConfig(io: Pick<RuntimeContext, 'env'>, needs: Requirement[] = []): Config {
  const config = readConfig(io.env);
  requireConfig(config, needs);
  return config;
}

export function createRuntime(io: RuntimeContext, o: RuntimeOptions = {}): Runtime {
  const config = loadConfig(io, o.needs);
  // Interactive commands keep standard error quiet unless LOG_LEVEL says otherwise.
  const logger = createLogger(io.env.LOG_LEVEL ? config.logLevel : (o.defaultLogLevel ?? config.logLevel));
  const metrics = new Metrics({ defaultMetrics: o.defaultMetrics });
  const store = Store.open(o.databasePath ?? config.databasePath);
  // Every command routes records by the same rules: a monitor added to IGNORE_PRINCIPALS stops counting at once.
  const moved = store.setIgnorePrincipals(config.ignorePrincipals);
  if (moved) logger.info({ records: moved }, 'IGNORE_PRINCIPALS changed: stored calls re-sorted');
  const useAws = o.aws !== false && config.regions.length > 0;
  const accounts = createAccounts({ regions: config.regions, roleArns: config.roleArns, externalId: config.roleExternalId, logger, quick: o.quickAws });
  const targets = useAws ? accounts.targets : [];
  const health = new PollHealth(targets);
  const cloudTrail = useAws
    ? createCloudTrailSource({
        logger,
        metrics,
        quick: o.quickAws,
        accounts,
        onAttempt: (target, err) => (err ? health.failure(target, (err as Error).message ?? String(err)) : health.success(target)),
      })
    : undefined;
  const athena = useAws ? createAthenaSource({ logger, metrics, quick: o.quickAws, ratePerSecond: config.athenaCallsPerSecond, accounts }) : undefined;
  const enricher = athena
    ? new Enricher({
        store,
        athena,
        accounts,
        clock: io.clock,
        logger,
        longRunningMinutes: config.longRunningMinutes,
        dpuHourPriceUsd: config.dpuHourPriceUsd,
        refreshMs: config.pollIntervalSeconds * 1000,
        oneShot: o.oneShot !== false,
      })
    : undefined;
  const actions = athena && enricher ? new AthenaActions({ store, athena, enricher, clock: io.clock, logger }) : undefined;
  return { config, logger, metrics, store, accounts, targets, cloudTrail, athena, enricher, actions, health, close: () => store.close() };
}

/**
 * What the operator should grant, from the bot's refused calls: those Athena refused this run,
 * and those CloudTrail gave back as the bot's own AccessDenied records since `sinceMs`.
 */
export function operatorAdvice(rt: Pick<Runtime, 'store' | 'enricher'>, sinceMs: number): string[] {
  // A refusal seen live comes back through CloudTrail minutes later: the larger count, not the sum.
  const counts = new Map<string, number>();
  for (const r of rt.enricher?.refused() ?? []) counts.set(r.operation, Math.max(counts.get(r.operation) ?? 0, r.count));
  const echoed = new Map<string, number>();
  for (const r of rt.store.setApartSummary(sinceMs)) if (r.reason === 'bot' && isRefusal(r.errorCode)) echoed.set(r.eventName, (echoed.get(r.eventName) ?? 0) + r.count);
  for (const [op, n] of echoed) counts.set(op, Math.max(counts.get(op) ?? 0, n));
  return permissionAdvice([...counts].map(([operation, count]) => ({ operation, count })));
}
