import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ingestFiles } from '../../ingest/ingest-files.js';
import { digestDetailDocuments, digestDocument } from '../../reports/digest-document.js';
import { digestChartSpec } from '../../reports/digest-chart.js';
import { buildDigestReport } from '../../reports/digest-report.js';
import { activeSessionsDocument, sessionDocument } from '../../reports/session-document.js';
import { buildSessionReport } from '../../reports/session-report.js';
import { activeSessions } from '../../reports/active-sessions.js';
import { AppError, UsageError } from '../../util/errors.js';
import type { CliIO } from '../io.js';
import { displayOptions, printDocuments } from '../output.js';
import { createRuntime } from '../../runtime/runtime.js';

/** The bundled sample: a day of activity and the lighter week before it (see scripts/make-demo-samples.ts). */
export const SAMPLES_DIR = fileURLToPath(new URL('../../../samples/', import.meta.url));
const DEMO_DAY = '2026-11-02';
const DEMO_SESSION = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
/** The demo's "now": the morning after, when the digest would be posted. */
const DEMO_NOW = Date.parse('2026-11-03T09:00:00Z');
/** The sample's sessions carry a `team` tag: the demo groups by it unless DIGEST_GROUP_TAGS says otherwise. */
const DEMO_GROUP_TAGS = ['team'];

/**
 * Loads the sample into a temporary store and prints a session report and the digest, and
 * writes the digest's chart (`--chart FILE`, default a file in the temporary directory). No AWS, no Slack.
 */
export async function demoCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { chart: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length || values.chart === '') throw new UsageError('usage: athena-session-bot demo [--chart FILE.png]');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'athena-session-bot-demo-'));
  const rt = createRuntime(io, { aws: false, defaultLogLevel: 'warn', databasePath: path.join(dir, 'demo.sqlite') });
  try {
    const clock = { now: () => DEMO_NOW };
    const ingested = await ingestFiles([SAMPLES_DIR], { store: rt.store, clock });
    io.stdout.write(`Loaded ${ingested.inserted} sample CloudTrail records (${ingested.ignored} from other services skipped) into a temporary store.\n\n`);
    const model = { now: DEMO_NOW, longRunningMinutes: rt.config.longRunningMinutes, dpuHourPriceUsd: rt.config.dpuHourPriceUsd };
    const display = displayOptions(rt.config, DEMO_NOW);
    const report = buildSessionReport(rt.store, DEMO_SESSION, model, undefined, false)!;
    io.stdout.write(`$ athena-session-bot session ${DEMO_SESSION}\n`);
    printDocuments(io, [sessionDocument(report, display)]);
    const groupTags = rt.config.digestGroupTags.length ? rt.config.digestGroupTags : DEMO_GROUP_TAGS;
    const chartFile = values.chart ?? path.join(os.tmpdir(), `athena-session-bot-demo-digest-${DEMO_DAY}.png`);
    io.stdout.write(`\n$ ${rt.config.digestGroupTags.length ? '' : `DIGEST_GROUP_TAGS=${groupTags.join(',')} `}athena-session-bot digest --date ${DEMO_DAY} --chart ${chartFile}\n`);
    const digest = buildDigestReport(rt.store, { date: DEMO_DAY, timezone: rt.config.digest.timezone, now: DEMO_NOW, longRunningMinutes: model.longRunningMinutes, dpuHourPriceUsd: model.dpuHourPriceUsd, groupTags });
    const { renderPng } = await import('../../reports/chart-png.js');
    try {
      fs.writeFileSync(chartFile, await renderPng(digestChartSpec(digest)));
    } catch (err) {
      throw new AppError(`cannot write the chart to ${chartFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
    }
    printDocuments(io, [digestDocument(digest), ...digestDetailDocuments(digest, display)]);
    io.stdout.write(`\nchart written to ${chartFile}\n`);
    io.stdout.write(`\n$ athena-session-bot session   # sessions active at ${new Date(DEMO_NOW).toISOString()}\n`);
    printDocuments(io, [activeSessionsDocument(activeSessions(rt.store, model), display)]);
    return 0;
  } finally {
    rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
