/**
 * One thread's ceilings for the ingest figures, run in a process of its own:
 *
 *   node --import tsx bench/ceilings.ts parse DIR       read + gunzip + JSON.parse of every file
 *   node --import tsx bench/ceilings.ts prefilter DIR   read + gunzip + scan + substring prefilter
 *
 * The same listing and inflate calls as the product (so the ratio measures threads and the
 * work avoided, not different primitives), on one thread, nothing stored. Prints
 * {"records", "athena", "files", "ms"} where `ms` runs from the listing to the last file.
 */
import fs from 'node:fs';
import { ATHENA_EVENT_SOURCE } from '../src/records/athena-events.js';
import { CloudTrailJsonScanner, gunzipWhole, isGzip, listCloudTrailFiles } from '../src/sources/files/index.js';
import zlib from 'node:zlib';

const [mode, dir] = process.argv.slice(2);
if ((mode !== 'parse' && mode !== 'prefilter') || !dir) {
  console.error('usage: ceilings.ts parse|prefilter DIR');
  process.exit(2);
}
const ATHENA = Buffer.from(ATHENA_EVENT_SOURCE);
const t0 = performance.now();
const files = await listCloudTrailFiles([dir]);
let records = 0;
let athena = 0;
for (const { file } of files) {
  const raw = fs.readFileSync(file);
  const text = isGzip(raw) ? (gunzipWhole(raw) ?? zlib.gunzipSync(raw)) : raw;
  if (mode === 'parse') {
    const v = JSON.parse(text.toString('utf8')) as { Records?: unknown[]; Events?: unknown[] } | unknown[];
    const items = Array.isArray(v) ? v : (v.Records ?? v.Events ?? []);
    records += items.length;
    for (const r of items) if ((r as { eventSource?: string }).eventSource === ATHENA_EVENT_SOURCE) athena++;
  } else {
    const scanner = new CloudTrailJsonScanner((bytes, start, end) => {
      records++;
      const at = bytes.indexOf(ATHENA, start);
      if (at >= 0 && at < end) athena++;
    });
    scanner.write(text);
    scanner.end();
  }
}
console.log(JSON.stringify({ records, athena, files: files.length, ms: performance.now() - t0 }));
