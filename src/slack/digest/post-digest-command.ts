import type { Runtime } from '../../runtime/runtime.js';
import { Outbox } from '../../store/outbox.js';
import { AppError } from '../../util/errors.js';
import { DeliveryQueue } from '../delivery/delivery-queue.js';
import { createWebClient } from '../slack-client.js';
import { digestKey, enqueueDigest, type DigestPeriodKind } from './post-digest.js';

/**
 * `digest --post` (with `--week`, the weekly digest): the same recording and delivery the
 * running bot uses, so a digest is posted once whether the bot or a person posted it first.
 */
export async function postDigestCommand(rt: Runtime, date: string, period: DigestPeriodKind = 'day'): Promise<string> {
  const outbox = new Outbox(rt.store);
  const key = digestKey(date, period);
  const name = period === 'week' ? `the weekly digest for the week ending ${date}` : `the digest for ${date}`;
  const before = outbox.get(key);
  // Posted whole before: nothing to do. Posted in part (a run stopped mid-thread): finish it.
  if (before?.status === 'posted' && outbox.family(key).every((k) => outbox.get(k)?.status !== 'pending')) {
    return `${name} was already posted to ${before.channel} (ts ${before.ts})`;
  }
  await enqueueDigest(rt.store, outbox, rt.config, date, Date.now(), { period, logger: rt.logger });
  const keys = outbox.family(key);
  const delivery = new DeliveryQueue({ outbox, web: createWebClient(rt.config.slack.botToken!, rt.config.slack.apiUrl, rt.logger), logger: rt.logger, metrics: rt.metrics });
  const settled = await delivery.drain(keys, 120_000);
  await delivery.close();
  const main = outbox.get(key)!;
  const chart = keys.some((k) => outbox.get(k)?.kind === 'digest-chart' && outbox.get(k)?.status === 'posted') ? ', its chart' : '';
  const replies = keys.filter((k) => outbox.get(k)?.kind === 'digest-reply').length;
  if (main.status === 'posted' && settled) return `posted ${name} to ${main.channel} (ts ${main.ts}${chart}, ${replies} thread repl${replies === 1 ? 'y' : 'ies'})`;
  throw new AppError(`${name} could not be posted yet (${main.lastError ?? main.status}); it stays recorded and is retried by the running bot or the next --post`, 1);
}
