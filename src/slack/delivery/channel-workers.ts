import { sleep } from '../../util/clock.js';

/** What both queues are configured with. */
export interface ChannelPacing {
  /** Spacing between sends to one channel (Slack: about one message per second). */
  channelSpacingMs?: number;
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * One worker per Slack channel, each channel's sends spaced apart, a 429 holding its channel
 * until Retry-After: what the delivery queue (posts) and the update queue (edits) share.
 * Pacing and Retry-After are real time (Date.now), whatever clock the domain uses.
 */
export abstract class ChannelWorkers {
  private readonly workers = new Map<string, Promise<void>>();
  private readonly lastSentAt = new Map<string, number>();
  private readonly wakeups = new Set<() => void>();
  protected readonly stop = new AbortController();
  private readonly spacing: number;
  private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(pacing: ChannelPacing) {
    this.spacing = pacing.channelSpacingMs ?? 1100;
    this.wait = pacing.wait ?? sleep;
  }

  /** The channels with something to send. */
  protected abstract channelsWithPending(): string[];

  /** Sends a channel's work until there is none (or the queue stops). */
  protected abstract work(channel: string): Promise<void>;

  /** Starts a worker for every channel with work waiting, and wakes the paused ones. */
  kick(): void {
    if (this.stop.signal.aborted) return;
    for (const w of this.wakeups) w();
    for (const channel of this.channelsWithPending()) {
      if (!this.workers.has(channel)) {
        const run = this.work(channel).finally(() => this.workers.delete(channel));
        this.workers.set(channel, run);
      }
    }
  }

  /** Stops taking new work and waits for sends in flight to be recorded. */
  async close(): Promise<void> {
    this.stop.abort();
    for (const w of this.wakeups) w();
    await Promise.allSettled([...this.workers.values()]);
  }

  /** Kicks until `settled()` (true) or the timeout (false). */
  protected async drainUntil(settled: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.kick();
      if (settled()) return true;
      if (Date.now() > deadline || this.stop.signal.aborted) return false;
      await sleep(50);
    }
  }

  /** Waits `ms` (at most a minute), or until the next `kick`. */
  protected pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.wakeups.delete(done);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 60_000));
      this.wakeups.add(done);
    });
  }

  /** Waits until the channel's spacing allows a send, and counts one sent now. */
  protected async paceChannel(channel: string): Promise<void> {
    const since = Date.now() - (this.lastSentAt.get(channel) ?? 0);
    if (since < this.spacing) await this.wait(this.spacing - since, this.stop.signal);
    this.lastSentAt.set(channel, Date.now());
  }

  /** Slack said 429: nothing more goes to the channel before `until`. */
  protected holdChannel(channel: string, until: number): void {
    this.lastSentAt.set(channel, until);
  }
}
