import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingestFiles } from '../../ingest/ingest-files.js';
import { digestDetailDocuments, digestDocument } from '../../reports/digest-document.js';
import { buildDigestReport } from '../../reports/digest-report.js';
import { activeSessionsDocument, sessionDocument } from '../../reports/session-document.js';
import { buildSessionReport } from '../../reports/session-report.js';
import { activeSessions } from '../../reports/active-sessions.js';
import { UsageError } from '../../util/errors.js';
import type { CliIO } from '../io.js';
import { displayOptions, printDocuments } from '../output.js';
import { createRuntime } from '../../runtime/runtime.js';

/** The bundled sample: one day of activity (see scripts/make-demo-samples.ts). */
export const SAMPLES_DIR = fileURLToPath(new URL('../../../samples/', import.meta.url));
const DEMO_DAY = '2026-11-02';
const DEMO_SESSION = 'a2c1ebba-ad01-865f-ed2d-a142b7451f7e';
/** The demo's "now": the morning after, when the digest would be posted. */
const DEMO_NOW = Date.parse('2026-11-03T09:00:00Z');

/** Loads the sample into a temporary store and prints a session report and the digest. No AWS, no Slack. */
export async function demoCommand(argv: string[], io: CliIO): Promise<number> {
  if (argv.length) throw new UsageError('usage: athena-session-bot demo');
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
    io.stdout.write(`\n$ athena-session-bot digest --date ${DEMO_DAY}\n`);
    const digest = buildDigestReport(rt.store, { date: DEMO_DAY, timezone: rt.config.digest.timezone, now: DEMO_NOW, longRunningMinutes: model.longRunningMinutes, dpuHourPriceUsd: model.dpuHourPriceUsd });
    printDocuments(io, [digestDocument(digest), ...digestDetailDocuments(digest, display)]);
    io.stdout.write(`\n$ athena-session-bot session   # sessions active at ${new Date(DEMO_NOW).toISOString()}\n`);
    printDocuments(io, [activeSessionsDocument(activeSessions(rt.store, model), display)]);
    return 0;
  } finally {
    rt.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
