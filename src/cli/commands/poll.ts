import { parseArgs } from 'node:util';
import { UsageError } from '../../util/errors.js';
import { plural } from '../../reports/document.js';
import { operatorAdvice } from '../../runtime/runtime.js';
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
      const ops = Object.entries(report.enrichment.callsByOperation).map(([op, n]) => `${op} ${n}`);
      io.stdout.write(`athena: ${plural(report.enrichment.calls, 'call')}${ops.length ? ` (${ops.join(', ')})` : ''}\n`);
    }
    // The bot's refused calls, live or come back through CloudTrail: a missing permission, said once.
    for (const line of operatorAdvice(rt, report.results.length ? Math.min(...report.results.map((r) => r.windowStart)) : 0)) io.stdout.write(`athena: ${line}\n`);
    for (const f of report.failures) io.stderr.write(`athena-session-bot: ${f.region}: poll failed: ${f.error}\n`);
    return report.failures.length ? 1 : 0;
  } finally {
    rt.close();
  }
}
