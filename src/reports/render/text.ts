import type { ReportDocument } from '../document.js';

/** Renders a report document as plain text for a terminal. */
export function renderText(doc: ReportDocument): string {
  const out: string[] = [];
  for (const b of doc.blocks) {
    switch (b.type) {
      case 'header':
        if (out.length) out.push('');
        out.push(b.text, '='.repeat(Math.min(b.text.length, 78)));
        break;
      case 'fields': {
        const width = Math.max(...b.fields.map(([l]) => l.length));
        for (const [label, value] of b.fields) out.push(`${(label + ':').padEnd(width + 2)}${value}`);
        break;
      }
      case 'text':
        out.push(b.text);
        break;
      case 'list':
        out.push('', b.total !== undefined && b.total > b.items.length ? `${b.title} (${b.items.length} of ${b.total})` : b.title);
        for (const item of b.items) out.push(`  - ${item}`);
        if (b.items.length === 0) out.push('  (none)');
        break;
      case 'context':
        out.push(`  ${b.text}`);
        break;
      case 'links':
        for (const l of b.links) out.push(`${l.label}: ${l.url}`);
        break;
      case 'line': {
        const text = b.parts.map((p) => (typeof p === 'string' ? p : `@${p.user}`)).join('');
        out.push(b.small ? `  ${text}` : text);
        break;
      }
      case 'actions':
        // A terminal has no buttons; the links among them are still worth printing.
        for (const button of b.buttons) if (button.kind === 'link') out.push(`${button.label}: ${button.url}`);
        break;
      case 'divider':
        out.push('');
        break;
    }
  }
  return out.join('\n') + '\n';
}
