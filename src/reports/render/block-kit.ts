import type { DocBlock, DocButton, Inline, ReportDocument } from '../document.js';

/** Slack's limits (SPEC §5); every message passes through `clampMessage`. */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  fieldText: 2000,
  fields: 10,
  contextText: 3000,
  fallbackText: 3000,
  /** A Home tab view holds up to 100 blocks. */
  viewBlocks: 100,
  actionsElements: 25,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  buttonUrl: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

export type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** A Home tab view, as views.publish takes it. */
export interface HomeView {
  type: 'home';
  blocks: Block[];
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

function toBlocks(b: DocBlock): Block[] {
  switch (b.type) {
    case 'header':
      return [{ type: 'header', text: { type: 'plain_text', text: clip(b.text, SLACK_LIMITS.headerText), emoji: true } }];
    case 'fields': {
      const blocks: Block[] = [];
      for (let i = 0; i < b.fields.length; i += SLACK_LIMITS.fields) {
        blocks.push({
          type: 'section',
          fields: b.fields.slice(i, i + SLACK_LIMITS.fields).map(([label, value]) => ({
            type: 'mrkdwn',
            text: clip(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, SLACK_LIMITS.fieldText),
          })),
        });
      }
      return blocks;
    }
    case 'text':
      return [section(escapeMrkdwn(b.text))];
    case 'list': {
      const more = b.total !== undefined && b.total > b.items.length ? ` (${b.items.length} of ${b.total})` : '';
      const lines = b.items.length ? b.items.map((i) => `• ${escapeMrkdwn(i)}`) : ['_none_'];
      return [section(`*${escapeMrkdwn(b.title)}*${more}\n${lines.join('\n')}`)];
    }
    case 'context':
      return [{ type: 'context', elements: [{ type: 'mrkdwn', text: clip(escapeMrkdwn(b.text), SLACK_LIMITS.contextText) }] }];
    case 'links':
      // Slack's link syntax: `<url|label>`; a URL with `|` or `>` would break it, so such links are left out.
      return b.links.length
        ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: clip(b.links.filter((l) => !/[|<>\s]/.test(l.url)).map((l) => `<${l.url}|${escapeMrkdwn(l.label)}>`).join(' · ') || ' ', SLACK_LIMITS.contextText) }] }]
        : [];
    case 'line': {
      const text = b.parts.map(inlineMrkdwn).join('');
      if (!text.trim()) return [];
      return b.small
        ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, SLACK_LIMITS.contextText) }] }]
        : [section(text)];
    }
    case 'actions': {
      const seen = new Set<string>();
      const elements = b.buttons.flatMap((button) => {
        const element = buttonElement(button);
        // Slack wants action ids unique within a block; a repeat would make the whole message fail.
        if (!element || seen.has(button.actionId)) return [];
        seen.add(button.actionId);
        return [element];
      });
      return elements.length ? [{ type: 'actions', elements: elements.slice(0, SLACK_LIMITS.actionsElements) }] : [];
    }
    case 'divider':
      return [{ type: 'divider' }];
  }
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** Text is escaped; a user id the bot put there becomes a mention (anything else is shown as text). */
function inlineMrkdwn(part: Inline): string {
  if (typeof part === 'string') return escapeMrkdwn(part);
  return USER_ID.test(part.user) ? `<@${part.user}>` : escapeMrkdwn(`@${part.user}`);
}

const plain = (text: string, max: number) => ({ type: 'plain_text', text: clip(text, max), emoji: true });

/** A button element within Slack's limits, or undefined when it cannot be one (a value or link too long to cut). */
function buttonElement(b: DocButton): Block | undefined {
  if (!b.actionId || b.actionId.length > SLACK_LIMITS.actionId || !b.label.trim()) return undefined;
  const base = { type: 'button', action_id: b.actionId, text: plain(b.label, SLACK_LIMITS.buttonText) };
  if (b.kind === 'link') {
    // A cut URL would open the wrong page: a link that does not fit is left out.
    if (b.url.length > SLACK_LIMITS.buttonUrl || !/^https?:\/\//.test(b.url)) return undefined;
    return { ...base, url: b.url };
  }
  if (b.value.length > SLACK_LIMITS.buttonValue) return undefined;
  return {
    ...base,
    value: b.value,
    ...(b.style ? { style: b.style } : {}),
    ...(b.confirm
      ? {
          confirm: {
            title: plain(b.confirm.title, SLACK_LIMITS.confirmTitle),
            text: plain(b.confirm.text, SLACK_LIMITS.confirmText),
            confirm: plain(b.confirm.confirm, SLACK_LIMITS.confirmButton),
            deny: plain(b.confirm.deny, SLACK_LIMITS.confirmButton),
            ...(b.style === 'danger' ? { style: 'danger' } : {}),
          },
        }
      : {}),
  };
}

function section(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/**
 * Renders a document as a Slack message. The only place Slack's limits are enforced:
 * section text is cut at a line boundary with a note, blocks beyond 50 are dropped with
 * a final note, and `text` is always set.
 */
export function renderBlockKit(doc: ReportDocument): SlackMessage {
  return clampMessage({ text: doc.summary, blocks: doc.blocks.flatMap(toBlocks) });
}

/** Renders a document as the App Home tab's view (100 blocks instead of a message's 50; no fallback text). */
export function renderHomeView(doc: ReportDocument): HomeView {
  return { type: 'home', blocks: clampBlocks(doc.blocks.flatMap(toBlocks), SLACK_LIMITS.viewBlocks) };
}

export function clampMessage(msg: SlackMessage): SlackMessage {
  const text = clip(msg.text.trim() || 'athena-session-bot report', SLACK_LIMITS.fallbackText);
  return { text, blocks: clampBlocks(msg.blocks, SLACK_LIMITS.blocks) };
}

function clampBlocks(input: readonly Block[], max: number): Block[] {
  const blocks = input.map(clampBlock);
  if (blocks.length <= max) return blocks;
  const out = blocks.slice(0, max - 1);
  out.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `_${blocks.length - out.length} more blocks not shown: Slack allows ${max}._` }] });
  return out;
}

function clampBlock(block: Block): Block {
  if (block.type !== 'section') return block;
  const text = block.text as { type: string; text: string } | undefined;
  if (!text || text.text.length <= SLACK_LIMITS.sectionText) return block;
  const note = '\n_…cut to fit Slack’s 3,000-character limit_';
  const room = SLACK_LIMITS.sectionText - note.length;
  const cut = text.text.lastIndexOf('\n', room);
  return { ...block, text: { ...text, text: text.text.slice(0, cut > room / 2 ? cut : room) + note } };
}
