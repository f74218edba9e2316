/**
 * Throughput of the CloudTrail file readers (src/sources/files).
 *
 *   npx tsx bench/files-throughput.ts [uncompressedMB=200]
 *
 * Generates ~N MB (uncompressed) of S3-style CloudTrail log files in a temp dir, in two
 * layouts — many small files (like real S3 delivery: ~100 records per file) and a few large
 * ones — each as .json.gz and as plain .json, then measures:
 *   scan only      CloudTrailJsonScanner over in-memory buffers (no I/O, no gunzip)
 *   plain files    readCloudTrailFiles over .json files (page cache; gunzip excluded)
 *   gzip files     readCloudTrailFiles over .json.gz files (gunzip included)
 * MB/s is always uncompressed JSON bytes per second.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { CloudTrailJsonScanner, readCloudTrailFiles } from '../src/sources/files/index.js';
import { human, executor, record, type CloudTrailRecord } from '../test/support/cloudtrail-records.js';

const targetMB = Number(process.argv[2] ?? 200);
const NAMES = ['StartSession', 'StartCalculationExecution', 'GetCalculationExecution', 'TerminateSession', 'UpdateNotebook'];

function makeRecord(i: number): CloudTrailRecord {
  const session = `sess-${(i >>> 6).toString(16).padStart(8, '0')}`;
  return record({
    eventName: NAMES[i % NAMES.length]!,
    eventTime: Date.UTC(2024, 0, 1) + i * 1500,
    actor: i % 3 === 0 ? executor(session) : human(`user-${i % 97}`),
    eventId: randomUUID(), // random ids keep the gzip ratio realistic (~10x, like real CloudTrail)
    region: i % 4 === 0 ? 'eu-west-1' : 'us-east-1',
    requestParameters: {
      sessionId: session,
      calculationExecutionId: `calc-${i}`,
      codeBlock: `df = spark.read.json("s3://bucket/prefix/${i}/")\ndf.filter("x > {${i % 10}}").show()  # é`,
      clientRequestToken: randomUUID(),
    },
    responseElements: { state: 'CREATING', calculationExecutionId: `calc-${i}` },
  });
}

interface Layout {
  name: string;
  files: number;
  recordsPerFile: number;
}

function generate(root: string, layout: Layout): { gzDir: string; plainDir: string; bytes: number; gzBytes: number; records: number; texts: Buffer[] } {
  const gzDir = path.join(root, layout.name, 'gz', 'AWSLogs', '123456789012', 'CloudTrail', 'us-east-1');
  const plainDir = path.join(root, layout.name, 'plain');
  fs.mkdirSync(gzDir, { recursive: true });
  fs.mkdirSync(plainDir, { recursive: true });
  let bytes = 0;
  let gzBytes = 0;
  let n = 0;
  const texts: Buffer[] = [];
  for (let f = 0; f < layout.files; f++) {
    const recs: CloudTrailRecord[] = [];
    for (let k = 0; k < layout.recordsPerFile; k++) recs.push(makeRecord(n++));
    const text = Buffer.from(JSON.stringify({ Records: recs }));
    const gz = zlib.gzipSync(text, { level: 6 });
    const name = `123456789012_CloudTrail_us-east-1_20240101T${String(f).padStart(6, '0')}Z_abc.json`;
    const day = `2024/01/${String((f % 28) + 1).padStart(2, '0')}`;
    fs.mkdirSync(path.join(gzDir, day), { recursive: true });
    fs.writeFileSync(path.join(gzDir, day, `${name}.gz`), gz);
    fs.writeFileSync(path.join(plainDir, name), text);
    if (texts.length * text.length < 32 * 1024 * 1024) texts.push(text); // sample for the scan-only figure
    bytes += text.length;
    gzBytes += gz.length;
  }
  return { gzDir: path.join(root, layout.name, 'gz'), plainDir, bytes, gzBytes, records: n, texts };
}

function fmt(label: string, mb: number, records: number, ms: number): string {
  const s = ms / 1000;
  return `  ${label.padEnd(28)} ${(mb / s).toFixed(0).padStart(6)} MB/s  ${Math.round(records / s).toLocaleString('en-US').padStart(11)} records/s  (${ms.toFixed(0)} ms)`;
}

/** Reads everything; `rssGrowthMB` is peak RSS during the read minus RSS before it. */
async function readAll(dir: string, parse = false): Promise<{ records: number; ms: number; rssGrowthMB: number }> {
  let records = 0;
  const before = process.memoryUsage.rss();
  let peak = before;
  const t0 = performance.now();
  for await (const b of readCloudTrailFiles([dir], { onProblem: (p) => console.error('PROBLEM', p) })) {
    records += b.items.length;
    if (parse) for (const t of b.items) JSON.parse(t);
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }
  return { records, ms: performance.now() - t0, rssGrowthMB: (peak - before) / 1e6 };
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-bench-'));
  try {
    const recordBytes = JSON.stringify(makeRecord(12345)).length;
    const totalRecords = Math.round((targetMB * 1e6) / recordBytes);
    const layouts: Layout[] = [
      { name: 'small-files', recordsPerFile: 100, files: Math.max(1, Math.round(totalRecords / 100)) },
      { name: 'large-files', recordsPerFile: Math.round(totalRecords / 4), files: 4 },
    ];
    console.log(`node ${process.version}, ${os.cpus().length} CPUs; ~${targetMB} MB uncompressed per layout, ~${recordBytes} B/record`);
    for (const layout of layouts) {
      const tg = performance.now();
      const g = generate(root, layout);
      const mb = g.bytes / 1e6;
      console.log(
        `\n${layout.name}: ${layout.files} files x ${layout.recordsPerFile} records = ${g.records.toLocaleString('en-US')} records, ` +
          `${mb.toFixed(0)} MB JSON, ${(g.gzBytes / 1e6).toFixed(0)} MB gzipped (generated in ${((performance.now() - tg) / 1000).toFixed(1)} s)`,
      );

      // scan only: in-memory, no I/O
      {
        let count = 0;
        let scanned = 0;
        const t0 = performance.now();
        for (let rep = 0; rep < 3; rep++) {
          for (const text of g.texts) {
            const s = new CloudTrailJsonScanner(() => count++);
            for (let i = 0; i < text.length; i += 1 << 20) s.write(text.subarray(i, i + (1 << 20)));
            if (s.end() !== null) throw new Error('scan failed');
            scanned += text.length;
          }
        }
        console.log(fmt('scan only (in memory)', scanned / 1e6, count, performance.now() - t0));
        g.texts.length = 0;
      }
      for (const [label, dir] of [
        ['plain .json (no gunzip)', g.plainDir],
        ['.json.gz (gunzip incl.)', g.gzDir],
      ] as const) {
        await readAll(dir); // warm page cache and JIT
        const r = await readAll(dir);
        if (r.records !== g.records) throw new Error(`expected ${g.records} records, got ${r.records}`);
        console.log(`${fmt(label, mb, r.records, r.ms)}  RSS +${r.rssGrowthMB.toFixed(0)} MB`);
      }
      const p = await readAll(g.gzDir, true);
      console.log(`${fmt('.json.gz + JSON.parse each', mb, p.records, p.ms)}  RSS +${p.rssGrowthMB.toFixed(0)} MB`);
      fs.rmSync(path.join(root, layout.name), { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
