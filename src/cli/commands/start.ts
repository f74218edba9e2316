import { parseArgs } from 'node:util';
import { PollLoop } from '../../schedule/poll-loop.js';
import { UsageError } from '../../util/errors.js';
import type { CliIO } from '../io.js';
import { createRuntime } from '../runtime.js';

export async function startCommand(argv: string[], io: CliIO): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
  if (positionals.length) throw new UsageError('usage: athena-session-bot start');
  const rt = createRuntime(io, { needs: ['regions'], defaultMetrics: true });
  const loop = new PollLoop({
    store: rt.store,
    source: rt.cloudTrail!,
    enricher: rt.enricher,
    clock: io.clock,
    logger: rt.logger,
    metrics: rt.metrics,
    regions: rt.config.regions,
    intervalSeconds: rt.config.pollIntervalSeconds,
    lookbackMinutes: rt.config.lookbackMinutes,
    backfillHours: rt.config.backfillHours,
    retentionDays: rt.config.retentionDays,
  });
  rt.logger.info({ regions: rt.config.regions, intervalSeconds: rt.config.pollIntervalSeconds }, 'starting');
  loop.start();
  await new Promise<void>((resolve) => {
    if (io.stopSignal?.aborted) return resolve();
    io.stopSignal?.addEventListener('abort', () => resolve(), { once: true });
  });
  rt.logger.info('stopping: finishing the poll write in flight');
  await loop.close();
  rt.close();
  rt.logger.info('stopped');
  return 0;
}
