import { foldSession } from '../model/session.js';
import type { ModelOptions, SessionView } from '../model/types.js';
import type { Store } from '../store/store.js';
import { DAY } from '../util/clock.js';
import { storedEnrichment } from './enrichment-lookup.js';

/** Sessions active now: started in the last week, not ended by any evidence. */
export function activeSessions(store: Store, opts: ModelOptions): SessionView[] {
  const lookup = storedEnrichment(store);
  const out: SessionView[] = [];
  for (const s of store.sessionsWithoutEnd(opts.now - 7 * DAY)) {
    const view = foldSession(s.sessionId, store.eventsForSession(s.sessionId), lookup, opts);
    if (view && view.endedAt === null) out.push(view);
  }
  return out;
}
