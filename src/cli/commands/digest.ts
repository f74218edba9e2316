import { parseArgs } from 'node:util';
import { isCalendarDate, localDate, previousDate } from '../../model/zoned-day.js';
import { digestDetailDocuments, digestDocument } from '../../reports/digest-document.js';
import { buildDigestReport, digestJson } from '../../reports/digest-report.js';
import { UsageError } from '../../util/errors.js';
import { confirmDigestDay } from '../../sources/athena/confirm-digest.js';
import type { CliIO } from '../io.js';
import { displayOptions, printDocuments, printJson } from '../output.js';
import { createRuntime, type Runtime } from '../../runtime/runtime.js';

/** How long a digest waits for Athena's confirmations before answering from what it has. */
const CONFIRM_DEADLINE_MS = 20_000;

export const DIGEST_USAGE = 'usage: athena-session-bot digest [--date YYYY-MM-DD] [--json] [--post]';

/** Hook the Slack layer registers so `digest --post` uses the same delivery as the bot. */
export type DigestPoster = (rt: Runtime, date: string) => Promise<string>;

export async function digestCommand(argv: string[], io: CliIO, post?: DigestPoster): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { date: { type: 'string' }, json: { type: 'boolean' }, post: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new UsageError(DIGEST_USAGE);
  if (values.date !== undefined && !isCalendarDate(values.date)) {
    throw new UsageError(`--date must be a calendar date as YYYY-MM-DD (got ${JSON.stringify(values.date.slice(0, 40))})`);
  }
  // With AWS configured, Athena confirms the day's sessions first; offline, the store answers, marked.
  const rt = createRuntime(io, { quickAws: true, defaultLogLevel: 'warn', needs: values.post ? ['slack-token', 'digest-channel'] : [] });
  try {
    const now = io.clock.now();
    const date = values.date ?? previousDate(localDate(now, rt.config.digest.timezone));
    if (values.post) {
      if (!post) throw new UsageError('--post is not available in this build');
      const outcome = await post(rt, date);
      io.stdout.write(outcome + '\n');
      return 0;
    }
    const opts = { date, timezone: rt.config.digest.timezone, now, longRunningMinutes: rt.config.longRunningMinutes, dpuHourPriceUsd: rt.config.dpuHourPriceUsd };
    if (rt.enricher) await confirmDigestDay(rt.store, rt.enricher, opts, CONFIRM_DEADLINE_MS, io.stopSignal);
    const digest = buildDigestReport(rt.store, { ...opts, now: io.clock.now() });
    if (values.json) printJson(io, digestJson(digest));
    else printDocuments(io, [digestDocument(digest), ...digestDetailDocuments(digest, displayOptions(rt.config, now))]);
    return 0;
  } finally {
    rt.close();
  }
}
