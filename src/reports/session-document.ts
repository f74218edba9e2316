import type { CalculationView, SessionView } from '../model/types.js';
import { formatDuration, formatNumber, formatTime, formatUsd, plural, type DisplayOptions, type DocBlock, type ReportDocument } from './document.js';
import type { SessionReport } from './session-report.js';
import type { ActiveSession } from './active-sessions.js';

const MAX_CALCULATIONS = 10;

/**
 * A caller as a person reads it. Calls from inside a session are signed by the execution role
 * as AthenaExecutor-<id>; some identity types need saying what they are.
 */
export function principalLabel(principal: string, type?: string | null): string {
  if (principal.startsWith('AthenaExecutor-')) return 'the notebook (execution role)';
  if (type === 'IdentityCenterUser') return `${principal} (Identity Center user)`;
  if (type === 'AWSService') return `${principal} (AWS service)`;
  if (type === 'WebIdentityUser') return `${principal} (web identity)`;
  if (type === 'SAMLUser') return `${principal} (SAML)`;
  if (type === 'FederatedUser') return `${principal} (federated user)`;
  return principal;
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
  const started = formatTime(c.startedAt, o.timezone);
  if (c.endIsUpperBound) {
    // Only the session's end bounds it: how long it ran and how it ended are not known.
    const flag = c.possiblyLongRunning ? 'MAYBE LONG-RUNNING ' : '';
    const by = c.endSource === 'session-terminated' ? 'TerminateSession' : 'the session';
    return `${flag}${c.calculationId} — ended by ${formatTime(c.endedAt, o.timezone)} at the latest (${by}), so ran at most ${run}; started ${started}, last seen ${formatTime(c.lastSeenAt, o.timezone)}; state unknown (unconfirmed)`;
  }
  const flag = c.longRunning ? 'LONG-RUNNING ' : '';
  const how = c.confirmed ? (c.endSource === 'stop-record' ? 'StopCalculationExecution record' : 'confirmed by Athena') : 'open per CloudTrail, not confirmed';
  const end = c.endedAt === null ? `running ${run}` : `ran ${run}`;
  return `${flag}${c.calculationId} — ${c.state}, ${end}, started ${started} (${how})`;
}

/** Long-running first, then the possibly long-running, then newest first. */
export function orderCalculations(calcs: readonly CalculationView[]): CalculationView[] {
  const rank = (c: CalculationView) => (c.longRunning ? 2 : c.possiblyLongRunning ? 1 : 0);
  return [...calcs].sort((a, b) => rank(b) - rank(a) || b.startedAt - a.startedAt);
}

function ownerLabel(v: SessionView): string {
  return v.owner ? principalLabel(v.owner, v.ownerType) : 'unknown (no StartSession record)';
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
        ['Owner', ownerLabel(v)],
        ['Workgroup', v.workgroup ?? 'unknown'],
        ['Account / region', `${v.account ?? 'unknown account'} / ${v.region}`],
        ['State', stateLabel(v)],
        ['Started', formatTime(v.startedAt, o.timezone)],
        ['Duration', duration],
        ['Engine', engineLabel(v)],
        ['DPU settings', dpu],
        ['DPU-hours', dpuHoursLabel(v)],
        ['Notebook', notebook],
        ...(Object.keys(v.tags).length ? [['Tags', Object.entries(v.tags).map(([k, val]) => `${k}=${val}`).join(', ')] as [string, string]] : []),
      ],
    },
  ];
  const links = [
    ...(report.consoleUrl ? [{ label: 'Open in the Athena console', url: report.consoleUrl }] : []),
    ...(report.sparkUiUrl ? [{ label: 'Spark UI', url: report.sparkUiUrl }] : []),
  ];
  if (links.length) blocks.push({ type: 'links', links });
  const calcs = orderCalculations(v.calculations);
  const longCount = calcs.filter((c) => c.longRunning).length;
  const maybeCount = calcs.filter((c) => c.possiblyLongRunning).length;
  blocks.push({
    type: 'list',
    title: `Calculations: ${calcs.length}${longCount ? `, ${longCount} long-running` : ''}${maybeCount ? `, ${maybeCount} possibly long-running (upper bounds only)` : ''}`,
    items: calcs.slice(0, MAX_CALCULATIONS).map((c) => calculationLine(c, o)),
    total: calcs.length,
  });
  if (v.failedCalls.length) {
    blocks.push({
      type: 'list',
      title: `Failed calls: ${v.failedCalls.length}`,
      items: v.failedCalls
        .slice(-MAX_FAILED)
        .map((f) => `${formatTime(f.eventTime, o.timezone)} ${f.eventName} — ${f.errorCode} by ${principalLabel(f.principal, f.principalType)}${f.errorMessage ? `: ${f.errorMessage.slice(0, 160)}` : ''}`),
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
  const notes: string[] = [plural(v.events, 'CloudTrail record'), `last activity ${v.lastActivityAt === null ? 'unknown' : formatTime(v.lastActivityAt, o.timezone)}`];
  if (!report.athenaReachable) notes.push('Athena API not consulted or not reachable: states and times come from CloudTrail and inference');
  blocks.push({ type: 'context', text: notes.join(' · ') });
  const summary = `Session ${v.sessionId}: ${stateLabel(v)}, owner ${v.owner ? principalLabel(v.owner, v.ownerType) : 'unknown'}, ${plural(calcs.length, 'calculation')}${longCount ? ` (${longCount} long-running)` : ''}`;
  return { summary, blocks };
}

const MAX_ACTIVE = 20;

/** The `/athena-session` listing of sessions active now. */
export function activeSessionsDocument(active: readonly ActiveSession[], o: DisplayOptions): ReportDocument {
  const sorted = [...active].sort((a, b) => (b.view.startedAt ?? 0) - (a.view.startedAt ?? 0));
  const items = sorted.slice(0, MAX_ACTIVE).map(({ view: v, startInCloudTrail }) => {
    const running = v.calculations.filter((c) => c.endedAt === null).length;
    const age = v.startedAt === null ? '' : `, up ${formatDuration(o.now - v.startedAt)}`;
    const who = v.owner ? principalLabel(v.owner, v.ownerType) : startInCloudTrail ? 'owner unknown' : 'owner not yet known (Athena lists it; CloudTrail has not delivered its start)';
    const dpus = v.maxConcurrentDpus === null ? '' : `, max ${v.maxConcurrentDpus} DPUs`;
    return `${v.sessionId} — ${who} in ${v.workgroup ?? '?'} (${v.region})${age}${dpus}, ${stateLabel(v)}${running ? `, ${plural(running, 'open calculation')}` : ''}`;
  });
  const more = sorted.length > MAX_ACTIVE ? ` and ${sorted.length - MAX_ACTIVE} more` : '';
  return {
    summary: `${plural(sorted.length, 'active Athena Spark session')}`,
    blocks: [
      { type: 'header', text: 'Active Athena Spark sessions' },
      sorted.length ? { type: 'list', title: `${sorted.length} active${more}`, items, total: sorted.length } : { type: 'text', text: 'No session is active now.' },
      { type: 'context', text: 'Use /athena-session <session-id> for a report.' },
    ],
  };
}
