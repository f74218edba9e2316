import { sleep, type Clock } from './clock.js';

/**
 * At most `limit` requests in any window of `windowMs` (a sliding window, not a bucket that
 * refills at once), callers served in arrival order. CloudTrail's LookupEvents allows 2
 * requests per second per account and region, retries included, and counts them when they
 * ARRIVE, which is some unknown time after we send them. `run()` therefore holds a request's
 * slot from its send until `windowMs` after its response: the server saw it at the latest
 * when it answered, so no three arrivals can ever fall within one window, whatever the
 * latency or jitter. `acquire()` holds a slot from the grant only (for callers with no
 * response to wait for).
 */
export class SlidingWindowLimiter {
  /** When each recent slot ended (Infinity while its request is in flight). */
  private readonly slots: Array<{ end: number }> = [];
  private queue: Promise<unknown> = Promise.resolve();
  private wake: (() => void) | undefined;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock = { now: () => Date.now() },
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {}

  /** Takes a slot that ends at once (it counts for `windowMs` from now). */
  acquire(): Promise<unknown> {
    // The queue's own promise: no extra hop between the grant and the caller.
    return this.enqueue(false);
  }

  /** Runs `fn` in a slot held until `windowMs` after it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const slot = await this.enqueue(true);
    try {
      return await fn();
    } finally {
      slot.end = this.clock.now();
      this.wake?.();
    }
  }

  private enqueue(inFlight: boolean): Promise<{ end: number }> {
    const turn = this.queue.then(() => this.take(inFlight));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async take(inFlight: boolean): Promise<{ end: number }> {
    for (;;) {
      const now = this.clock.now();
      for (let i = this.slots.length - 1; i >= 0; i--) if (this.slots[i]!.end <= now - this.windowMs) this.slots.splice(i, 1);
      if (this.slots.length < this.limit) {
        const slot = { end: inFlight ? Infinity : now };
        this.slots.push(slot);
        return slot;
      }
      const earliest = Math.min(...this.slots.map((s) => s.end));
      if (earliest === Infinity) {
        // Every slot is in flight: wait for a response.
        await Promise.race([new Promise<void>((r) => (this.wake = r)), this.wait(1000)]);
      } else {
        await this.wait(earliest + this.windowMs - now + 1);
      }
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
