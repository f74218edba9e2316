import type { Digest, Tally } from '../model/digest.js';
import { UNTAGGED, type Spend, type TagBreakdown } from '../model/digest-breakdown.js';
import type { TrendFigure, Trend } from '../model/trend.js';
import type { DigestReport } from './digest-report.js';
import { formatNumber, formatTime, formatUsd, plural, type DisplayOptions, type DocBlock, type ReportDocument } from './document.js';

const TOP = 5;
const TOP_TAG_VALUES = 3;
const MAX_LIST = 40;

/** A digest as the model makes it, or as the report makes it (with period, breakdown, trend). */
type DigestLike = Digest & Partial<Pick<DigestReport, 'period' | 'breakdown' | 'trend' | 'coverage' | 'dpuHourPriceUsd'>>;

function top(r: Record<string, Tally>, n: number, price: number | undefined): string[] {
  return Object.entries(r)
    .sort(([, a], [, b]) => b.dpuHours - a.dpuHours || b.sessionsStarted - a.sessionsStarted || b.calculationsStarted - a.calculationsStarted)
    .slice(0, n)
    .map(
      ([name, t]) =>
        `${name}: ${plural(t.sessionsStarted, 'session')}, ${plural(t.calculationsStarted, 'calculation')}, ${formatNumber(t.dpuHours, 1)} DPU-h${price === undefined ? '' : ` ≈ ${formatUsd(t.dpuHours * price)}`}${t.failedCalls ? `, ${plural(t.failedCalls, 'failed call')}` : ''}`,
    );
}

function dpuLine(d: Digest): string {
  return `${d.dpuHoursIsUpperBound ? 'at most ' : ''}${formatNumber(d.dpuHours, 1)} DPU-h ≈ ${formatUsd(d.estimatedCostUsd)}`;
}

/** "digest for 2026-11-22" or "weekly digest for 2026-11-16 to 2026-11-22". */
function periodName(d: DigestLike): { kind: string; span: string } {
  return d.period?.kind === 'week' ? { kind: 'weekly digest', span: `${d.period.from} to ${d.period.to}` } : { kind: 'digest', span: d.date };
}

/** The digest's headline message. */
export function digestDocument(d: DigestLike): ReportDocument {
  const { kind, span } = periodName(d);
  const summary = `Athena Spark ${kind} for ${span}: ${plural(d.sessionsStarted, 'session')}, ${plural(d.calculationsStarted, 'calculation')}, ${d.longRunningCalculations.length} long-running, ${dpuLine(d)}`;
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
      { type: 'header', text: `Athena Spark ${kind} — ${span} (${d.timezone})` },
      ...coverageBlocks(d),
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
      ...trendBlocks(d.trend),
      { type: 'list', title: 'Top users', items: top(d.byUser, TOP, d.dpuHourPriceUsd), total: Object.keys(d.byUser).length },
      { type: 'list', title: 'Top workgroups', items: top(d.byWorkgroup, TOP, d.dpuHourPriceUsd), total: Object.keys(d.byWorkgroup).length },
      // Many accounts (AWS_ROLE_ARNS, an organization's trail): each one's share; with one account it is the total above.
      ...(Object.keys(d.byAccount).length > 1 ? [{ type: 'list' as const, title: 'By account', items: top(d.byAccount, TOP, d.dpuHourPriceUsd), total: Object.keys(d.byAccount).length }] : []),
      ...Object.entries(d.breakdown?.byTag ?? {}).map(([key, t]): DocBlock => ({ type: 'list', title: `Top values of tag ${key}`, items: tagItems(key, t, TOP_TAG_VALUES), total: Object.keys(t.data).length })),
      ...footer,
    ],
  };
}

/** What the store does not know about the period, said before any figure. */
function coverageBlocks(d: DigestLike): DocBlock[] {
  const out: DocBlock[] = [];
  const tz = d.timezone;
  if (d.coverage?.state === 'none') {
    out.push({
      type: 'text',
      text:
        d.coverage.recordsBeginAt === null
          ? 'No records: the store is empty, so there is nothing to report yet.'
          : `No records for this period: the store's records begin ${formatTime(d.coverage.recordsBeginAt, tz)}.`,
    });
  } else if (d.coverage?.state === 'partial') {
    out.push({ type: 'context', text: `The store's records begin ${formatTime(d.coverage.recordsBeginAt, tz)}, partway through this period: what happened before is not counted.` });
  }
  if (d.period?.note) out.push({ type: 'context', text: `${d.period.note}; hours are local time in ${tz}.` });
  return out;
}

/** "12 (+20% vs avg 10.0)", "3 (new; avg 0.0)", "$4.20 (−5% vs last week $4.42)". */
function changeText(f: TrendFigure, digits: number, basis: Trend['basis'], usd = false): string {
  const show = (n: number) => (usd ? formatUsd(n) : formatNumber(n, digits));
  const current = usd ? formatUsd(f.current) : formatNumber(f.current, digits === 1 && Number.isInteger(f.current) ? 0 : digits);
  const base = basis === 'previous-week' ? `last week ${show(f.baseline)}` : `avg ${show(f.baseline)}`;
  if (f.changePercent === null) return `${current} (${f.change === 0 ? 'no change' : 'new'}; ${base})`;
  const pct = Math.round(f.changePercent);
  return `${current} (${pct === 0 ? '±0' : pct > 0 ? `+${pct}` : `−${-pct}`}% vs ${base})`;
}

/** Every headline figure against the previous 7 days' average (or the previous week). */
function trendBlocks(trend: Trend | null | undefined): DocBlock[] {
  if (!trend) return [];
  const against = trend.basis === 'previous-week' ? `the previous week (${trend.from} to ${trend.to})` : `the average of the previous 7 days (${trend.from} to ${trend.to})`;
  if (!trend.figures) return [{ type: 'context', text: `Trend against ${against}: ${trend.note}.` }];
  const f = trend.figures;
  const b = trend.basis;
  return [
    { type: 'context', text: `Change against ${against}${trend.note ? ` — ${trend.note}` : ''}:` },
    {
      type: 'fields',
      fields: [
        ['Sessions started', changeText(f.sessionsStarted, 1, b)],
        ['Calculations', changeText(f.calculationsStarted, 1, b)],
        ['DPU-hours', changeText(f.dpuHours, 1, b)],
        ['Estimated cost', changeText(f.estimatedCostUsd, 2, b, true)],
        ['Failed calls', changeText(f.failedCalls, 1, b)],
        ['Long-running', changeText(f.longRunningCalculations, 1, b)],
      ],
    },
  ];
}

const spendLine = (name: string, s: Spend) => `${name}: ${formatNumber(s.dpuHours, 1)} DPU-h ≈ ${formatUsd(s.estimatedCostUsd)}, ${s.sessionsStarted} session${s.sessionsStarted === 1 ? '' : 's'}`;

/** A tag key's values by spend; a key no session carried says so instead of listing "(untagged)" alone. */
function tagItems(key: string, t: TagBreakdown, n: number): string[] {
  const entries = Object.entries(t.data);
  if (t.tagged === 0) {
    const hint = t.similarKeys.length ? ` (sessions carry ${t.similarKeys.map((k) => JSON.stringify(k)).join(', ')}: tag keys are case-sensitive)` : '';
    const sessions = entries.reduce((total, [, s]) => total + s.sessionsStarted, 0);
    return [`no session started in this period carried the tag key ${JSON.stringify(key)}${hint}${sessions ? `; all ${sessions} are ${UNTAGGED}` : ''}`];
  }
  return entries.slice(0, n).map(([value, s]) => spendLine(value, s));
}

/** The long lists and full tables, posted as replies in the digest's thread (and printed by the CLI). */
export function digestDetailDocuments(d: DigestLike, o: DisplayOptions): ReportDocument[] {
  const docs: ReportDocument[] = [];
  const { span } = periodName(d);
  if (d.longRunningCalculations.length) {
    const items = d.longRunningCalculations.map(
      (c) =>
        `${c.calculationId} in session ${c.sessionId} — ${c.minutes} min${c.open ? ' and still open' : ''} (${c.confirmed ? 'confirmed' : 'unconfirmed'}), ${c.owner ?? 'unknown'} in ${c.workgroup ?? '?'}`,
    );
    docs.push(listDoc(`Long-running calculations on ${span}`, items));
  }
  if (d.possiblyLongRunning.length) {
    const items = d.possiblyLongRunning.map(
      (c) => `${c.calculationId} in session ${c.sessionId} — at most ${c.minutes} min (only its session's end is known; unconfirmed), ${c.owner ?? 'unknown'} in ${c.workgroup ?? '?'}`,
    );
    docs.push(listDoc(`Possibly long-running calculations on ${span} (upper bounds only)`, items));
  }
  if (d.notebookImports.length) {
    const items = d.notebookImports.map(
      (n) => `${formatTime(n.at, o.timezone)} ${n.name ?? '(unnamed)'} (${n.notebookId ?? '?'}) into ${n.workgroup ?? '?'} by ${n.principal}`,
    );
    docs.push(listDoc(`Notebook imports on ${span}`, items));
  }
  if (Object.keys(d.byUser).length > TOP) docs.push(listDoc(`All users on ${span}`, top(d.byUser, Infinity, d.dpuHourPriceUsd)));
  if (Object.keys(d.byWorkgroup).length > TOP) docs.push(listDoc(`All workgroups on ${span}`, top(d.byWorkgroup, Infinity, d.dpuHourPriceUsd)));
  for (const [key, t] of Object.entries(d.breakdown?.byTag ?? {})) {
    if (t.tagged > 0 && Object.keys(t.data).length > TOP_TAG_VALUES) docs.push(listDoc(`DPU-hours and cost by tag ${key} on ${span}`, tagItems(key, t, Infinity)));
  }
  if (Object.keys(d.byAccount).length > TOP) docs.push(listDoc(`All accounts on ${span}`, top(d.byAccount, Infinity, d.dpuHourPriceUsd)));
  return docs;
}

function listDoc(title: string, items: string[]): ReportDocument {
  const docs: ReportDocument = { summary: `${title}: ${items.length}`, blocks: [] };
  for (let i = 0; i < items.length; i += MAX_LIST) {
    docs.blocks.push({ type: 'list', title: i === 0 ? `${title} (${items.length})` : `${title}, continued`, items: items.slice(i, i + MAX_LIST) });
  }
  return docs;
}
