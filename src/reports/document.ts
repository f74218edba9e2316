/**
 * A report as neutral document blocks. The CLI renders it as text and Slack as Block
 * Kit, so both show the same facts from one builder.
 */
export type DocBlock =
  | { type: 'header'; text: string }
  | { type: 'fields'; fields: Array<[label: string, value: string]> }
  | { type: 'text'; text: string }
  | { type: 'list'; title: string; items: string[]; total?: number }
  | { type: 'context'; text: string }
  | { type: 'links'; links: Array<{ label: string; url: string }> }
  | { type: 'line'; parts: Inline[]; small?: boolean }
  | { type: 'actions'; buttons: DocButton[] }
  | { type: 'divider' };

/**
 * A piece of a `line`: text, or a Slack user named by id. People are kept apart from text so
 * that only ids the bot put there become mentions: a notebook name can never ping anyone.
 */
export type Inline = string | { user: string };

/** What pressing a button asks for, with the words of its confirmation dialog. */
export interface DocConfirm {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}

/**
 * A button: one that sends an action (`actionId`, `value`) to the bot, or a link that opens a page
 * (Slack still sends the press, which the bot acknowledges). Surfaces without buttons show links only.
 */
export type DocButton =
  | { kind: 'action'; actionId: string; label: string; value: string; style?: 'primary' | 'danger'; confirm?: DocConfirm }
  | { kind: 'link'; actionId: string; label: string; url: string };

export interface ReportDocument {
  /** One-line summary: Slack's notification `text` fallback and the CLI's first line. */
  summary: string;
  blocks: DocBlock[];
}

export interface DisplayOptions {
  timezone: string;
  /** Show source IPs and access-key IDs (off unless SHOW_CALLER_DETAILS). */
  showCallerDetails: boolean;
  now: number;
}

export function formatTime(t: number | null, timezone: string): string {
  if (t === null) return '—';
  const s = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(t));
  return `${s.replace(',', '')} ${timezone === 'UTC' ? 'UTC' : shortZone(t, timezone)}`;
}

function shortZone(t: number, timezone: string): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'short' }).formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName');
  return part?.value ?? timezone;
}

export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.max(0, Math.round(ms / 1000))}s`;
  if (minutes < 60) return `${minutes}m`;
  const h = Math.floor(minutes / 60);
  if (h < 48) return `${h}h ${minutes % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export const formatNumber = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const formatUsd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** `1 session`, `2 sessions`: counts read as a person would write them. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}
