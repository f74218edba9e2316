import cron, { type ScheduledTask } from 'node-cron';
import { localDate, previousDate } from '../../model/zoned-day.js';
import { DAY, HOUR, MINUTE } from '../../util/clock.js';
import type { PostingDeps } from '../delivery/posting-deps.js';
import { enqueueDigest, type DigestPeriodKind, type EnqueueDigestOptions } from './post-digest.js';

/** The digest a fire at instant `t` posts: the day before t's date in the digest time zone (for a weekly one, the 7 days ending it). */
export const digestDateFor = (t: number, timeZone: string) => previousDate(localDate(t, timeZone));

/** The latest minute at or before `now` (within `lookbackMs`, two days by default) that the schedule fires on. */
export function lastFireAt(task: Pick<ScheduledTask, 'match'>, now: number, lookbackMs = 48 * HOUR): number | undefined {
  let t = Math.floor(now / MINUTE) * MINUTE;
  for (const end = now - lookbackMs; t >= end; t -= MINUTE) {
    if (task.match(new Date(t))) return t;
  }
  return undefined;
}

export interface DigestSchedulerOptions extends PostingDeps {
  /** Asks Athena about a period's unconfirmed sessions before its digest is made. */
  confirm?: EnqueueDigestOptions['confirm'];
}

/** How far back a schedule's missed fire is looked for on start: a day's and a week's worth, with a day to spare. */
const LOOKBACK: Record<DigestPeriodKind, number> = { day: 2 * DAY, week: 8 * DAY };

/**
 * Posts the daily digest on DIGEST_CRON and, when DIGEST_WEEKLY_CRON is set, the weekly one,
 * in DIGEST_TIMEZONE. On start it posts the digest of each schedule's last fire if that fire
 * passed while the bot was down (and the store already existed then, so a first install does
 * not post a digest of a day it never watched).
 */
export class DigestScheduler {
  private readonly tasks = new Map<DigestPeriodKind, ScheduledTask>();

  constructor(private readonly o: DigestSchedulerOptions) {}

  /** Schedules the digests and catches up on missed ones (resolves when those are recorded). */
  async start(): Promise<void> {
    const { config, logger } = this.o;
    if (!config.digest.channel) return;
    const schedules: Array<[DigestPeriodKind, string | undefined]> = [
      ['day', config.digest.cron],
      ['week', config.weeklyDigestCron],
    ];
    for (const [period, expression] of schedules) {
      if (!expression) continue;
      const task = cron.schedule(expression, () => this.fire(this.o.clock.now(), period).then(() => undefined), {
        timezone: config.digest.timezone,
        name: period === 'week' ? 'weekly-digest' : 'daily-digest',
        noOverlap: true,
        logger: { info: () => undefined, debug: () => undefined, warn: (m) => logger.warn(String(m)), error: (m) => logger.error(String(m)) },
      });
      this.tasks.set(period, task);
    }
    await this.catchUp();
  }

  /** Posts the digest a fire at `at` is due to post; safe to call any number of times. */
  async fire(at: number, period: DigestPeriodKind = 'day'): Promise<string[]> {
    const { config, store, outbox, delivery, logger } = this.o;
    const date = digestDateFor(at, config.digest.timezone);
    try {
      const keys = await enqueueDigest(store, outbox, config, date, at, { period, logger, confirm: this.o.confirm });
      if (keys.length) logger.info({ date, period, posts: keys.length }, `${period === 'week' ? 'weekly' : 'daily'} digest recorded for posting`);
      return keys;
    } catch (err) {
      logger.error({ date, period, error: (err as Error).message }, 'the digest could not be made; the next fire or restart tries again');
      return [];
    } finally {
      delivery.kick();
    }
  }

  /** Records the digests whose last fire passed while the bot was down. */
  async catchUp(): Promise<string[]> {
    const now = this.o.clock.now();
    const keys: string[] = [];
    for (const [period, task] of this.tasks) {
      const fire = lastFireAt(task, now, LOOKBACK[period]);
      if (fire === undefined || this.o.outbox.storeCreatedAt() > fire) continue;
      keys.push(...(await this.fire(fire, period)));
    }
    return keys;
  }

  async stop(): Promise<void> {
    for (const task of this.tasks.values()) await task.destroy();
    this.tasks.clear();
  }
}
