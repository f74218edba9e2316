import { parseArgs } from 'node:util';
import { isWellFormedSessionId } from '../../records/athena-events.js';
import { activeSessions, activeSessionJson } from '../../reports/active-sessions.js';
import { activeSessionsDocument, sessionDocument } from '../../reports/session-document.js';
import { buildSessionReport, sessionJson } from '../../reports/session-report.js';
import { locateSession, notFoundMessage } from '../../sources/locate-session.js';
import { withDeadline } from '../../util/deadline.js';
import { NotFoundError, UsageError } from '../../util/errors.js';
import type { CliIO } from '../io.js';
import { displayOptions, printDocuments, printJson } from '../output.js';
import { createRuntime } from '../../runtime/runtime.js';

export const SESSION_USAGE = 'usage: athena-session-bot session ID [--json]';

export function malformedIdMessage(id: string): string {
  const shown = id.length > 60 ? id.slice(0, 60) + '…' : id;
  return `malformed session id ${JSON.stringify(shown)}: expected 8-4-4-4-12 hexadecimal digits, e.g. a2c1ebba-ad01-865f-ed2d-a142b7451f7e`;
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
      // Athena's own list first: it knows sessions whose start CloudTrail has not delivered yet.
      if (rt.enricher) await withDeadline(rt.enricher.refreshActive(rt.targets), 10_000, false);
      const active = activeSessions(rt.store, { ...model, now: io.clock.now() });
      if (values.json) printJson(io, active.map(activeSessionJson));
      else printDocuments(io, [activeSessionsDocument(active, displayOptions(rt.config, now))]);
      return 0;
    }
    if (!isWellFormedSessionId(id)) throw new UsageError(malformedIdMessage(id));
    const ac = new AbortController();
    const located = await withDeadline(locateSession({ ...rt, clock: io.clock }, id, ac.signal), 30_000, {
      known: rt.store.sessionKnown(id),
      athenaReachable: false,
      searched: { cloudTrailFailed: 'no answer within 30 s' },
    });
    ac.abort();
    if (!located.known) throw new NotFoundError(notFoundMessage(id, located));
    const report = buildSessionReport(rt.store, id, { ...model, now: io.clock.now() }, undefined, located.athenaReachable)!;
    if (values.json) printJson(io, sessionJson(report));
    else printDocuments(io, [sessionDocument(report, displayOptions(rt.config, io.clock.now()))]);
    return 0;
  } finally {
    rt.close();
  }
}
