import { LogLevel, webApi } from '@slack/bolt';
import type { Logger } from '../util/logger.js';

export type WebClient = webApi.WebClient;

/** Adapts pino to the logger interface Slack's clients expect, at reduced verbosity. */
export function slackLogger(logger: Logger): import('@slack/bolt').Logger {
  const child = logger.child({ component: 'slack' });
  return {
    debug: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    warn: (...m: unknown[]) => child.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => child.error(m.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

/**
 * The Web API client used for everything the bot posts. Its own retries are off and 429s
 * are surfaced, because the delivery queue owns pacing, waiting and retrying.
 */
export function createWebClient(token: string, apiUrl: string | undefined, logger: Logger): WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logger: slackLogger(logger),
  });
}

export interface SlackErrorInfo {
  kind: 'rate-limited' | 'platform' | 'http' | 'network';
  /** Slack's error string (`channel_not_found`), or the HTTP status. */
  detail: string;
  retryAfterMs?: number;
  /** True when Slack definitely did not act on the request. */
  definite: boolean;
}

export function describeSlackError(err: unknown): SlackErrorInfo {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number; message?: string };
  switch (e?.code) {
    case webApi.ErrorCode.RateLimitedError:
      return { kind: 'rate-limited', detail: 'ratelimited', retryAfterMs: (e.retryAfter ?? 1) * 1000, definite: true };
    case webApi.ErrorCode.PlatformError:
      return { kind: 'platform', detail: e.data?.error ?? 'unknown_error', definite: true };
    case webApi.ErrorCode.HTTPError:
      return { kind: 'http', detail: `HTTP ${e.statusCode ?? '?'}`, definite: false };
    default:
      return { kind: 'network', detail: (e?.message ?? String(err)).slice(0, 200), definite: false };
  }
}

/** Platform errors that retrying cannot fix. */
export const PERMANENT_SLACK_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'missing_scope',
  'restricted_action',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'thread_not_found',
]);
