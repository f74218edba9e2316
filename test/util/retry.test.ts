import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRetryableAwsError, isThrottle, withRetry, type RetryOptions } from '../../src/util/retry.js';

const awsError = (name: string, status?: number) =>
  Object.assign(new Error(`${name} happened`), { name, ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }) });

function harness(over: Partial<RetryOptions> = {}) {
  const waits: number[] = [];
  const retries: Array<[unknown, number, number]> = [];
  const opts: RetryOptions = {
    attempts: 5,
    baseMs: 100,
    maxMs: 250,
    retryable: isRetryableAwsError,
    random: () => 1,
    wait: async (ms) => {
      waits.push(ms);
    },
    onRetry: (err, attempt, delay) => retries.push([err, attempt, delay]),
    ...over,
  };
  return { opts, waits, retries };
}

/** A function that throws the given errors in turn, then returns 'ok'. */
function failing(errors: unknown[]) {
  const attempts: number[] = [];
  const fn = async (attempt: number) => {
    attempts.push(attempt);
    const err = errors.shift();
    if (err !== undefined) throw err;
    return 'ok';
  };
  return { fn, attempts };
}

describe('withRetry', () => {
  it('returns at once when the first attempt succeeds', async () => {
    const { opts, waits } = harness();
    const { fn, attempts } = failing([]);
    await expect(withRetry(fn, opts)).resolves.toBe('ok');
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('retries retryable errors with exponential backoff capped at maxMs', async () => {
    const { opts, waits, retries } = harness();
    const errors = [awsError('ThrottlingException', 400), awsError('ServiceUnavailable', 503), awsError('InternalFailure', 500), Object.assign(new Error('x'), { code: 'ECONNRESET' })];
    const { fn, attempts } = failing([...errors]);
    await expect(withRetry(fn, opts)).resolves.toBe('ok');
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    // base 100: 100, 200, then capped at 250.
    expect(waits).toEqual([100, 200, 250, 250]);
    expect(retries.map(([err, attempt, delay]) => [err, attempt, delay])).toEqual(errors.map((e, i) => [e, i + 1, waits[i]]));
  });

  it('draws each delay between 0 and the cap', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 6, maxLength: 6 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 5000 }), async (randoms, baseMs, maxMs) => {
        const queue = [...randoms];
        const { opts, waits } = harness({ attempts: 7, baseMs, maxMs, random: () => queue.shift()! });
        const { fn } = failing(Array.from({ length: 6 }, () => awsError('ThrottlingException')));
        await withRetry(fn, opts);
        expect(waits).toHaveLength(6);
        waits.forEach((w, i) => {
          const cap = Math.min(maxMs, baseMs * 2 ** i);
          expect(w).toBeGreaterThanOrEqual(0);
          expect(w).toBeLessThanOrEqual(cap);
          expect(w).toBeLessThanOrEqual(maxMs);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('stops at once on an error that is not retryable', async () => {
    const { opts, waits } = harness();
    const denied = awsError('AccessDeniedException', 403);
    const { fn, attempts } = failing([denied]);
    await expect(withRetry(fn, opts)).rejects.toBe(denied);
    expect(attempts).toEqual([1]);
    expect(waits).toEqual([]);
  });

  it('gives up after `attempts` tries with the last error', async () => {
    const { opts, waits } = harness({ attempts: 3 });
    const errors = [awsError('ThrottlingException'), awsError('ThrottlingException'), awsError('ThrottlingException', 400), awsError('ThrottlingException')];
    const last = errors[2];
    const { fn, attempts } = failing(errors);
    await expect(withRetry(fn, opts)).rejects.toBe(last);
    expect(attempts).toEqual([1, 2, 3]);
    expect(waits).toHaveLength(2);
  });

  it('makes one attempt only when attempts is 1', async () => {
    const { opts } = harness({ attempts: 1 });
    const { fn, attempts } = failing([awsError('ThrottlingException')]);
    await expect(withRetry(fn, opts)).rejects.toThrow('ThrottlingException happened');
    expect(attempts).toEqual([1]);
  });

  it('stops retrying once aborted', async () => {
    const controller = new AbortController();
    const { opts, waits } = harness({
      signal: controller.signal,
      wait: async (ms) => {
        waits.push(ms);
        controller.abort();
      },
    });
    const { fn, attempts } = failing([awsError('ThrottlingException'), awsError('ThrottlingException'), awsError('ThrottlingException')]);
    await expect(withRetry(fn, opts)).rejects.toThrow('ThrottlingException happened');
    expect(attempts).toEqual([1, 2]);
    expect(waits).toHaveLength(1);
  });

  it('sleeps for real by default, and an abort cuts the sleep short', async () => {
    const controller = new AbortController();
    const { fn, attempts } = failing([awsError('ThrottlingException')]);
    const started = Date.now();
    setTimeout(() => controller.abort(), 20);
    await expect(withRetry(fn, { attempts: 3, baseMs: 10_000, maxMs: 10_000, retryable: isRetryableAwsError, signal: controller.signal })).resolves.toBe('ok');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(attempts).toEqual([1, 2]);
  });
});

describe('isRetryableAwsError', () => {
  it('retries throttling, 5xx and network failures', () => {
    for (const name of ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'InternalServerException', 'ServiceUnavailableException', 'RequestTimeout']) {
      expect(isRetryableAwsError(awsError(name, 400)), name).toBe(true);
    }
    expect(isRetryableAwsError(awsError('SomethingNew', 500))).toBe(true);
    expect(isRetryableAwsError(awsError('SomethingNew', 503))).toBe(true);
    expect(isRetryableAwsError({ $metadata: { httpStatusCode: 502 } })).toBe(true);
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']) {
      expect(isRetryableAwsError(Object.assign(new Error('failed'), { code })), code).toBe(true);
    }
    expect(isRetryableAwsError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableAwsError(new Error('read ECONNRESET'))).toBe(true);
  });

  it('does not retry client errors, timeouts of our own, or nothing at all', () => {
    expect(isRetryableAwsError(awsError('AccessDeniedException', 403))).toBe(false);
    expect(isRetryableAwsError(awsError('ValidationException', 400))).toBe(false);
    expect(isRetryableAwsError(awsError('InvalidRequestException', 400))).toBe(false);
    expect(isRetryableAwsError(awsError('AccessDeniedException'))).toBe(false);
    expect(isRetryableAwsError(awsError('ValidationException'))).toBe(false);
    expect(isRetryableAwsError(awsError('TimeoutError'))).toBe(false);
    expect(isRetryableAwsError(awsError('AbortError'))).toBe(false);
    expect(isRetryableAwsError(undefined)).toBe(false);
    expect(isRetryableAwsError(null)).toBe(false);
    expect(isRetryableAwsError('ThrottlingException')).toBe(false);
  });
});

describe('isThrottle', () => {
  it('tells throttling from other failures', () => {
    expect(isThrottle(awsError('ThrottlingException'))).toBe(true);
    expect(isThrottle(awsError('TooManyRequestsException'))).toBe(true);
    expect(isThrottle(awsError('Throttling'))).toBe(true);
    expect(isThrottle(awsError('ServiceUnavailable', 503))).toBe(false);
    expect(isThrottle(undefined)).toBe(false);
  });
});
