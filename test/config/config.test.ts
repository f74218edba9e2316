import { describe, expect, it } from 'vitest';
import { readConfig, requireConfig, SECRET_VARIABLES, type Config } from '../../src/config/config.js';
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
    });
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
