import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { CONFIG_VARIABLES, readConfig, requireConfig, SECRET_VARIABLES, type Config } from '../../src/config/config.js';
import { AppError, ConfigError } from '../../src/util/errors.js';

const TOKEN = 'xoxb-1234-5678-abcdefghijklmnop';
const SIGNING = 'abcdef0123456789abcdef0123456789';

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    readConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
}

describe('readConfig defaults', () => {
  it('match the spec table', () => {
    const c = readConfig({});
    expect(c).toEqual({
      slack: { botToken: undefined, signingSecret: undefined, appToken: undefined, apiUrl: undefined },
      port: 3000,
      regions: [],
      pollIntervalSeconds: 60,
      lookbackMinutes: 20,
      backfillHours: 24,
      longRunningMinutes: 30,
      digest: { channel: undefined, cron: '0 9 * * *', timezone: 'UTC' },
      alertChannel: undefined,
      allowedChannelIds: undefined,
      allowedUserIds: undefined,
      databasePath: './data/athena-session-bot.sqlite',
      retentionDays: 90,
      dpuHourPriceUsd: 0.35,
      showCallerDetails: false,
      logLevel: 'info',
      ignorePrincipals: [],
      feed: { channel: undefined, backfillMinutes: 60 },
      channelRoutes: [],
      weeklyDigestCron: undefined,
      digestGroupTags: [],
      actions: { enabled: false, userIds: [] },
      roleArns: [],
      roleExternalId: undefined,
      sqs: { queueUrl: undefined, sweepMinutes: 15 },
      s3ForcePathStyle: false,
      athenaCallsPerSecond: 5,
    } satisfies Config);
  });

  it('treats blank values as unset', () => {
    const c = readConfig({ PORT: '', DIGEST_TIMEZONE: '   ', SLACK_BOT_TOKEN: '', DPU_HOUR_PRICE_USD: ' ', AWS_REGIONS: '' });
    expect(c.port).toBe(3000);
    expect(c.digest.timezone).toBe('UTC');
    expect(c.slack.botToken).toBeUndefined();
    expect(c.dpuHourPriceUsd).toBe(0.35);
  });
});

describe('readConfig values', () => {
  it('reads every variable', () => {
    const c = readConfig({
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING,
      SLACK_APP_TOKEN: 'xapp-1-A0-123-abc',
      SLACK_API_URL: 'http://127.0.0.1:9999/api/',
      PORT: '8080',
      AWS_REGIONS: 'us-east-1, eu-west-1,us-east-1',
      POLL_INTERVAL_SECONDS: '30',
      LOOKBACK_MINUTES: '0',
      BACKFILL_HOURS: '2160',
      LONG_RUNNING_MINUTES: '45',
      DIGEST_CHANNEL: 'C0123456789',
      DIGEST_CRON: '30 8 * * 1-5',
      DIGEST_TIMEZONE: 'America/New_York',
      ALERT_CHANNEL: 'G0123456789',
      ALLOWED_CHANNEL_IDS: 'C0123456789, C0987654321',
      ALLOWED_USER_IDS: 'U0123ABC,W0456DEF',
      DATABASE_PATH: '/var/lib/bot/db.sqlite',
      RETENTION_DAYS: '30',
      DPU_HOUR_PRICE_USD: '0.44',
      SHOW_CALLER_DETAILS: 'true',
      LOG_LEVEL: 'debug',
      IGNORE_PRINCIPALS: 'arn:aws:iam::123456789012:role/DatadogIntegrationRole, cloudability-reader',
      FEED_CHANNEL: 'C0FEED0001',
      FEED_BACKFILL_MINUTES: '15',
      CHANNEL_ROUTES: 'workgroup:prod=C0PROD0001, tag:team=data=C0DATA0001,account:210987654321=C0ACCT0001,region:eu-west-1=C0EU000001',
      DIGEST_WEEKLY_CRON: '0 9 * * 1',
      DIGEST_GROUP_TAGS: 'team,project,team',
      ACTIONS_ENABLED: 'true',
      ACTION_USER_IDS: 'U0ONCALL1,U0ONCALL2',
      AWS_ROLE_ARNS: 'arn:aws:iam::111111111111:role/athena-session-bot-reader,arn:aws:iam::222222222222:role/path/reader',
      AWS_ROLE_EXTERNAL_ID: 'athena-session-bot-7f3a',
      SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/athena-events',
      SWEEP_MINUTES: '30',
      S3_FORCE_PATH_STYLE: '1',
      ATHENA_CALLS_PER_SECOND: '2',
    });
    expect(c).toEqual({
      slack: { botToken: TOKEN, signingSecret: SIGNING, appToken: 'xapp-1-A0-123-abc', apiUrl: 'http://127.0.0.1:9999/api/' },
      port: 8080,
      regions: ['us-east-1', 'eu-west-1'],
      pollIntervalSeconds: 30,
      lookbackMinutes: 0,
      backfillHours: 2160,
      longRunningMinutes: 45,
      digest: { channel: 'C0123456789', cron: '30 8 * * 1-5', timezone: 'America/New_York' },
      alertChannel: 'G0123456789',
      allowedChannelIds: ['C0123456789', 'C0987654321'],
      allowedUserIds: ['U0123ABC', 'W0456DEF'],
      databasePath: '/var/lib/bot/db.sqlite',
      retentionDays: 30,
      dpuHourPriceUsd: 0.44,
      showCallerDetails: true,
      logLevel: 'debug',
      ignorePrincipals: ['arn:aws:iam::123456789012:role/DatadogIntegrationRole', 'cloudability-reader'],
      feed: { channel: 'C0FEED0001', backfillMinutes: 15 },
      channelRoutes: [
        { kind: 'workgroup', value: 'prod', channel: 'C0PROD0001' },
        { kind: 'tag', key: 'team', value: 'data', channel: 'C0DATA0001' },
        { kind: 'account', value: '210987654321', channel: 'C0ACCT0001' },
        { kind: 'region', value: 'eu-west-1', channel: 'C0EU000001' },
      ],
      weeklyDigestCron: '0 9 * * 1',
      digestGroupTags: ['team', 'project'],
      actions: { enabled: true, userIds: ['U0ONCALL1', 'U0ONCALL2'] },
      roleArns: ['arn:aws:iam::111111111111:role/athena-session-bot-reader', 'arn:aws:iam::222222222222:role/path/reader'],
      roleExternalId: 'athena-session-bot-7f3a',
      sqs: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/athena-events', sweepMinutes: 30 },
      s3ForcePathStyle: true,
      athenaCallsPerSecond: 2,
    });
  });

  it('requires ACTION_USER_IDS when actions are enabled, and keeps actions off by default', () => {
    const err = configError({ ACTIONS_ENABLED: 'true' });
    expect(err.variable).toBe('ACTION_USER_IDS');
    expect(err.message).toMatch(/required when ACTIONS_ENABLED=true/);
    expect(readConfig({ ACTION_USER_IDS: 'U0ONCALL1' }).actions).toEqual({ enabled: false, userIds: ['U0ONCALL1'] });
  });

  it('prefers AWS_REGIONS to AWS_REGION', () => {
    expect(readConfig({ AWS_REGION: 'eu-central-1' }).regions).toEqual(['eu-central-1']);
    expect(readConfig({ AWS_REGIONS: 'us-west-2,ap-southeast-1', AWS_REGION: 'eu-central-1' }).regions).toEqual(['us-west-2', 'ap-southeast-1']);
    expect(readConfig({ AWS_REGIONS: '', AWS_REGION: 'eu-central-1' }).regions).toEqual(['eu-central-1']);
  });

  it('reads SHOW_CALLER_DETAILS as a boolean', () => {
    expect(readConfig({ SHOW_CALLER_DETAILS: '1' }).showCallerDetails).toBe(true);
    expect(readConfig({ SHOW_CALLER_DETAILS: 'false' }).showCallerDetails).toBe(false);
    expect(readConfig({ SHOW_CALLER_DETAILS: '0' }).showCallerDetails).toBe(false);
  });

  it('accepts the bounds of numeric ranges', () => {
    expect(readConfig({ PORT: '1' }).port).toBe(1);
    expect(readConfig({ PORT: '65535' }).port).toBe(65535);
    expect(readConfig({ BACKFILL_HOURS: '0' }).backfillHours).toBe(0);
    expect(readConfig({ DPU_HOUR_PRICE_USD: '0' }).dpuHourPriceUsd).toBe(0);
  });
});

describe('readConfig errors', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['PORT', 'abc', /whole number from 1 to 65535/],
    ['PORT', '0', /at least 1/],
    ['PORT', '70000', /at most 65535/],
    ['PORT', '80.5', /whole number/],
    ['POLL_INTERVAL_SECONDS', '-1', /whole number/],
    ['POLL_INTERVAL_SECONDS', '0', /at least 1/],
    ['LOOKBACK_MINUTES', '1441', /at most 1440/],
    ['BACKFILL_HOURS', '2161', /at most 2160/],
    ['LONG_RUNNING_MINUTES', '0', /at least 1/],
    ['RETENTION_DAYS', '0', /at least 1/],
    ['DIGEST_CRON', 'every day at nine', /cron expression/],
    ['DIGEST_CRON', '0 25 * * *', /cron expression/],
    ['DIGEST_TIMEZONE', 'Mars/Olympus_Mons', /IANA time zone/],
    ['DIGEST_CHANNEL', '#general', /channel ID/],
    ['ALERT_CHANNEL', 'general', /channel ID/],
    ['ALLOWED_CHANNEL_IDS', 'C0123,#random', /comma-separated list of Slack channel IDs/],
    ['ALLOWED_USER_IDS', 'U0123,bob', /comma-separated list of Slack user IDs/],
    ['DPU_HOUR_PRICE_USD', '-0.35', /non-negative number/],
    ['DPU_HOUR_PRICE_USD', '$0.35', /non-negative number/],
    ['SHOW_CALLER_DETAILS', 'yes', /true or false/],
    ['LOG_LEVEL', 'verbose', /must be one of/],
    ['SLACK_API_URL', 'not a url', /must be a URL/],
    ['SLACK_APP_TOKEN', 'xoxb-wrong-kind', /xapp-/],
    ['IGNORE_PRINCIPALS', 'arn:aws:iam::12:role/x', /IAM principal ARNs or role-session names/],
    ['IGNORE_PRINCIPALS', 'a b', /IAM principal ARNs or role-session names/],
    ['FEED_CHANNEL', '#feed', /channel ID/],
    ['FEED_BACKFILL_MINUTES', '-5', /whole number/],
    ['CHANNEL_ROUTES', 'workgroup:prod', /selector=channelId/],
    ['CHANNEL_ROUTES', 'workgroup:prod=#prod', /Slack channel ID/],
    ['CHANNEL_ROUTES', 'team:data=C0DATA0001', /unknown selector "team"/],
    ['CHANNEL_ROUTES', 'account:1234=C0DATA0001', /12-digit account ID/],
    ['CHANNEL_ROUTES', 'region:Europe=C0DATA0001', /not an AWS region/],
    ['CHANNEL_ROUTES', 'tag:team=C0DATA0001', /tag:KEY=VALUE/],
    ['CHANNEL_ROUTES', 'workgroup:=C0DATA0001', /workgroup:NAME/],
    ['DIGEST_WEEKLY_CRON', 'mondays', /cron expression/],
    ['DIGEST_GROUP_TAGS', 'team,bad|key', /session tag keys/],
    ['ACTIONS_ENABLED', 'yes', /true or false/],
    ['ACTION_USER_IDS', 'bob', /Slack user IDs/],
    ['AWS_ROLE_ARNS', 'arn:aws:iam::123456789012:user/bob', /IAM role ARNs/],
    ['AWS_ROLE_EXTERNAL_ID', 'x', /2 to 1224/],
    ['SQS_QUEUE_URL', 'athena-events', /queue URL/],
    ['SQS_QUEUE_URL', 'arn:aws:sqs:us-east-1:123456789012:athena-events', /not the queue ARN/],
    ['SWEEP_MINUTES', '0', /at least 1/],
    ['S3_FORCE_PATH_STYLE', 'maybe', /true or false/],
    ['ATHENA_CALLS_PER_SECOND', '0', /at least 1/],
  ];

  for (const [variable, value, message] of cases) {
    it(`${variable}=${JSON.stringify(value)} is a ConfigError naming ${variable}`, () => {
      const err = configError({ [variable]: value });
      expect(err).toBeInstanceOf(AppError);
      expect(err.variable).toBe(variable);
      expect(err.exitCode).toBe(2);
      expect(err.message.startsWith(`${variable}: `)).toBe(true);
      expect(err.message).toMatch(message);
      if (!(SECRET_VARIABLES as readonly string[]).includes(variable)) expect(err.message).toContain(JSON.stringify(value));
    });
  }

  it('wants one role per account, and an external id only with roles to send it with', () => {
    const twice = configError({ AWS_ROLE_ARNS: 'arn:aws:iam::111111111111:role/reader,arn:aws:iam::111111111111:role/other' });
    expect(twice.variable).toBe('AWS_ROLE_ARNS');
    expect(twice.message).toContain('two roles for account 111111111111');
    const lonely = configError({ AWS_ROLE_EXTERNAL_ID: 'athena-session-bot-7f3a' });
    expect(lonely.variable).toBe('AWS_ROLE_EXTERNAL_ID');
    expect(lonely.message).toMatch(/AWS_ROLE_ARNS is not/);
  });

  it('names the region variable that holds a bad region', () => {
    const a = configError({ AWS_REGIONS: 'us-east-1,US-WEST-2' });
    expect(a.variable).toBe('AWS_REGIONS');
    expect(a.message).toContain('"US-WEST-2" is not an AWS region');
    const b = configError({ AWS_REGION: 'nowhere' });
    expect(b.variable).toBe('AWS_REGION');
    expect(b.message).toContain('"nowhere"');
  });

  it('shortens a long bad value in the message', () => {
    const err = configError({ DIGEST_TIMEZONE: 'Z'.repeat(500) });
    expect(err.message.length).toBeLessThan(200);
    expect(err.message).toContain('…');
  });
});

describe('secrets never appear in messages', () => {
  it('a bad SLACK_BOT_TOKEN', () => {
    const err = configError({ SLACK_BOT_TOKEN: 'not-a-token-SECRETVALUE' });
    expect(err.variable).toBe('SLACK_BOT_TOKEN');
    expect(err.message).toMatch(/xoxb-/);
    expect(err.message).not.toContain('SECRETVALUE');
    expect(err.message).not.toContain('not-a-token');
    expect(String(err.stack)).not.toContain('SECRETVALUE');
    expect(JSON.stringify(err)).not.toContain('SECRETVALUE');
  });

  it('a SLACK_SIGNING_SECRET with a bad character', () => {
    const err = configError({ SLACK_SIGNING_SECRET: 'abcdef0123456789SECRETVALUE!' });
    expect(err.variable).toBe('SLACK_SIGNING_SECRET');
    expect(err.message).not.toContain('SECRETVALUE');
    expect(err.message).not.toContain('abcdef0123456789');
  });

  it('a bad SLACK_APP_TOKEN', () => {
    expect(configError({ SLACK_APP_TOKEN: 'xoxp-SECRETVALUE' }).message).not.toContain('SECRETVALUE');
  });

  it('a bad variable next to good secrets', () => {
    const err = configError({ SLACK_BOT_TOKEN: 'xoxb-SECRETVALUE', SLACK_SIGNING_SECRET: 'SECRETVALUE0123456789', PORT: 'x' });
    expect(err.variable).toBe('PORT');
    expect(err.message).not.toContain('SECRETVALUE');
  });

  it('covers the AWS secrets too', () => {
    expect(SECRET_VARIABLES).toEqual(expect.arrayContaining(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']));
  });
});

describe('requireConfig', () => {
  const base = readConfig({});
  const fails = (c: Config, needs: Parameters<typeof requireConfig>[1]) => {
    try {
      requireConfig(c, needs);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return e as ConfigError;
    }
    throw new Error('requireConfig did not throw');
  };

  it('needs regions', () => {
    const e = fails(base, ['regions']);
    expect(e.variable).toBe('AWS_REGIONS');
    expect(e.message).toBe('AWS_REGIONS: is required (or AWS_REGION): the regions to watch, e.g. us-east-1,eu-west-1');
    expect(() => requireConfig(readConfig({ AWS_REGION: 'us-east-1' }), ['regions'])).not.toThrow();
  });

  it('needs the bot token', () => {
    expect(fails(base, ['slack-token']).message).toBe('SLACK_BOT_TOKEN: is required: the bot token (xoxb-…) from the Slack app settings');
    expect(fails(base, ['slack-http-or-socket']).variable).toBe('SLACK_BOT_TOKEN');
    expect(() => requireConfig(readConfig({ SLACK_BOT_TOKEN: TOKEN }), ['slack-token'])).not.toThrow();
  });

  it('needs a signing secret in HTTP mode, or an app token for Socket Mode', () => {
    const tokenOnly = readConfig({ SLACK_BOT_TOKEN: TOKEN });
    expect(fails(tokenOnly, ['slack-http-or-socket']).message).toBe('SLACK_SIGNING_SECRET: is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
    expect(() => requireConfig(readConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SIGNING }), ['slack-http-or-socket'])).not.toThrow();
    expect(() => requireConfig(readConfig({ SLACK_BOT_TOKEN: TOKEN, SLACK_APP_TOKEN: 'xapp-1' }), ['slack-http-or-socket'])).not.toThrow();
  });

  it('needs the digest channel', () => {
    expect(fails(base, ['digest-channel']).message).toBe('DIGEST_CHANNEL: is required to post the digest: the channel ID, e.g. C0123456789');
    expect(() => requireConfig(readConfig({ DIGEST_CHANNEL: 'C0123456789' }), ['digest-channel'])).not.toThrow();
  });

  it('checks needs in order and passes with none', () => {
    expect(fails(base, ['digest-channel', 'regions']).variable).toBe('DIGEST_CHANNEL');
    expect(() => requireConfig(base, [])).not.toThrow();
  });
});

describe('.env.example', () => {
  it('lists every variable the program reads, and nothing it does not', () => {
    const text = fs.readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const listed = [...text.matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    for (const v of CONFIG_VARIABLES) expect(listed, v).toContain(v);
    const standardAws = /^AWS_(REGION|PROFILE|ENDPOINT_URL_\w+)$/;
    expect(listed.filter((v) => !CONFIG_VARIABLES.includes(v) && !standardAws.test(v))).toEqual([]);
  });
});
