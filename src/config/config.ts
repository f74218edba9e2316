import { createRequire } from 'node:module';
import { ConfigError } from '../util/errors.js';

/** The validated configuration (SPEC §3). Built once, at the edge, by `readConfig`. */
export interface Config {
  slack: {
    botToken: string | undefined;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string | undefined;
  };
  port: number;
  regions: string[];
  pollIntervalSeconds: number;
  lookbackMinutes: number;
  backfillHours: number;
  longRunningMinutes: number;
  digest: { channel: string | undefined; cron: string; timezone: string };
  alertChannel: string | undefined;
  allowedChannelIds: string[] | undefined;
  allowedUserIds: string[] | undefined;
  databasePath: string;
  retentionDays: number;
  dpuHourPriceUsd: number;
  /** SHOW_CALLER_DETAILS: put source IPs and access-key IDs in Slack messages. Off by default. */
  showCallerDetails: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** IGNORE_PRINCIPALS: ARNs (user, role or assumed role) or role-session names whose calls are set apart like the bot's own. */
  ignorePrincipals: string[];
  feed: { channel: string | undefined; backfillMinutes: number };
  /** CHANNEL_ROUTES, in order: the first matching route picks the channel of a feed item or alert. */
  channelRoutes: ChannelRoute[];
  /** DIGEST_WEEKLY_CRON: when the weekly digest is posted; undefined = no weekly digest. */
  weeklyDigestCron: string | undefined;
  /** DIGEST_GROUP_TAGS: session tag keys the digest groups DPU-hours and cost by. */
  digestGroupTags: string[];
  actions: { enabled: boolean; userIds: string[] };
  /** AWS_ROLE_ARNS: one role per watched account; empty = the default credentials' account. */
  roleArns: string[];
  roleExternalId: string | undefined;
  sqs: { queueUrl: string | undefined; sweepMinutes: number };
  s3ForcePathStyle: boolean;
  /** ATHENA_CALLS_PER_SECOND: most Athena API calls the bot makes per second per account and region. */
  athenaCallsPerSecond: number;
}

/** A CHANNEL_ROUTES entry: `workgroup:NAME`, `account:ID`, `region:NAME` or `tag:KEY=VALUE` → channel. */
export type ChannelRoute =
  | { kind: 'workgroup' | 'account' | 'region'; value: string; channel: string }
  | { kind: 'tag'; key: string; value: string; channel: string };

/** Variables whose values must never appear in output, even in error messages. */
export const SECRET_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/** A variable's value is not valid: the message says what it must be. */
class Invalid extends Error {}

/**
 * How one variable is read: its raw value (undefined when unset) to its typed value, or
 * Invalid. Hand-written rather than a schema library: every command reads the configuration
 * first, and loading one cost the CLI ~70 ms of its start-up (measured).
 */
type Parser<T> = (raw: string | undefined) => T;

const blank = (v: string | undefined): v is undefined => v === undefined || v.trim() === '';

const optionalText: Parser<string | undefined> = (v) => (blank(v) ? undefined : v);

const matching =
  (pattern: RegExp, message: string): Parser<string | undefined> =>
  (v) => {
    if (blank(v)) return undefined;
    if (!pattern.test(v)) throw new Invalid(message);
    return v;
  };

const integer =
  (min: number, max: number, dflt: number): Parser<number> =>
  (v) => {
    if (blank(v)) return dflt;
    if (!/^\d+$/.test(v)) throw new Invalid(`must be a whole number from ${min} to ${max}`);
    const n = Number(v);
    if (n < min) throw new Invalid(`must be at least ${min}`);
    if (n > max) throw new Invalid(`must be at most ${max}`);
    return n;
  };

const idList =
  (pattern: RegExp, what: string): Parser<string[] | undefined> =>
  (v) => {
    if (blank(v)) return undefined;
    const items = v.split(',').map((x) => x.trim()).filter(Boolean);
    if (!items.every((x) => pattern.test(x))) throw new Invalid(`must be a comma-separated list of ${what}`);
    return items;
  };

const channelId = matching(/^[CGD][A-Z0-9]{6,}$/, 'must be a Slack channel ID such as C0123456789 (not a #name)');

const secret = (prefix: RegExp, what: string) => matching(prefix, `must be ${what}`);

const flag =
  (dflt: boolean): Parser<boolean> =>
  (v) => {
    if (blank(v)) return dflt;
    if (v !== 'true' && v !== 'false' && v !== '1' && v !== '0') throw new Invalid('must be true or false');
    return v === 'true' || v === '1';
  };

const oneOf =
  <T extends string>(values: readonly T[], dflt: T): Parser<T> =>
  (v) => {
    if (blank(v)) return dflt;
    if (!(values as readonly string[]).includes(v)) throw new Invalid(`must be one of ${values.join(', ')}`);
    return v as T;
  };

/** A URL, trimmed; `http` also demands http(s)://, since a queue ARN (arn:aws:sqs:…) parses as a URL too. */
const url =
  (message: string, http = false): Parser<string | undefined> =>
  (v) => {
    if (blank(v)) return undefined;
    const trimmed = v.trim();
    const ok = http ? /^https?:\/\//i.test(trimmed) && URL.canParse(trimmed) : URL.canParse(trimmed);
    if (!ok) throw new Invalid(message);
    return trimmed.replace(/[\t\n\r]/g, '');
  };

const validCron = (expression: string): boolean => {
  // node-cron is loaded only when a schedule is given: most commands never need it.
  const cron = createRequire(import.meta.url)('node-cron') as { validate(expression: string): boolean };
  return cron.validate(expression);
};

const cronExpression =
  <D extends string | undefined>(example: string, dflt: D): Parser<string | D> =>
  (v) => {
    if (blank(v)) return dflt;
    if (!validCron(v)) throw new Invalid(`must be a cron expression such as "${example}"`);
    return v;
  };

const timeZone: Parser<string> = (v) => {
  if (blank(v)) return 'UTC';
  if (!isTimeZone(v)) throw new Invalid('must be an IANA time zone such as Europe/Berlin or UTC');
  return v;
};

const price: Parser<number> = (v) => {
  if (blank(v)) return 0.35;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new Invalid('must be a non-negative number such as 0.35');
  return Number(v);
};

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,}$/;

/** An IAM principal ARN (user, role, assumed role, root) or a role-session name. */
const PRINCIPAL = /^(arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@\/-]+|[\w+=,.@-]{2,64})$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]+$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;

/** Every variable, in the order they are checked: the first bad one is reported. */
const VARIABLES = {
  SLACK_BOT_TOKEN: secret(/^xoxb-/, 'a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: secret(/^[A-Za-z0-9]{16,}$/, 'the app signing secret (letters and digits)'),
  SLACK_APP_TOKEN: secret(/^xapp-/, 'an app-level token starting with xapp-'),
  SLACK_API_URL: url('must be a URL such as https://slack.com/api/'),
  PORT: integer(1, 65535, 3000),
  AWS_REGIONS: optionalText,
  AWS_REGION: optionalText,
  POLL_INTERVAL_SECONDS: integer(1, 86_400, 60),
  LOOKBACK_MINUTES: integer(0, 1440, 20),
  BACKFILL_HOURS: integer(0, 2160, 24),
  LONG_RUNNING_MINUTES: integer(1, 10_080, 30),
  DIGEST_CHANNEL: channelId,
  DIGEST_CRON: cronExpression('0 9 * * *', '0 9 * * *'),
  DIGEST_TIMEZONE: timeZone,
  ALERT_CHANNEL: channelId,
  ALLOWED_CHANNEL_IDS: idList(/^[CGD][A-Z0-9]+$/, 'Slack channel IDs'),
  ALLOWED_USER_IDS: idList(/^[UW][A-Z0-9]+$/, 'Slack user IDs'),
  DATABASE_PATH: (v: string | undefined) => (blank(v) ? './data/athena-session-bot.sqlite' : v),
  RETENTION_DAYS: integer(1, 3650, 90),
  DPU_HOUR_PRICE_USD: price,
  SHOW_CALLER_DETAILS: flag(false),
  IGNORE_PRINCIPALS: idList(PRINCIPAL, 'IAM principal ARNs or role-session names'),
  FEED_CHANNEL: channelId,
  FEED_BACKFILL_MINUTES: integer(0, 10_080, 60),
  CHANNEL_ROUTES: optionalText,
  DIGEST_WEEKLY_CRON: cronExpression('0 9 * * 1', undefined),
  DIGEST_GROUP_TAGS: idList(TAG_KEY, 'session tag keys'),
  ACTIONS_ENABLED: flag(false),
  ACTION_USER_IDS: idList(/^[UW][A-Z0-9]+$/, 'Slack user IDs'),
  AWS_ROLE_ARNS: idList(ROLE_ARN, 'IAM role ARNs such as arn:aws:iam::123456789012:role/athena-session-bot-reader'),
  AWS_ROLE_EXTERNAL_ID: matching(/^[\w+=,.@:\/-]{2,1224}$/, 'must be 2 to 1224 letters, digits or +=,.@:/-'),
  SQS_QUEUE_URL: url('must be a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/athena-events (not the queue ARN)', true),
  SWEEP_MINUTES: integer(1, 1440, 15),
  S3_FORCE_PATH_STYLE: flag(false),
  ATHENA_CALLS_PER_SECOND: integer(1, 100, 5),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
} satisfies Record<string, Parser<unknown>>;

type Variables = { [K in keyof typeof VARIABLES]: ReturnType<(typeof VARIABLES)[K]> };

/** Every variable the program reads (besides the standard AWS ones). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(VARIABLES);

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function readVariables(env: Record<string, string | undefined>): Variables {
  const out: Record<string, unknown> = {};
  for (const [variable, parse] of Object.entries(VARIABLES) as Array<[string, Parser<unknown>]>) {
    try {
      out[variable] = parse(env[variable]);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      const isSecret = (SECRET_VARIABLES as readonly string[]).includes(variable);
      const got = env[variable];
      const shown = isSecret || got === undefined ? '' : ` (got ${JSON.stringify(got.length > 60 ? got.slice(0, 60) + '…' : got)})`;
      throw new ConfigError(variable, err.message + shown);
    }
  }
  return out as Variables;
}

/**
 * Reads and validates the configuration from an environment object. Pure: no I/O, no
 * process access, so tests call it with plain objects. Throws ConfigError naming the
 * first bad variable; the message never includes a secret's value.
 */
export function readConfig(env: Record<string, string | undefined>): Config {
  const e = readVariables(env);
  const regionSource = e.AWS_REGIONS ? 'AWS_REGIONS' : 'AWS_REGION';
  const regions = (e.AWS_REGIONS ?? e.AWS_REGION ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of regions) {
    if (!REGION.test(r)) throw new ConfigError(regionSource, `"${r}" is not an AWS region such as us-east-1`);
  }
  const config: Config = {
    slack: { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, appToken: e.SLACK_APP_TOKEN, apiUrl: e.SLACK_API_URL },
    port: e.PORT,
    regions: [...new Set(regions)],
    pollIntervalSeconds: e.POLL_INTERVAL_SECONDS,
    lookbackMinutes: e.LOOKBACK_MINUTES,
    backfillHours: e.BACKFILL_HOURS,
    longRunningMinutes: e.LONG_RUNNING_MINUTES,
    digest: { channel: e.DIGEST_CHANNEL, cron: e.DIGEST_CRON, timezone: e.DIGEST_TIMEZONE },
    alertChannel: e.ALERT_CHANNEL,
    allowedChannelIds: e.ALLOWED_CHANNEL_IDS,
    allowedUserIds: e.ALLOWED_USER_IDS,
    databasePath: e.DATABASE_PATH,
    retentionDays: e.RETENTION_DAYS,
    dpuHourPriceUsd: e.DPU_HOUR_PRICE_USD,
    showCallerDetails: e.SHOW_CALLER_DETAILS,
    logLevel: e.LOG_LEVEL,
    ignorePrincipals: e.IGNORE_PRINCIPALS ?? [],
    feed: { channel: e.FEED_CHANNEL, backfillMinutes: e.FEED_BACKFILL_MINUTES },
    channelRoutes: e.CHANNEL_ROUTES ? parseChannelRoutes(e.CHANNEL_ROUTES) : [],
    weeklyDigestCron: e.DIGEST_WEEKLY_CRON,
    digestGroupTags: [...new Set(e.DIGEST_GROUP_TAGS ?? [])],
    actions: { enabled: e.ACTIONS_ENABLED, userIds: e.ACTION_USER_IDS ?? [] },
    roleArns: [...new Set(e.AWS_ROLE_ARNS ?? [])],
    roleExternalId: e.AWS_ROLE_EXTERNAL_ID,
    sqs: { queueUrl: e.SQS_QUEUE_URL, sweepMinutes: e.SWEEP_MINUTES },
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE,
    athenaCallsPerSecond: e.ATHENA_CALLS_PER_SECOND,
  };
  // One role per account: its targets, cursors and credentials are the account's.
  const roleOfAccount = new Map<string, string>();
  for (const arn of config.roleArns) {
    const account = arn.split(':')[4]!;
    const other = roleOfAccount.get(account);
    if (other) throw new ConfigError('AWS_ROLE_ARNS', `two roles for account ${account} (${other} and ${arn}): give one role per account`);
    roleOfAccount.set(account, arn);
  }
  if (config.roleExternalId && config.roleArns.length === 0) {
    throw new ConfigError('AWS_ROLE_EXTERNAL_ID', 'is set but AWS_ROLE_ARNS is not: the external id is sent with AssumeRole of the roles listed there');
  }
  if (config.actions.enabled && config.actions.userIds.length === 0) {
    throw new ConfigError('ACTION_USER_IDS', 'is required when ACTIONS_ENABLED=true: the Slack user IDs allowed to stop calculations and terminate sessions');
  }
  return config;
}

/**
 * Parses CHANNEL_ROUTES: `selector=channelId` pairs, comma-separated. A tag selector holds an
 * `=` of its own (`tag:team=data=C0123456789`), so the channel is what follows the last one.
 */
export function parseChannelRoutes(text: string): ChannelRoute[] {
  const routes: ChannelRoute[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = raw.lastIndexOf('=');
    const selector = eq > 0 ? raw.slice(0, eq).trim() : '';
    const channel = eq > 0 ? raw.slice(eq + 1).trim() : '';
    const bad = (why: string) => new ConfigError('CHANNEL_ROUTES', `${JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + '…' : raw)}: ${why}`);
    if (!selector || !channel) throw bad('expected selector=channelId, e.g. workgroup:prod=C0123456789');
    if (!CHANNEL_ID.test(channel)) throw bad('the channel must be a Slack channel ID such as C0123456789');
    const colon = selector.indexOf(':');
    const kind = selector.slice(0, colon);
    const value = selector.slice(colon + 1).trim();
    if (colon < 0 || !value) throw bad('the selector must be workgroup:NAME, account:ID, region:NAME or tag:KEY=VALUE');
    if (kind === 'workgroup') routes.push({ kind, value, channel });
    else if (kind === 'account') {
      if (!/^\d{12}$/.test(value)) throw bad('an account selector needs a 12-digit account ID');
      routes.push({ kind, value, channel });
    } else if (kind === 'region') {
      if (!REGION.test(value)) throw bad(`"${value}" is not an AWS region such as us-east-1`);
      routes.push({ kind, value, channel });
    } else if (kind === 'tag') {
      const tagEq = value.indexOf('=');
      if (tagEq <= 0) throw bad('a tag selector is tag:KEY=VALUE');
      routes.push({ kind, key: value.slice(0, tagEq), value: value.slice(tagEq + 1), channel });
    } else throw bad(`unknown selector "${kind}": use workgroup, account, region or tag`);
  }
  return routes;
}

/** What each command needs beyond the defaults; checked after `readConfig`. */
export type Requirement = 'regions' | 'slack-http-or-socket' | 'slack-token' | 'digest-channel';

export function requireConfig(config: Config, needs: Requirement[]): void {
  for (const need of needs) {
    if (need === 'regions' && config.regions.length === 0) {
      throw new ConfigError('AWS_REGIONS', 'is required (or AWS_REGION): the regions to watch, e.g. us-east-1,eu-west-1');
    }
    if ((need === 'slack-token' || need === 'slack-http-or-socket') && !config.slack.botToken) {
      throw new ConfigError('SLACK_BOT_TOKEN', 'is required: the bot token (xoxb-…) from the Slack app settings');
    }
    if (need === 'slack-http-or-socket' && !config.slack.appToken && !config.slack.signingSecret) {
      throw new ConfigError('SLACK_SIGNING_SECRET', 'is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
    }
    if (need === 'digest-channel' && !config.digest.channel) {
      throw new ConfigError('DIGEST_CHANNEL', 'is required to post the digest: the channel ID, e.g. C0123456789');
    }
  }
}
