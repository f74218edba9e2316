import type { CalculationView, SessionView } from '../model/types.js';
import { formatDuration, formatNumber, formatTime, formatUsd, type DisplayOptions, type DocBlock, type ReportDocument } from './document.js';
import type { SessionReport } from './session-report.js';

const MAX_CALCULATIONS = 10;

/** Calls from inside a session are signed by the execution role as AthenaExecutor-<id>. */
export function principalLabel(principal: string): string {
  return principal.startsWith('AthenaExecutor-') ? 'the notebook (execution role)' : principal;
}
const MAX_TIMELINE = 15;
const MAX_FAILED = 10;

export function stateLabel(v: SessionView): string {
  switch (v.stateSource) {
    case 'athena':
      return `${v.state} (confirmed by Athena)`;
    case 'cloudtrail':
      return v.state === 'TERMINATED' ? 'TERMINATED (TerminateSession record)' : `${v.state} (from CloudTrail; not confirmed)`;
    case 'inferred':
      return v.endReason === 'idle-timeout' ? `TERMINATED (inferred: idle ${v.idleTimeoutMinutes}m timeout)` : `${v.state} (inferred)`;
  }
}

export function dpuHoursLabel(v: SessionView): string {
  if (v.dpuHours === null) return 'unknown';
  const cost = v.estimatedCostUsd === null ? '' : ` ≈ ${formatUsd(v.estimatedCostUsd)}`;
  return v.dpuHoursKind === 'measured'
    ? `${formatNumber(v.dpuHours, 2)} (measured by Athena)${cost}`
    : `at most ${formatNumber(v.dpuHours, 2)} (upper bound: max DPUs × duration)${cost}`;
}

function engineLabel(v: SessionView): string {
  return v.engine === 'spark-connect' ? 'Apache Spark 3.5 (Spark Connect)' : v.engine === 'pyspark' ? 'PySpark engine (notebook)' : 'unknown';
}

export function calculationLine(c: CalculationView, o: DisplayOptions): string {
  const run = formatDuration(c.runMs);
  const flag = c.longRunning ? 'LONG-RUNNING ' : '';
  const how = c.confirmed
    ? 'confirmed'
    : c.endSource === 'session-terminated'
      ? `ended by TerminateSession at the latest, last seen ${formatTime(c.lastSeenAt, o.timezone)}; unconfirmed`
      : c.endSource === 'session-ended'
        ? `ended with the session at the latest, last seen ${formatTime(c.lastSeenAt, o.timezone)}; inferred`
        : 'open per CloudTrail, not confirmed';
  const end = c.endedAt === null ? `running ${run}` : `ran ${run}`;
  return `${flag}${c.calculationId} — ${c.state}, ${end}, started ${formatTime(c.startedAt, o.timezone)} (${how})`;
}

/** Long-running first, then newest first. */
export function orderCalculations(calcs: readonly CalculationView[]): CalculationView[] {
  return [...calcs].sort((a, b) => Number(b.longRunning) - Number(a.longRunning) || b.startedAt - a.startedAt);
}

export function sessionDocument(report: SessionReport, o: DisplayOptions): ReportDocument {
  const v = report.view;
  const end = v.endedAt ?? o.now;
  const duration = v.startedAt === null ? 'unknown' : `${formatDuration(end - v.startedAt)}${v.endedAt === null ? ' so far' : ''}`;
  const notebook = v.notebookId ? `${report.notebookNames[v.notebookId] ? report.notebookNames[v.notebookId] + ' ' : ''}(${v.notebookId})` : 'none';
  const dpu =
    v.maxConcurrentDpus === null
      ? 'unknown'
      : `max ${v.maxConcurrentDpus} DPUs, coordinator ${v.coordinatorDpuSize ?? '?'}, executor ${v.defaultExecutorDpuSize ?? '?'}`;
  const blocks: DocBlock[] = [
    { type: 'header', text: `Athena session ${v.sessionId}` },
    {
      type: 'fields',
      fields: [
        ['Owner', v.owner ?? 'unknown (no StartSession record)'],
        ['Workgroup', v.workgroup ?? 'unknown'],
        ['Region', v.region],
        ['State', stateLabel(v)],
        ['Started', formatTime(v.startedAt, o.timezone)],
        ['Duration', duration],
        ['Engine', engineLabel(v)],
        ['DPU settings', dpu],
        ['DPU-hours', dpuHoursLabel(v)],
        ['Notebook', notebook],
      ],
    },
  ];
  const calcs = orderCalculations(v.calculations);
  const longCount = calcs.filter((c) => c.longRunning).length;
  blocks.push({
    type: 'list',
    title: `Calculations: ${calcs.length}${longCount ? `, ${longCount} long-running` : ''}`,
    items: calcs.slice(0, MAX_CALCULATIONS).map((c) => calculationLine(c, o)),
    total: calcs.length,
  });
  if (v.failedCalls.length) {
    blocks.push({
      type: 'list',
      title: `Failed calls: ${v.failedCalls.length}`,
      items: v.failedCalls
        .slice(-MAX_FAILED)
        .map((f) => `${formatTime(f.eventTime, o.timezone)} ${f.eventName} — ${f.errorCode} by ${principalLabel(f.principal)}${f.errorMessage ? `: ${f.errorMessage.slice(0, 160)}` : ''}`),
      total: v.failedCalls.length,
    });
  }
  const timeline = v.timeline.slice(-MAX_TIMELINE);
  blocks.push({
    type: 'list',
    title: 'Timeline',
    items: timeline.map((t) => {
      const who = t.principal ? ` by ${principalLabel(t.principal)}` : '';
      const times = t.count > 1 ? ` ×${t.count}` : '';
      const err = t.errorCode ? ` — failed: ${t.errorCode}` : '';
      const calc = t.calculationId ? ` ${t.calculationId}` : '';
      const caller = o.showCallerDetails && (t.sourceIp || t.accessKeyId) ? ` [${[t.sourceIp, t.accessKeyId].filter(Boolean).join(', ')}]` : '';
      return `${formatTime(t.at, o.timezone)} ${t.what}${calc}${times}${who}${err}${caller}`;
    }),
    total: v.timeline.length,
  });
  const notes: string[] = [`${v.events} CloudTrail records`, `last activity ${formatTime(v.lastActivityAt, o.timezone)}`];
  if (!report.athenaReachable) notes.push('Athena API not consulted or not reachable: states and times come from CloudTrail and inference');
  blocks.push({ type: 'context', text: notes.join(' · ') });
  const summary = `Session ${v.sessionId}: ${stateLabel(v)}, owner ${v.owner ?? 'unknown'}, ${calcs.length} calculation${calcs.length === 1 ? '' : 's'}${longCount ? ` (${longCount} long-running)` : ''}`;
  return { summary, blocks };
}

const MAX_ACTIVE = 20;

/** The `/athena-session` listing of sessions active now. */
export function activeSessionsDocument(views: readonly SessionView[], o: DisplayOptions): ReportDocument {
  const sorted = [...views].sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  const items = sorted.slice(0, MAX_ACTIVE).map((v) => {
    const running = v.calculations.filter((c) => c.endedAt === null).length;
    const age = v.startedAt === null ? '' : `, up ${formatDuration(o.now - v.startedAt)}`;
    return `${v.sessionId} — ${v.owner ?? 'unknown'} in ${v.workgroup ?? '?'} (${v.region})${age}, ${stateLabel(v)}${running ? `, ${running} open calculation${running === 1 ? '' : 's'}` : ''}`;
  });
  const more = sorted.length > MAX_ACTIVE ? ` and ${sorted.length - MAX_ACTIVE} more` : '';
  return {
    summary: `${sorted.length} active Athena Spark session${sorted.length === 1 ? '' : 's'}`,
    blocks: [
      { type: 'header', text: 'Active Athena Spark sessions' },
      sorted.length ? { type: 'list', title: `${sorted.length} active${more}`, items, total: sorted.length } : { type: 'text', text: 'No session is active now.' },
      { type: 'context', text: 'Use /athena-session <session-id> for a report.' },
    ],
  };
}
