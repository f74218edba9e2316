import type { EnrichmentLookup, ModelOptions, SessionView } from '../model/types.js';
import type { Store } from '../store/store.js';
import { storedEnrichment } from './enrichment-lookup.js';
import { foldStoredSession } from './stored-session.js';
import { sessionConsoleUrl } from './athena-links.js';

export interface SessionReport {
  view: SessionView;
  notebookNames: Record<string, string>;
  /** False when an Athena look-up was wanted but could not be made (offline, no permission). */
  athenaReachable: boolean;
  /** The Spark UI (GetResourceDashboard), null when refused or unknown; the Athena console page. */
  sparkUiUrl: string | null;
  consoleUrl: string | null;
}

/** The Spark UI link Athena gave for a session, if it gave one. */
export function storedSparkUiUrl(store: Store, sessionId: string): string | null {
  const row = store.getEnrichment('dashboard', sessionId.toLowerCase());
  return row?.status === 'ok' ? ((row.payload as { url?: string } | null)?.url ?? null) : null;
}

/** Builds the report of one session from the store; undefined when the store knows nothing of it. */
export function buildSessionReport(
  store: Store,
  sessionId: string,
  opts: ModelOptions,
  enrichment: EnrichmentLookup = storedEnrichment(store),
  athenaReachable = true,
): SessionReport | undefined {
  const view = foldStoredSession(store, sessionId, opts, enrichment);
  if (!view) return undefined;
  const notebookNames: Record<string, string> = {};
  for (const id of new Set([view.notebookId, ...view.notebooks.map((n) => n.notebookId)])) {
    if (!id) continue;
    const name = store.notebookName(id);
    if (name) notebookNames[id] = name;
  }
  return { view, notebookNames, athenaReachable, sparkUiUrl: storedSparkUiUrl(store, view.sessionId), consoleUrl: sessionConsoleUrl(view) };
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** The `session --json` document (SPEC §4: these keys are fixed; more may be added). */
export function sessionJson(report: SessionReport): Record<string, unknown> {
  const v = report.view;
  return {
    sessionId: v.sessionId,
    state: v.state,
    stateSource: v.stateSource,
    owner: v.owner,
    ownerType: v.ownerType,
    ownerArn: v.ownerArn,
    workgroup: v.workgroup,
    startedAt: iso(v.startedAt),
    endedAt: iso(v.endedAt),
    region: v.region,
    account: v.account,
    tags: v.tags,
    calculations: v.calculations.map((c) => ({
      calculationId: c.calculationId,
      startedAt: iso(c.startedAt),
      endedAt: iso(c.endedAt),
      state: c.state,
      confirmed: c.confirmed,
      confirmedAt: iso(c.confirmedAt),
      endSource: c.endSource,
      endedAtIsUpperBound: c.endIsUpperBound,
      runMinutes: Math.round((c.runMs / 60_000) * 10) / 10,
      longRunning: c.longRunning,
      possiblyLongRunning: c.possiblyLongRunning,
      lastSeenAt: iso(c.lastSeenAt),
      dpuHours: c.dpuHours,
    })),
    notebookId: v.notebookId,
    failedCalls: v.failedCalls.map((f) => ({ eventName: f.eventName, errorCode: f.errorCode, eventTime: iso(f.eventTime), principal: f.principal, principalType: f.principalType })),
    events: v.events,
    endReason: v.endReason,
    engine: v.engine,
    lastActivityAt: iso(v.lastActivityAt),
    idleTimeoutMinutes: v.idleTimeoutMinutes,
    dpu: { maxConcurrentDpus: v.maxConcurrentDpus, coordinatorDpuSize: v.coordinatorDpuSize, defaultExecutorDpuSize: v.defaultExecutorDpuSize },
    dpuHours: v.dpuHours,
    dpuHoursKind: v.dpuHoursKind,
    estimatedCostUsd: v.estimatedCostUsd,
    notebooks: v.notebooks.map((n) => ({ notebookId: n.notebookId, name: report.notebookNames[n.notebookId] ?? null, calls: n.calls })),
    athenaReachable: report.athenaReachable,
    sparkUiUrl: report.sparkUiUrl,
    consoleUrl: report.consoleUrl,
  };
}
