import type { Runtime } from '../../runtime/runtime.js';
import { Outbox } from '../../store/outbox.js';
import { AppError } from '../../util/errors.js';
import { DeliveryQueue } from '../delivery/delivery-queue.js';
import { createWebClient } from '../slack-client.js';
import { digestKey, enqueueDigest } from './post-digest.js';

/**
 * `digest --post`: the same recording and delivery the running bot uses, so a digest is
 * posted once per day whether the bot or a person posted it first.
 */
export async function postDigestCommand(rt: Runtime, date: string): Promise<string> {
  const outbox = new Outbox(rt.store);
  const key = digestKey(date);
  const before = outbox.get(key);
  if (before?.status === 'posted') return `the digest for ${date} was already posted to ${before.channel} (ts ${before.ts})`;
  enqueueDigest(rt.store, outbox, rt.config, date, Date.now());
  const keys = outbox.family(key);
  const delivery = new DeliveryQueue({ outbox, web: createWebClient(rt.config.slack.botToken!, rt.config.slack.apiUrl, rt.logger), logger: rt.logger, metrics: rt.metrics });
  const settled = await delivery.drain(keys, 120_000);
  await delivery.close();
  const main = outbox.get(key)!;
  if (main.status === 'posted' && settled) return `posted the digest for ${date} to ${main.channel} (ts ${main.ts}, ${keys.length - 1} thread repl${keys.length === 2 ? 'y' : 'ies'})`;
  throw new AppError(`the digest for ${date} could not be posted yet (${main.lastError ?? main.status}); it stays recorded and is retried by the running bot or the next --post`, 1);
}
