import { normaliseRecord } from '../../src/records/normalise.js';
import type { NotebookEvent } from '../../src/records/types.js';

/** A builder record as the store keeps it; a fixture that does not normalise fails the test. */
export function toEvent(r: Record<string, unknown>): NotebookEvent {
  const n = normaliseRecord(r);
  if (n.kind !== 'event') throw new Error(`fixture did not normalise: ${JSON.stringify(n)}`);
  return n.event;
}

export const toEvents = (records: ReadonlyArray<Record<string, unknown>>): NotebookEvent[] => records.map(toEvent);
