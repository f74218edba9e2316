import { describe, expect, it } from 'vitest';
import { parseChannelRoutes } from '../../src/config/config.js';
import { routeChannel } from '../../src/slack/channel-routes.js';

describe('routeChannel (CHANNEL_ROUTES)', () => {
  const routes = parseChannelRoutes('tag:team=data=C0DATATEAM,workgroup:prod=C0PRODUCTION,account:210987654321=C0OTHERACCT,region:eu-west-1=C0EUROPE,workgroup:prod=C0NEVERUSED');
  const at = (o: Partial<Parameters<typeof routeChannel>[1]>) => routeChannel(routes, { workgroup: null, account: null, region: 'us-east-1', ...o }, 'C0FALLBACK');

  it('takes the first route that matches, else the surface’s own channel', () => {
    expect(at({ workgroup: 'prod', tags: { team: 'data' } })).toBe('C0DATATEAM');
    expect(at({ workgroup: 'prod' })).toBe('C0PRODUCTION');
    expect(at({ account: '210987654321', region: 'eu-west-1' })).toBe('C0OTHERACCT');
    expect(at({ region: 'eu-west-1' })).toBe('C0EUROPE');
    expect(at({ workgroup: 'adhoc', tags: { team: 'ml' } })).toBe('C0FALLBACK');
  });

  it('matches tags by key and value exactly, and never through inherited properties', () => {
    expect(at({ tags: { team: 'Data' } })).toBe('C0FALLBACK');
    expect(at({ tags: {} })).toBe('C0FALLBACK');
    expect(routeChannel(parseChannelRoutes('tag:constructor=x=C0TAGGED'), { workgroup: null, account: null, region: 'us-east-1', tags: {} }, 'C0FALLBACK')).toBe('C0FALLBACK');
  });
});
