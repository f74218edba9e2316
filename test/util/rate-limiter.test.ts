import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { perKey, SlidingWindowLimiter } from '../../src/util/rate-limiter.js';

/** A clock the limiter's injected wait moves forward: no real time passes. */
function fakeTime(start = 0) {
  const clock = { t: start, now: () => clock.t };
  const waits: number[] = [];
  const wait = async (ms: number) => {
    waits.push(ms);
    clock.t += ms;
  };
  return { clock, wait, waits };
}

/** No more than `limit` grants in any half-open window of `windowMs`. */
function assertSlidingWindow(times: readonly number[], limit: number, windowMs: number): void {
  for (let i = 0; i + limit < times.length; i++) {
    expect(times[i + limit]! - times[i]!).toBeGreaterThanOrEqual(windowMs);
  }
}

describe('SlidingWindowLimiter', () => {
  it('grants `limit` at once, then one slot per expiry, in arrival order', async () => {
    const { clock, wait } = fakeTime(1_000);
    const limiter = new SlidingWindowLimiter(2, 1000, clock, wait);
    const order: number[] = [];
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        limiter.acquire().then(() => {
          order.push(i);
          times.push(clock.now());
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(times).toEqual([1000, 1000, 2001, 2001, 3002, 3002, 4003]);
    assertSlidingWindow(times, 2, 1000);
  });

  it('does not wait while under the limit', async () => {
    const { clock, wait, waits } = fakeTime();
    const limiter = new SlidingWindowLimiter(3, 1000, clock, wait);
    await limiter.acquire();
    clock.t += 400;
    await limiter.acquire();
    clock.t += 400;
    await limiter.acquire();
    expect(waits).toEqual([]);
    // The first grant (t=0) leaves the window at t=1000: the fourth waits until just after.
    await limiter.acquire();
    expect(clock.now()).toBe(1001);
  });

  it('never grants more than `limit` in any window, whatever the arrivals (property)', async () => {
    const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 2000 }),
        // Bursts of callers arriving together, separated by gaps of time.
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 1500 }), size: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 8 }),
        async (limit, windowMs, bursts) => {
          const { clock, wait } = fakeTime();
          const limiter = new SlidingWindowLimiter(limit, windowMs, clock, wait);
          const times: number[] = [];
          const arrivals: number[] = [];
          const order: number[] = [];
          const pending: Promise<void>[] = [];
          let previousArrival = 0;
          for (const burst of bursts) {
            // Let everything already granted settle, then move time on to the burst.
            await flush();
            clock.t = Math.max(clock.t, previousArrival + burst.gap);
            previousArrival = clock.t;
            for (let k = 0; k < burst.size; k++) {
              const i = arrivals.length;
              arrivals.push(clock.t);
              pending.push(
                limiter.acquire().then(() => {
                  order.push(i);
                  times.push(clock.now());
                }),
              );
            }
          }
          await Promise.all(pending);
          expect(order).toEqual(arrivals.map((_, i) => i));
          assertSlidingWindow(times, limit, windowMs);
          for (let i = 0; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(arrivals[i]!);
          // A caller waits only as long as the window requires (+1 ms).
          for (let i = 0; i < times.length; i++) {
            const earliest = Math.max(arrivals[i]!, i >= limit ? times[i - limit]! + windowMs : -Infinity);
            expect(times[i]).toBeLessThanOrEqual(Math.max(earliest + 1, times[i - 1] ?? -Infinity, arrivals[i]!));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps serving later callers when a wait fails', async () => {
    const { clock } = fakeTime();
    let fail = true;
    const wait = async (ms: number) => {
      if (fail) {
        fail = false;
        throw new Error('aborted');
      }
      clock.t += ms;
    };
    const limiter = new SlidingWindowLimiter(1, 100, clock, wait);
    await limiter.acquire();
    const second = limiter.acquire();
    const third = limiter.acquire();
    await expect(second).rejects.toThrow('aborted');
    await expect(third).resolves.toBeDefined();
    expect(clock.now()).toBe(101);
  });

  it('really waits with the default clock and sleep', async () => {
    const limiter = new SlidingWindowLimiter(2, 60);
    const started = Date.now();
    for (let i = 0; i < 4; i++) await limiter.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('perKey', () => {
  it('shares one limiter per key, made on first use', () => {
    const made: string[] = [];
    const limiterFor = perKey((key) => {
      made.push(key);
      return new SlidingWindowLimiter(2, 1000);
    });
    expect(made).toEqual([]);
    const a = limiterFor('123456789012:us-east-1');
    expect(limiterFor('123456789012:us-east-1')).toBe(a);
    expect(limiterFor('123456789012:eu-west-1')).not.toBe(a);
    expect(made).toEqual(['123456789012:us-east-1', '123456789012:eu-west-1']);
  });
});

describe('SlidingWindowLimiter.run', () => {
  it('holds a slot until a window after the response, so slow responses can never bunch arrivals', async () => {
    const { clock, wait } = fakeTime(0);
    const limiter = new SlidingWindowLimiter(2, 1000, clock, wait);
    const starts: number[] = [];
    // Each request takes 300 ms to answer; the server may see it at any moment in between.
    const request = () =>
      limiter.run(async () => {
        starts.push(clock.now());
        clock.t += 300;
      });
    await Promise.all([request(), request(), request(), request()]);
    // The third starts a full window after the first answered (300 + 1000), not after it was sent.
    expect(starts[2]! - (starts[0]! + 300)).toBeGreaterThanOrEqual(1000);
    expect(starts[3]! - (starts[1]! + 300)).toBeGreaterThanOrEqual(1000);
  });

  it('frees the slot when the request fails', async () => {
    const { clock, wait } = fakeTime(0);
    const limiter = new SlidingWindowLimiter(1, 1000, clock, wait);
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await limiter.run(async () => undefined);
    expect(clock.now()).toBe(1001);
  });
});
