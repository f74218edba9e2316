import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCount, formatFixed } from '../../src/util/number-format.js';

// The report formatters print numbers by hand (no Intl at start-up): they must print exactly what Intl does.
const intl = (n: number, digits: number) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

describe('formatFixed and formatCount print what toLocaleString("en-US") prints', () => {
  it('on the cases rounding gets wrong: halves, negatives, zero, exponents', () => {
    for (const n of [0, -0, 1.005, 2.675, 0.05, 0.15, 0.25, -0.01, -1.5, 999.995, 1234567.891, 1e-7, 1e21, 123456789012345680000, NaN, Infinity, -Infinity]) {
      for (const digits of [0, 1, 2]) expect(formatFixed(n, digits), `${n} to ${digits}`).toBe(intl(n, digits));
    }
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1.5)).toBe((1.5).toLocaleString('en-US'));
  });

  it('on any double and any count (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), fc.integer({ min: 0, max: 3 }), (n, digits) => {
        expect(formatFixed(n, digits)).toBe(intl(n, digits));
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.integer({ min: -1e6, max: 1e6 }), fc.constantFrom(Number.MAX_SAFE_INTEGER)), (n) => {
        expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
      }),
    );
  });
});
