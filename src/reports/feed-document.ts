import type { SessionView } from '../model/types.js';
import { formatDuration, formatNumber, formatTime, formatUsd, plural, type DisplayOptions, type DocBlock, type ReportDocument } from './document.js';
import { dpuHoursLabel, principalLabel, stateLabel } from './session-document.js';
import type { SessionReport } from './session-report.js';

/**
 * Run times of what is still running are shown in steps of this size, so that a live message
 * changes (and costs a chat.update) when something happens, not every minute of the clock.
 */
export const LIVE_STEP_MS = 5 * 60_000;

/** The moment a still-running figure is shown "as of": `now`, rounded down to the live step (never before `from`). */
export function liveAsOf(now: number, from: number | null): number {
  const stepped = Math.floor(now / LIVE_STEP_MS) * LIVE_STEP_MS;
  return from === null ? stepped : Math.max(from, stepped);
}

function engineLabel(v: SessionView): string {
  return v.engine === 'spark-connect' ? 'Apache Spark 3.5 (Spark Connect)' : v.engine === 'pyspark' ? 'PySpark (notebook)' : 'unknown';
}

/** DPU-hours of a session for a live message: while it runs, an upper bound grows in live steps. */
function liveDpuHours(v: SessionView, asOf: number, price: number): string {
  if (v.endedAt !== null || v.dpuHoursKind !== 'upper-bound' || v.maxConcurrentDpus === null || v.startedAt === null) return dpuHoursLabel(v);
  const hours = (v.maxConcurrentDpus * Math.max(0, asOf - v.startedAt)) / 3_600_000;
  return `at most ${formatNumber(hours, 2)} so far (upper bound: max DPUs × duration) ≈ ${formatUsd(hours * price)}`;
}

/**
 * The live feed's message for one session (SPEC §5): who started it where, with what engine,
 * DPU settings and notebook; then, as it runs and ends, its state, calculations, run time,
 * DPU-hours and estimated cost. Times that still run are shown in live steps.
 */
export function sessionFeedDocument(report: SessionReport, o: DisplayOptions & { dpuHourPriceUsd: number }): ReportDocument {
  const v = report.view;
  const owner = v.owner ? principalLabel(v.owner, v.ownerType) : 'unknown owner';
  const running = v.endedAt === null;
  const asOf = running ? liveAsOf(o.now, v.startedAt) : (v.endedAt as number);
  const runTime = v.startedAt === null ? 'unknown' : running ? `${formatDuration(asOf - v.startedAt)} so far` : formatDuration(asOf - v.startedAt);
  const notebookName = v.notebookId ? report.notebookNames[v.notebookId] : undefined;
  const notebook = v.notebookId ? `${notebookName ? `${notebookName} ` : ''}(${v.notebookId})` : v.engine === 'spark-connect' ? 'none (Spark Connect)' : 'none';
  const dpu =
    v.maxConcurrentDpus === null ? 'unknown' : `max ${v.maxConcurrentDpus} DPUs, coordinator ${v.coordinatorDpuSize ?? '?'}, executor ${v.defaultExecutorDpuSize ?? '?'}`;
  const open = v.calculations.filter((c) => c.endedAt === null).length;
  const long = v.calculations.filter((c) => c.longRunning).length;
  const calcs = v.calculations.length === 0 ? 'none yet' : `${v.calculations.length}${open ? `, ${open} running` : ''}${long ? `, ${long} long-running` : ''}`;
  const blocks: DocBlock[] = [
    { type: 'header', text: `${running ? 'Athena session running' : 'Athena session ended'}: ${owner} in ${v.workgroup ?? 'unknown workgroup'}` },
    {
      type: 'fields',
      fields: [
        ['Owner', owner],
        ['Workgroup', v.workgroup ?? 'unknown'],
        ['Account / region', `${v.account ?? 'unknown account'} / ${v.region}`],
        ['Engine', engineLabel(v)],
        ['DPU settings', dpu],
        ['Notebook', notebook],
        ['State', stateLabel(v)],
        ['Run time', runTime],
        ['Calculations', calcs],
        ['DPU-hours', liveDpuHours(v, asOf, o.dpuHourPriceUsd)],
      ],
    },
  ];
  const links = [
    ...(report.consoleUrl ? [{ label: 'Open in the Athena console', url: report.consoleUrl }] : []),
    ...(report.sparkUiUrl ? [{ label: 'Spark UI', url: report.sparkUiUrl }] : []),
  ];
  if (links.length) blocks.push({ type: 'links', links });
  blocks.push({ type: 'context', text: `Session ${v.sessionId} · started ${formatTime(v.startedAt, o.timezone)} · /athena-session ${v.sessionId} for the full report` });
  const summary = running
    ? `Athena session started by ${owner} in ${v.workgroup ?? 'unknown workgroup'} (${v.region}): ${v.sessionId}`
    : `Athena session ${v.sessionId} by ${owner} ended: ${stateLabel(v)}, ran ${runTime}`;
  return { summary, blocks };
}

/** A notebook import, creation or deletion as the feed announces it. */
export interface NotebookFeedEvent {
  eventName: string;
  principal: string;
  principalType: string | null;
  notebookId: string | null;
  notebookName: string | null;
  workgroup: string | null;
  account: string | null;
  region: string;
  at: number;
}

const VERBS: Record<string, string> = { ImportNotebook: 'imported', CreateNotebook: 'created', DeleteNotebook: 'deleted' };

/** One notebook event as one line: who did what to which notebook, where and when. */
export function notebookLine(e: NotebookFeedEvent, o: Pick<DisplayOptions, 'timezone'>): string {
  const what = e.notebookName ? `notebook ${e.notebookName}${e.notebookId ? ` (${e.notebookId})` : ''}` : `notebook ${e.notebookId ?? '(id unknown)'}`;
  const where = `${e.workgroup ? ` in ${e.workgroup}` : ''} (${e.account ?? 'unknown account'} / ${e.region})`;
  return `${principalLabel(e.principal, e.principalType)} ${VERBS[e.eventName] ?? e.eventName} ${what}${where} at ${formatTime(e.at, o.timezone)}`;
}

/** Most notebook lines one grouped message lists (the rest are counted). */
const MAX_GROUPED_LINES = 40;

/** The feed's message for notebook events: a line for one, a grouped list for many that arrived together. */
export function notebookFeedDocument(events: readonly NotebookFeedEvent[], o: Pick<DisplayOptions, 'timezone'>): ReportDocument {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  if (sorted.length === 1) {
    const line = notebookLine(sorted[0]!, o);
    return { summary: line, blocks: [{ type: 'text', text: line }] };
  }
  const counts = new Map<string, number>();
  for (const e of sorted) counts.set(e.eventName, (counts.get(e.eventName) ?? 0) + 1);
  const tally = [...counts].map(([name, n]) => `${n} ${VERBS[name] ?? name}`).join(', ');
  return {
    summary: `${plural(sorted.length, 'notebook event')}: ${tally}`,
    blocks: [
      { type: 'header', text: `${plural(sorted.length, 'notebook event')}` },
      { type: 'list', title: tally, items: sorted.slice(0, MAX_GROUPED_LINES).map((e) => notebookLine(e, o)), total: sorted.length },
    ],
  };
}
