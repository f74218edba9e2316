/**
 * A report as neutral document blocks. The CLI renders it as text and Slack as Block
 * Kit, so both show the same facts from one builder.
 */
import { formatCount, formatFixed } from '../util/number-format.js';

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

const timeFormats = new Map<string, { time: Intl.DateTimeFormat; zone: Intl.DateTimeFormat }>();

export function formatTime(t: number | null, timezone: string): string {
  if (t === null) return '—';
  // UTC (the default) without Intl: a report prints hundreds of times, and the first
  // Intl formatter of a process costs ~10 ms of loading (measured).
  if (timezone === 'UTC') {
    const iso = new Date(t).toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  }
  let f = timeFormats.get(timezone);
  if (!f) {
    f = {
      time: new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      zone: new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'short' }),
    };
    timeFormats.set(timezone, f);
  }
  const zone = f.zone.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? timezone;
  return `${f.time.format(new Date(t)).replace(',', '')} ${zone}`;
}

export function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.max(0, Math.round(ms / 1000))}s`;
  if (minutes < 60) return `${minutes}m`;
  const h = Math.floor(minutes / 60);
  if (h < 48) return `${h}h ${minutes % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export const formatNumber = (n: number, digits = 1) => formatFixed(n, digits);

export const formatUsd = (n: number) => `$${formatFixed(n, 2)}`;

/** `1 session`, `2 sessions`: counts read as a person would write them. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}
