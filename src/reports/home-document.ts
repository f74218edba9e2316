import { formatDuration, formatNumber, formatTime, formatUsd, plural, type DisplayOptions, type DocBlock, type ReportDocument } from './document.js';
import { liveAsOf } from './feed-document.js';
import type { HomeReport } from './home-report.js';
import { principalLabel, stateLabel } from './session-document.js';

/** Most sessions and calculations listed per section (a view holds 100 blocks; a section 3,000 characters). */
const MAX_LISTED = 20;

/**
 * The App Home tab (SPEC §5): the sessions active now (owner, workgroup, age, DPUs), the open
 * long-running calculations, today's sessions with their DPU-hours and estimated cost, and the
 * top spenders of the day.
 */
export function homeDocument(r: HomeReport, o: DisplayOptions): ReportDocument {
  const active = [...r.active].sort((a, b) => (a.view.startedAt ?? 0) - (b.view.startedAt ?? 0));
  const activeItems = active.slice(0, MAX_LISTED).map(({ view: v, startInCloudTrail }) => {
    const owner = v.owner ? principalLabel(v.owner, v.ownerType) : startInCloudTrail ? 'owner unknown' : 'owner not yet known (listed by Athena)';
    const age = v.startedAt === null ? 'age unknown' : `up ${formatDuration(liveAsOf(r.now, v.startedAt) - v.startedAt)}`;
    const dpus = v.maxConcurrentDpus === null ? 'DPUs unknown' : `max ${v.maxConcurrentDpus} DPUs`;
    return `${owner} · ${v.workgroup ?? '?'} (${v.region}) · ${age} · ${dpus} · ${stateLabel(v)} · ${v.sessionId}`;
  });
  const longItems = r.longRunning.slice(0, MAX_LISTED).map(({ session: s, calculation: c }) => {
    const ran = formatDuration(liveAsOf(r.now, c.startedAt) - c.startedAt);
    return `${c.calculationId} — running ${ran} in ${s.owner ? principalLabel(s.owner, s.ownerType) : 'unknown'}'s session ${s.sessionId} (${s.workgroup ?? '?'}) · ${c.confirmed ? 'confirmed by Athena' : 'not confirmed'}`;
  });
  const t = r.today;
  const bound = t.dpuHoursIsUpperBound ? 'at most ' : '';
  const blocks: DocBlock[] = [
    { type: 'header', text: 'Athena Spark on call' },
    { type: 'context', text: `As of ${formatTime(r.now, o.timezone)} · from what the bot has stored (Athena's answers as of its last poll cycle)` },
    active.length
      ? { type: 'list', title: `Active now: ${plural(active.length, 'session')}`, items: activeItems, total: active.length }
      : { type: 'text', text: 'No session is active now.' },
    r.longRunning.length
      ? { type: 'list', title: `Long-running calculations still open: ${r.longRunning.length}`, items: longItems, total: r.longRunning.length }
      : { type: 'text', text: 'No long-running calculation is open.' },
    { type: 'divider' },
    {
      type: 'fields',
      fields: [
        [`Today (${r.date})`, `${plural(t.sessionsStarted, 'session')} started, ${plural(t.calculationsStarted, 'calculation')}`],
        ['DPU-hours', `${bound}${formatNumber(t.dpuHours, 2)}`],
        ['Estimated cost', `${bound}${formatUsd(t.estimatedCostUsd)}`],
      ],
    },
    r.topSpenders.length
      ? {
          type: 'list',
          title: 'Top spenders today',
          items: r.topSpenders.map((s) => `${principalLabel(s.owner, s.ownerType)} — ${formatNumber(s.dpuHours, 2)} DPU-hours ≈ ${formatUsd(s.estimatedCostUsd)} (${plural(s.sessions, 'session')})`),
        }
      : { type: 'text', text: 'No session has started today.' },
    { type: 'context', text: 'Use /athena-session <session-id> for a report. Alerts and the live feed are in their channels.' },
  ];
  return { summary: `${plural(active.length, 'active session')}, ${plural(r.longRunning.length, 'long-running calculation')}`, blocks };
}
