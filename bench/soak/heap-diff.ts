/**
 * Compares two V8 heap snapshots (e.g. the ones `npm run soak -- --heap-snapshots` writes at the
 * end of warm-up and at the end of the run): objects grouped by constructor/type, sorted by
 * growth in retained count and self size.
 *
 *   node --import tsx bench/soak/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [top=30]
 */
import fs from 'node:fs';

interface Group {
  count: number;
  size: number;
}

export function summarise(file: string): Map<string, Group> {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, Group>();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]!] ?? '?';
    let name = strings[nodes[i + iName]!] ?? '?';
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
    else if (type === 'number') name = '(number)';
    else if (name.length > 60) name = name.slice(0, 57) + '...';
    const key = `${type}:${name}`;
    const g = out.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += nodes[i + iSize]!;
    out.set(key, g);
  }
  return out;
}

export function diff(before: Map<string, Group>, after: Map<string, Group>, top = 30): string[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const rows = [...keys].map((k) => {
    const a = before.get(k) ?? { count: 0, size: 0 };
    const b = after.get(k) ?? { count: 0, size: 0 };
    return { k, dc: b.count - a.count, ds: b.size - a.size, b };
  });
  const total = (m: Map<string, Group>) => [...m.values()].reduce((s, g) => ({ count: s.count + g.count, size: s.size + g.size }), { count: 0, size: 0 });
  const ta = total(before);
  const tb = total(after);
  const lines = [`total: ${ta.count} → ${tb.count} objects, ${(ta.size / 2 ** 20).toFixed(1)} → ${(tb.size / 2 ** 20).toFixed(1)} MB self size`, '  Δcount      ΔKB   count(after)  type:name'];
  for (const r of rows.sort((x, y) => y.ds - x.ds).slice(0, top)) {
    lines.push(`${String(r.dc).padStart(8)} ${(r.ds / 1024).toFixed(1).padStart(8)} ${String(r.b.count).padStart(14)}  ${r.k}`);
  }
  return lines;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [a, b, top] = process.argv.slice(2);
  if (!a || !b) {
    console.error('usage: heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [top]');
    process.exit(2);
  }
  console.log(diff(summarise(a), summarise(b), Number(top ?? 30)).join('\n'));
}
