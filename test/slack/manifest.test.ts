import fs from 'node:fs';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(fs.readFileSync(new URL('../../manifest.json', import.meta.url), 'utf8'));
const listeners = fs
  .readdirSync(new URL('../../src/slack/listeners/', import.meta.url))
  .map((f) => fs.readFileSync(new URL(`../../src/slack/listeners/${f}`, import.meta.url), 'utf8'))
  .join('\n');

describe('manifest.json', () => {
  it('sends commands, events and interactivity to the one /slack/events URL', () => {
    const url = manifest.settings.event_subscriptions.request_url;
    expect(url).toMatch(/\/slack\/events$/);
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: url });
    for (const c of manifest.features.slash_commands) expect(c.url).toBe(url);
  });

  it('subscribes to exactly the events the app listens to, and has the Home tab', () => {
    const events = [...listeners.matchAll(/app\.event\('([a-z_]+)'/g)].map((m) => m[1]).sort();
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual(events);
    expect(events).toEqual(['app_home_opened', 'app_mention']);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });

  it('asks for no scope beyond what the bot uses (views.publish, chat.update and response_urls need none of their own; files:write uploads the digest chart)', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(['app_mentions:read', 'channels:history', 'chat:write', 'commands', 'files:write', 'groups:history']);
  });
});
