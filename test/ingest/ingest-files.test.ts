import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestFiles, type IngestOptions } from '../../src/ingest/ingest-files.js';
import { threadWriter } from '../../src/ingest/record-writer.js';
import { StoreError } from '../../src/store/store.js';
import { systemClock } from '../../src/util/clock.js';
import { Metrics } from '../../src/observability/metrics.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { storesClosedAfterEach } from '../support/stores.js';
import { storedRows, variedDay, writeGzippedLogs } from '../support/log-files.js';

/** Internal knobs of ingestFiles, small so a test drives the writer thread with a few hundred records. */
type TestIngestOptions = IngestOptions & { commitRows?: number; threadMessageRows?: number };
const THREAD = { threadMessageRows: 7, commitRows: 40 };

const open = storesClosedAfterEach();

describe('ingestFiles', () => {
  it('writes a small import in this thread, in one transaction', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(2);
    const logs = writeGzippedLogs(dir, records, 100);
    const store = open(path.join(dir, 'store.sqlite'));
    const r = await ingestFiles([logs], { store, clock: systemClock } as TestIngestOptions);
    expect(r).toMatchObject({ read: records.length + 1, inserted: records.length, duplicates: 0, rejected: 1, writerThread: false });
    expect(store.recordCount()).toBe(records.length);
  });

  it('a bigger import goes through the writer thread and stores exactly what the in-thread path stores', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25); // 25 × 17-18 records, over many thread messages and several commits
    const logs = writeGzippedLogs(dir, records, 37);
    const metrics = new Metrics();

    const threaded = open(path.join(dir, 'threaded.sqlite'));
    const r = await ingestFiles([logs], { store: threaded, clock: systemClock, metrics, ...THREAD } as TestIngestOptions);
    expect(r.writerThread).toBe(true);
    expect(r).toMatchObject({ read: records.length + r.files, inserted: records.length, duplicates: 0, rejected: r.files, ignored: 0 });
    expect((await metrics.registry.getSingleMetric('athena_bot_records_ingested_total')?.get())?.values[0]?.value).toBe(records.length);

    // The same files written in this thread (an in-memory store cannot be shared with a thread).
    const here = open(':memory:');
    const same = await ingestFiles([logs], { store: here, clock: systemClock, ...THREAD } as TestIngestOptions);
    expect(same.writerThread).toBe(false);
    expect(storedRows(threaded)).toEqual(storedRows(here));
    expect(threaded.rejectionCount()).toBe(r.files);
    expect(threaded.db.pragma('integrity_check', { simple: true })).toBe('ok');

    // Again: every record is already stored, counted as such; the malformed ones are counted again, kept once.
    const again = await ingestFiles([logs], { store: threaded, clock: systemClock, ...THREAD } as TestIngestOptions);
    expect(again).toMatchObject({ inserted: 0, duplicates: records.length, writerThread: true });
    expect(threaded.recordCount()).toBe(records.length);
    expect((threaded.db.prepare('SELECT count(*) AS n FROM rejected_records').get() as { n: number }).n).toBe(r.files);
  });

  it('a huge malformed element (60 MB) in a threaded import is kept as a 4 KB sample; seen again it is counted, not stored twice', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25);
    const logs = writeGzippedLogs(dir, records, 37);
    const huge = JSON.stringify({ eventVersion: '1.08', eventSource: 'athena.amazonaws.com', eventName: 'StartSession', padding: 'x'.repeat(60 * 1024 * 1024) });
    fs.writeFileSync(path.join(logs, '0001-huge.json'), `{"Records":[${huge}]}`);
    const store = open(path.join(dir, 'store.sqlite'));
    const r = await ingestFiles([logs], { store, clock: systemClock, ...THREAD } as TestIngestOptions);
    expect(r).toMatchObject({ writerThread: true, inserted: records.length, rejected: r.files });
    const kept = store.db.prepare('SELECT sample, reason FROM rejected_records WHERE sample LIKE ?').get('%padding%') as { sample: string; reason: string };
    expect(kept.reason).toMatch(/^invalid record: eventID/);
    expect(kept.sample.length).toBeLessThanOrEqual(4097);
    // Seen again, it is the same rejection (hashed whole), counted twice and stored once.
    await ingestFiles([path.join(logs, '0001-huge.json')], { store, clock: systemClock });
    expect(store.db.prepare('SELECT count FROM rejected_records WHERE sample LIKE ?').pluck().get('%padding%')).toBe(2);
  });

  it('stops between batches when the signal aborts, commits what it read, and a re-run finishes the import', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25);
    const logs = writeGzippedLogs(dir, records, 37);
    const store = open(path.join(dir, 'store.sqlite'));
    const stop = new AbortController();
    let malformedSeen = 0;
    // Each file ends with one malformed element: abort while reading the third file.
    const onRejected = () => ++malformedSeen === 3 && stop.abort();
    const r = await ingestFiles([logs], { store, clock: systemClock, signal: stop.signal, onRejected, ...THREAD } as TestIngestOptions);
    expect(r).toMatchObject({ interrupted: true, writerThread: true, files: 3, inserted: 3 * 37 });
    expect(store.recordCount()).toBe(3 * 37);

    const rest = await ingestFiles([logs], { store, clock: systemClock, ...THREAD } as TestIngestOptions);
    expect(rest).toMatchObject({ interrupted: false, inserted: records.length - 3 * 37, duplicates: 3 * 37 });
    expect(store.recordCount()).toBe(records.length);
  });

  it('a store failure in the writer thread rejects the ingest with a StoreError, keeps every commit before it, and a re-run completes', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25);
    const logs = writeGzippedLogs(dir, records, 37);
    const file = path.join(dir, 'store.sqlite');
    const store = open(file);
    // A row that SQLite refuses, past the first commits: the writer thread's connection hits it.
    const poisoned = records[300]!.eventID;
    for (const table of ['records', 'reads', 'own_calls']) {
      store.db.exec(`CREATE TRIGGER poison_${table} BEFORE INSERT ON ${table} WHEN NEW.event_id = '${poisoned}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    }

    const failing = ingestFiles([logs], { store, clock: systemClock, ...THREAD } as TestIngestOptions);
    await expect(failing).rejects.toBeInstanceOf(StoreError);
    await expect(failing).rejects.toThrow(/database write failed \(SQLITE_CONSTRAINT_TRIGGER\): poisoned row/);
    const kept = store.recordCount();
    expect(kept).toBeGreaterThanOrEqual(THREAD.commitRows);
    expect(kept).toBeLessThan(300);
    // Whole transactions only: what is kept is exactly the records before some commit point.
    const stored = new Set((store.db.prepare('SELECT event_id FROM all_records').pluck().all() as string[]));
    expect(records.slice(0, kept).every((r) => stored.has(r.eventID))).toBe(true);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');

    for (const table of ['records', 'reads', 'own_calls']) store.db.exec(`DROP TRIGGER poison_${table}`);
    const rerun = await ingestFiles([logs], { store, clock: systemClock, ...THREAD } as TestIngestOptions);
    expect(rerun).toMatchObject({ inserted: records.length - kept, duplicates: kept });
    expect(store.recordCount()).toBe(records.length);
  });

  it('a writer thread that cannot open the store fails the first write with a StoreError, not a hang', async () => {
    const dir = tempDir('asb-ingest-');
    fs.writeFileSync(path.join(dir, 'not-a-directory'), '');
    const writer = threadWriter({ databasePath: path.join(dir, 'not-a-directory', 'store.sqlite'), commitRows: 10, maxInFlight: 1, onWritten: () => {} });
    const write = writer.writeRows(['id', 1, 'StartSession', 'us-east-1', null, null, null, null, 'p', null, null, 0, null, null, null, null, null, 0], Date.now());
    await expect(write).rejects.toBeInstanceOf(StoreError);
    await expect(write).rejects.toThrow(/cannot open the database/);
    await expect(writer.finish()).rejects.toBeInstanceOf(StoreError);
  });

  it('SIGKILL in the writer thread after a commit, with a message uncommitted: a re-run stores every record exactly once', async () => {
    const dir = tempDir('asb-ingest-crash-');
    const records = variedDay(3400); // ~58k: more than one 50k-row transaction of the real CLI
    const logs = writeGzippedLogs(dir, records, 1000);
    const env = { DATABASE_PATH: path.join(dir, 'store.sqlite') };
    // The 11th message of ~5,000 rows is written but not committed when the process dies.
    const killed = await runCli(['ingest', logs], { ...env, ATHENA_BOT_FAILPOINTS: 'ingest.rows-written:11' });
    expect(killed.code).toBeNull();
    expect(killed.stderr).toContain('failpoint ingest.rows-written:11 reached: SIGKILL');

    const after = open(env.DATABASE_PATH);
    const kept = after.recordCount();
    expect(kept).toBeGreaterThanOrEqual(50_000);
    expect(kept).toBeLessThan(55_000);
    expect(after.db.pragma('integrity_check', { simple: true })).toBe('ok');
    after.close();

    const rerun = await runCli(['ingest', logs], env);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`ingested ${(records.length - kept).toLocaleString('en-US')} new records`);
    expect(rerun.stdout).toContain(`${kept.toLocaleString('en-US')} already stored`);
    const store = open(env.DATABASE_PATH);
    expect(store.recordCount()).toBe(records.length);
    expect(new Set(store.db.prepare('SELECT event_id FROM all_records').pluck().all() as string[])).toEqual(new Set(records.map((r) => r.eventID)));
  }, 60_000);
});
