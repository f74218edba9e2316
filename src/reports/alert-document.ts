import type { CalculationView, SessionView } from '../model/types.js';
import { formatDuration, formatTime, type DisplayOptions, type DocBlock, type DocButton, type Inline, type ReportDocument } from './document.js';
import { liveAsOf } from './feed-document.js';
import { principalLabel } from './session-document.js';

export interface AlertItem {
  session: SessionView;
  calculation: CalculationView;
  /** Athena confirmed it running when it was alerted. */
  confirmed: boolean;
  /** The session's page in the Athena console and its Spark UI, when known. */
  consoleUrl?: string | null;
  sparkUiUrl?: string | null;
}

/** Where a session lives: every alert names its account (many accounts watched). */
const where = (s: SessionView) => `${s.account ?? 'unknown account'} / ${s.region}`;

/** Something a person did with the alert's buttons, as the alert shows it. */
export interface AlertAction {
  user: string;
  action: 'stop-calculation' | 'terminate-session';
  target: string;
  status: string;
  outcome: string | null;
  at: number;
}

/** What on-call did with an alert, and which buttons it offers. */
export interface AlertLiveState {
  /** The alert's outbox key: Acknowledge and Snooze carry it, so a press is checked against the message. */
  postKey: string;
  acknowledged?: { by: string; at: number };
  /** Shown only while it lasts. */
  snoozed?: { by: string; until: number };
  actions: readonly AlertAction[];
  /** Stop calculation / Terminate session buttons (ACTIONS_ENABLED). */
  actionsEnabled: boolean;
}

/** Action ids of the alert buttons: the Slack side dispatches on these. */
export const ALERT_ACTION = {
  acknowledge: 'alert_acknowledge',
  snooze: { '1h': 'alert_snooze_1h', '4h': 'alert_snooze_4h', '24h': 'alert_snooze_24h' },
  stopCalculation: 'alert_stop_calculation',
  terminateSession: 'alert_terminate_session',
  console: 'alert_open_console',
  sparkUi: 'alert_open_spark_ui',
} as const;

export const SNOOZE_HOURS = { '1h': 1, '4h': 4, '24h': 24 } as const;
export type SnoozeChoice = keyof typeof SNOOZE_HOURS;

/** The value a Stop or Terminate button carries: which calculation of which session. */
export interface ActionButtonValue {
  sessionId: string;
  calculationId?: string;
}

export const encodeActionValue = (v: ActionButtonValue) => JSON.stringify(v.calculationId ? { s: v.sessionId, c: v.calculationId } : { s: v.sessionId });

/** Grouped alerts offer per-calculation buttons for this many calculations (Slack allows 50 blocks). */
const MAX_ITEMS_WITH_BUTTONS = 12;
const MAX_ACTIONS_SHOWN = 5;

function confirmation(a: AlertItem): string {
  return a.confirmed
    ? `confirmed ${a.calculation.state} by Athena`
    : 'UNCONFIRMED: open per CloudTrail; Athena could not confirm it is still running';
}

/** How long it has run, in live steps while it runs (so the message changes when something happens). */
function runTime(c: CalculationView, now: number): string {
  return formatDuration(c.endedAt === null ? liveAsOf(now, c.startedAt) - c.startedAt : c.runMs);
}

/** Where the calculation stands: running (confirmed or not), or how it ended. */
function status(a: AlertItem, o: DisplayOptions): string {
  return a.calculation.endedAt === null ? confirmation(a) : endedText(a.session, a.calculation, o);
}

/** How a calculation (or its session) ended, as a person reads it. */
export function endedText(session: SessionView, c: CalculationView, o: Pick<DisplayOptions, 'timezone'>): string {
  const ran = formatDuration(c.runMs);
  const at = formatTime(c.endedAt, o.timezone);
  switch (c.endSource) {
    case 'athena':
      return c.state === 'COMPLETED'
        ? `finished at ${at} after ${ran} (confirmed by Athena)`
        : c.state === 'FAILED'
          ? `failed at ${at} after ${ran} (confirmed by Athena)`
          : `stopped at ${at} after ${ran} (${c.state}, confirmed by Athena)`;
    case 'stop-record':
      return `stopped at ${at} after ${ran} (StopCalculationExecution)`;
    case 'session-terminated':
      return `session terminated at ${at}: the calculation ran at most ${ran} (unconfirmed)`;
    default:
      return session.endReason === 'idle-timeout'
        ? // The calculation's inferred end is the session's last activity; the session timed out later.
          `session timed out idle (inferred, ${formatTime(session.endedAt ?? c.endedAt, o.timezone)}): the calculation ran at most ${ran}`
        : `session ended at ${at}: the calculation ran at most ${ran}`;
  }
}

const ACTION_WORDS: Record<AlertAction['action'], string> = { 'stop-calculation': 'stop calculation', 'terminate-session': 'terminate session' };

function linkButtons(a: AlertItem, withSparkUi: boolean): DocButton[] {
  return [
    ...(a.consoleUrl ? [{ kind: 'link' as const, actionId: ALERT_ACTION.console, label: 'Open in Athena console', url: a.consoleUrl }] : []),
    ...(withSparkUi && a.sparkUiUrl ? [{ kind: 'link' as const, actionId: ALERT_ACTION.sparkUi, label: 'Spark UI', url: a.sparkUiUrl }] : []),
  ];
}

/** Stop and Terminate for one calculation that still runs: red, and each asks first. */
function dangerButtons(a: AlertItem, now: number): DocButton[] {
  const c = a.calculation;
  const s = a.session;
  return [
    {
      kind: 'action',
      actionId: ALERT_ACTION.stopCalculation,
      label: 'Stop calculation',
      value: encodeActionValue({ sessionId: s.sessionId, calculationId: c.calculationId }),
      style: 'danger',
      confirm: { title: 'Stop this calculation?', text: `Athena will cancel calculation ${c.calculationId} (running ${runTime(c, now)}). Its work so far is lost.`, confirm: 'Stop it', deny: 'Cancel' },
    },
    {
      kind: 'action',
      actionId: ALERT_ACTION.terminateSession,
      label: 'Terminate session',
      value: encodeActionValue({ sessionId: s.sessionId }),
      style: 'danger',
      confirm: { title: 'Terminate this session?', text: `Athena will end session ${s.sessionId} of ${s.owner ?? 'its owner'} and every calculation in it.`, confirm: 'Terminate it', deny: 'Cancel' },
    },
  ];
}

/** Acknowledge and Snooze, while something still runs; Acknowledge goes once someone has. */
function onCallButtons(live: AlertLiveState): DocButton[] {
  return [
    ...(live.acknowledged ? [] : [{ kind: 'action' as const, actionId: ALERT_ACTION.acknowledge, label: 'Acknowledge', value: live.postKey, style: 'primary' as const }]),
    ...(['1h', '4h', '24h'] as const).map((choice): DocButton => ({ kind: 'action', actionId: ALERT_ACTION.snooze[choice], label: `Snooze ${SNOOZE_HOURS[choice]} h`, value: live.postKey })),
  ];
}

/** The lines that say who acknowledged, who snoozed, and what was asked of Athena. */
function stateLines(live: AlertLiveState, o: DisplayOptions): DocBlock[] {
  const out: DocBlock[] = [];
  if (live.acknowledged) out.push({ type: 'line', parts: ['Acknowledged by ', { user: live.acknowledged.by }, ` at ${formatTime(live.acknowledged.at, o.timezone)}: no reminders follow`] });
  if (live.snoozed && live.snoozed.until > o.now) {
    out.push({ type: 'line', parts: ['Snoozed by ', { user: live.snoozed.by }, ` until ${formatTime(live.snoozed.until, o.timezone)}: no new alert for its sessions until then`] });
  }
  for (const a of live.actions.slice(-MAX_ACTIONS_SHOWN)) {
    const outcome = a.status === 'started' ? 'asking Athena…' : (a.outcome ?? a.status);
    out.push({ type: 'line', small: true, parts: [{ user: a.user }, ` asked to ${ACTION_WORDS[a.action]} ${a.target} at ${formatTime(a.at, o.timezone)}: ${outcome}`] });
  }
  return out;
}

/**
 * One long-running calculation, or several found in the same cycle, as one alert message. With
 * `live` it is the message on-call works from: it tracks the calculations as they finish or are
 * stopped, says who acknowledged or snoozed it and what was asked of Athena, and carries the
 * buttons (Acknowledge, Snooze, console and Spark UI links; Stop and Terminate when enabled).
 */
export function alertDocument(items: readonly AlertItem[], o: DisplayOptions, thresholdMinutes: number, live?: AlertLiveState): ReportDocument {
  const running = items.filter((a) => a.calculation.endedAt === null);
  const blocks: DocBlock[] = [];
  let summary: string;
  if (items.length === 1) {
    const a = items[0]!;
    const c = a.calculation;
    const s = a.session;
    const open = c.endedAt === null;
    summary = open
      ? `Long-running Athena calculation ${c.calculationId}: running ${runTime(c, o.now)} in session ${s.sessionId} (${s.owner ?? 'unknown owner'})${a.confirmed ? '' : ' — unconfirmed'}`
      : `Long-running Athena calculation ${c.calculationId} in session ${s.sessionId}: ${endedText(s, c, o)}`;
    blocks.push(
      { type: 'header', text: open ? `Long-running calculation: ${runTime(c, o.now)}${a.confirmed ? '' : ' (unconfirmed)'}` : `Long-running calculation ended after ${formatDuration(c.runMs)}` },
      {
        type: 'fields',
        fields: [
          ['Calculation', c.calculationId],
          ['Session', s.sessionId],
          ['Owner', s.owner ?? 'unknown'],
          ['Workgroup', s.workgroup ?? 'unknown'],
          ['Account / region', where(s)],
          ['Started', formatTime(c.startedAt, o.timezone)],
          ['Status', status(a, o)],
          ['Session DPUs', s.maxConcurrentDpus === null ? 'unknown' : `max ${s.maxConcurrentDpus}`],
        ],
      },
    );
    if (live) {
      blocks.push(...stateLines(live, o));
      const buttons = [...(open ? onCallButtons(live) : []), ...linkButtons(a, true)];
      if (buttons.length) blocks.push({ type: 'actions', buttons });
      if (open && live.actionsEnabled) blocks.push({ type: 'actions', buttons: dangerButtons(a, o.now) });
    }
    blocks.push({ type: 'context', text: `Threshold ${thresholdMinutes} min. Follow-ups land in this thread. /athena-session ${s.sessionId} for the full report.` });
    return { summary, blocks };
  }
  const confirmed = items.filter((a) => a.confirmed).length;
  summary = `${items.length} long-running Athena calculations (${confirmed} confirmed)${running.length < items.length ? `, ${running.length} still running` : ''}`;
  blocks.push({ type: 'header', text: `${items.length} long-running calculations${running.length < items.length ? ` (${running.length} still running)` : ''}` });
  const line = (a: AlertItem) =>
    `${a.calculation.calculationId} — ${runTime(a.calculation, o.now)} in session ${a.session.sessionId} (${a.session.owner ?? 'unknown'}, ${a.session.workgroup ?? '?'}, ${where(a.session)}); ${status(a, o)}`;
  if (!live) {
    blocks.push({ type: 'list', title: `Running longer than ${thresholdMinutes} min`, items: items.map(line) });
  } else {
    // Each calculation with its own buttons, as far as Slack's 50 blocks allow; the rest listed.
    const withButtons = items.slice(0, MAX_ITEMS_WITH_BUTTONS);
    for (const a of withButtons) {
      blocks.push({ type: 'text', text: line(a) });
      const buttons = [...(a.calculation.endedAt === null && live.actionsEnabled ? dangerButtons(a, o.now) : []), ...linkButtons(a, false)];
      if (buttons.length) blocks.push({ type: 'actions', buttons });
    }
    if (items.length > withButtons.length) blocks.push({ type: 'list', title: 'More', items: items.slice(withButtons.length).map(line), total: items.length - withButtons.length });
    blocks.push(...stateLines(live, o));
    if (running.length) blocks.push({ type: 'actions', buttons: onCallButtons(live) });
  }
  blocks.push({ type: 'context', text: 'Follow-ups for each calculation land in this thread.' });
  return { summary, blocks };
}

/** The reply that closes an alert: how the calculation (or its session) ended. */
export function followUpDocument(session: SessionView, c: CalculationView, o: DisplayOptions): ReportDocument {
  const text = endedText(session, c, o);
  const who = session.owner ? ` — ${principalLabel(session.owner)}'s session` : '';
  return {
    summary: `${c.calculationId}: ${text}`,
    blocks: [{ type: 'text', text: `${c.calculationId}${who}: ${text}` }],
  };
}

/** A reminder in the thread of an alert nobody has acknowledged while its calculations still run. */
export function reminderDocument(items: readonly AlertItem[], o: DisplayOptions, n: number): ReportDocument {
  const open = items.filter((a) => a.calculation.endedAt === null);
  const longest = open.reduce((m, a) => Math.max(m, a.calculation.runMs), 0);
  const what = open.length === 1 ? `Calculation ${open[0]!.calculation.calculationId} is still running` : `${open.length} calculations are still running`;
  const text = `Reminder ${n}: ${what} (${formatDuration(longest)}) and nobody has acknowledged this alert. Acknowledge it to stop reminders, or snooze it.`;
  return { summary: text, blocks: [{ type: 'text', text }] };
}

/** The thread reply for a stop or terminate someone asked for: who, what, and what Athena said. */
export function actionReplyDocument(a: AlertAction, o: Pick<DisplayOptions, 'timezone'>): ReportDocument {
  const outcome = a.outcome ?? a.status;
  const parts: Inline[] = [{ user: a.user }, ` asked to ${ACTION_WORDS[a.action]} ${a.target} at ${formatTime(a.at, o.timezone)}: ${outcome}`];
  return { summary: `${ACTION_WORDS[a.action].replace(/^./, (c) => c.toUpperCase())} ${a.target}: ${outcome}`, blocks: [{ type: 'line', parts }] };
}
