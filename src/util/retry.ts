import { sleep } from './clock.js';
import { AssumeRoleError } from './errors.js';

export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
  /** Decides whether an error is worth another attempt. */
  retryable: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  random?: () => number;
  wait?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

/** The wait after the n-th failure in a row (n ≥ 1): drawn from [cap/2, cap], cap = min(max, base·2^(n−1)). */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Exponential backoff with equal jitter (see `backoffDelay`). */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const random = o.random ?? Math.random;
  const wait = o.wait ?? ((ms: number) => sleep(ms, o.signal));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= o.attempts || !o.retryable(err) || o.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, o.baseMs, o.maxMs, random);
      o.onRetry?.(err, attempt, delay);
      await wait(delay);
    }
  }
}

const RETRYABLE_AWS = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalFailure',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

/** Throttling, 5xx and network failures are worth retrying; 4xx client errors are not. */
export function isRetryableAwsError(err: unknown): boolean {
  // A role that could not be assumed: worth another try only when STS itself failed transiently.
  if (err instanceof AssumeRoleError) return isRetryableAwsError(err.cause);
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e?.name && RETRYABLE_AWS.has(e.name)) return true;
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return false;
  // Socket-level failures from the SDK's HTTP handler carry no HTTP status.
  return status === undefined && /socket|ECONN|network|EPIPE|hang up/i.test(String((err as Error)?.message ?? ''));
}

export function isThrottle(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'ThrottlingException' || name === 'Throttling' || name === 'TooManyRequestsException';
}

/** AWS refused the request's credentials as expired (clocks disagree, or they were never refreshed): new ones may succeed. */
export function isExpiredCredentials(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'ExpiredTokenException' || name === 'ExpiredToken';
}
