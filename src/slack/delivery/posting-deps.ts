import type { Config } from '../../config/config.js';
import type { Outbox } from '../../store/outbox.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import type { DeliveryQueue } from './delivery-queue.js';

/** What a job that posts to Slack through the outbox (digest, alerts) is given. */
export interface PostingDeps {
  store: Store;
  outbox: Outbox;
  delivery: DeliveryQueue;
  config: Config;
  clock: Clock;
  logger: Logger;
}
