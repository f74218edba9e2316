/**
 * en-US number formatting, as `toLocaleString('en-US', …)` prints it, without Intl in the
 * common case: every report formats numbers, and a process's first Intl formatter costs
 * ~10 ms of ICU loading (measured on `session ID`). Rounds like ICU: half away from zero,
 * on the number's shortest decimal form (1.005 → 1.01, where toFixed gives 1.00).
 */

const intlFormats = new Map<number, Intl.NumberFormat>();

function viaIntl(n: number, digits: number): string {
  let f = intlFormats.get(digits);
  if (!f) intlFormats.set(digits, (f = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f.format(n);
}

const group = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** `n` with exactly `digits` fraction digits and thousands separators: 1234.5 → "1,234.50". */
export function formatFixed(n: number, digits: number): string {
  const shortest = String(Math.abs(n));
  // Exponent forms (below 1e-6, from 1e21), NaN and infinities: rare, left to Intl.
  if (!/^\d+(\.\d+)?$/.test(shortest)) return viaIntl(n, digits);
  const [whole, fraction = ''] = shortest.split('.') as [string, string?];
  let scaled = BigInt(whole + fraction.padEnd(digits, '0').slice(0, digits));
  if ((fraction[digits] ?? '0') >= '5') scaled += 1n;
  const text = scaled.toString().padStart(digits + 1, '0');
  const int = digits === 0 ? text : text.slice(0, -digits);
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  return `${sign}${group(int)}${digits === 0 ? '' : `.${text.slice(-digits)}`}`;
}

/** A count as `toLocaleString('en-US')` prints it: 12345 → "12,345". */
export function formatCount(n: number): string {
  return Number.isSafeInteger(n) && n >= 0 ? group(String(n)) : n.toLocaleString('en-US');
}
