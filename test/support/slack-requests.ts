import { createHmac } from 'node:crypto';
import net from 'node:net';

export const SIGNING_SECRET = 'abc123signingsecret0123456789';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Slack's request signature: v0=HMAC-SHA256(secret, "v0:<timestamp>:<body>"). */
export function signedHeaders(body: string, contentType: string, opts: { secret?: string; timestamp?: number } = {}): Record<string, string> {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const sig = 'v0=' + createHmac('sha256', opts.secret ?? SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return { 'content-type': contentType, 'x-slack-request-timestamp': ts, 'x-slack-signature': sig };
}

export interface CommandInput {
  text: string;
  /** Default `/athena-session`. */
  command?: string;
  userId?: string;
  channelId?: string;
  responseUrl: string;
}

export function commandBody(c: CommandInput): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0TEAM',
    team_domain: 'fake',
    channel_id: c.channelId ?? 'C0GENERAL',
    channel_name: 'general',
    user_id: c.userId ?? 'U0ALICE',
    user_name: 'alice',
    command: c.command ?? '/athena-session',
    text: c.text,
    api_app_id: 'A0APP',
    is_enterprise_install: 'false',
    response_url: c.responseUrl,
    trigger_id: '123.456.abc',
  }).toString();
}

/** POSTs a signed slash command; returns status, body text and the round-trip time. */
export async function postCommand(baseUrl: string, c: CommandInput, sign: { secret?: string; timestamp?: number } = {}) {
  const body = commandBody(c);
  const started = performance.now();
  const res = await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: signedHeaders(body, 'application/x-www-form-urlencoded', sign), body });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

export function mentionBody(e: { text: string; channel: string; ts: string; threadTs?: string; user?: string; eventId?: string }): string {
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: 'T0TEAM',
    api_app_id: 'A0APP',
    type: 'event_callback',
    event_id: e.eventId ?? `Ev${e.ts.replace('.', '')}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: 'T0TEAM', user_id: 'U0BOT', is_bot: true }],
    event: { type: 'app_mention', user: e.user ?? 'U0ALICE', text: e.text, ts: e.ts, channel: e.channel, event_ts: e.ts, ...(e.threadTs ? { thread_ts: e.threadTs } : {}) },
  });
}

export async function postEvent(baseUrl: string, body: string, extraHeaders: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers: { ...signedHeaders(body, 'application/json'), ...extraHeaders }, body });
  return { status: res.status, text: await res.text() };
}

export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
