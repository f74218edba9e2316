import type { ChannelRoute } from '../config/config.js';

/** What a route can match on: where a session (or a notebook call) happened, and its tags. */
export interface RouteSubject {
  workgroup: string | null;
  account: string | null;
  region: string;
  tags?: Readonly<Record<string, string>>;
}

/**
 * The channel for a feed item or an alert (SPEC §3 CHANNEL_ROUTES): the first route that
 * matches, else the surface's own channel. Routes only redirect: a surface that is off (its
 * channel unset) stays off.
 */
export function routeChannel(routes: readonly ChannelRoute[], subject: RouteSubject, fallback: string): string {
  for (const r of routes) {
    if (matches(r, subject)) return r.channel;
  }
  return fallback;
}

function matches(r: ChannelRoute, s: RouteSubject): boolean {
  switch (r.kind) {
    case 'workgroup':
      return s.workgroup === r.value;
    case 'account':
      return s.account === r.value;
    case 'region':
      return s.region === r.value;
    case 'tag':
      return s.tags !== undefined && Object.prototype.hasOwnProperty.call(s.tags, r.key) && s.tags[r.key] === r.value;
  }
}
