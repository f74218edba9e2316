/**
 * Samples a running process from outside: VmRSS from /proc/<pid>/status, open descriptors
 * and sockets from /proc/<pid>/fd, and the process's own view from its Prometheus /metrics
 * (prom-client default metrics: active handles/requests, event-loop lag, heap).
 */
import fs from 'node:fs';

export interface Sample {
  /** Seconds since the child started. */
  t: number;
  rssKb: number | null;
  fds: number | null;
  sockets: number | null;
  handles: number | null;
  requests: number | null;
  heapUsed: number | null;
  heapTotal: number | null;
  external: number | null;
  lag: number | null;
  lagP99: number | null;
  /** Scrape round trip, ms (null when the scrape failed). */
  scrapeMs: number | null;
}

export function readRssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function readFds(pid: number): { fds: number; sockets: number } | null {
  try {
    const dir = `/proc/${pid}/fd`;
    const names = fs.readdirSync(dir);
    let sockets = 0;
    for (const n of names) {
      try {
        if (fs.readlinkSync(`${dir}/${n}`).startsWith('socket:')) sockets++;
      } catch {
        // closed between readdir and readlink
      }
    }
    return { fds: names.length, sockets };
  } catch {
    return null;
  }
}

/** Parses Prometheus text exposition into `name{labels}` → value (labels kept verbatim). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    if (i < 0) continue;
    const v = Number(line.slice(i + 1));
    if (Number.isFinite(v)) out.set(line.slice(0, i), v);
  }
  return out;
}

/** Sum of every series of a metric (all label sets). */
export function metricSum(m: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) sum += v;
  return sum;
}

/** Every series of a metric as label-text → value. */
export function metricSeries(m: Map<string, number>, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of m) {
    if (k === name) out[''] = v;
    else if (k.startsWith(`${name}{`)) out[k.slice(name.length + 1, -1)] = v;
  }
  return out;
}

export async function scrape(baseUrl: string, timeoutMs = 3000): Promise<{ metrics: Map<string, number>; ms: number } | null> {
  const started = performance.now();
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return null;
    const text = await res.text();
    return { metrics: parseMetrics(text), ms: performance.now() - started };
  } catch {
    return null;
  }
}

export async function takeSample(pid: number, baseUrl: string, t: number): Promise<Sample> {
  const rssKb = readRssKb(pid);
  const fd = readFds(pid);
  const s = await scrape(baseUrl);
  const get = (name: string) => (s && s.metrics.has(name) ? s.metrics.get(name)! : null);
  return {
    t,
    rssKb,
    fds: fd?.fds ?? null,
    sockets: fd?.sockets ?? null,
    handles: get('nodejs_active_handles_total'),
    requests: get('nodejs_active_requests_total'),
    heapUsed: get('nodejs_heap_size_used_bytes'),
    heapTotal: get('nodejs_heap_size_total_bytes'),
    external: get('nodejs_external_memory_bytes'),
    lag: get('nodejs_eventloop_lag_seconds'),
    lagP99: get('nodejs_eventloop_lag_p99_seconds'),
    scrapeMs: s ? Math.round(s.ms) : null,
  };
}
