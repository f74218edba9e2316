import { parseArgs } from 'node:util';
import { UsageError } from '../../util/errors.js';
import type { CliIO } from '../io.js';
import { createPollLoop, createRuntime } from '../../runtime/runtime.js';

export const POLL_USAGE = 'usage: athena-session-bot poll --once';

export async function pollCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { once: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (!values.once || positionals.length) throw new UsageError(`${POLL_USAGE} (use "start" to poll continuously)`);
  const rt = createRuntime(io, { needs: ['regions'], defaultLogLevel: 'warn' });
  try {
    const loop = createPollLoop(rt, io);
    const report = await loop.cycle(io.stopSignal);
    const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const r of report.results) {
      io.stdout.write(
        `${r.region}: ${r.backfill ? 'backfilled' : 'read'} ${iso(r.windowStart)} → ${iso(r.windowEnd)}: ${r.calls} LookupEvents call${r.calls === 1 ? '' : 's'} (${r.strategy}${r.switchedFrom ? `, switched from ${r.switchedFrom}` : ''}), ${r.fetched} records fetched, ${r.inserted} new, ${r.ignored} not Spark/notebook, ${r.rejected} malformed\n`,
      );
    }
    if (report.enrichment) {
      io.stdout.write(`athena: ${report.enrichment.calls} enrichment call${report.enrichment.calls === 1 ? '' : 's'}${report.enrichment.denied ? `, ${report.enrichment.denied} denied (answers stay unconfirmed)` : ''}\n`);
    }
    for (const f of report.failures) io.stderr.write(`athena-session-bot: ${f.region}: poll failed: ${f.error}\n`);
    return report.failures.length ? 1 : 0;
  } finally {
    rt.close();
  }
}
