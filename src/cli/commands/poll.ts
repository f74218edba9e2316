import { parseArgs } from 'node:util';
import { UsageError } from '../../util/errors.js';
import { plural } from '../../reports/document.js';
import { operatorAdvice } from '../../runtime/runtime.js';
import type { CliIO } from '../io.js';
import { createRuntime } from '../../runtime/runtime.js';
import { createPollLoop } from '../../runtime/watchers.js';
import type { PollFailure } from '../../schedule/poll-loop.js';

/** `us-east-1` with one account; `111122223333 us-east-1` with AWS_ROLE_ARNS. */
const targetLabel = (t: { account: string; region: string }) => (t.account ? `${t.account} ${t.region}` : t.region);

/** One line per failed target; an account whose role could not be assumed gets one line for all its regions. */
function failureLines(failures: readonly PollFailure[]): string[] {
  const lines: string[] = [];
  const refusedAccounts = new Map<string, { error: string; regions: string[] }>();
  for (const f of failures) {
    if (!f.assumeRole) {
      lines.push(`${targetLabel(f)}: poll failed: ${f.error}`);
      continue;
    }
    const a = refusedAccounts.get(f.account) ?? { error: f.error, regions: [] };
    a.regions.push(f.region);
    refusedAccounts.set(f.account, a);
  }
  for (const [account, a] of refusedAccounts) lines.push(`account ${account}: not polled (${a.regions.join(', ')}): ${a.error}`);
  return lines;
}

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
        `${targetLabel(r)}: ${r.backfill ? 'backfilled' : 'read'} ${iso(r.windowStart)} → ${iso(r.windowEnd)}: ${r.calls} LookupEvents call${r.calls === 1 ? '' : 's'} (${r.strategy}${r.switchedFrom ? `, switched from ${r.switchedFrom}` : ''}), ${r.fetched} records fetched, ${r.inserted} new, ${r.ignored} not Spark/notebook, ${r.rejected} malformed\n`,
      );
    }
    if (report.enrichment) {
      const ops = Object.entries(report.enrichment.callsByOperation).map(([op, n]) => `${op} ${n}`);
      io.stdout.write(`athena: ${plural(report.enrichment.calls, 'call')}${ops.length ? ` (${ops.join(', ')})` : ''}\n`);
    }
    // The bot's refused calls, live or come back through CloudTrail: a missing permission, said once.
    for (const line of operatorAdvice(rt, report.results.length ? Math.min(...report.results.map((r) => r.windowStart)) : 0)) io.stdout.write(`athena: ${line}\n`);
    for (const line of failureLines(report.failures)) io.stderr.write(`athena-session-bot: ${line}\n`);
    return report.failures.length ? 1 : 0;
  } finally {
    rt.close();
  }
}
