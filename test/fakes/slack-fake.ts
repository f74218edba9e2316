/**
 * A faithful in-process fake of the Slack Web API (plus `response_url`s), built on node:http only.
 *
 * Point the real `WebClient` (or Bolt's `App`, via `clientOptions.slackApiUrl`) at `fake.apiUrl`.
 * It speaks the same wire format as slack.com: `POST /api/<method>` with an
 * `application/x-www-form-urlencoded` body (object-valued args JSON-encoded, as the WebClient sends
 * them) or an `application/json` body, answers HTTP 200 `{ok:false,error}` for API errors, HTTP 429 +
 * `Retry-After` when rate limited, and serves `POST /response/<id>` the way a `response_url` does.
 *
 * Methods: api.test, auth.test, chat.postMessage, chat.postEphemeral, chat.update, chat.delete,
 * chat.getPermalink, conversations.history, conversations.replies, views.publish. The bot token
 * is required on each. chat.postMessage and chat.update each allow `rateLimitPerChannelPerSecond`
 * (resp. `updateRateLimitPerChannelPerSecond`) per channel; `rateLimitNext` answers 429 on demand.
 * A `response_url` made with a context (`responseUrl(id, { channel, messageTs, userId })`) acts
 * like one from an interaction: `replace_original` / `delete_original` change the original
 * message, `response_type: 'in_channel'` posts in the channel, anything else is ephemeral to the
 * user; one made without a context only records what was posted to it.
 *
 * Options: `token`, `channels`, `rateLimitPerChannelPerSecond`, `updateRateLimitPerChannelPerSecond`,
 * `homeTabEnabled`, `botUserId`, `botId`, `teamId`. Observations: `calls`, `messages`,
 * `ephemerals`, `responses`, `homeView`. Faults: `rateLimitNext`, `refuseNext`, `failNext`, `setDown`.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface SlackFakeOptions {
  /** The only token accepted. Default 'xoxb-test-token'. */
  token?: string;
  /** Known channel ids. Default ['C0DIGEST', 'C0ALERTS', 'C0GENERAL']. */
  channels?: string[];
  /** chat.postMessage per channel per rolling second before HTTP 429. Default 1; 0 or Infinity disables. */
  rateLimitPerChannelPerSecond?: number;
  /** chat.update per channel per rolling second before HTTP 429. Default: rateLimitPerChannelPerSecond. */
  updateRateLimitPerChannelPerSecond?: number;
  /** Whether the app has its Home tab; when false views.publish answers `not_enabled`. Default true. */
  homeTabEnabled?: boolean;
  /** Default 'U0BOT'. */
  botUserId?: string;
  /** Default 'B0BOT'. */
  botId?: string;
  /** Default 'T0TEAM'. */
  teamId?: string;
  /** Delay before a completed file upload appears in its channel (Slack shares asynchronously). Default 0. */
  fileShareDelayMs?: number;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  user: string;
  /** '' for messages injected as a human user (see `injectMessage`). */
  bot_id: string;
  ephemeralTo?: string;
  attachments?: unknown[];
  /** A thread reply posted with reply_broadcast=true (also shown in channel history). */
  reply_broadcast?: boolean;
  /** Set by chat.update. */
  edited?: { user: string; ts: string };
  /** Files shared with files.completeUploadExternal (the message Slack makes for a share). */
  files?: Array<{ id: string; name: string; title: string; mimetype: string; size: number }>;
}

/** A file as the files upload v2 flow leaves it. */
export interface FakeFile {
  id: string;
  filename: string;
  /** Size announced to files.getUploadURLExternal. */
  length: number;
  altText?: string;
  /** What was POSTed to the upload URL (raw body, or the file part of a multipart form); undefined until then. */
  bytes?: Buffer;
  uploads: number;
  /** Each files.completeUploadExternal naming this file, with where it shared it. */
  completions: Array<{ title?: string; channel?: string; threadTs?: string }>;
}

export interface RecordedCall {
  method: string;
  /** Parsed body (form fields or JSON) merged over query-string args; JSON-string `blocks`,
   *  `attachments` and `metadata` are decoded to objects when they parse. */
  body: Record<string, unknown>;
  at: number;
  status: number;
  ok: boolean;
  error?: string;
  headers: Record<string, string | string[] | undefined>;
  /** The request body exactly as received. */
  rawBody: string;
}

export interface FakeResponse {
  id: string;
  body: any;
  at: number;
}

/** What an interaction's `response_url` belongs to: the message the action was on, and who acted. */
export interface ResponseUrlContext {
  channel: string;
  /** The message `replace_original` / `delete_original` act on. */
  messageTs?: string;
  /** Who gets ephemeral responses. */
  userId?: string;
}

/** A published App Home view, as views.publish answers it. */
export interface FakeView {
  id: string;
  team_id: string;
  type: 'home';
  blocks: unknown[];
  private_metadata: string;
  callback_id: string;
  external_id: string;
  hash: string;
  app_id: string;
  bot_id: string;
  state: { values: Record<string, unknown> };
  [key: string]: unknown;
}

export interface InjectMessageInput {
  channel: string;
  text?: string;
  blocks?: unknown[];
  /** Default 'U0HUMAN'. */
  user?: string;
  /** Default: a fresh ts. */
  ts?: string;
  thread_ts?: string;
}

export interface SlackFake {
  /** http://127.0.0.1:<port> */
  url: string;
  /** `${url}/api/` */
  apiUrl: string;
  /** Every API call in order, including rejected ones (not those refused by `setDown`). */
  calls: RecordedCall[];
  /** Posted (non-ephemeral) messages, oldest first, thread replies included. */
  messages(channel?: string): FakeMessage[];
  /** chat.postEphemeral messages, oldest first. */
  ephemerals(): FakeMessage[];
  /** A fresh response_url on this fake (re-issuing an id resets its use count); with a context it acts on Slack. */
  responseUrl(id?: string, context?: ResponseUrlContext): string;
  /** What was POSTed to response_urls, oldest first. */
  responses(id?: string): FakeResponse[];
  /** The App Home view last published for a user. */
  homeView(userId: string): FakeView | undefined;
  /**
   * The next n calls of `methods` (exact names or `prefix.*`, or one prefix such as 'files.';
   * default chat.* and views.*) answer HTTP 429 + Retry-After (default 1 s).
   */
  rateLimitNext(n: number, retryAfterSeconds?: number, methods?: string[] | string): void;
  /** Files started with files.getUploadURLExternal, oldest first. */
  files(): FakeFile[];
  /**
   * The next n calls of `method` are refused as Slack refuses a payload it will not take: HTTP 200
   * `{ ok: false, error, response_metadata: { messages } }` (e.g. views.publish `invalid_arguments`).
   */
  refuseNext(method: string, error: string, n?: number, messages?: string[]): void;
  /** Next n API calls answer HTTP 5xx (default 503). */
  failNext(n: number, status?: number): void;
  /** While down, every connection (new or kept-alive) is destroyed at once. */
  setDown(down: boolean): void;
  /** Puts a message into a channel as if a person had posted it (e.g. the message an app_mention
   *  refers to), so the bot can reply in its thread. */
  injectMessage(input: InjectMessageInput): FakeMessage;
  /** Makes a channel id known. */
  addChannel(channel: string): void;
  /** Clears calls, messages, ephemerals, responses, home views, rate-limit windows and faults. */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Slack limits (https://docs.slack.dev/reference/block-kit/blocks)

const MAX_BLOCKS = 50;
const MAX_VIEW_BLOCKS = 100;
const MAX_VIEW_BYTES = 250_000;
const MAX_PRIVATE_METADATA = 3000;
const MAX_CALLBACK_ID = 255;
const MAX_SECTION_TEXT = 3000;
const MAX_SECTION_FIELDS = 10;
const MAX_FIELD_TEXT = 2000;
const MAX_HEADER_TEXT = 150;
const MAX_CONTEXT_ELEMENTS = 10;
const MAX_ACTIONS_ELEMENTS = 25;
const MAX_MARKDOWN_TEXT = 12000;
const MAX_BLOCK_ID = 255;
const MAX_MESSAGE_TEXT = 40000;
const HISTORY_DEFAULT_LIMIT = 100;
const HISTORY_MAX_LIMIT = 999;
const REPLIES_DEFAULT_LIMIT = 1000;
const RESPONSE_URL_MAX_USES = 5;
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const APP_ID = 'A0APP';
const BOT_NAME = 'athena-session-bot';

const KNOWN_BLOCK_TYPES = new Set([
  'section',
  'header',
  'divider',
  'context',
  'actions',
  'image',
  'rich_text',
  'input',
  'file',
  'video',
  'markdown',
  'table',
  'context_actions',
]);

type Json = Record<string, unknown>;

interface ApiResult {
  status?: number;
  body: Json;
  headers?: Record<string, string>;
}

class ApiError extends Error {
  constructor(
    readonly error: string,
    readonly messages?: string[],
  ) {
    super(error);
  }
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function truthy(v: unknown): boolean {
  return v === true || v === 1 || v === 'true' || v === '1';
}

/** `1712345678.000123` → microseconds; NaN when malformed. */
function tsToMicros(ts: string | undefined): number {
  if (ts === undefined) return Number.NaN;
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(ts.trim());
  if (!m) return Number.NaN;
  const sec = Number(m[1]);
  const frac = (m[2] ?? '').padEnd(6, '0');
  return sec * 1_000_000 + Number(frac);
}

function microsToTs(micros: number): string {
  const sec = Math.floor(micros / 1_000_000);
  const frac = micros - sec * 1_000_000;
  return `${sec}.${String(frac).padStart(6, '0')}`;
}

function encodeCursor(micros: number): string {
  return Buffer.from(`next_ts:${micros}`).toString('base64');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  const m = /^next_ts:(\d+)$/.exec(text);
  if (!m) throw new ApiError('invalid_cursor');
  return Number(m[1]);
}

function decodeJsonField(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Block Kit validation (a subset of Slack's rules; everything checked here Slack also rejects)

function textLength(t: unknown): number | undefined {
  if (!isRecord(t) || typeof t.text !== 'string') return undefined;
  return t.text.length;
}

function checkTextObject(
  t: unknown,
  pointer: string,
  max: number,
  errors: string[],
  allowed: ReadonlyArray<string> = ['plain_text', 'mrkdwn'],
): void {
  if (!isRecord(t)) {
    errors.push(`[ERROR] must provide an object [json-pointer:${pointer}]`);
    return;
  }
  if (typeof t.type !== 'string' || !allowed.includes(t.type)) {
    errors.push(`[ERROR] must be one of ${allowed.join(', ')} [json-pointer:${pointer}/type]`);
  }
  const len = textLength(t);
  if (len === undefined) {
    errors.push(`[ERROR] must provide a string [json-pointer:${pointer}/text]`);
  } else if (len < 1) {
    errors.push(`[ERROR] must be more than 0 characters [json-pointer:${pointer}/text]`);
  } else if (len > max) {
    errors.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:${pointer}/text]`);
  }
}

/**
 * Returns Slack-style `[ERROR] … [json-pointer:…]` messages; empty when valid. Messages allow
 * 50 blocks, views (`pointer: '/view/blocks'`) 100.
 */
export function validateBlocks(blocks: unknown[], o: { maxBlocks?: number; pointer?: string } = {}): string[] {
  const errors: string[] = [];
  const max = o.maxBlocks ?? MAX_BLOCKS;
  const pointer = o.pointer ?? '/blocks';
  if (blocks.length > max) {
    errors.push(`[ERROR] no more than ${max} items allowed [json-pointer:${pointer}]`);
  }
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const p = `${pointer}/${i}`;
    if (!isRecord(block)) {
      errors.push(`[ERROR] must provide an object [json-pointer:${p}]`);
      return;
    }
    if (typeof block.type !== 'string' || !KNOWN_BLOCK_TYPES.has(block.type)) {
      errors.push(`[ERROR] unsupported type: ${String(block.type)} [json-pointer:${p}/type]`);
      return;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length > MAX_BLOCK_ID) {
        errors.push(`[ERROR] must be less than ${MAX_BLOCK_ID + 1} characters [json-pointer:${p}/block_id]`);
      } else if (blockIds.has(block.block_id)) {
        errors.push(`[ERROR] duplicate block_id [json-pointer:${p}/block_id]`);
      } else {
        blockIds.add(block.block_id);
      }
    }
    switch (block.type) {
      case 'section': {
        if (block.text === undefined && block.fields === undefined) {
          errors.push(`[ERROR] must provide either text or fields [json-pointer:${p}]`);
        }
        if (block.text !== undefined) checkTextObject(block.text, `${p}/text`, MAX_SECTION_TEXT, errors);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length < 1) {
            errors.push(`[ERROR] must provide a non-empty array [json-pointer:${p}/fields]`);
          } else {
            if (block.fields.length > MAX_SECTION_FIELDS) {
              errors.push(`[ERROR] no more than ${MAX_SECTION_FIELDS} items allowed [json-pointer:${p}/fields]`);
            }
            block.fields.forEach((f, j) => checkTextObject(f, `${p}/fields/${j}`, MAX_FIELD_TEXT, errors));
          }
        }
        break;
      }
      case 'header':
        checkTextObject(block.text, `${p}/text`, MAX_HEADER_TEXT, errors, ['plain_text']);
        break;
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length < 1) {
          errors.push(`[ERROR] must provide a non-empty array [json-pointer:${p}/elements]`);
        } else if (block.elements.length > MAX_CONTEXT_ELEMENTS) {
          errors.push(`[ERROR] no more than ${MAX_CONTEXT_ELEMENTS} items allowed [json-pointer:${p}/elements]`);
        }
        break;
      case 'actions':
        if (!Array.isArray(block.elements) || block.elements.length < 1) {
          errors.push(`[ERROR] must provide a non-empty array [json-pointer:${p}/elements]`);
        } else if (block.elements.length > MAX_ACTIONS_ELEMENTS) {
          errors.push(`[ERROR] no more than ${MAX_ACTIONS_ELEMENTS} items allowed [json-pointer:${p}/elements]`);
        }
        break;
      case 'image':
        if (typeof block.alt_text !== 'string' || block.alt_text.length < 1) {
          errors.push(`[ERROR] must provide a string [json-pointer:${p}/alt_text]`);
        }
        if (typeof block.image_url !== 'string' && !isRecord(block.slack_file)) {
          errors.push(`[ERROR] must provide image_url or slack_file [json-pointer:${p}]`);
        }
        break;
      case 'rich_text':
        if (!Array.isArray(block.elements)) {
          errors.push(`[ERROR] must provide an array [json-pointer:${p}/elements]`);
        }
        break;
      case 'markdown':
        if (typeof block.text !== 'string' || block.text.length < 1) {
          errors.push(`[ERROR] must provide a string [json-pointer:${p}/text]`);
        } else if (block.text.length > MAX_MARKDOWN_TEXT) {
          errors.push(`[ERROR] must be less than ${MAX_MARKDOWN_TEXT + 1} characters [json-pointer:${p}/text]`);
        }
        break;
      default:
        break;
    }
  });
  return errors;
}

// ---------------------------------------------------------------------------------------------

interface MessageContent {
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

/** Parses and validates text/blocks/attachments; throws ApiError like Slack. */
function readContent(body: Json, requireSome: boolean): MessageContent {
  const out: MessageContent = {};
  const text = str(body.text);
  if (text !== undefined && text !== '') out.text = text;

  if (body.blocks !== undefined && body.blocks !== '') {
    let blocks: unknown = body.blocks;
    if (typeof blocks === 'string') {
      try {
        blocks = JSON.parse(blocks) as unknown;
      } catch {
        throw new ApiError('invalid_blocks_format', ['[ERROR] failed to parse blocks JSON [json-pointer:/blocks]']);
      }
    }
    if (!Array.isArray(blocks)) {
      throw new ApiError('invalid_blocks_format', ['[ERROR] must provide an array [json-pointer:/blocks]']);
    }
    const errors = validateBlocks(blocks);
    if (errors.length > 0) throw new ApiError('invalid_blocks', errors);
    if (blocks.length > 0) out.blocks = blocks;
  }

  if (body.attachments !== undefined && body.attachments !== '') {
    let attachments: unknown = body.attachments;
    if (typeof attachments === 'string') {
      try {
        attachments = JSON.parse(attachments) as unknown;
      } catch {
        throw new ApiError('invalid_attachments');
      }
    }
    if (!Array.isArray(attachments)) throw new ApiError('invalid_attachments');
    if (attachments.length > 0) out.attachments = attachments;
  }

  if (requireSome && out.text === undefined && out.blocks === undefined && out.attachments === undefined) {
    throw new ApiError('no_text');
  }
  if (out.text !== undefined && out.text.length > MAX_MESSAGE_TEXT) throw new ApiError('msg_too_long');
  return out;
}

function readMetadata(v: unknown): FakeMessage['metadata'] | undefined {
  if (v === undefined || v === '') return undefined;
  let m: unknown = v;
  if (typeof m === 'string') {
    try {
      m = JSON.parse(m) as unknown;
    } catch {
      throw new ApiError('invalid_metadata_format');
    }
  }
  if (!isRecord(m)) throw new ApiError('invalid_metadata_format');
  if (typeof m.event_type !== 'string' || m.event_type === '' || !isRecord(m.event_payload)) {
    throw new ApiError('invalid_metadata_schema');
  }
  return { event_type: m.event_type, event_payload: m.event_payload };
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** The first part of a multipart/form-data body that carries a filename, or undefined for any other body. */
function multipartFile(body: Buffer, contentType: string): Buffer | undefined {
  const m = /^multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) return undefined;
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(at + delimiter.length + 2, next - 2); // after CRLF, before CRLF
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0 && /filename=/i.test(part.subarray(0, split).toString('utf8'))) return part.subarray(split + 4);
    at = next;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

export async function startSlackFake(opts: SlackFakeOptions = {}): Promise<SlackFake> {
  const token = opts.token ?? 'xoxb-test-token';
  const botUserId = opts.botUserId ?? 'U0BOT';
  const botId = opts.botId ?? 'B0BOT';
  const teamId = opts.teamId ?? 'T0TEAM';
  const perSecond = opts.rateLimitPerChannelPerSecond ?? 1;
  const updatesPerSecond = opts.updateRateLimitPerChannelPerSecond ?? perSecond;
  const homeTabEnabled = opts.homeTabEnabled ?? true;
  const channels = new Set(opts.channels ?? ['C0DIGEST', 'C0ALERTS', 'C0GENERAL']);

  const calls: RecordedCall[] = [];
  let posted: FakeMessage[] = [];
  let ephemeralList: FakeMessage[] = [];
  let responseLog: FakeResponse[] = [];
  const responseUses = new Map<string, number>();
  const responseContexts = new Map<string, ResponseUrlContext>();
  const accepted = new Map<string, number[]>(); // method|channel → acceptance times (ms)
  const homeViews = new Map<string, FakeView>();
  let viewCounter = 0;
  let rateLimitRemaining = 0;
  const refusals = new Map<string, { n: number; error: string; messages: string[] }>();
  let rateLimitRetryAfter = 1;
  let rateLimitMethods = ['chat.*', 'views.*'];
  let failRemaining = 0;
  let failStatus = 503;
  let down = false;
  let lastMicros = 0;
  let responseCounter = 0;

  const sockets = new Set<Socket>();
  const fileStore = new Map<string, FakeFile>();
  const uploadTokens = new Map<string, string>();
  const fileShareDelay = opts.fileShareDelayMs ?? 0;

  function nextTs(): string {
    const now = Date.now() * 1000;
    lastMicros = Math.max(now, lastMicros + 1);
    return microsToTs(lastMicros);
  }

  /** True when `method` already accepted `limit` calls for `channel` in the last second. */
  function overChannelRate(method: string, channel: string, limit: number): boolean {
    if (!(limit > 0) || !Number.isFinite(limit)) return false;
    const key = `${method}|${channel}`;
    const now = Date.now();
    const recent = (accepted.get(key) ?? []).filter((t) => now - t < 1000);
    accepted.set(key, recent);
    return recent.length >= limit;
  }

  function noteAccepted(method: string, channel: string): void {
    const key = `${method}|${channel}`;
    const window = accepted.get(key);
    if (window) window.push(Date.now());
    else accepted.set(key, [Date.now()]);
  }

  const RATE_LIMITED: ApiResult = { status: 429, headers: { 'Retry-After': '1' }, body: { ok: false, error: 'ratelimited' } };

  function requireChannel(body: Json): string {
    const channel = str(body.channel);
    if (channel === undefined || channel === '' || !channels.has(channel)) throw new ApiError('channel_not_found');
    return channel;
  }

  function topLevel(channel: string, ts: string): FakeMessage | undefined {
    return posted.find((m) => m.channel === channel && m.ts === ts && m.thread_ts === undefined);
  }

  function repliesOf(parent: FakeMessage): FakeMessage[] {
    return posted.filter((m) => m.channel === parent.channel && m.thread_ts === parent.ts);
  }

  function botProfile(): Json {
    return { id: botId, app_id: APP_ID, name: BOT_NAME, deleted: false, team_id: teamId };
  }

  /** The message as Slack's API renders it. */
  function render(m: FakeMessage, includeMetadata: boolean): Json {
    const out: Json = { type: 'message' };
    if (m.reply_broadcast) out.subtype = 'thread_broadcast';
    out.text = m.text ?? (m.blocks || m.attachments ? "This content can't be displayed." : '');
    out.user = m.user;
    if (m.bot_id) {
      out.bot_id = m.bot_id;
      out.app_id = APP_ID;
      out.bot_profile = botProfile();
    }
    out.ts = m.ts;
    out.team = teamId;
    if (m.blocks) out.blocks = clone(m.blocks);
    if (m.attachments) out.attachments = clone(m.attachments);
    if (m.edited) out.edited = { ...m.edited };
    if (m.files) {
      out.files = clone(m.files);
      out.upload = true;
    }
    if (includeMetadata && m.metadata) out.metadata = clone(m.metadata);
    if (m.thread_ts !== undefined) {
      out.thread_ts = m.thread_ts;
      const parent = topLevel(m.channel, m.thread_ts);
      if (parent) out.parent_user_id = parent.user;
    } else {
      const replies = repliesOf(m);
      if (replies.length > 0) {
        const users = [...new Set(replies.map((r) => r.user))];
        out.thread_ts = m.ts;
        out.reply_count = replies.length;
        out.reply_users_count = users.length;
        out.latest_reply = replies[replies.length - 1]!.ts;
        out.reply_users = users;
        out.is_locked = false;
        out.subscribed = false;
      }
    }
    return out;
  }

  function readLimit(v: unknown, def: number, max: number): number {
    const n = Number.parseInt(str(v) ?? '', 10);
    if (!Number.isFinite(n) || n <= 0) return def;
    return Math.min(n, max);
  }

  function readRange(body: Json): { oldest: number; latest: number; inclusive: boolean } {
    const oldestS = str(body.oldest);
    const latestS = str(body.latest);
    const oldest = oldestS !== undefined && oldestS !== '' ? tsToMicros(oldestS) : 0;
    const latest = latestS !== undefined && latestS !== '' ? tsToMicros(latestS) : Number.POSITIVE_INFINITY;
    if (Number.isNaN(oldest) || Number.isNaN(latest)) throw new ApiError('invalid_ts_latest');
    return { oldest, latest, inclusive: truthy(body.inclusive) };
  }

  function inRange(micros: number, r: { oldest: number; latest: number; inclusive: boolean }): boolean {
    return r.inclusive ? micros >= r.oldest && micros <= r.latest : micros > r.oldest && micros < r.latest;
  }

  const methods: Record<string, (body: Json) => ApiResult> = {
    'api.test': (body) => ({ body: { ok: true, args: body } }),

    'auth.test': () => ({
      body: {
        ok: true,
        url: 'https://fake.slack.com/',
        team: 'Fake',
        user: BOT_NAME,
        team_id: teamId,
        user_id: botUserId,
        bot_id: botId,
        is_enterprise_install: false,
      },
    }),

    'chat.postMessage': (body) => {
      const channel = requireChannel(body);
      if (overChannelRate('chat.postMessage', channel, perSecond)) return RATE_LIMITED;
      const content = readContent(body, true);
      const threadTs = str(body.thread_ts);
      if (threadTs !== undefined && threadTs !== '' && !topLevel(channel, threadTs)) {
        throw new ApiError('thread_not_found');
      }
      const metadata = readMetadata(body.metadata);
      const msg: FakeMessage = { channel, ts: nextTs(), user: botUserId, bot_id: botId, ...content };
      if (threadTs !== undefined && threadTs !== '') {
        msg.thread_ts = threadTs;
        if (truthy(body.reply_broadcast)) msg.reply_broadcast = true;
      }
      if (metadata) msg.metadata = metadata;
      posted.push(msg);
      noteAccepted('chat.postMessage', channel);
      return { body: { ok: true, channel, ts: msg.ts, message: render(msg, true) } };
    },

    'chat.postEphemeral': (body) => {
      const channel = requireChannel(body);
      const user = str(body.user);
      if (user === undefined || !/^[UW][A-Z0-9]+$/.test(user)) throw new ApiError('user_not_found');
      const content = readContent(body, true);
      const msg: FakeMessage = { channel, ts: nextTs(), user: botUserId, bot_id: botId, ephemeralTo: user, ...content };
      const threadTs = str(body.thread_ts);
      if (threadTs !== undefined && threadTs !== '') msg.thread_ts = threadTs;
      ephemeralList.push(msg);
      return { body: { ok: true, message_ts: msg.ts } };
    },

    'chat.update': (body) => {
      const channel = requireChannel(body);
      if (overChannelRate('chat.update', channel, updatesPerSecond)) return RATE_LIMITED;
      const ts = str(body.ts);
      const msg = posted.find((m) => m.channel === channel && m.ts === ts);
      if (!msg) throw new ApiError('message_not_found');
      if (msg.bot_id !== botId) throw new ApiError('cant_update_message');
      const content = readContent(body, true);
      const metadata = readMetadata(body.metadata);
      if (content.text !== undefined) msg.text = content.text;
      if (content.blocks !== undefined) msg.blocks = content.blocks;
      else if (body.blocks !== undefined) delete msg.blocks; // blocks=[] clears them
      if (content.attachments !== undefined) msg.attachments = content.attachments;
      if (metadata) msg.metadata = metadata;
      msg.edited = { user: botUserId, ts: nextTs() };
      noteAccepted('chat.update', channel);
      const rendered = render(msg, true);
      return { body: { ok: true, channel, ts: msg.ts, text: rendered.text, message: rendered } };
    },

    'views.publish': (body) => {
      const userId = str(body.user_id);
      if (userId === undefined || userId === '') throw new ApiError('invalid_arguments', ['[ERROR] missing required field: user_id']);
      if (!/^[UW][A-Z0-9]+$/.test(userId)) throw new ApiError('user_not_found');
      if (body.view === undefined || body.view === '') throw new ApiError('invalid_arguments', ['[ERROR] missing required field: view']);
      let view: unknown = body.view;
      if (typeof view === 'string') {
        if (view.length > MAX_VIEW_BYTES) throw new ApiError('view_too_large');
        try {
          view = JSON.parse(view) as unknown;
        } catch {
          throw new ApiError('invalid_arguments', ['[ERROR] failed to parse view JSON [json-pointer:/view]']);
        }
      }
      if (!isRecord(view)) throw new ApiError('invalid_arguments', ['[ERROR] must provide an object [json-pointer:/view]']);
      if (JSON.stringify(view).length > MAX_VIEW_BYTES) throw new ApiError('view_too_large');
      if (!homeTabEnabled) throw new ApiError('not_enabled');
      const errors: string[] = [];
      if (view.type !== 'home') errors.push('[ERROR] must be one of home [json-pointer:/view/type]');
      if (!Array.isArray(view.blocks)) errors.push('[ERROR] must provide an array [json-pointer:/view/blocks]');
      else errors.push(...validateBlocks(view.blocks, { maxBlocks: MAX_VIEW_BLOCKS, pointer: '/view/blocks' }));
      for (const [field, max] of [
        ['private_metadata', MAX_PRIVATE_METADATA],
        ['callback_id', MAX_CALLBACK_ID],
        ['external_id', MAX_CALLBACK_ID],
      ] as const) {
        const v = view[field];
        if (v !== undefined && (typeof v !== 'string' || v.length > max)) {
          errors.push(`[ERROR] must be less than ${max + 1} characters [json-pointer:/view/${field}]`);
        }
      }
      if (errors.length > 0) throw new ApiError('invalid_arguments', errors);
      const current = homeViews.get(userId);
      const hash = str(body.hash);
      // The hash guards against publishing over a newer view: it must be the current one's.
      if (hash !== undefined && hash !== '' && hash !== current?.hash) throw new ApiError('hash_conflict');
      const id = current?.id ?? `V0${String(++viewCounter).padStart(8, '0')}`;
      const published: FakeView = {
        id,
        team_id: teamId,
        type: 'home',
        blocks: clone(view.blocks as unknown[]),
        private_metadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
        callback_id: typeof view.callback_id === 'string' ? view.callback_id : '',
        external_id: typeof view.external_id === 'string' ? view.external_id : '',
        state: { values: {} },
        hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
        title: { type: 'plain_text', text: BOT_NAME, emoji: true },
        clear_on_close: false,
        notify_on_close: false,
        close: null,
        submit: null,
        previous_view_id: null,
        root_view_id: id,
        app_id: APP_ID,
        app_installed_team_id: teamId,
        bot_id: botId,
      };
      homeViews.set(userId, published);
      return { body: { ok: true, view: clone(published) } };
    },

    'chat.delete': (body) => {
      const channel = requireChannel(body);
      const ts = str(body.ts);
      const msg = posted.find((m) => m.channel === channel && m.ts === ts);
      if (!msg) throw new ApiError('message_not_found');
      if (msg.bot_id !== botId) throw new ApiError('cant_delete_message');
      posted = posted.filter((m) => m !== msg);
      return { body: { ok: true, channel, ts: msg.ts } };
    },

    'chat.getPermalink': (body) => {
      const channel = requireChannel(body);
      const ts = str(body.message_ts);
      const msg = posted.find((m) => m.channel === channel && m.ts === ts);
      if (!msg) throw new ApiError('message_not_found');
      const p = `https://fake.slack.com/archives/${channel}/p${msg.ts.replace('.', '')}`;
      return {
        body: { ok: true, channel, permalink: msg.thread_ts ? `${p}?thread_ts=${msg.thread_ts}&cid=${channel}` : p },
      };
    },

    'conversations.history': (body) => {
      const channel = requireChannel(body);
      const limit = readLimit(body.limit, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT);
      const range = readRange(body);
      const cursor = str(body.cursor);
      const before = cursor ? decodeCursor(cursor) : Number.POSITIVE_INFINITY;
      const withMeta = truthy(body.include_all_metadata);
      const matching = posted
        .filter((m) => m.channel === channel && (m.thread_ts === undefined || m.reply_broadcast))
        .map((m) => ({ m, micros: tsToMicros(m.ts) }))
        .filter(({ micros }) => inRange(micros, range) && micros < before)
        .sort((a, b) => b.micros - a.micros);
      const page = matching.slice(0, limit);
      const hasMore = matching.length > limit;
      const out: Json = {
        ok: true,
        messages: page.map(({ m }) => render(m, withMeta)),
        has_more: hasMore,
        pin_count: 0,
        channel_actions_ts: null,
        channel_actions_count: 0,
      };
      const last = page[page.length - 1];
      if (hasMore && last) out.response_metadata = { next_cursor: encodeCursor(last.micros) };
      return { body: out };
    },

    'conversations.replies': (body) => {
      const channel = requireChannel(body);
      const ts = str(body.ts);
      if (ts === undefined || ts === '') throw new ApiError('thread_not_found');
      const target = posted.find((m) => m.channel === channel && m.ts === ts);
      if (!target) throw new ApiError('thread_not_found');
      const parent = target.thread_ts !== undefined ? topLevel(channel, target.thread_ts) : target;
      if (!parent) throw new ApiError('thread_not_found');
      const limit = readLimit(body.limit, REPLIES_DEFAULT_LIMIT, REPLIES_DEFAULT_LIMIT);
      const range = readRange(body);
      const cursor = str(body.cursor);
      const after = cursor ? decodeCursor(cursor) : Number.NEGATIVE_INFINITY;
      const withMeta = truthy(body.include_all_metadata);
      const replies = repliesOf(parent)
        .map((m) => ({ m, micros: tsToMicros(m.ts) }))
        .filter(({ micros }) => inRange(micros, range) && micros > after)
        .sort((a, b) => a.micros - b.micros);
      // Slack returns the parent first on every page, then up to `limit - 1` replies.
      const room = Math.max(limit - 1, 1);
      const page = replies.slice(0, room);
      const hasMore = replies.length > room;
      const out: Json = {
        ok: true,
        messages: [render(parent, withMeta), ...page.map(({ m }) => render(m, withMeta))],
        has_more: hasMore,
      };
      const last = page[page.length - 1];
      if (hasMore && last) out.response_metadata = { next_cursor: encodeCursor(last.micros) };
      return { body: out };
    },

    // -- files upload v2 (files.upload is retired): get an upload URL, POST the bytes there, complete.

    'files.getUploadURLExternal': (body) => {
      const filename = str(body.filename);
      const length = Number(str(body.length));
      if (!filename) throw new ApiError('invalid_arguments', ['[ERROR] missing required field: filename']);
      if (!Number.isInteger(length) || length <= 0) throw new ApiError('invalid_arguments', ['[ERROR] missing required field: length']);
      const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
      const token = randomBytes(12).toString('hex');
      const file: FakeFile = { id, filename, length, uploads: 0, completions: [] };
      const alt = str(body.alt_text);
      if (alt !== undefined) file.altText = alt;
      fileStore.set(id, file);
      uploadTokens.set(token, id);
      return { body: { ok: true, upload_url: `${url}/upload/v1/${token}`, file_id: id } };
    },

    'files.completeUploadExternal': (body) => {
      const files: unknown = decodeJsonField(body.files);
      if (!Array.isArray(files) || files.length === 0) throw new ApiError('invalid_arguments', ['[ERROR] missing required field: files']);
      const channel = str(body.channel_id);
      if (channel !== undefined && channel !== '' && !channels.has(channel)) throw new ApiError('channel_not_found');
      const threadTs = str(body.thread_ts);
      if (threadTs !== undefined && threadTs !== '' && (!channel || !topLevel(channel, threadTs))) throw new ApiError('thread_not_found');
      const done: FakeFile[] = [];
      for (const f of files as unknown[]) {
        const id = isRecord(f) ? str(f.id) : undefined;
        const file = id === undefined ? undefined : fileStore.get(id);
        // Slack completes only a file whose bytes arrived whole.
        if (!file || !file.bytes || file.bytes.length !== file.length) throw new ApiError('file_not_found');
        const title = isRecord(f) ? str(f.title) : undefined;
        file.completions.push({ ...(title !== undefined ? { title } : {}), ...(channel ? { channel } : {}), ...(threadTs ? { threadTs } : {}) });
        done.push(file);
      }
      // Each completion shares again: whether Slack would is not documented, so the fake takes the worst case.
      if (channel) {
        const share = () => {
          const msg: FakeMessage = {
            channel,
            ts: nextTs(),
            user: botUserId,
            bot_id: botId,
            text: str(body.initial_comment) ?? '',
            files: done.map((f) => ({ id: f.id, name: f.filename, title: f.completions[f.completions.length - 1]!.title ?? f.filename, mimetype: 'image/png', size: f.length })),
          };
          if (threadTs) msg.thread_ts = threadTs;
          posted.push(msg);
        };
        if (fileShareDelay > 0) setTimeout(share, fileShareDelay).unref();
        else share();
      }
      // Sharing is asynchronous at Slack: the answer's `shares` is usually still empty.
      return {
        body: { ok: true, files: done.map((f) => ({ id: f.id, name: f.filename, title: f.completions[f.completions.length - 1]!.title ?? f.filename, mimetype: 'image/png', filetype: 'png', size: f.length, shares: {} })) },
      };
    },
  };

  /** POST /upload/v1/<token>: the bytes, raw or as the file part of a multipart form. */
  function handleUpload(req: http.IncomingMessage, res: http.ServerResponse, token: string, raw: Buffer): void {
    const text = (status: number, t: string): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(t) });
      res.end(t);
    };
    const id = uploadTokens.get(token);
    const file = id === undefined ? undefined : fileStore.get(id);
    if (req.method !== 'POST') return text(405, 'method_not_allowed');
    if (!file) return text(404, 'not_found');
    // Once completed, the upload URL is spent.
    if (file.completions.length > 0) return text(410, 'upload_url_expired');
    const bytes = multipartFile(raw, String(req.headers['content-type'] ?? '')) ?? raw;
    file.bytes = Buffer.from(bytes);
    file.uploads += 1;
    text(200, `OK - ${bytes.length}`);
  }

  // -------------------------------------------------------------------------------------------

  function parseBody(raw: string, contentType: string): { body: Json; json: boolean } {
    const ct = contentType.toLowerCase();
    if (ct.startsWith('application/json')) {
      if (raw.trim() === '') return { body: {}, json: true };
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw) as unknown;
      } catch {
        throw new ApiError('invalid_json');
      }
      if (!isRecord(parsed)) throw new ApiError('json_not_object');
      return { body: parsed, json: true };
    }
    if (ct.startsWith('multipart/form-data')) throw new ApiError('invalid_form_data');
    const body: Json = {};
    for (const [k, v] of new URLSearchParams(raw)) body[k] = v;
    return { body, json: false };
  }

  function send(res: http.ServerResponse, result: ApiResult): void {
    const payload = JSON.stringify(result.body);
    res.writeHead(result.status ?? 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(payload),
      ...result.headers,
    });
    res.end(payload);
  }

  function handleApi(req: http.IncomingMessage, res: http.ServerResponse, method: string, raw: string, query: URLSearchParams): void {
    const at = Date.now();
    const headers: Record<string, string | string[] | undefined> = { ...req.headers };
    const record = (body: Json, status: number, ok: boolean, error?: string): void => {
      const recorded: Json = { ...body };
      for (const k of ['blocks', 'attachments', 'metadata']) {
        if (k in recorded) recorded[k] = decodeJsonField(recorded[k]);
      }
      const call: RecordedCall = { method, body: recorded, at, status, ok, headers, rawBody: raw };
      if (error !== undefined) call.error = error;
      calls.push(call);
    };

    let body: Json = {};
    for (const [k, v] of query) body[k] = v;
    let json = false;
    let parseError: string | undefined;
    try {
      const parsed = parseBody(raw, String(req.headers['content-type'] ?? ''));
      body = { ...body, ...parsed.body };
      json = parsed.json;
    } catch (e) {
      parseError = e instanceof ApiError ? e.error : 'invalid_form_data';
    }

    if (failRemaining > 0) {
      failRemaining -= 1;
      const status = failStatus;
      const text = http.STATUS_CODES[status] ?? 'Error';
      record(body, status, false, `http_${status}`);
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }

    const reply = (result: ApiResult): void => {
      const ok = result.body.ok === true;
      record(body, result.status ?? 200, ok, ok ? undefined : String(result.body.error));
      send(res, result);
    };

    const handler = Object.prototype.hasOwnProperty.call(methods, method) ? methods[method] : undefined;
    if (!handler) {
      reply({ body: { ok: false, error: 'unknown_method', req_method: method } });
      return;
    }
    if (parseError !== undefined) {
      reply({ body: { ok: false, error: parseError } });
      return;
    }

    // Auth: Bearer header, or a `token` field in a form body (Slack ignores `token` in JSON bodies).
    const auth = req.headers.authorization;
    let presented: string | undefined;
    if (typeof auth === 'string' && auth.trim() !== '') {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      presented = m ? m[1] : '';
    } else if (!json) {
      presented = str(body.token);
    }
    if (presented === undefined || presented === '') {
      reply({ body: { ok: false, error: 'not_authed' } });
      return;
    }
    if (presented !== token) {
      reply({ body: { ok: false, error: 'invalid_auth' } });
      return;
    }

    const refusal = refusals.get(method);
    if (refusal && refusal.n > 0) {
      refusal.n -= 1;
      reply({ body: { ok: false, error: refusal.error, ...(refusal.messages.length ? { response_metadata: { messages: refusal.messages } } : {}) } });
      return;
    }

    if (rateLimitRemaining > 0 && rateLimitMethods.some((m) => (m.endsWith('.*') ? method.startsWith(m.slice(0, -1)) : method === m))) {
      rateLimitRemaining -= 1;
      reply({
        status: 429,
        headers: { 'Retry-After': String(rateLimitRetryAfter) },
        body: { ok: false, error: 'ratelimited' },
      });
      return;
    }

    let result: ApiResult;
    try {
      result = handler(body);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const errBody: Json = { ok: false, error: e.error };
      if (e.messages) errBody.response_metadata = { messages: e.messages };
      result = { body: errBody };
    }
    reply(result);
  }

  /** What an interaction's response_url does in Slack; an error when it cannot. */
  function actOnResponse(context: ResponseUrlContext, body: Json): { status: number; error: string } | undefined {
    let content: MessageContent;
    try {
      content = truthy(body.delete_original) ? {} : readContent(body, true);
    } catch (e) {
      if (e instanceof ApiError) return { status: 400, error: e.error };
      throw e;
    }
    if (truthy(body.delete_original) || truthy(body.replace_original)) {
      const original = posted.find((m) => m.channel === context.channel && m.ts === context.messageTs);
      if (!original) return { status: 404, error: 'message_not_found' };
      if (truthy(body.delete_original)) {
        posted = posted.filter((m) => m !== original);
        return undefined;
      }
      if (content.text !== undefined) original.text = content.text;
      else delete original.text;
      if (content.blocks) original.blocks = content.blocks;
      else delete original.blocks;
      if (content.attachments) original.attachments = content.attachments;
      return undefined;
    }
    const threadTs = str(body.thread_ts);
    const msg: FakeMessage = { channel: context.channel, ts: nextTs(), user: botUserId, bot_id: botId, ...content };
    if (threadTs !== undefined && threadTs !== '') msg.thread_ts = threadTs;
    if (body.response_type === 'in_channel') posted.push(msg);
    else ephemeralList.push({ ...msg, ephemeralTo: context.userId ?? '' });
    return undefined;
  }

  function handleResponseUrl(req: http.IncomingMessage, res: http.ServerResponse, id: string, raw: string): void {
    const text = (status: number, t: string): void => {
      res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(t) });
      res.end(t);
    };
    if (req.method !== 'POST') return text(405, 'method_not_allowed');
    const uses = responseUses.get(id) ?? 0;
    if (uses >= RESPONSE_URL_MAX_USES) return text(404, 'used_url');
    let parsed: unknown;
    const ct = String(req.headers['content-type'] ?? '').toLowerCase();
    try {
      if (ct.startsWith('application/x-www-form-urlencoded')) {
        const payload = new URLSearchParams(raw).get('payload');
        parsed = JSON.parse(payload ?? '') as unknown;
      } else {
        parsed = JSON.parse(raw) as unknown;
      }
    } catch {
      return text(400, 'invalid_payload');
    }
    if (!isRecord(parsed)) return text(400, 'invalid_payload');
    if (parsed.text === undefined && parsed.blocks === undefined && parsed.attachments === undefined && !truthy(parsed.delete_original)) {
      return text(400, 'no_text');
    }
    if (Array.isArray(parsed.blocks) && validateBlocks(parsed.blocks).length > 0) return text(400, 'invalid_blocks');
    const context = responseContexts.get(id);
    if (context) {
      const refused = actOnResponse(context, parsed);
      if (refused) return text(refused.status, refused.error);
    }
    responseUses.set(id, uses + 1);
    responseLog.push({ id, body: parsed, at: Date.now() });
    text(200, 'ok');
  }

  const server = http.createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.socket.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (down) {
        req.socket.destroy();
        return;
      }
      const body = Buffer.concat(chunks);
      const raw = body.toString('utf8');
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      try {
        const upload = /^\/upload\/v1\/([A-Za-z0-9]+)$/.exec(u.pathname);
        if (upload) return handleUpload(req, res, upload[1]!, body);
        const api = /^\/api\/([A-Za-z0-9._-]+)$/.exec(u.pathname);
        if (api) return handleApi(req, res, api[1]!, raw, u.searchParams);
        const resp = /^\/response\/([^/]+)$/.exec(u.pathname);
        if (resp) return handleResponseUrl(req, res, decodeURIComponent(resp[1]!), raw);
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
      } catch (e) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`fake error: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    if (down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    apiUrl: `${url}/api/`,
    calls,
    messages(channel?: string) {
      return clone(channel === undefined ? posted : posted.filter((m) => m.channel === channel));
    },
    ephemerals() {
      return clone(ephemeralList);
    },
    responseUrl(id?: string, context?: ResponseUrlContext) {
      const rid = id ?? `R${++responseCounter}${randomBytes(4).toString('hex')}`;
      responseUses.set(rid, 0);
      if (context) responseContexts.set(rid, { ...context });
      else responseContexts.delete(rid);
      return `${url}/response/${encodeURIComponent(rid)}`;
    },
    responses(id?: string) {
      return clone(id === undefined ? responseLog : responseLog.filter((r) => r.id === id));
    },
    homeView(userId: string) {
      const v = homeViews.get(userId);
      return v && clone(v);
    },
    refuseNext(method: string, error: string, n = 1, messages: string[] = []) {
      refusals.set(method, { n: Math.max(0, Math.floor(n)), error, messages: [...messages] });
    },
    rateLimitNext(n: number, retryAfterSeconds = 1, methods: string[] | string = ['chat.*', 'views.*']) {
      rateLimitMethods = typeof methods === 'string' ? [methods.endsWith('.') ? `${methods}*` : methods] : [...methods];
      rateLimitRemaining = Math.max(0, Math.floor(n));
      rateLimitRetryAfter = retryAfterSeconds;
    },
    files() {
      return [...fileStore.values()].map((f) => ({ ...f, bytes: f.bytes && Buffer.from(f.bytes), completions: clone(f.completions) }));
    },
    failNext(n: number, status = 503) {
      failRemaining = Math.max(0, Math.floor(n));
      failStatus = status;
    },
    setDown(d: boolean) {
      down = d;
      if (d) for (const s of sockets) s.destroy();
    },
    injectMessage(input: InjectMessageInput) {
      if (!channels.has(input.channel)) throw new Error(`slack-fake: unknown channel ${input.channel}`);
      let ts = input.ts;
      if (ts === undefined) {
        ts = nextTs();
      } else {
        const micros = tsToMicros(ts);
        if (Number.isNaN(micros)) throw new Error(`slack-fake: malformed ts ${ts}`);
        lastMicros = Math.max(lastMicros, micros);
      }
      const msg: FakeMessage = { channel: input.channel, ts, user: input.user ?? 'U0HUMAN', bot_id: '' };
      if (input.text !== undefined) msg.text = input.text;
      if (input.blocks !== undefined) msg.blocks = clone(input.blocks);
      if (input.thread_ts !== undefined) {
        if (!topLevel(input.channel, input.thread_ts)) throw new Error(`slack-fake: no thread ${input.thread_ts}`);
        msg.thread_ts = input.thread_ts;
      }
      posted.push(msg);
      posted.sort((a, b) => tsToMicros(a.ts) - tsToMicros(b.ts));
      return clone(msg);
    },
    addChannel(channel: string) {
      channels.add(channel);
    },
    reset() {
      calls.length = 0;
      posted = [];
      ephemeralList = [];
      responseLog = [];
      accepted.clear();
      homeViews.clear();
      fileStore.clear();
      uploadTokens.clear();
      rateLimitRemaining = 0;
      refusals.clear();
      failRemaining = 0;
      down = false;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
