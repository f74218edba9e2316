import { afterEach } from 'vitest';
import { Store } from '../../src/store/store.js';

/** For a suite: opens stores (files or ':memory:') that are closed after each test. */
export function storesClosedAfterEach(): (file: string) => Store {
  const opened: Store[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });
  return (file) => {
    const s = Store.open(file);
    opened.push(s);
    return s;
  };
}
