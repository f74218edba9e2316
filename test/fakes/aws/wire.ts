/**
 * What every service of the AWS fake shares: the error type its handlers throw, the
 * sliding-window rate limit, NextToken paging bound to a request's parameters, and the
 * awsJson1_1 timestamp encoding.
 */
import { randomBytes } from 'node:crypto';

/** An error answer: HTTP status, the error type (`__type` / awsQuery `Code`) and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string | undefined,
    /** Extra members of the error body (Athena's `AthenaErrorCode`, `ResourceName`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message ?? type);
  }
}

/** A tiny seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ms → awsJson1_1 timestamp (epoch seconds, fractional). */
export const secs = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * At most `limit()` admissions in any window of `windowMs` per key; a refused request uses
 * none of the budget (AWS counts what it served). Times are real milliseconds.
 */
export function createWindowLimiter(limit: () => number, windowMs = 1000) {
  const admitted = new Map<string, number[]>();
  return {
    /** True when the request at `at` must be refused (also when `refuseAnyway()` says so). */
    over(key: string, at: number, refuseAnyway?: () => boolean): boolean {
      const list = admitted.get(key) ?? [];
      while (list.length > 0 && list[0]! <= at - windowMs) list.shift();
      admitted.set(key, list);
      const max = limit();
      if (list.length >= max) return true;
      if (refuseAnyway?.()) return true;
      if (Number.isFinite(max)) list.push(at);
      return false;
    },
    reset: () => admitted.clear(),
  };
}

const MAX_TOKENS = 10_000;

/**
 * NextToken paging as AWS list APIs do it: the first request takes a snapshot of the
 * matching items; a token is valid only with identical parameters in the same scope
 * (account and region), so a listing is stable while new items arrive.
 */
export function createPager<T>() {
  const tokens = new Map<string, { key: string; scope: string; items: T[]; offset: number }>();
  return {
    page(
      o: { key: string; scope: string; nextToken: unknown; pageSize: number; items: () => T[] },
      invalidToken: () => Error,
    ): { items: T[]; nextToken?: string } {
      let state: { key: string; scope: string; items: T[]; offset: number };
      if (o.nextToken !== undefined && o.nextToken !== null && o.nextToken !== '') {
        const p = typeof o.nextToken === 'string' ? tokens.get(o.nextToken) : undefined;
        if (!p || p.key !== o.key || p.scope !== o.scope) throw invalidToken();
        state = p;
      } else {
        state = { key: o.key, scope: o.scope, items: o.items(), offset: 0 };
      }
      const items = state.items.slice(state.offset, state.offset + o.pageSize);
      const next = state.offset + items.length;
      if (next >= state.items.length) return { items };
      const token = randomBytes(24).toString('base64');
      tokens.set(token, { ...state, offset: next });
      if (tokens.size > MAX_TOKENS) {
        const oldest = tokens.keys().next().value;
        if (oldest !== undefined) tokens.delete(oldest);
      }
      return { items, nextToken: token };
    },
    reset: () => tokens.clear(),
  };
}
