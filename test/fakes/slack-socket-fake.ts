/**
 * An in-process fake of Slack's Socket Mode, built on node:http and `ws`.
 *
 * It is a small HTTP server that
 * - answers `POST /api/apps.connections.open` the way slack.com does for an app-level token
 *   (`{ ok: true, url: 'ws://127.0.0.1:<port>/link/?ticket=…&app_id=…' }`; the token comes as a
 *   Bearer header, or a `token` form field), or refuses while `setRefusing(true)`;
 * - forwards every other `/api/<method>` request (method, headers, body, query) unchanged to a
 *   Web API fake (`webApiUrl`, e.g. `startSlackFake().apiUrl`) and relays its answer, so one
 *   SLACK_API_URL serves both the bot token's calls and the app token's;
 * - accepts WebSocket upgrades at `/link/?ticket=…` (each ticket once), greets with a `hello`
 *   message, answers pings (ws does), delivers envelopes
 *   `{ envelope_id, type, payload, accepts_response_payload[, retry_attempt, retry_reason] }` and
 *   matches acknowledgements `{ envelope_id, payload }` to them by envelope id: `sendEnvelope` for
 *   any type, `sendInteractive` for interaction payloads (block_actions) and `sendEventsApi` for
 *   event callbacks (app_home_opened, app_mention); `ackLog` keeps every acknowledgement with
 *   its latency.
 *
 * Shapes follow @slack/socket-mode's SocketModeClient (the authority for what the bot accepts)
 * and https://docs.slack.dev/apis/events-api/using-socket-mode.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes, randomUUID } from 'node:crypto';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface SocketFakeOptions {
  /** Where every `/api/<method>` other than apps.connections.open is forwarded (ends in `/api/`). */
  webApiUrl: string;
  /** The only app-level token accepted by apps.connections.open. */
  appToken: string;
  /** Default 'A0APP'. */
  appId?: string;
  /** How long `sendEnvelope` waits for the acknowledgement. Default 3000 (Slack's limit). */
  ackTimeoutMs?: number;
}

/** How apps.connections.open refuses: HTTP 200 `{ ok:false, error }` or a bare HTTP 503. */
export type Refusal = { error: string } | { status: number };

export interface EnvelopeOptions {
  /** Default: a fresh UUID (Slack's envelope ids are UUIDs). */
  envelopeId?: string;
  /** events_api only; default 0 / ''. */
  retryAttempt?: number;
  retryReason?: string;
  /** Overrides the fake's ackTimeoutMs. */
  timeoutMs?: number;
}

/** One acknowledged envelope. */
export interface AckRecord {
  envelopeId: string;
  type: string;
  payload: Record<string, unknown>;
  /** Real ms from sending the envelope to its acknowledgement. */
  ms: number;
}

export interface ConnectionRecord {
  ticket: string;
  openedAt: number;
  closedAt?: number;
  /** The WebSocket close code, once closed (1000 when the bot closed it normally). */
  closeCode?: number;
}

export interface SocketFake {
  /** `http://127.0.0.1:<port>/api/` — use as SLACK_API_URL. */
  apiUrl: string;
  /** Open WebSocket connections that have been sent `hello`. */
  connections(): number;
  /** Every connection ever accepted, oldest first. */
  connectionLog(): ConnectionRecord[];
  /** How many apps.connections.open calls arrived (refused ones included). */
  opens(): number;
  /** Sends an envelope on the newest open connection; resolves with the ack's payload. Rejects
   *  when no connection is open, when the connection closes first, or after the ack timeout. */
  sendEnvelope(type: string, payload: Record<string, unknown>, acceptsResponsePayload: boolean, opts?: EnvelopeOptions): Promise<Record<string, unknown>>;
  /** An `interactive` envelope (e.g. a block_actions payload); Slack does not take a response payload in its ack. */
  sendInteractive(payload: Record<string, unknown>, opts?: EnvelopeOptions): Promise<Record<string, unknown>>;
  /** An `events_api` envelope carrying an event callback (e.g. app_home_opened). */
  sendEventsApi(eventCallback: Record<string, unknown>, opts?: EnvelopeOptions): Promise<Record<string, unknown>>;
  /** Every acknowledgement received, oldest first. */
  ackLog(): AckRecord[];
  /** While refusing, apps.connections.open answers `{ ok:false, error:'service_unavailable' }`
   *  (or the given refusal, e.g. `{ status: 503 }`). Open connections are left alone. */
  setRefusing(refusing: boolean, how?: Refusal): void;
  /** Sends `{ type:'disconnect', reason }` on every open connection, as Slack does before recycling one. */
  requestDisconnect(reason?: string): void;
  /** Messages received on the sockets that were not acknowledgements of a pending envelope. */
  unmatched(): unknown[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

interface Pending {
  resolve(payload: Json): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  socket: WebSocket;
  type: string;
  sentAt: number;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function startSocketFake(opts: SocketFakeOptions): Promise<SocketFake> {
  const appId = opts.appId ?? 'A0APP';
  const ackTimeoutMs = opts.ackTimeoutMs ?? 3000;
  const webApi = new URL(opts.webApiUrl.endsWith('/') ? opts.webApiUrl : `${opts.webApiUrl}/`);
  let refusal: Refusal | undefined;
  let opens = 0;
  const tickets = new Set<string>();
  const greeted = new Set<WebSocket>();
  const log: ConnectionRecord[] = [];
  const pending = new Map<string, Pending>();
  const unmatched: unknown[] = [];
  const acks: AckRecord[] = [];
  const sockets = new Set<Socket>();
  let port = 0;

  const send = (res: http.ServerResponse, status: number, body: Json): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  function connectionsOpen(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      opens += 1;
      const raw = Buffer.concat(chunks).toString('utf8');
      const auth = req.headers.authorization;
      let presented: string | undefined;
      if (typeof auth === 'string' && auth.trim() !== '') {
        presented = /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1] ?? '';
      } else if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        presented = new URLSearchParams(raw).get('token') ?? undefined;
      }
      if (!presented) return send(res, 200, { ok: false, error: 'not_authed' });
      if (presented !== opts.appToken) return send(res, 200, { ok: false, error: 'invalid_auth' });
      if (refusal) {
        if ('status' in refusal) {
          const text = http.STATUS_CODES[refusal.status] ?? 'Error';
          res.writeHead(refusal.status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
          res.end(text);
          return;
        }
        return send(res, 200, { ok: false, error: refusal.error });
      }
      const ticket = randomUUID();
      tickets.add(ticket);
      send(res, 200, { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${appId}` });
    });
  }

  /** Forwards a Web API call unchanged to the Web API fake and relays the answer. */
  function forward(req: http.IncomingMessage, res: http.ServerResponse, method: string, search: string): void {
    const target = new URL(`${method}${search}`, webApi);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    headers.host = target.host;
    const upstream = http.request(target, { method: req.method, headers }, (answer) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    // The Web API fake drops connections while down; pass that on as a dropped connection.
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  }

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const api = /^\/api\/([A-Za-z0-9._-]+)$/.exec(u.pathname);
    if (api && api[1] === 'apps.connections.open') return connectionsOpen(req, res);
    if (api) return forward(req, res, api[1]!, u.search);
    req.resume();
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = u.searchParams.get('ticket') ?? '';
    if (u.pathname !== '/link/' || !tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, ticket));
  });

  function accept(ws: WebSocket, ticket: string): void {
    const record: ConnectionRecord = { ticket, openedAt: Date.now() };
    log.push(record);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        unmatched.push(data.toString());
        return;
      }
      const id = isRecord(msg) && typeof msg.envelope_id === 'string' ? msg.envelope_id : undefined;
      const waiting = id === undefined ? undefined : pending.get(id);
      if (!waiting || !isRecord(msg)) {
        unmatched.push(msg);
        return;
      }
      pending.delete(id!);
      clearTimeout(waiting.timer);
      const payload = isRecord(msg.payload) ? msg.payload : {};
      acks.push({ envelopeId: id!, type: waiting.type, payload: structuredClone(payload), ms: performance.now() - waiting.sentAt });
      waiting.resolve(payload);
    });
    ws.on('error', () => undefined);
    ws.on('close', (code: number) => {
      record.closedAt = Date.now();
      record.closeCode = code;
      greeted.delete(ws);
      for (const [id, p] of pending) {
        if (p.socket !== ws) continue;
        pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new Error(`socket-fake: connection closed (code ${code}) before envelope ${id} was acknowledged`));
      }
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: greeted.size + 1,
        debug_info: { host: `applink-fake-${randomBytes(3).toString('hex')}`, build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
    greeted.add(ws);
  }

  const open = (): WebSocket[] => [...greeted].filter((ws) => ws.readyState === WebSocket.OPEN);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  function sendEnvelope(type: string, payload: Json, acceptsResponsePayload: boolean, o: EnvelopeOptions = {}): Promise<Json> {
    const ws = open().at(-1);
    if (!ws) return Promise.reject(new Error('socket-fake: no open Socket Mode connection'));
    const envelopeId = o.envelopeId ?? randomUUID();
    const envelope: Json = { envelope_id: envelopeId, payload, type, accepts_response_payload: acceptsResponsePayload };
    if (type === 'events_api') {
      envelope.retry_attempt = o.retryAttempt ?? 0;
      envelope.retry_reason = o.retryReason ?? '';
    }
    const timeoutMs = o.timeoutMs ?? ackTimeoutMs;
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(envelopeId);
        reject(new Error(`socket-fake: envelope ${envelopeId} (${type}) not acknowledged within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(envelopeId, { resolve, reject, timer, socket: ws, type, sentAt: performance.now() });
      ws.send(JSON.stringify(envelope), (err) => {
        if (!err) return;
        pending.delete(envelopeId);
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    connections: () => open().length,
    connectionLog: () => log.map((r) => ({ ...r })),
    opens: () => opens,
    sendEnvelope,
    sendInteractive(payload, o) {
      return sendEnvelope('interactive', payload, false, o);
    },
    sendEventsApi(eventCallback, o) {
      return sendEnvelope('events_api', eventCallback, false, o);
    },
    ackLog: () => structuredClone(acks),
    setRefusing(refusing, how = { error: 'service_unavailable' }) {
      refusal = refusing ? how : undefined;
    },
    requestDisconnect(reason = 'refresh_requested') {
      for (const ws of open()) ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }));
    },
    unmatched: () => structuredClone(unmatched),
    async close() {
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`socket-fake: closed before envelope ${id} was acknowledged`));
      }
      pending.clear();
      for (const ws of wss.clients) ws.terminate();
      for (const ws of greeted) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
