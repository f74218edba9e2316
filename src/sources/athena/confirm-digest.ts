import { TERMINAL_CALCULATION_STATES, TERMINAL_SESSION_STATES, type SessionView } from '../../model/types.js';
import { digestSessions, type DigestOptions } from '../../reports/digest-report.js';
import type { Store } from '../../store/store.js';
import { withDeadline } from '../../util/deadline.js';
import type { Enricher, SessionRef } from './enrich.js';

/** A session whose answer could still change: its state or a calculation not confirmed as finished by Athena. */
export function needsConfirmation(v: SessionView): boolean {
  if (v.stateSource !== 'athena' || !TERMINAL_SESSION_STATES.has(v.state)) return true;
  return v.calculations.some((c) => !c.confirmed || !TERMINAL_CALCULATION_STATES.has(c.state));
}

/**
 * Before a digest: asks Athena about every session of the day whose answers are not yet
 * settled, so that every calculation state and long-running entry is Athena's where Athena can
 * be asked. Bounded in time: what is not confirmed by the deadline stays CloudTrail's, marked.
 */
export async function confirmDigestDay(store: Store, enricher: Enricher, opts: DigestOptions, deadlineMs: number, signal?: AbortSignal): Promise<{ asked: number; reachable: boolean }> {
  const refs: SessionRef[] = digestSessions(store, opts)
    .filter(needsConfirmation)
    .map((v) => ({ region: v.region, sessionId: v.sessionId, account: v.account }));
  if (refs.length === 0) return { asked: 0, reachable: true };
  const stop = new AbortController();
  const abort = () => stop.abort();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const r = await withDeadline(enricher.confirmSessions(refs, stop.signal, 2 * refs.length + 10), deadlineMs, { reachable: false, calls: 0, denied: 0 });
    return { asked: refs.length, reachable: r.reachable };
  } finally {
    stop.abort();
    signal?.removeEventListener('abort', abort);
  }
}
