/**
 * Writes a seeded Athena Spark workload as S3 CloudTrail log files (+ digests + athena-state.json).
 *
 *   npx tsx bench/generate-workload.ts --records 1000000 --out /tmp/wl --seed 42
 *   npx tsx bench/generate-workload.ts --days 7 --sessions-per-day 60 --sql-noise 20 --out /tmp/wl
 *   npx tsx bench/generate-workload.ts --records 1000000 --dry        (generate only, no files)
 *   npx tsx bench/generate-workload.ts --org-trail --records 1000000 --out /tmp/org
 *       an organization trail: 40 accounts, 12 regions, ~1% Spark (--accounts, --org-regions,
 *       --spark-share), S3 data events, KMS by AWS services, STS, EC2, Athena SQL, errors,
 *       very large and non-ASCII records, digest and Insights files
 */
import { parseArgs } from 'node:util';

import { writeOrgTrail } from '../test/support/org-trail.js';
import { planWorkload, writeS3LogFiles, type WorkloadOptions } from '../test/support/workload.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string' },
    days: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    end: { type: 'string' },
    'sessions-per-day': { type: 'string' },
    'sql-noise': { type: 'string' },
    'other-noise': { type: 'string' },
    'poll-min': { type: 'string' },
    'poll-max': { type: 'string' },
    'failure-rate': { type: 'string' },
    regions: { type: 'string' },
    'org-trail': { type: 'boolean', default: false },
    accounts: { type: 'string' },
    'org-regions': { type: 'string' },
    'spark-share': { type: 'string' },
    dry: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help || (!values.out && !values.dry)) {
  console.error(
    'usage: generate-workload --out DIR [--records N | --days D] [--seed S] [--end ISO] [--sessions-per-day N]\n' +
      '                         [--sql-noise PER_MIN] [--other-noise PER_MIN] [--poll-min S --poll-max S]\n' +
      '                         [--failure-rate F] [--regions us-east-1,eu-west-1] [--dry]\n' +
      '       generate-workload --org-trail --out DIR [--records N] [--seed S] [--accounts 40] [--org-regions 12] [--spark-share 0.01]',
  );
  process.exit(values.help ? 0 : 2);
}

const num = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
};

if (values['org-trail']) {
  const summary = await writeOrgTrail(
    {
      records: num(values.records) ?? 1_000_000,
      seed: num(values.seed),
      accounts: num(values.accounts),
      regions: num(values['org-regions']),
      sparkShare: num(values['spark-share']),
      sessionsPerDay: num(values['sessions-per-day']),
    },
    values.out!,
  );
  console.log(JSON.stringify(summary, null, 2));
  process.exit(0);
}

const opts: WorkloadOptions = {
  seed: num(values.seed) ?? 42,
  records: num(values.records),
  days: num(values.days),
  end: values.end,
  sessionsPerDay: num(values['sessions-per-day']),
  sqlNoisePerMinute: num(values['sql-noise']),
  otherNoisePerMinute: num(values['other-noise']),
  failureRate: num(values['failure-rate']),
  regions: values.regions ? values.regions.split(',') : undefined,
};
const pollMin = num(values['poll-min']);
const pollMax = num(values['poll-max']);
if (pollMin !== undefined || pollMax !== undefined) opts.pollIntervalSeconds = [pollMin ?? 5, pollMax ?? pollMin ?? 15];

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
sampler.unref();

const t0 = performance.now();
if (values.dry) {
  const wl = planWorkload(opts);
  const planned = performance.now();
  let n = 0;
  let chars = 0;
  for (const r of wl.records()) {
    n++;
    chars += JSON.stringify(r).length;
  }
  const done = performance.now();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(
    JSON.stringify(
      {
        mode: 'dry',
        records: n,
        jsonBytes: chars,
        planMs: Math.round(planned - t0),
        generateAndStringifyMs: Math.round(done - planned),
        totalMs: Math.round(done - t0),
        recordsPerSecond: Math.round(n / ((done - t0) / 1000)),
        sessions: wl.truth.sessions.length,
        calculations: wl.truth.athena.calculations.length,
        span: { start: new Date(wl.truth.start).toISOString(), end: new Date(wl.truth.end).toISOString(), days: wl.options.days },
        peakRssMiB: Math.round(peakRss / 2 ** 20),
      },
      null,
      2,
    ),
  );
} else {
  const summary = await writeS3LogFiles(opts, values.out!);
  const done = performance.now();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(
    JSON.stringify(
      {
        ...summary,
        totalMs: Math.round(done - t0),
        recordsPerSecond: Math.round(summary.records / ((done - t0) / 1000)),
        compressionRatio: Number((summary.uncompressedBytes / Math.max(1, summary.bytes)).toFixed(1)),
        peakRssMiB: Math.round(peakRss / 2 ** 20),
      },
      null,
      2,
    ),
  );
}
