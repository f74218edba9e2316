import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestFiles } from '../../src/ingest/ingest-files.js';
import { ingestFilesInWorker } from '../../src/ingest/ingest-in-worker.js';
import type { FileProblem } from '../../src/sources/files/index.js';
import { Metrics } from '../../src/observability/metrics.js';
import { StoreError } from '../../src/store/store.js';
import { systemClock } from '../../src/util/clock.js';
import { tempDir } from '../support/harness.js';
import { storesClosedAfterEach } from '../support/stores.js';
import { storedRows, variedDay, writeGzippedLogs } from '../support/log-files.js';

const open = storesClosedAfterEach();

/** Logs with a malformed record per file, plus one damaged gzip file and one JSON file that is not a log. */
function logsWithTrouble(sessions: number, perFile: number) {
  const dir = tempDir('asb-ingest-worker-');
  const records = variedDay(sessions);
  const logs = writeGzippedLogs(dir, records, perFile);
  fs.writeFileSync(path.join(logs, 'damaged.json.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4]));
  fs.writeFileSync(path.join(logs, 'other.json'), '{"hello":"world"}');
  return { dir, records, logs };
}

describe('ingestFilesInWorker', () => {
  it('gives the same result, callbacks and stored rows as ingestFiles in this thread', async () => {
    const { dir, records, logs } = logsWithTrouble(400, 500); // ~7,000 records: the nested writer thread runs too
    const metrics = new Metrics();
    const seen = { problems: [] as FileProblem[], rejected: new Map<string, number>(), progress: 0 };
    const file = path.join(dir, 'worker.sqlite');
    open(file).close(); // created and migrated, as the CLI's runtime does
    const r = await ingestFilesInWorker([logs], {
      databasePath: file,
      metrics,
      onProblem: (p) => seen.problems.push(p),
      onRejected: (reason) => seen.rejected.set(reason, (seen.rejected.get(reason) ?? 0) + 1),
      onProgress: () => seen.progress++,
    });
    expect(r).toMatchObject({ inserted: records.length, writerThread: true, interrupted: false });

    const here = open(path.join(dir, 'here.sqlite'));
    const expected = await ingestFiles([logs], { store: here, clock: systemClock });
    expect({ ...r, writerThread: null }).toEqual({ ...expected, writerThread: null });
    expect(storedRows(open(file))).toEqual(storedRows(here));

    expect(seen.problems.map((p) => path.basename(p.file)).sort()).toEqual(['damaged.json.gz', 'other.json']);
    expect([...seen.rejected.values()].reduce((a, b) => a + b, 0)).toBe(r.rejected);
    expect(seen.progress).toBeGreaterThan(0);
    const counter = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;
    expect(await counter('athena_bot_records_ingested_total')).toBe(records.length);
    expect(await counter('athena_bot_records_rejected_total')).toBe(r.rejected);
  });

  it('a store failure inside the thread rejects with a StoreError', async () => {
    const { dir, records, logs } = logsWithTrouble(20, 50);
    const file = path.join(dir, 'store.sqlite');
    open(file).db.exec(`CREATE TRIGGER poison BEFORE INSERT ON records WHEN NEW.event_id = '${records[7]!.eventID}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    const failing = ingestFilesInWorker([logs], { databasePath: file });
    await expect(failing).rejects.toBeInstanceOf(StoreError);
    await expect(failing).rejects.toThrow(/SQLITE_CONSTRAINT_TRIGGER\): poisoned row/);
  });

  it('an aborted signal stops the thread: the result says interrupted', async () => {
    const { dir, logs } = logsWithTrouble(20, 50);
    const file = path.join(dir, 'store.sqlite');
    open(file).close();
    const stop = new AbortController();
    stop.abort();
    const r = await ingestFilesInWorker([logs], { databasePath: file, signal: stop.signal });
    expect(r).toMatchObject({ interrupted: true, inserted: 0 });
  });
});
