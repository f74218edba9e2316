import cron, { type ScheduledTask } from 'node-cron';
import { localDate, previousDate } from '../../model/zoned-day.js';
import { HOUR, MINUTE } from '../../util/clock.js';
import type { PostingDeps } from '../delivery/posting-deps.js';
import { enqueueDigest } from './post-digest.js';

/** The digest a fire at instant `t` posts: the day before t's date in the digest time zone. */
export const digestDateFor = (t: number, timeZone: string) => previousDate(localDate(t, timeZone));

/** The latest minute at or before `now` (within two days) that the schedule fires on. */
export function lastFireAt(task: Pick<ScheduledTask, 'match'>, now: number): number | undefined {
  let t = Math.floor(now / MINUTE) * MINUTE;
  for (const end = now - 48 * HOUR; t >= end; t -= MINUTE) {
    if (task.match(new Date(t))) return t;
  }
  return undefined;
}

export type DigestSchedulerOptions = PostingDeps;

/**
 * Posts the daily digest on DIGEST_CRON in DIGEST_TIMEZONE. On start it posts the digest of
 * the last scheduled fire if that fire passed while the bot was down (and the store already
 * existed then, so a first install does not post a digest of a day it never watched).
 */
export class DigestScheduler {
  private task: ScheduledTask | undefined;

  constructor(private readonly o: DigestSchedulerOptions) {}

  start(): void {
    const { config, logger } = this.o;
    if (!config.digest.channel) return;
    this.task = cron.schedule(config.digest.cron, () => this.fire(this.o.clock.now()), {
      timezone: config.digest.timezone,
      name: 'daily-digest',
      noOverlap: true,
      logger: { info: () => undefined, debug: () => undefined, warn: (m) => logger.warn(String(m)), error: (m) => logger.error(String(m)) },
    });
    this.catchUp();
  }

  /** Posts the digest a fire at `at` is due to post; safe to call any number of times. */
  fire(at: number): string[] {
    const { config, store, outbox, delivery, logger } = this.o;
    const date = digestDateFor(at, config.digest.timezone);
    const keys = enqueueDigest(store, outbox, config, date, at);
    if (keys.length) logger.info({ date, posts: keys.length }, 'daily digest recorded for posting');
    delivery.kick();
    return keys;
  }

  catchUp(): string[] {
    if (!this.task) return [];
    const now = this.o.clock.now();
    const fire = lastFireAt(this.task, now);
    if (fire === undefined || this.o.outbox.storeCreatedAt() > fire) return [];
    return this.fire(fire);
  }

  async stop(): Promise<void> {
    await this.task?.destroy();
    this.task = undefined;
  }
}
