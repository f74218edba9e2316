import type { Store } from '../store/store.js';
import type { AthenaAnswer, AthenaCalculationFacts, AthenaSessionFacts, EnrichmentLookup } from '../model/types.js';

/** Reads Athena answers the enricher stored, in the shape the pure model expects. */
export function storedEnrichment(store: Store): EnrichmentLookup {
  const read = <T>(kind: 'session' | 'calculation', id: string): AthenaAnswer<T> | undefined => {
    const row = store.getEnrichment(kind, id);
    if (!row) return undefined;
    if (row.status === 'ok') return { status: 'ok', facts: row.payload as T, fetchedAt: row.fetchedAt };
    return { status: row.status, fetchedAt: row.fetchedAt };
  };
  return {
    session: (id) => read<AthenaSessionFacts>('session', id),
    calculation: (id) => read<AthenaCalculationFacts>('calculation', id),
  };
}
