/**
 * A stand-in for Mozilla's push service (autopush), for Firefox in tests.
 *
 * Firefox keeps one WebSocket to the service named by the `dom.push.serverURL`
 * preference and speaks Mozilla's push protocol over it (JSON messages
 * `hello`, `register`, `unregister`, `notification`, `ack`, and `{}` pings).
 * This server answers on that socket, hands out endpoints of the form
 * `http://127.0.0.1:PORT/wpush/<channelID>`, and on those endpoints accepts
 * RFC 8030 POSTs from an application server (Herald): it checks the VAPID
 * header (RFC 8292, with core's verifier: ES256 signature, audience, expiry,
 * and that `k` is the key the page subscribed with), TTL and Content-Encoding,
 * then relays the body, still encrypted, to Firefox as autopush does
 * (`data` base64url, `headers.encoding`). Firefox decrypts it itself.
 * A POST to a channel Firefox unregistered gets 410 Gone.
 *
 *   const push = await startMozPushServer();
 *   // Firefox prefs: dom.push.serverURL = push.webSocketUrl,
 *   //                dom.push.testing.allowInsecureServerURL = true
 *   // Herald: allowEndpoint: [push.endpointBase]
 *   await push.waitFor((e) => e.type === 'ack', 'Firefox acknowledges the message');
 *   await push.stop();
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_PUSH_BODY_BYTES, readPushBody, VapidVerifier } from '@herald/core/testing';
import { type WebSocket, WebSocketServer } from 'ws';

/** What happened on the service, in order: a test waits for these. */
export type MozPushEvent =
  | { type: 'hello'; uaid: string }
  | { type: 'register'; channelID: string; endpoint: string; key: string | null }
  | { type: 'unregister'; channelID: string }
  | { type: 'relayed'; channelID: string; version: string; bytes: number; ttl: number }
  | { type: 'ack'; channelID: string; version: string; code: number | null }
  | { type: 'rejected'; channelID: string; status: number; reason: string };

export interface MozPushServer {
  /** `ws://127.0.0.1:PORT`: the value of Firefox's `dom.push.serverURL`. */
  webSocketUrl: string;
  /** `http://127.0.0.1:PORT/wpush/`: the prefix of every endpoint, for Herald's allow-list. */
  endpointBase: string;
  events: MozPushEvent[];
  waitFor<E extends MozPushEvent>(
    predicate: (event: MozPushEvent) => event is E,
    step: string,
    timeoutMs?: number,
  ): Promise<E>;
  waitFor(
    predicate: (event: MozPushEvent) => boolean,
    step: string,
    timeoutMs?: number,
  ): Promise<MozPushEvent>;
  stop(): Promise<void>;
}

interface Channel {
  /** The applicationServerKey the page subscribed with (base64url), or null for none. */
  key: string | null;
  /** The socket of the browser that owns the channel; null while it is disconnected. */
  socket: WebSocket | null;
}

export async function startMozPushServer(): Promise<MozPushServer> {
  const channels = new Map<string, Channel>();
  /** Channels unregistered by their browser: POSTs to them get 410. */
  const gone = new Set<string>();
  const events: MozPushEvent[] = [];
  const waiters = new Set<() => void>();
  const record = (event: MozPushEvent) => {
    events.push(event);
    for (const wake of waiters) wake();
  };
  let origin = '';
  let verifier: VapidVerifier;

  const http = createServer((req, res) => {
    handlePost(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });

  async function handlePost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const channelID = /^\/wpush\/([0-9a-f-]{36})$/.exec(req.url ?? '')?.[1] ?? '';
    const body = await readPushBody(req);
    const answer = (status: number, reason: string) => {
      if (status >= 400) record({ type: 'rejected', channelID, status, reason });
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(reason);
    };
    if (gone.has(channelID)) return answer(410, 'subscription unregistered by the browser');
    const channel = channels.get(channelID);
    if (!channel) return answer(404, 'no such subscription');
    if (req.method !== 'POST') return answer(405, 'push messages are POSTed');

    const check = await verifier.verify(req.headers.authorization, new Date(), channel.key);
    if (!check.ok) return answer(check.status, check.reason);
    const ttlHeader = req.headers.ttl;
    if (typeof ttlHeader !== 'string' || !/^\d+$/.test(ttlHeader))
      return answer(400, 'TTL header missing or not a number');
    const encoding = req.headers['content-encoding'];
    if (encoding !== 'aes128gcm') return answer(400, `Content-Encoding must be aes128gcm, got ${encoding}`);
    if (body === null) return answer(413, `body over ${MAX_PUSH_BODY_BYTES} bytes`);
    if (body.length === 0) return answer(400, 'empty body');
    if (!channel.socket) return answer(503, 'browser not connected (this stand-in keeps no messages)');

    const version = randomUUID();
    channel.socket.send(
      JSON.stringify({
        messageType: 'notification',
        channelID,
        version,
        data: body.toString('base64url'),
        headers: { encoding: 'aes128gcm' },
      }),
    );
    record({ type: 'relayed', channelID, version, bytes: body.length, ttl: Number(ttlHeader) });
    res.writeHead(201, { location: `${origin}/m/${version}`, ttl: ttlHeader });
    res.end();
  }

  const wss = new WebSocketServer({ server: http });
  wss.on('connection', (socket) => {
    const reply = (message: object) => socket.send(JSON.stringify(message));
    socket.on('message', (raw) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(raw.toString()) as Record<string, unknown>;
      } catch {
        socket.close(1002, 'not JSON');
        return;
      }
      switch (message.messageType) {
        case undefined:
          // `{}` is the client's keep-alive ping.
          reply({});
          return;
        case 'hello': {
          // Keep the browser's uaid when it has one: a new uaid tells Firefox to drop its subscriptions.
          const uaid = typeof message.uaid === 'string' && message.uaid ? message.uaid : randomUUID();
          for (const channel of channels.values()) if (channel.socket === null) channel.socket = socket;
          record({ type: 'hello', uaid });
          reply({ messageType: 'hello', uaid, status: 200, use_webpush: true, broadcasts: {} });
          return;
        }
        case 'register': {
          const channelID = String(message.channelID);
          // Firefox sends the key base64url with `=` padding; kept unpadded, as Herald and the VAPID header write it.
          const key =
            typeof message.key === 'string'
              ? Buffer.from(message.key, 'base64url').toString('base64url')
              : null;
          const endpoint = `${origin}/wpush/${channelID}`;
          channels.set(channelID, { key, socket });
          gone.delete(channelID);
          record({ type: 'register', channelID, endpoint, key });
          reply({ messageType: 'register', channelID, status: 200, pushEndpoint: endpoint });
          return;
        }
        case 'unregister': {
          const channelID = String(message.channelID);
          channels.delete(channelID);
          gone.add(channelID);
          record({ type: 'unregister', channelID });
          reply({ messageType: 'unregister', channelID, status: 200 });
          return;
        }
        case 'ack': {
          const updates = Array.isArray(message.updates) ? message.updates : [];
          for (const update of updates as Array<Record<string, unknown>>) {
            record({
              type: 'ack',
              channelID: String(update.channelID),
              version: String(update.version),
              code: typeof update.code === 'number' ? update.code : null,
            });
          }
          return;
        }
        default:
          // nack, broadcast_subscribe…: nothing a test needs.
          return;
      }
    });
    socket.on('close', () => {
      for (const channel of channels.values()) if (channel.socket === socket) channel.socket = null;
    });
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  verifier = new VapidVerifier(origin);

  return {
    webSocketUrl: `ws://127.0.0.1:${port}`,
    endpointBase: `${origin}/wpush/`,
    events,
    waitFor(predicate: (event: MozPushEvent) => boolean, step: string, timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      let check: (() => void) | undefined;
      return new Promise<MozPushEvent>((resolve, reject) => {
        check = () => {
          const event = events.find(predicate);
          if (event) resolve(event);
        };
        waiters.add(check);
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${step}`)), timeoutMs);
        check();
      }).finally(() => {
        clearTimeout(timer);
        if (check) waiters.delete(check);
      });
    },
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  } as MozPushServer;
}
