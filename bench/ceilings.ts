/**
 * One thread's ceilings for the ingest figures, run in a process of its own:
 *
 *   node --import tsx bench/ceilings.ts parse DIR       read + gunzip + JSON.parse of every file
 *   node --import tsx bench/ceilings.ts prefilter DIR   read + gunzip + scan + substring prefilter
 *   node --import tsx bench/ceilings.ts write DB        SQLite alone: DB's records written again
 *
 * The same listing and inflate calls as the product (so the ratio measures threads and the
 * work avoided, not different primitives), on one thread, nothing stored. Prints
 * {"records", "athena", "files", "ms"} where `ms` runs from the listing to the last file.
 * `write` loads every stored record of DB into memory first, then times only writing them into
 * a fresh store the way the writer thread does (flat values, 50,000 rows a transaction).
 */
import fs from 'node:fs';
import { ATHENA_EVENT_SOURCE } from '../src/records/athena-events.js';
import { CloudTrailJsonScanner, gunzipWhole, isGzip, listCloudTrailFiles } from '../src/sources/files/index.js';
import zlib from 'node:zlib';
import { RECORD_VALUE_COUNT, Store, type RecordValue } from '../src/store/store.js';

const [mode, dir] = process.argv.slice(2);
if ((mode !== 'parse' && mode !== 'prefilter' && mode !== 'write') || !dir) {
  console.error('usage: ceilings.ts parse|prefilter DIR | write DB');
  process.exit(2);
}
if (mode === 'write') {
  console.log(JSON.stringify(writeCeiling(dir)));
  process.exit(0);
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

function writeCeiling(source: string): { records: number; athena: number; files: number; ms: number } {
  const from = Store.open(source);
  const values: RecordValue[] = [];
  const rows = from.db
    .prepare('SELECT event_id, event_time, event_name, region, session_id, calculation_id, notebook_id, workgroup, principal, principal_arn, error_code, read_only, source_ip, access_key_id, detail, account, principal_type FROM all_records')
    .raw()
    .iterate() as IterableIterator<RecordValue[]>;
  for (const row of rows) values.push(...row, 0);
  from.close();
  const target = `${source}.write-ceiling`;
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(target + suffix, { force: true });
  const store = Store.open(target);
  store.db.pragma('wal_autocheckpoint = 10000');
  const batch = 50_000 * RECORD_VALUE_COUNT;
  const t0 = performance.now();
  for (let i = 0; i < values.length; i += batch) {
    store.begin();
    store.insertRecordValues(values.slice(i, i + batch), 0);
    store.commit();
  }
  const ms = performance.now() - t0;
  store.close();
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(target + suffix, { force: true });
  const records = values.length / RECORD_VALUE_COUNT;
  return { records, athena: records, files: 0, ms };
}
