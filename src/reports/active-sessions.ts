import type { ActiveListing, ModelOptions, SessionView } from '../model/types.js';
import type { Store } from '../store/store.js';
import { DAY, MINUTE } from '../util/clock.js';
import { storedEnrichment } from './enrichment-lookup.js';
import { foldStoredSession } from './stored-session.js';

/** A session active now, and what says so. */
export interface ActiveSession {
  view: SessionView;
  /** Athena's latest listing has it. */
  listedByAthena: boolean;
  /** CloudTrail has delivered its StartSession (false: Athena lists it, CloudTrail has not caught up). */
  startInCloudTrail: boolean;
}

/** A listing older than this is not trusted to say a session has ended. */
const LISTING_FRESH_MS = 15 * MINUTE;

/**
 * Each account-region's latest listing of active sessions, when it was made, by the key the
 * enricher stores it under: `<account>/<region>` for a watched role's account, the region alone
 * for the default credentials' account.
 */
export function storedActiveListings(store: Store): Map<string, { listing: ActiveListing; fetchedAt: number }> {
  const out = new Map<string, { listing: ActiveListing; fetchedAt: number }>();
  for (const row of store.enrichmentsOfKind('active')) if (row.status === 'ok') out.set(row.id, { listing: row.payload as ActiveListing, fetchedAt: row.fetchedAt });
  return out;
}

/**
 * Sessions active now (SPEC §5): CloudTrail's open sessions (started in the last week, no end
 * by any evidence) merged with Athena's listing. Where a fresh listing covers a session's work
 * group and leaves it out, Athena is right and it is not shown; a session Athena lists before
 * its StartSession is delivered is shown, marked as such.
 */
export function activeSessions(store: Store, opts: ModelOptions): ActiveSession[] {
  const lookup = storedEnrichment(store);
  const listings = storedActiveListings(store);
  const listed = new Set<string>();
  for (const { listing, fetchedAt } of listings.values()) if (opts.now - fetchedAt <= LISTING_FRESH_MS) for (const s of listing.sessions) listed.add(s.sessionId);
  const out: ActiveSession[] = [];
  const seen = new Set<string>();
  for (const s of store.sessionsWithoutEnd(opts.now - 7 * DAY)) {
    const view = foldStoredSession(store, s.sessionId, opts, lookup);
    if (!view || view.endedAt !== null) continue;
    seen.add(view.sessionId);
    const l = (view.account ? listings.get(`${view.account}/${view.region}`) : undefined) ?? listings.get(view.region);
    const covered = l && opts.now - l.fetchedAt <= LISTING_FRESH_MS && view.workgroup !== null && l.listing.workgroups.includes(view.workgroup);
    if (covered && !listed.has(view.sessionId) && (view.startedAt ?? 0) < l.fetchedAt) continue;
    out.push({ view, listedByAthena: listed.has(view.sessionId), startInCloudTrail: view.owner !== null });
  }
  for (const id of listed) {
    if (seen.has(id)) continue;
    const view = foldStoredSession(store, id, opts, lookup);
    if (view && view.endedAt === null) out.push({ view, listedByAthena: true, startInCloudTrail: view.owner !== null });
  }
  return out;
}

/** `session --json` with no id: one object per active session. */
export function activeSessionJson(a: ActiveSession): Record<string, unknown> {
  const v = a.view;
  return {
    sessionId: v.sessionId,
    state: v.state,
    stateSource: v.stateSource,
    owner: v.owner,
    ownerType: v.ownerType,
    workgroup: v.workgroup,
    account: v.account,
    region: v.region,
    startedAt: v.startedAt === null ? null : new Date(v.startedAt).toISOString(),
    maxConcurrentDpus: v.maxConcurrentDpus,
    openCalculations: v.calculations.filter((c) => c.endedAt === null).length,
    listedByAthena: a.listedByAthena,
    startInCloudTrail: a.startInCloudTrail,
  };
}
