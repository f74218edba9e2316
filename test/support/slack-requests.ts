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

/** The `event_callback` envelope Slack's Events API wraps every event in. */
export function eventCallback(event: Record<string, unknown>, eventId: string): Record<string, unknown> {
  return {
    token: 'deprecated-verification-token',
    team_id: 'T0TEAM',
    api_app_id: 'A0APP',
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: 'T0TEAM', user_id: 'U0BOT', is_bot: true }],
    event,
  };
}

export function mentionBody(e: { text: string; channel: string; ts: string; threadTs?: string; user?: string; eventId?: string }): string {
  return JSON.stringify(
    eventCallback(
      { type: 'app_mention', user: e.user ?? 'U0ALICE', text: e.text, ts: e.ts, channel: e.channel, event_ts: e.ts, ...(e.threadTs ? { thread_ts: e.threadTs } : {}) },
      e.eventId ?? `Ev${e.ts.replace('.', '')}`,
    ),
  );
}

export interface AppHomeOpenedInput {
  userId: string;
  /** Default 'home'. */
  tab?: 'home' | 'messages';
  eventId?: string;
  /** The app's DM channel with the user; default `D0<user id without its first letter>`. */
  channel?: string;
  /** The view last published for the user, which Slack includes once there is one. */
  view?: Record<string, unknown>;
}

/** The `app_home_opened` event payload (an `event_callback`), as Slack sends it when a user opens the app's Home. */
export function appHomeOpenedEvent(o: AppHomeOpenedInput): Record<string, unknown> {
  const eventTs = (Date.now() / 1000).toFixed(6);
  return eventCallback(
    { type: 'app_home_opened', user: o.userId, channel: o.channel ?? `D0${o.userId.slice(1)}`, tab: o.tab ?? 'home', event_ts: eventTs, ...(o.view ? { view: o.view } : {}) },
    o.eventId ?? `Ev${eventTs.replace('.', '')}`,
  );
}

/** JSON body for postEvent. */
export function appHomeOpenedBody(o: AppHomeOpenedInput): string {
  return JSON.stringify(appHomeOpenedEvent(o));
}

export interface BlockActionInput {
  actionId: string;
  /** Default 'alert_actions'. */
  blockId?: string;
  value: string;
  userId: string;
  /** Default 'alice'. */
  userName?: string;
  channelId: string;
  /** Default 'alerts'. */
  channelName?: string;
  /** The message the button is on. */
  messageTs: string;
  /** Set when that message is a thread reply. */
  threadTs?: string;
  responseUrl: string;
  triggerId?: string;
  /** Default: the message container Slack sends for a button in a channel message. */
  container?: Record<string, unknown>;
  /** The message as Slack includes it; default a bot message with that ts. */
  message?: Record<string, unknown>;
  /** The button's label. Default: the action id. */
  buttonText?: string;
  /** Default: now, as `seconds.micros`. */
  actionTs?: string;
}

/** A `block_actions` interaction payload for a button press on a message (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload). */
export function blockActionsPayload(o: BlockActionInput): Record<string, unknown> {
  const thread = o.threadTs ? { thread_ts: o.threadTs } : {};
  const userName = o.userName ?? 'alice';
  return {
    type: 'block_actions',
    user: { id: o.userId, username: userName, name: userName, team_id: 'T0TEAM' },
    api_app_id: 'A0APP',
    token: 'deprecated-verification-token',
    container: o.container ?? { type: 'message', message_ts: o.messageTs, channel_id: o.channelId, is_ephemeral: false, ...thread },
    trigger_id: o.triggerId ?? `${Math.floor(Date.now() / 1000)}.1234567890.0123456789abcdef0123456789abcdef`,
    team: { id: 'T0TEAM', domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channelId, name: o.channelName ?? 'alerts' },
    message: o.message ?? { type: 'message', user: 'U0BOT', bot_id: 'B0BOT', app_id: 'A0APP', text: '', ts: o.messageTs, team: 'T0TEAM', ...thread },
    state: { values: {} },
    response_url: o.responseUrl,
    actions: [
      {
        action_id: o.actionId,
        block_id: o.blockId ?? 'alert_actions',
        text: { type: 'plain_text', text: o.buttonText ?? o.actionId, emoji: true },
        value: o.value,
        type: 'button',
        action_ts: o.actionTs ?? (Date.now() / 1000).toFixed(6),
      },
    ],
  };
}

/** The form body Slack POSTs for an interaction: `payload=<url-encoded JSON>`. */
export function blockActionsBody(o: BlockActionInput): string {
  return `payload=${encodeURIComponent(JSON.stringify(blockActionsPayload(o)))}`;
}

/**
 * POSTs an interaction body to `/slack/events`, signed with the signing secret (or another
 * `secret`, a stale `timestamp`, or `unsigned`); returns status, body text and round-trip time.
 */
export async function postInteraction(baseUrl: string, body: string, sign: { secret?: string; timestamp?: number; unsigned?: boolean } = {}) {
  const contentType = 'application/x-www-form-urlencoded';
  const headers = sign.unsigned ? { 'content-type': contentType } : signedHeaders(body, contentType, sign);
  const started = performance.now();
  const res = await fetch(`${baseUrl}/slack/events`, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
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
