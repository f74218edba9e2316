import { foldSession } from '../model/session.js';
import type { EnrichmentLookup, ModelOptions, SessionView } from '../model/types.js';
import type { Store } from '../store/store.js';
import { storedEnrichment } from './enrichment-lookup.js';

/** A session's view from what the store holds: its notable records, its reads summarised, Athena's answers. */
export function foldStoredSession(store: Store, sessionId: string, opts: ModelOptions, lookup: EnrichmentLookup = storedEnrichment(store)): SessionView | undefined {
  const { events, reads } = store.sessionRecords(sessionId);
  return foldSession(sessionId, events, lookup, opts, reads);
}
