import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ingestFiles, type IngestOptions } from '../../src/ingest/ingest-files.js';
import type { InternalIngestOptions } from '../../src/ingest/run-ingest.js';
import { StoreError, type Store } from '../../src/store/store.js';
import { systemClock } from '../../src/util/clock.js';
import { Metrics } from '../../src/observability/metrics.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/harness.js';
import { storesClosedAfterEach } from '../support/stores.js';
import { storedRows, variedDay, writeGzippedLogs } from '../support/log-files.js';
import { call, fakeUuid, human, toLookupEvent } from '../support/cloudtrail-records.js';

/** Small internal knobs, so a few hundred records drive two reader threads, the writer thread and several commits. */
const THREADS: Partial<InternalIngestOptions> = { readers: 2, inThreadMaxBytes: 0, messageRows: 7, commitRows: 40 };
const ingest = (paths: string[], o: IngestOptions & Partial<InternalIngestOptions>) => ingestFiles(paths, o);

const open = storesClosedAfterEach();

describe('ingestFiles', () => {
  it('reads a small import in this thread and writes it there', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(2);
    const logs = writeGzippedLogs(dir, records, 100);
    const store = open(path.join(dir, 'store.sqlite'));
    const r = await ingest([logs], { store, clock: systemClock });
    expect(r).toMatchObject({ read: records.length + 1, inserted: records.length, duplicates: 0, rejected: 1, writerThread: false, readerThreads: 0 });
    expect(store.recordCount()).toBe(records.length);
  });

  it('a bulk import runs on reader threads and the writer thread and stores exactly what the in-thread path stores', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25); // 25 × 17-18 records, over many messages, jobs and commits
    const logs = writeGzippedLogs(dir, records, 37);
    const metrics = new Metrics();

    const threaded = open(path.join(dir, 'threaded.sqlite'));
    const r = await ingest([logs], { store: threaded, clock: systemClock, metrics, ...THREADS, jobItems: 2 });
    expect(r).toMatchObject({ writerThread: true, readerThreads: 2, read: records.length + r.files, inserted: records.length, duplicates: 0, rejected: r.files, ignored: 0 });
    expect((await metrics.registry.getSingleMetric('athena_bot_records_ingested_total')?.get())?.values[0]?.value).toBe(records.length);

    // The same files read and written in this thread (an in-memory store cannot be shared with a thread).
    const here = open(':memory:');
    const same = await ingest([logs], { store: here, clock: systemClock, ...THREADS });
    expect(same).toMatchObject({ writerThread: false, readerThreads: 0 });
    expect({ ...r, writerThread: null, readerThreads: null }).toEqual({ ...same, writerThread: null, readerThreads: null });
    expect(storedRows(threaded)).toEqual(storedRows(here));
    // The routine reads are summarised alike, though the writer thread counts them once per commit.
    const readStats = (s: Store) => s.db.prepare('SELECT * FROM read_stats ORDER BY session_id, calculation_id').all();
    expect(readStats(here).length).toBeGreaterThan(10);
    expect(readStats(threaded)).toEqual(readStats(here));
    expect(threaded.rejectionCount()).toBe(r.files);
    expect(threaded.db.pragma('integrity_check', { simple: true })).toBe('ok');

    // Again: every record is already stored, counted as such; the malformed ones are counted again, kept once.
    const again = await ingest([logs], { store: threaded, clock: systemClock, ...THREADS });
    expect(again).toMatchObject({ inserted: 0, duplicates: records.length, writerThread: true });
    expect(threaded.recordCount()).toBe(records.length);
    expect((threaded.db.prepare('SELECT count(*) AS n FROM rejected_records').get() as { n: number }).n).toBe(r.files);
    expect(readStats(threaded)).toEqual(readStats(here));
  });

  it('every file shape gives the same stored records: S3 log files, LookupEvents output, bare arrays, JSON Lines', async () => {
    const dir = tempDir('asb-ingest-shapes-');
    const records = variedDay(6);
    const items = records.map(toLookupEvent);
    const lines = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
    const shapes: Record<string, string> = {
      's3.json.gz': JSON.stringify({ Records: records }),
      'lookup-events.json': JSON.stringify({ Events: items, NextToken: 'x' }, null, 4),
      'jq-records.json.gz': JSON.stringify(records, null, 2),
      'jq-events.json': JSON.stringify(items, null, 2),
      'records.jsonl.json': lines(records),
      'events.jsonl.json.gz': lines(items),
      'mixed.jsonl.json': lines(records.flatMap((r, i) => (i % 2 ? [r] : [toLookupEvent(r)]))),
    };
    const stores: Array<ReturnType<typeof storedRows>> = [];
    for (const [name, text] of Object.entries(shapes)) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, name.endsWith('.gz') ? zlib.gzipSync(text) : text);
      const store = open(':memory:');
      const r = await ingest([file], { store, clock: systemClock });
      expect(r, name).toMatchObject({ problems: [], read: records.length, inserted: records.length, rejected: 0 });
      stores.push(storedRows(store));
    }
    for (const rows of stores) expect(rows).toEqual(stores[0]);
  });

  it('CloudTrail Insights events are set aside and counted apart, not reported as malformed', async () => {
    const dir = tempDir('asb-ingest-insights-');
    const insight = (state: string) => ({
      eventVersion: '1.08',
      eventTime: '2026-11-02T08:00:00Z',
      awsRegion: 'us-east-1',
      eventID: fakeUuid(),
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: '123456789012',
      sharedEventID: 'c2a1c0de-0000-4000-8000-000000000001',
      insightDetails: { state, eventSource: 'athena.amazonaws.com', eventName: 'StartSession', insightType: 'ApiCallRateInsight', insightContext: {} },
      eventCategory: 'Insight',
    });
    const spark = call('GetSessionStatus', { actor: human('ana'), eventTime: '2026-11-02T08:00:00Z', params: { sessionId: fakeUuid() } });
    // The second form escapes its eventType: only parsing can tell it is an Insights event.
    const escaped = JSON.stringify(insight('End')).replace('"AwsCloudTrailInsight"', '"AwsCloudTrail\\u0049nsight"');
    fs.writeFileSync(path.join(dir, 'insights.json'), `{"Records":[${JSON.stringify(insight('Start'))},${escaped},${JSON.stringify(spark)}]}`);
    fs.writeFileSync(path.join(dir, 'lookup.json'), JSON.stringify({ Events: [{ EventId: 'x', CloudTrailEvent: JSON.stringify(insight('Start')) }] }));
    const store = open(':memory:');
    const r = await ingest([dir], { store, clock: systemClock });
    expect(r).toMatchObject({ read: 4, insights: 3, inserted: 1, rejected: 0, problems: [] });
    expect(store.rejectionCount()).toBe(0);
  });

  it('a huge malformed element (60 MB) in a threaded import is kept as a 4 KB sample; seen again it is counted, not stored twice', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25);
    const logs = writeGzippedLogs(dir, records, 37);
    const huge = JSON.stringify({ eventVersion: '1.08', eventSource: 'athena.amazonaws.com', eventName: 'StartSession', padding: 'x'.repeat(60 * 1024 * 1024) });
    fs.writeFileSync(path.join(logs, '0001-huge.json'), `{"Records":[${huge}]}`);
    const store = open(path.join(dir, 'store.sqlite'));
    const r = await ingest([logs], { store, clock: systemClock, ...THREADS });
    expect(r).toMatchObject({ writerThread: true, inserted: records.length, rejected: r.files });
    const kept = store.db.prepare('SELECT sample, reason FROM rejected_records WHERE sample LIKE ?').get('%padding%') as { sample: string; reason: string };
    expect(kept.reason).toMatch(/^invalid record: eventID/);
    expect(kept.sample.length).toBeLessThanOrEqual(4097);
    // Seen again, it is the same rejection (hashed whole), counted twice and stored once.
    await ingest([path.join(logs, '0001-huge.json')], { store, clock: systemClock });
    expect(store.db.prepare('SELECT count FROM rejected_records WHERE sample LIKE ?').pluck().get('%padding%')).toBe(2);
  });

  it('stops between files when the signal aborts, commits what it read, and a re-run finishes the import', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25);
    const logs = writeGzippedLogs(dir, records, 37);
    const store = open(path.join(dir, 'store.sqlite'));
    const stop = new AbortController();
    let malformedSeen = 0;
    // Each file ends with one malformed element: abort once three files are read.
    const onRejected = () => ++malformedSeen === 3 && stop.abort();
    const r = await ingest([logs], { store, clock: systemClock, signal: stop.signal, onRejected, ...THREADS, jobItems: 1 });
    expect(r).toMatchObject({ interrupted: true, writerThread: true });
    expect(r.files).toBeGreaterThanOrEqual(3);
    expect(r.files).toBeLessThan(Math.ceil(records.length / 37));
    expect(r.inserted).toBe(r.files * 37);
    expect(store.recordCount()).toBe(r.inserted);

    const rest = await ingest([logs], { store, clock: systemClock, ...THREADS });
    expect(rest).toMatchObject({ interrupted: false, inserted: records.length - r.inserted, duplicates: r.inserted });
    expect(store.recordCount()).toBe(records.length);
  });

  it('a store failure in the writer thread rejects the ingest with a StoreError, keeps every commit before it, and a re-run completes', async () => {
    const dir = tempDir('asb-ingest-');
    const records = variedDay(25);
    const logs = writeGzippedLogs(dir, records, 37);
    const store = open(path.join(dir, 'store.sqlite'));
    // A row that SQLite refuses, past the first commits: the writer thread's connection hits it.
    const poisoned = records[300]!.eventID;
    for (const table of ['records', 'reads', 'own_calls']) {
      store.db.exec(`CREATE TRIGGER poison_${table} BEFORE INSERT ON ${table} WHEN NEW.event_id = '${poisoned}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    }

    // One reader, so rows reach the writer in file order and "before the failure" is a prefix.
    const failing = ingest([logs], { store, clock: systemClock, ...THREADS, readers: 1 });
    await expect(failing).rejects.toBeInstanceOf(StoreError);
    await expect(failing).rejects.toThrow(/database write failed \(SQLITE_CONSTRAINT_TRIGGER\): poisoned row/);
    const kept = store.recordCount();
    expect(kept).toBeGreaterThanOrEqual(THREADS.commitRows!);
    expect(kept).toBeLessThan(300);
    // Whole transactions only: what is kept is exactly the records before some commit point.
    const stored = new Set(store.db.prepare('SELECT event_id FROM all_records').pluck().all() as string[]);
    expect(records.slice(0, kept).every((r) => stored.has(r.eventID))).toBe(true);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');

    for (const table of ['records', 'reads', 'own_calls']) store.db.exec(`DROP TRIGGER poison_${table}`);
    const rerun = await ingest([logs], { store, clock: systemClock, ...THREADS });
    expect(rerun).toMatchObject({ inserted: records.length - kept, duplicates: kept });
    expect(store.recordCount()).toBe(records.length);
  });

  it('a writer thread that cannot open the store fails the import with a StoreError, not a hang', async () => {
    const dir = tempDir('asb-ingest-');
    const logs = writeGzippedLogs(dir, variedDay(5), 10);
    const storeDir = path.join(dir, 'db');
    const store = open(path.join(storeDir, 'store.sqlite'));
    // This connection stays usable; the writer thread, opening the path anew, finds nothing there.
    fs.renameSync(storeDir, path.join(dir, 'moved'));
    fs.writeFileSync(storeDir, '');
    const failing = ingest([logs], { store, clock: systemClock, ...THREADS });
    await expect(failing).rejects.toBeInstanceOf(StoreError);
    await expect(failing).rejects.toThrow(/cannot open the database/);
  });

  it('SIGKILL in the writer thread after a commit, with a message uncommitted: a re-run stores every record exactly once', async () => {
    const dir = tempDir('asb-ingest-crash-');
    const records = variedDay(3400); // ~58k: more than one 50k-row transaction of the real CLI
    const logs = writeGzippedLogs(dir, records, 1000);
    const env = { DATABASE_PATH: path.join(dir, 'store.sqlite') };
    // The writer writes ten batches of 5,000 rows, commits, and dies having written the eleventh.
    const killed = await runCli(['ingest', logs], { ...env, ATHENA_BOT_FAILPOINTS: 'ingest.rows-written:11' });
    expect(killed.code).toBeNull();
    expect(killed.stderr).toContain('failpoint ingest.rows-written:11 reached: SIGKILL');

    const after = open(env.DATABASE_PATH);
    const kept = after.recordCount();
    expect(kept).toBe(50_000);
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

