/**
 * CloudTrail's event history per (account, region) and `LookupEvents` over it: one lookup
 * attribute, inclusive times, newest first, 90 days, late visibility, NextTokens bound to
 * their parameters.
 */
import { toLookupEvent, type CloudTrailRecord } from '../../support/cloudtrail-records.js';
import { ApiError, createPager, isObj } from './wire.js';

const DAY_MS = 86_400_000;
const RETENTION_MS = 90 * DAY_MS;
const LOOKUP_KEYS = new Set(['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId']);

export interface LookupResource {
  ResourceType?: string;
  ResourceName?: string;
}

interface StoredEvent {
  item: Record<string, unknown>;
  timeMs: number;
  visibleAt: number;
  seq: number;
}

interface ScopeEvents {
  list: StoredEvent[];
  sorted: boolean;
}

export const scopeKey = (account: string, region: string): string => `${account}|${region}`;

export function createCloudTrail(o: { now: () => number }) {
  const events = new Map<string, ScopeEvents>();
  const pager = createPager<StoredEvent>();
  let seq = 0;

  function sortedEvents(scope: string): StoredEvent[] {
    const r = events.get(scope);
    if (!r) return [];
    if (!r.sorted) {
      // Newest first; ties: later-added first (stable and deterministic).
      r.list.sort((a, b) => b.timeMs - a.timeMs || b.seq - a.seq);
      r.sorted = true;
    }
    return r.list;
  }

  function matches(item: Record<string, unknown>, attr: { key: string; value: string }): boolean {
    if (attr.key === 'ResourceType' || attr.key === 'ResourceName') {
      const res = item.Resources;
      return Array.isArray(res) && res.some((r) => isObj(r) && r[attr.key] === attr.value);
    }
    const v = item[attr.key];
    return v === attr.value || (attr.key === 'ReadOnly' && typeof v === 'boolean' && String(v) === attr.value);
  }

  /** Stores a LookupEvents item, visible from `visibleAt` on the fake's clock. */
  function store(account: string, region: string, item: Record<string, unknown>, timeMs: number, visibleAt: number): void {
    const key = scopeKey(account, region);
    let r = events.get(key);
    if (!r) events.set(key, (r = { list: [], sorted: true }));
    r.list.push({ item, timeMs, visibleAt, seq: seq++ });
    r.sorted = false;
  }

  return {
    store,

    storeRecord(account: string, region: string, rec: CloudTrailRecord, visibleAt: number, resources?: LookupResource[]): void {
      const item = toLookupEvent(rec);
      if (resources) item.Resources = resources;
      store(account, region, item, Date.parse(rec.eventTime), visibleAt);
    },

    count(region?: string, account?: string): number {
      let n = 0;
      for (const [key, r] of events) {
        const [a, reg] = key.split('|');
        if ((region === undefined || reg === region) && (account === undefined || a === account)) n += r.list.length;
      }
      return n;
    },

    /** Every stored item of a scope, newest first, visible or not. */
    items(account: string, region: string): Array<{ item: Record<string, unknown>; visibleAt: number }> {
      return sortedEvents(scopeKey(account, region)).map((e) => ({ item: e.item, visibleAt: e.visibleAt }));
    },

    lookupEvents(body: Record<string, unknown>, account: string, region: string): unknown {
      const attrs = body.LookupAttributes;
      const { StartTime, EndTime, MaxResults, NextToken, EventCategory } = body;

      let attr: { key: string; value: string } | undefined;
      if (attrs !== undefined && attrs !== null) {
        if (!Array.isArray(attrs)) throw new ApiError(400, 'SerializationException', 'LookupAttributes must be a list');
        if (attrs.length > 1) {
          throw new ApiError(400, 'InvalidLookupAttributesException', 'You cannot specify more than one lookup attribute.');
        }
        const a: unknown = attrs[0];
        if (a !== undefined) {
          if (!isObj(a) || typeof a.AttributeKey !== 'string' || typeof a.AttributeValue !== 'string') {
            throw new ApiError(400, 'InvalidLookupAttributesException', 'AttributeKey and AttributeValue are required.');
          }
          if (!LOOKUP_KEYS.has(a.AttributeKey)) {
            throw new ApiError(400, 'InvalidLookupAttributesException', `Invalid attribute key: ${a.AttributeKey}`);
          }
          if (a.AttributeValue.length < 1 || a.AttributeValue.length > 2000) {
            throw new ApiError(400, 'InvalidLookupAttributesException', 'AttributeValue must be 1 to 2000 characters.');
          }
          if (a.AttributeKey === 'ReadOnly' && a.AttributeValue !== 'true' && a.AttributeValue !== 'false') {
            throw new ApiError(400, 'InvalidLookupAttributesException', 'ReadOnly must be "true" or "false".');
          }
          attr = { key: a.AttributeKey, value: a.AttributeValue };
        }
      }
      for (const [name, v] of [
        ['StartTime', StartTime],
        ['EndTime', EndTime],
      ] as const) {
        if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v))) {
          throw new ApiError(400, 'SerializationException', `${name} must be a timestamp (epoch seconds number)`);
        }
      }
      let maxResults = 50;
      if (MaxResults !== undefined && MaxResults !== null) {
        if (typeof MaxResults !== 'number' || !Number.isInteger(MaxResults) || MaxResults < 1 || MaxResults > 50) {
          throw new ApiError(400, 'InvalidMaxResultsException', 'MaxResults must be between 1 and 50.');
        }
        maxResults = MaxResults;
      }
      if (EventCategory !== undefined && EventCategory !== null && EventCategory !== 'insight') {
        throw new ApiError(400, 'InvalidEventCategoryException', `Invalid EventCategory: ${String(EventCategory)}`);
      }
      const clock = o.now();
      const startMs = typeof StartTime === 'number' ? StartTime * 1000 : clock - RETENTION_MS;
      const endMs = typeof EndTime === 'number' ? EndTime * 1000 : clock;
      if (startMs > endMs) throw new ApiError(400, 'InvalidTimeRangeException', 'Start time must be before end time.');

      const scope = scopeKey(account, region);
      const page = pager.page(
        {
          key: JSON.stringify(['LookupEvents', attrs ?? null, StartTime ?? null, EndTime ?? null, MaxResults ?? null, EventCategory ?? null]),
          scope,
          nextToken: NextToken,
          pageSize: maxResults,
          items: () => {
            if (EventCategory === 'insight') return [];
            const retainFrom = clock - RETENTION_MS;
            return sortedEvents(scope).filter(
              (e) =>
                e.visibleAt <= clock &&
                e.timeMs >= startMs &&
                e.timeMs <= endMs &&
                e.timeMs >= retainFrom &&
                (attr === undefined || matches(e.item, attr)),
            );
          },
        },
        () => new ApiError(400, 'InvalidNextTokenException', 'Invalid NextToken.'),
      );
      const out: Record<string, unknown> = { Events: page.items.map((e) => e.item) };
      if (page.nextToken) out.NextToken = page.nextToken;
      return out;
    },

    reset(): void {
      events.clear();
      pager.reset();
    },
  };
}

export type CloudTrail = ReturnType<typeof createCloudTrail>;
