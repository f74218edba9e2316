import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ingestFiles } from '../../src/ingest/ingest-files.js';
import type { InternalIngestOptions } from '../../src/ingest/run-ingest.js';
import type { IngestResult } from '../../src/ingest/types.js';
import { buildDigestReport, digestJson } from '../../src/reports/digest-report.js';
import { buildSessionReport, sessionJson } from '../../src/reports/session-report.js';
import type { Store } from '../../src/store/store.js';
import { systemClock } from '../../src/util/clock.js';
import { tempDir } from '../support/harness.js';
import { writeOrgTrail, type OrgTrailSummary } from '../support/org-trail.js';
import { storedRows } from '../support/log-files.js';
import { storesClosedAfterEach } from '../support/stores.js';
import type { WorkloadTruth } from '../support/workload.js';
import fs from 'node:fs';

const open = storesClosedAfterEach();
let trail: OrgTrailSummary;
let truth: WorkloadTruth;

beforeAll(async () => {
  trail = await writeOrgTrail({ records: 12_000, sparkShare: 0.05, accounts: 8, regions: 4 }, tempDir('asb-org-trail-'));
  truth = JSON.parse(fs.readFileSync(trail.truthFile, 'utf8')) as WorkloadTruth;
}, 60_000);

const ingest = (store: Store, o: Partial<InternalIngestOptions>): Promise<IngestResult> =>
  ingestFiles([path.join(trail.dir, 'AWSLogs')], { store, clock: systemClock, ...o } as InternalIngestOptions);

describe('an organization trail (other services, Athena SQL, Insights, digests; ~5% Spark)', () => {
  it('gives the same answers with the prefilter on reader threads as parsing every record in one thread', async () => {
    const dir = tempDir('asb-org-ingest-');
    const fast = open(path.join(dir, 'prefiltered.sqlite'));
    const r = await ingest(fast, { readers: 2, inThreadMaxBytes: 0 });
    const slow = open(path.join(dir, 'parsed.sqlite'));
    const s = await ingest(slow, { prefilter: false, readers: 0 });

    expect(r).toMatchObject({ writerThread: true, readerThreads: 2, problems: [], rejected: 0, insights: trail.insightRecords, inserted: trail.sparkRecords });
    expect(s).toMatchObject({ writerThread: false, problems: [], rejected: 0, insights: trail.insightRecords, inserted: trail.sparkRecords });
    expect(r.read).toBe(trail.records + trail.insightRecords);
    expect({ read: r.read, ignored: r.ignored, files: r.files, skipped: r.skipped.length }).toEqual({ read: s.read, ignored: s.ignored, files: s.files, skipped: s.skipped.length });
    expect(r.skipped.every((x) => x.why === 'CloudTrail digest file')).toBe(true);
    expect(r.skipped).toHaveLength(trail.digestFiles);
    expect(storedRows(fast)).toEqual(storedRows(slow));

    // The answers users read: owner, workgroup, calculations of every session; each day's digest.
    const model = { now: truth.end, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
    expect(truth.sessions.length).toBeGreaterThan(5);
    for (const session of truth.sessions) {
      const a = sessionJson(buildSessionReport(fast, session.sessionId, model)!);
      const b = sessionJson(buildSessionReport(slow, session.sessionId, model)!);
      expect(a).toEqual(b);
      expect(a).toMatchObject({ owner: session.owner, workgroup: session.workGroup });
      expect((a.calculations as unknown[]).length).toBe(session.calculations.length);
    }
    const days = new Set(truth.sessions.map((x) => new Date(x.startedAt).toISOString().slice(0, 10)));
    for (const date of days) {
      const opts = { date, timezone: 'UTC', now: truth.end, longRunningMinutes: 30, dpuHourPriceUsd: 0.35 };
      const a = digestJson(buildDigestReport(fast, opts));
      expect(a).toEqual(digestJson(buildDigestReport(slow, opts)));
      expect(a.sessionsStarted).toBe(truth.sessions.filter((x) => new Date(x.startedAt).toISOString().startsWith(date)).length);
    }
  });
});
