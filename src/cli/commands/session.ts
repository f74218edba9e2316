import { parseArgs } from 'node:util';
import { isWellFormedSessionId } from '../../records/athena-events.js';
import { activeSessions } from '../../reports/active-sessions.js';
import { activeSessionsDocument, sessionDocument } from '../../reports/session-document.js';
import { buildSessionReport, sessionJson } from '../../reports/session-report.js';
import { findSessionInCloudTrail } from '../../sources/cloudtrail/find-session.js';
import { NotFoundError, UsageError } from '../../util/errors.js';
import type { CliIO } from '../io.js';
import { displayOptions, printDocuments, printJson, withDeadline } from '../output.js';
import { createRuntime, type Runtime } from '../runtime.js';

export const SESSION_USAGE = 'usage: athena-session-bot session ID [--json]';

export function malformedIdMessage(id: string): string {
  const shown = id.length > 60 ? id.slice(0, 60) + '…' : id;
  return `malformed session id ${JSON.stringify(shown)}: expected 8-4-4-4-12 hexadecimal digits, e.g. a2c1ebba-ad01-865f-ed2d-a142b7451f7e`;
}

/**
 * Finds a session in the store or, failing that, in CloudTrail, and asks Athena for its
 * current state. Shared by the CLI and Slack. Returns whether Athena could be asked.
 */
export async function locateSession(rt: Runtime, sessionId: string, io: Pick<CliIO, 'clock'>, signal?: AbortSignal): Promise<{ known: boolean; athenaReachable: boolean }> {
  const id = sessionId.toLowerCase();
  let known = rt.store.sessionKnown(id);
  if (!known && rt.cloudTrail) {
    known = await findSessionInCloudTrail(id, rt.config.regions, { store: rt.store, source: rt.cloudTrail, clock: io.clock, logger: rt.logger, metrics: rt.metrics }, signal).catch(
      (err: Error) => {
        rt.logger.warn({ sessionId: id, error: err.message }, 'live CloudTrail look-up failed');
        return false;
      },
    );
  }
  let athenaReachable = false;
  if (known && rt.enricher) {
    const region = rt.store.eventsForSession(id)[0]?.region ?? rt.config.regions[0]!;
    athenaReachable = await withDeadline(rt.enricher.enrichSessionNow(region, id, signal).catch(() => false), 8000, false);
  }
  return { known, athenaReachable };
}

export async function sessionCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length > 1) throw new UsageError(SESSION_USAGE);
  const id = positionals[0];
  const rt = createRuntime(io, { quickAws: true, defaultLogLevel: 'warn' });
  try {
    const now = io.clock.now();
    const model = { now, longRunningMinutes: rt.config.longRunningMinutes, dpuHourPriceUsd: rt.config.dpuHourPriceUsd };
    if (id === undefined) {
      const active = activeSessions(rt.store, model);
      if (values.json) printJson(io, active.map((v) => v.sessionId));
      else printDocuments(io, [activeSessionsDocument(active, displayOptions(rt.config, now))]);
      return 0;
    }
    if (!isWellFormedSessionId(id)) throw new UsageError(malformedIdMessage(id));
    const ac = new AbortController();
    const located = await withDeadline(locateSession(rt, id, io, ac.signal), 30_000, { known: rt.store.sessionKnown(id), athenaReachable: false });
    ac.abort();
    if (!located.known) {
      throw new NotFoundError(
        `session ${id.toLowerCase()} not found in the store${rt.cloudTrail ? ' nor in CloudTrail' : ' (set AWS_REGIONS to search CloudTrail too)'}`,
      );
    }
    const report = buildSessionReport(rt.store, id, { ...model, now: io.clock.now() }, undefined, located.athenaReachable)!;
    if (values.json) printJson(io, sessionJson(report));
    else printDocuments(io, [sessionDocument(report, displayOptions(rt.config, io.clock.now()))]);
    return 0;
  } finally {
    rt.close();
  }
}
