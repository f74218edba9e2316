import fs from 'node:fs';

/** Advance widths of a TrueType font's Basic Multilingual Plane characters, in em. */
export interface FontMetrics {
  /** Width of `text` at `fontSize`, in the same unit as `fontSize`. */
  width(text: string, fontSize: number): number;
}

/**
 * Reads the `cmap` (format 4) and `hmtx` tables of a TrueType font. Vega lays out titles,
 * legends and axis labels from text widths; without a canvas it guesses 0.8 em a character,
 * which leaves wide gaps. With the real widths of the font resvg draws with, the layout fits.
 */
export function readFontMetrics(file: string): FontMetrics {
  const buf = fs.readFileSync(file);
  const tables = new Map<string, number>();
  const numTables = buf.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) tables.set(buf.toString('latin1', 12 + 16 * i, 16 + 16 * i), buf.readUInt32BE(20 + 16 * i));
  const table = (tag: string) => {
    const at = tables.get(tag);
    if (at === undefined) throw new Error(`${file}: no ${tag} table`);
    return at;
  };
  const unitsPerEm = buf.readUInt16BE(table('head') + 18);
  const numberOfHMetrics = buf.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advance = (glyph: number) => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));

  // The Unicode BMP subtable (platform 3 encoding 1, or platform 0), format 4.
  const cmap = table('cmap');
  let sub = -1;
  for (let i = 0; i < buf.readUInt16BE(cmap + 2); i++) {
    const platform = buf.readUInt16BE(cmap + 4 + 8 * i);
    const encoding = buf.readUInt16BE(cmap + 6 + 8 * i);
    const at = cmap + buf.readUInt32BE(cmap + 8 + 8 * i);
    if (buf.readUInt16BE(at) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) sub = at;
  }
  if (sub < 0) throw new Error(`${file}: no Unicode cmap`);
  const segCount = buf.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segCount + 2;
  const deltas = starts + 2 * segCount;
  const rangeOffsets = deltas + 2 * segCount;
  const em = new Map<number, number>();
  for (let s = 0; s < segCount; s++) {
    const start = buf.readUInt16BE(starts + 2 * s);
    const end = buf.readUInt16BE(ends + 2 * s);
    const delta = buf.readInt16BE(deltas + 2 * s);
    const rangeOffset = buf.readUInt16BE(rangeOffsets + 2 * s);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let glyph: number;
      if (rangeOffset === 0) glyph = (c + delta) & 0xffff;
      else {
        const g = buf.readUInt16BE(rangeOffsets + 2 * s + rangeOffset + 2 * (c - start));
        glyph = g === 0 ? 0 : (g + delta) & 0xffff;
      }
      em.set(c, advance(glyph) / unitsPerEm);
    }
  }
  const fallback = advance(0) / unitsPerEm;
  return {
    width(text, fontSize) {
      let w = 0;
      for (const ch of text) w += em.get(ch.codePointAt(0)!) ?? fallback;
      return w * fontSize;
    },
  };
}
