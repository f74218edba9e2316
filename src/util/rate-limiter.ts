import { sleep, type Clock } from './clock.js';

/**
 * At most `limit` acquisitions in any window of `windowMs` (a sliding window, not a
 * bucket that refills at once), with callers served in arrival order. CloudTrail's
 * LookupEvents allows 2 requests per second per account and region, retries included,
 * so every attempt goes through one of these.
 */
export class SlidingWindowLimiter {
  private readonly granted: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = { now: () => Date.now() },
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {}

  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.take());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async take(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.granted.length && this.granted[0]! <= now - this.windowMs) this.granted.shift();
      if (this.granted.length < this.limit) {
        this.granted.push(now);
        return;
      }
      await this.wait(this.granted[0]! + this.windowMs - now + 1);
    }
  }
}

/** Memoises one value per key (a client or a limiter per region), made on first use. */
export function perKey<T>(make: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    let v = made.get(key);
    if (v === undefined) made.set(key, (v = make(key)));
    return v;
  };
}
