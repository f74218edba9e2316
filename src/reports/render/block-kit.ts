import type { DocBlock, ReportDocument } from '../document.js';

/** Slack's limits (SPEC §5); every message passes through `clampMessage`. */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  fieldText: 2000,
  fields: 10,
  contextText: 3000,
  fallbackText: 3000,
} as const;

export type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
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
    case 'divider':
      return [{ type: 'divider' }];
  }
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

export function clampMessage(msg: SlackMessage): SlackMessage {
  const blocks = msg.blocks.map(clampBlock);
  let out = blocks;
  if (blocks.length > SLACK_LIMITS.blocks) {
    out = blocks.slice(0, SLACK_LIMITS.blocks - 1);
    out.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `_${blocks.length - out.length} more blocks not shown: Slack allows ${SLACK_LIMITS.blocks}._` }] });
  }
  const text = clip(msg.text.trim() || 'athena-session-bot report', SLACK_LIMITS.fallbackText);
  return { text, blocks: out };
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
