import type { Digest, Tally } from '../model/digest.js';
import { formatNumber, formatTime, formatUsd, plural, type DisplayOptions, type DocBlock, type ReportDocument } from './document.js';

const TOP = 5;
const MAX_LIST = 40;

function top(r: Record<string, Tally>, n: number): string[] {
  return Object.entries(r)
    .sort(([, a], [, b]) => b.dpuHours - a.dpuHours || b.sessionsStarted - a.sessionsStarted || b.calculationsStarted - a.calculationsStarted)
    .slice(0, n)
    .map(([name, t]) => `${name}: ${plural(t.sessionsStarted, 'session')}, ${plural(t.calculationsStarted, 'calculation')}, ${formatNumber(t.dpuHours, 1)} DPU-h${t.failedCalls ? `, ${plural(t.failedCalls, 'failed call')}` : ''}`);
}

function dpuLine(d: Digest): string {
  return `${d.dpuHoursIsUpperBound ? 'at most ' : ''}${formatNumber(d.dpuHours, 1)} DPU-h ≈ ${formatUsd(d.estimatedCostUsd)}`;
}

/** The digest's headline message. */
export function digestDocument(d: Digest): ReportDocument {
  const summary = `Athena Spark digest for ${d.date}: ${plural(d.sessionsStarted, 'session')}, ${plural(d.calculationsStarted, 'calculation')}, ${d.longRunningCalculations.length} long-running, ${dpuLine(d)}`;
  const maybe = d.possiblyLongRunning.length ? `, ${d.possiblyLongRunning.length} possibly (upper bounds only)` : '';
  const notes: string[] = [];
  if (d.dpuHoursIsUpperBound) notes.push('DPU-hours include upper bounds (max DPUs × duration) where Athena gave no measurement.');
  notes.push('Sessions and calculations count on the day they started.');
  const apart = [d.setApartCalls.bot ? plural(d.setApartCalls.bot, "of the bot's own call", "of the bot's own calls") : '', d.setApartCalls.ignored ? plural(d.setApartCalls.ignored, 'call by ignored principals', 'calls by ignored principals') : '']
    .filter(Boolean)
    .join(' and ');
  if (apart) notes.push(`Not counted: ${apart}.`);
  const footer: DocBlock[] = [{ type: 'context', text: notes.join(' ') }];
  for (const line of d.advice) footer.push({ type: 'context', text: line });
  return {
    summary,
    blocks: [
      { type: 'header', text: `Athena Spark digest — ${d.date} (${d.timezone})` },
      {
        type: 'fields',
        fields: [
          ['Sessions', `${d.sessionsStarted} started, ${d.sessionsEnded} ended`],
          ['Session-hours', formatNumber(d.sessionHours, 1)],
          ['DPU use', dpuLine(d)],
          ['Notebooks', `${d.notebookImports.length} imported, ${d.notebooksCreated} created`],
          ['Calculations', `${d.calculationsStarted} started, ${d.longRunningCalculations.length} long-running${maybe}`],
          ['Failed calls', `${d.failedCalls}${d.failedCalls ? ` (${Object.entries(d.failedCallsByCode).map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}`],
        ],
      },
      { type: 'list', title: 'Top users', items: top(d.byUser, TOP), total: Object.keys(d.byUser).length },
      { type: 'list', title: 'Top workgroups', items: top(d.byWorkgroup, TOP), total: Object.keys(d.byWorkgroup).length },
      // Many accounts (AWS_ROLE_ARNS, an organization's trail): each one's share; with one account it is the total above.
      ...(Object.keys(d.byAccount).length > 1 ? [{ type: 'list' as const, title: 'By account', items: top(d.byAccount, TOP), total: Object.keys(d.byAccount).length }] : []),
      ...footer,
    ],
  };
}

/** The long lists, posted as replies in the digest's thread (and printed by the CLI). */
export function digestDetailDocuments(d: Digest, o: DisplayOptions): ReportDocument[] {
  const docs: ReportDocument[] = [];
  if (d.longRunningCalculations.length) {
    const items = d.longRunningCalculations.map(
      (c) =>
        `${c.calculationId} in session ${c.sessionId} — ${c.minutes} min${c.open ? ' and still open' : ''} (${c.confirmed ? 'confirmed' : 'unconfirmed'}), ${c.owner ?? 'unknown'} in ${c.workgroup ?? '?'}`,
    );
    docs.push(listDoc(`Long-running calculations on ${d.date}`, items));
  }
  if (d.possiblyLongRunning.length) {
    const items = d.possiblyLongRunning.map(
      (c) => `${c.calculationId} in session ${c.sessionId} — at most ${c.minutes} min (only its session's end is known; unconfirmed), ${c.owner ?? 'unknown'} in ${c.workgroup ?? '?'}`,
    );
    docs.push(listDoc(`Possibly long-running calculations on ${d.date} (upper bounds only)`, items));
  }
  if (d.notebookImports.length) {
    const items = d.notebookImports.map(
      (n) => `${formatTime(n.at, o.timezone)} ${n.name ?? '(unnamed)'} (${n.notebookId ?? '?'}) into ${n.workgroup ?? '?'} by ${n.principal}`,
    );
    docs.push(listDoc(`Notebook imports on ${d.date}`, items));
  }
  if (Object.keys(d.byUser).length > TOP) docs.push(listDoc(`All users on ${d.date}`, top(d.byUser, Infinity)));
  if (Object.keys(d.byWorkgroup).length > TOP) docs.push(listDoc(`All workgroups on ${d.date}`, top(d.byWorkgroup, Infinity)));
  if (Object.keys(d.byAccount).length > TOP) docs.push(listDoc(`All accounts on ${d.date}`, top(d.byAccount, Infinity)));
  return docs;
}

function listDoc(title: string, items: string[]): ReportDocument {
  const docs: ReportDocument = { summary: `${title}: ${items.length}`, blocks: [] };
  for (let i = 0; i < items.length; i += MAX_LIST) {
    docs.blocks.push({ type: 'list', title: i === 0 ? `${title} (${items.length})` : `${title}, continued`, items: items.slice(i, i + MAX_LIST) });
  }
  return docs;
}
