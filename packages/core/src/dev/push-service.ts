import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  constants as h2constants,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import ece from 'http_ece';
import { type PushSubscriptionJson, Topic } from '../model/index.js';
import { Chaos, type DevPushChaosOptions, type DevPushChaosReport } from './chaos.js';
import { MAX_PUSH_BODY_BYTES, readPushBody } from './read-body.js';
import { selfSignedCertificate } from './self-signed.js';
import { VapidVerifier, type VerifiedVapid } from './vapid-check.js';

/**
 * A push service on loopback, the receiving side of RFC 8030, for local
 * development, demos and tests: point a `webPush` provider at it and see what
 * a browser would receive, with no internet and no browser. It checks every request the way real services do (VAPID JWT,
 * headers, size), decrypts the body with the independent `http_ece` package
 * using the subscriber's private key, and keeps what it read. Subscriptions
 * it hands out carry real P-256 key pairs, like a browser's.
 */
export interface DevPushServiceOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * The time VAPID tokens are checked against. Real services use the wall
   * clock (the default); give the same fake clock as the provider's to test
   * token expiry.
   */
  clock?: { now(): Date };
  /**
   * Serve https with a self-signed certificate (made at start), offering
   * HTTP/2 and HTTP/1.1 by ALPN like real push services; clients trust it
   * through `ca`. Default false: plain HTTP/1.1, which needs no openssl.
   */
  tls?: boolean;
  /**
   * Misbehave like a push service at scale: rates of 503, 429 (with Retry-After), resets after
   * the message was taken, slow answers, GOAWAY every N requests, and subscriptions gone for good
   * (see chaos.ts). A bad option throws a ValidationError at creation.
   * `respondWith` rules still win over it. Default: off, every valid request gets 201.
   */
  chaos?: DevPushChaosOptions;
}

export interface ReceivedPushMessage {
  subscriptionEndpoint: string;
  /** Request headers as received, names in lower case. */
  headers: Record<string, string>;
  /** The decrypted body. */
  plaintext: string;
  vapid: VerifiedVapid;
  receivedAt: Date;
  /** '2.0' over HTTP/2, '1.1' otherwise. */
  httpVersion: string;
  /**
   * In chaos mode, a message taken but not answered 201 at once: `reset` (the sender saw the stream
   * reset, so it will send again: a duplicate the service cannot avoid) or `slow` (answered late).
   */
  chaos?: 'reset' | 'slow';
}

/** A request the service turned down on its own checks, with why (handy when a test fails). */
export interface RejectedPushRequest {
  path: string;
  status: number;
  reason: string;
}

/** An answer to give one subscription instead of 201. */
export interface PushResponseRule {
  status: number;
  /** Sent as the Retry-After header: seconds, or an HTTP-date string. */
  retryAfter?: number | string;
  /** Response body, e.g. the service's reason for a 400. */
  body?: string;
  /** Answer this many requests so, then 201 again. Default: every request. */
  times?: number;
  /**
   * HTTP/2 only: instead of answering, reset the stream with this error
   * code (e.g. 7, REFUSED_STREAM: "not processed, safe to send again";
   * 2, INTERNAL_ERROR). `status` is ignored then.
   */
  resetCode?: number;
}

export interface DevPushService {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
  /** The service's origin, e.g. http://127.0.0.1:41234; throws before start(). */
  readonly url: string;
  /** The self-signed certificate (PEM) to trust in `tls` mode; undefined otherwise. */
  readonly ca: string | undefined;
  /** Sends GOAWAY on every open HTTP/2 session, as a service does before a restart. */
  goAway(): void;
  /** A new subscription, as a browser's `PushSubscription.toJSON()` gives it. */
  createSubscription(): PushSubscriptionJson;
  /** Makes the service answer `rule` to requests for `endpoint` (null: back to 201). */
  respondWith(endpoint: string, rule: PushResponseRule | null): void;
  /** Refuses (403) tokens signed by any other key than `publicKey` (null: any key). */
  expectVapidPublicKey(publicKey: string | null): void;
  /** Every message accepted, decrypted and checked, in arrival order. */
  readonly received: readonly ReceivedPushMessage[];
  receivedFor(endpoint: string): ReceivedPushMessage[];
  readonly rejected: readonly RejectedPushRequest[];
  /** Forgets received and rejected messages (subscriptions and rules stay). */
  clear(): void;
  /** What chaos mode did to each request; null when it is off. */
  readonly chaos: DevPushChaosReport | null;
}

interface Subscriber {
  endpoint: string;
  keys: ReturnType<typeof createECDH>;
  auth: Buffer;
  rule: (PushResponseRule & { remaining: number }) | null;
}

const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);

export function createDevPushService(options: DevPushServiceOptions = {}): DevPushService {
  const host = options.host ?? '127.0.0.1';
  const now = () => options.clock?.now() ?? new Date();
  const subscribers = new Map<string, Subscriber>();
  const received: ReceivedPushMessage[] = [];
  const rejected: RejectedPushRequest[] = [];
  let expectedKey: string | null = null;
  let server: { close(done: (error?: Error) => void): void; closeAll(): void } | null = null;
  let ca: string | undefined;
  const sessions = new Set<Http2Session>();
  // Every connection, TLS handshakes and HTTP/1.1 ones included: no session tracks those, and one left
  // open would keep stop() waiting for good.
  const sockets = new Set<Socket>();
  let origin: string | null = null;
  let verifier: VapidVerifier | null = null;
  const chaos = options.chaos ? new Chaos(options.chaos) : null;
  // Slow answers waiting: stop() must not leave timers writing to closed streams.
  const slowTimers = new Map<NodeJS.Timeout, () => void>();

  const currentUrl = (): string => {
    if (!origin) throw new Error('dev push service not started');
    return origin;
  };
  const subscriberOf = (endpoint: string): Subscriber => {
    const id = new URL(endpoint).pathname.replace(/^\/push\//, '');
    const subscriber = subscribers.get(id);
    if (!subscriber || subscriber.endpoint !== endpoint)
      throw new Error(`not a subscription of this service: ${endpoint}`);
    return subscriber;
  };

  type Req = IncomingMessage | Http2ServerRequest;
  type Res = ServerResponse | Http2ServerResponse;

  async function handle(req: Req, res: Res): Promise<void> {
    const path = req.url ?? '/';
    const connectionGone = () => ('stream' in req ? req.stream.destroyed : req.socket.destroyed);
    const answer = (status: number, reason: string, headers: Record<string, string> = {}) => {
      if (status >= 400) rejected.push({ path, status, reason });
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
      res.end(reason);
    };
    const body = await readPushBody(req);

    const subscriber = subscribers.get(/^\/push\/([^/?#]+)$/.exec(path)?.[1] ?? '');
    if (!subscriber) return answer(404, 'no such subscription');
    if (req.method !== 'POST') return answer(405, 'push messages are POSTed', { Allow: 'POST' });

    const at = now();
    const check = await (verifier as VapidVerifier).verify(req.headers.authorization, at, expectedKey);
    if (!check.ok) return answer(check.status, check.reason);
    if (req.headers['content-encoding'] !== 'aes128gcm') {
      return answer(
        400,
        `Content-Encoding must be aes128gcm, got ${req.headers['content-encoding'] ?? 'none'}`,
      );
    }
    const ttl = headerOf(req, 'ttl');
    if (ttl === undefined || !/^\d+$/.test(ttl)) return answer(400, 'TTL header missing or not a number');
    const urgency = headerOf(req, 'urgency');
    if (urgency !== undefined && !URGENCIES.has(urgency)) return answer(400, `unknown Urgency ${urgency}`);
    const topic = headerOf(req, 'topic');
    if (topic !== undefined && !Topic.safeParse(topic).success)
      return answer(400, 'Topic must be 1-32 base64url characters');
    if (body === null) return answer(413, `body over ${MAX_PUSH_BODY_BYTES} bytes`);
    if (body.length === 0) return answer(400, 'empty body');

    const rule = subscriber.rule;
    if (rule) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) subscriber.rule = null;
      if (rule.resetCode !== undefined && 'stream' in req) {
        req.stream.close(rule.resetCode);
        return;
      }
      res.writeHead(rule.status, {
        'Content-Type': 'text/plain; charset=utf-8',
        ...(rule.retryAfter !== undefined ? { 'Retry-After': String(rule.retryAfter) } : {}),
      });
      res.end(rule.body ?? '');
      return;
    }

    const fate = chaos?.decide(subscriber.endpoint, at.getTime()) ?? null;
    if (fate?.goAway) {
      // After this answer: GOAWAY names the last stream the session processed, so the sender knows
      // which later streams were never handled and may send them again safely.
      res.once('finish', () => goAwayAfter(req));
      if (!('stream' in req)) res.setHeader('Connection', 'close');
    }
    switch (fate?.answer) {
      case 'gone':
        return plainAnswer(res, 410, 'push subscription has unsubscribed or expired');
      case 'outage':
      case 'unavailable':
        return plainAnswer(res, 503, 'service unavailable');
      case 'tooManyRequests':
        return plainAnswer(res, 429, 'too many requests', {
          'Retry-After': String((chaos as Chaos).retryAfterSeconds),
        });
      default:
        break;
    }

    let plaintext: string;
    try {
      plaintext = ece
        .decrypt(body, { version: 'aes128gcm', privateKey: subscriber.keys, authSecret: subscriber.auth })
        .toString('utf8');
    } catch (error) {
      return answer(400, `body does not decrypt: ${(error as Error).message}`);
    }
    // Closed while the message was being checked (stop(), or the sender gave up): the sender saw no
    // answer and will send it again, so it was not received; recording it would count a duplicate.
    if (connectionGone()) return;
    received.push({
      subscriptionEndpoint: subscriber.endpoint,
      headers: flattenHeaders(req),
      plaintext,
      vapid: check.vapid,
      receivedAt: at,
      httpVersion: req.httpVersion,
      ...(fate?.answer === 'reset' || fate?.answer === 'slow' ? { chaos: fate.answer } : {}),
    });
    if (fate?.answer === 'reset') {
      if ('stream' in req) req.stream.close(h2constants.NGHTTP2_INTERNAL_ERROR);
      else req.socket.destroy();
      return;
    }
    if (fate?.answer === 'slow') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            slowTimers.delete(timer);
            resolve();
          },
          (chaos as Chaos).slowMs,
        );
        slowTimers.set(timer, resolve);
      });
      if (connectionGone() || !server) return;
    }
    res.writeHead(201, { Location: `${origin}/message/${randomUUID()}` });
    res.end();
  }

  return {
    async start() {
      if (server) throw new Error('dev push service already started');
      const onRequest = (req: Req, res: Res) => {
        handle(req, res).catch((error: unknown) => {
          if (!res.headersSent) res.writeHead(500);
          res.end(String(error));
        });
      };
      let listening: ReturnType<typeof createServer> | ReturnType<typeof createSecureServer>;
      if (options.tls) {
        const identity = await selfSignedCertificate();
        ca = identity.cert;
        const secure = createSecureServer({ ...identity, allowHTTP1: true }, onRequest);
        secure.on('session', (session: Http2Session) => {
          sessions.add(session);
          session.once('close', () => sessions.delete(session));
        });
        listening = secure;
      } else {
        listening = createServer(onRequest);
      }
      const started = listening;
      started.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        started.once('error', reject);
        started.listen(options.port ?? 0, host, () => resolve());
      });
      const { port } = started.address() as AddressInfo;
      server = {
        close: (done) => started.close(done),
        closeAll: () => {
          if ('closeAllConnections' in started) started.closeAllConnections();
          for (const session of sessions) session.destroy();
          for (const socket of sockets) socket.destroy();
        },
      };
      const scheme = options.tls ? 'https' : 'http';
      origin = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
      verifier = new VapidVerifier(origin);
      return { url: origin };
    },
    async stop() {
      const running = server;
      server = null;
      for (const [timer, wake] of slowTimers) {
        clearTimeout(timer);
        wake();
      }
      slowTimers.clear();
      if (!running) return;
      running.closeAll();
      await new Promise<void>((resolve, reject) =>
        running.close((error) => (error ? reject(error) : resolve())),
      );
    },
    get url() {
      return currentUrl();
    },
    get ca() {
      return ca;
    },
    goAway() {
      for (const session of sessions) session.goaway(h2constants.NGHTTP2_NO_ERROR);
    },
    createSubscription() {
      const id = randomUUID();
      const keys = createECDH('prime256v1');
      keys.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${currentUrl()}/push/${id}`;
      subscribers.set(id, { endpoint, keys, auth, rule: null });
      chaos?.created(endpoint);
      return {
        endpoint,
        expirationTime: null,
        keys: { p256dh: keys.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      };
    },
    respondWith(endpoint, rule) {
      subscriberOf(endpoint).rule = rule
        ? { ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY }
        : null;
    },
    expectVapidPublicKey(publicKey) {
      expectedKey = publicKey;
    },
    received,
    receivedFor(endpoint) {
      return received.filter((message) => message.subscriptionEndpoint === endpoint);
    },
    rejected,
    clear() {
      received.length = 0;
      rejected.length = 0;
    },
    chaos,
  };
}

function plainAnswer(
  res: ServerResponse | Http2ServerResponse,
  status: number,
  reason: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(reason);
}

function goAwayAfter(req: IncomingMessage | Http2ServerRequest): void {
  if (!('stream' in req)) return; // HTTP/1.1: the Connection: close header did it
  const session = req.stream.session;
  if (session && !session.closed && !session.destroyed) session.goaway(h2constants.NGHTTP2_NO_ERROR);
}

function headerOf(req: IncomingMessage | Http2ServerRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function flattenHeaders(req: IncomingMessage | Http2ServerRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (:method, :path…) are framing, not what a sender set.
    if (value !== undefined && !name.startsWith(':'))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
