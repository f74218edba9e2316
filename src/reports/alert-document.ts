import type { CalculationView, SessionView } from '../model/types.js';
import { formatDuration, formatTime, type DisplayOptions, type ReportDocument } from './document.js';
import { principalLabel } from './session-document.js';

export interface AlertItem {
  session: SessionView;
  calculation: CalculationView;
  confirmed: boolean;
}

/** Where a session lives: every alert names its account (many accounts watched). */
const where = (s: SessionView) => `${s.account ?? 'unknown account'} / ${s.region}`;

function confirmation(a: AlertItem): string {
  return a.confirmed
    ? `confirmed ${a.calculation.state} by Athena`
    : 'UNCONFIRMED: open per CloudTrail; Athena could not confirm it is still running';
}

/** One long-running calculation, or several found in the same cycle, as one alert message. */
export function alertDocument(items: readonly AlertItem[], o: DisplayOptions, thresholdMinutes: number): ReportDocument {
  if (items.length === 1) {
    const a = items[0]!;
    const c = a.calculation;
    const s = a.session;
    return {
      summary: `Long-running Athena calculation ${c.calculationId}: running ${formatDuration(c.runMs)} in session ${s.sessionId} (${s.owner ?? 'unknown owner'})${a.confirmed ? '' : ' — unconfirmed'}`,
      blocks: [
        { type: 'header', text: `Long-running calculation: ${formatDuration(c.runMs)}${a.confirmed ? '' : ' (unconfirmed)'}` },
        {
          type: 'fields',
          fields: [
            ['Calculation', c.calculationId],
            ['Session', s.sessionId],
            ['Owner', s.owner ?? 'unknown'],
            ['Workgroup', s.workgroup ?? 'unknown'],
            ['Account / region', where(s)],
            ['Started', formatTime(c.startedAt, o.timezone)],
            ['Status', confirmation(a)],
            ['Session DPUs', s.maxConcurrentDpus === null ? 'unknown' : `max ${s.maxConcurrentDpus}`],
          ],
        },
        { type: 'context', text: `Threshold ${thresholdMinutes} min. Follow-ups land in this thread. /athena-session ${s.sessionId} for the full report.` },
      ],
    };
  }
  const confirmed = items.filter((a) => a.confirmed).length;
  return {
    summary: `${items.length} long-running Athena calculations (${confirmed} confirmed)`,
    blocks: [
      { type: 'header', text: `${items.length} long-running calculations` },
      {
        type: 'list',
        title: `Running longer than ${thresholdMinutes} min`,
        items: items.map(
          (a) =>
            `${a.calculation.calculationId} — ${formatDuration(a.calculation.runMs)} in session ${a.session.sessionId} (${a.session.owner ?? 'unknown'}, ${a.session.workgroup ?? '?'}, ${where(a.session)}); ${confirmation(a)}`,
        ),
      },
      { type: 'context', text: 'Follow-ups for each calculation land in this thread.' },
    ],
  };
}

/** The reply that closes an alert: how the calculation (or its session) ended. */
export function followUpDocument(session: SessionView, c: CalculationView, o: DisplayOptions): ReportDocument {
  const ran = formatDuration(c.runMs);
  const at = formatTime(c.endedAt, o.timezone);
  let text: string;
  switch (c.endSource) {
    case 'athena':
      text =
        c.state === 'COMPLETED'
          ? `finished at ${at} after ${ran} (confirmed by Athena)`
          : c.state === 'FAILED'
            ? `failed at ${at} after ${ran} (confirmed by Athena)`
            : `stopped at ${at} after ${ran} (${c.state}, confirmed by Athena)`;
      break;
    case 'stop-record':
      text = `stopped at ${at} after ${ran} (StopCalculationExecution)`;
      break;
    case 'session-terminated':
      text = `session terminated at ${at}: the calculation ran at most ${ran} (unconfirmed)`;
      break;
    default:
      text =
        session.endReason === 'idle-timeout'
          ? // The calculation's inferred end is the session's last activity; the session timed out later.
            `session timed out idle (inferred, ${formatTime(session.endedAt ?? c.endedAt, o.timezone)}): the calculation ran at most ${ran}`
          : `session ended at ${at}: the calculation ran at most ${ran}`;
  }
  const who = session.owner ? ` — ${principalLabel(session.owner)}'s session` : '';
  return {
    summary: `${c.calculationId}: ${text}`,
    blocks: [{ type: 'text', text: `${c.calculationId}${who}: ${text}` }],
  };
}
