import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { selfSignedCertificate } from '../../dev/self-signed.js';

/**
 * APNs on loopback, for the `safariApns` provider's tests: HTTP/2 only over
 * TLS (self-signed), checking every request as Apple documents it — the
 * provider JWT (ES256 signed by the team's key, `kid`, `iss`, `iat` not older
 * than an hour), `apns-topic`, `apns-push-type`, `apns-id`, `apns-priority`,
 * `apns-expiration`, a JSON body with `aps.alert` — and answering Apple's
 * errors as `{"reason": …}` JSON.
 */
export interface TestApnsServiceOptions {
  teamId: string;
  keyId: string;
  /** The team key's public half (PEM or KeyObject): what Apple holds. */
  publicKey: string | KeyObject;
  /** The Website Push ID expected in apns-topic. */
  topic: string;
  /** Time the JWT's `iat` is checked against. Default: the wall clock. */
  clock?: { now(): Date };
}

export interface ReceivedApnsNotification {
  deviceToken: string;
  headers: Record<string, string>;
  payload: unknown;
  /** The provider JWT that authorised it. */
  jwt: string;
}

export interface ApnsResponseRule {
  status: number;
  /** Apple's reason, e.g. BadDeviceToken, Unregistered, TooManyRequests. */
  reason?: string;
  /** This many requests, then 200 again. Default: every request. */
  times?: number;
}

export interface TestApnsService {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
  readonly url: string;
  /** The certificate (PEM) to trust. */
  readonly ca: string;
  respondWith(deviceToken: string, rule: ApnsResponseRule | null): void;
  /** Every accepted notification, in order. */
  readonly received: readonly ReceivedApnsNotification[];
  /** Every request, accepted or not, with the status and reason it got. */
  readonly answered: readonly { deviceToken: string; status: number; reason: string | null; jwt: string }[];
  clear(): void;
}

const ONE_HOUR_SECONDS = 60 * 60;

export function createTestApnsService(options: TestApnsServiceOptions): TestApnsService {
  const key = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  const now = () => options.clock?.now() ?? new Date();
  const rules = new Map<string, ApnsResponseRule & { remaining: number }>();
  const received: ReceivedApnsNotification[] = [];
  const answered: TestApnsService['answered'][number][] = [];
  const sessions = new Set<Http2Session>();
  let server: ReturnType<typeof createSecureServer> | null = null;
  let origin: string | null = null;
  let ca: string | null = null;

  async function check(
    req: Http2ServerRequest,
    body: Buffer,
  ): Promise<{ status: number; reason: string } | null> {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    if (req.method !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    if (!/^\/3\/device\/[0-9a-f]{64,200}$/.test(req.url)) return { status: 404, reason: 'BadPath' };
    const auth = header('authorization');
    if (!auth?.startsWith('bearer ')) return { status: 403, reason: 'MissingProviderToken' };
    const jwt = auth.slice('bearer '.length);
    try {
      const protectedHeader = decodeProtectedHeader(jwt);
      if (protectedHeader.alg !== 'ES256' || protectedHeader.kid !== options.keyId)
        return { status: 403, reason: 'InvalidProviderToken' };
      const { payload } = await jwtVerify(jwt, key, {
        algorithms: ['ES256'],
        issuer: options.teamId,
        currentDate: now(),
      });
      const iat = payload.iat;
      const nowSeconds = Math.floor(now().getTime() / 1000);
      if (typeof iat !== 'number' || iat > nowSeconds + 60)
        return { status: 403, reason: 'InvalidProviderToken' };
      if (nowSeconds - iat > ONE_HOUR_SECONDS) return { status: 403, reason: 'ExpiredProviderToken' };
    } catch {
      // A bad signature, issuer or format: Apple does not say which.
      return { status: 403, reason: 'InvalidProviderToken' };
    }
    if (header('apns-topic') !== options.topic) return { status: 400, reason: 'TopicDisallowed' };
    if (header('apns-push-type') !== 'alert') return { status: 400, reason: 'InvalidPushType' };
    const id = header('apns-id');
    if (id !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      return { status: 400, reason: 'BadMessageId' };
    const priority = header('apns-priority');
    if (priority !== undefined && priority !== '5' && priority !== '10')
      return { status: 400, reason: 'BadPriority' };
    const expiration = header('apns-expiration');
    if (expiration !== undefined && !/^\d+$/.test(expiration))
      return { status: 400, reason: 'BadExpirationDate' };
    if (body.length > 4096) return { status: 413, reason: 'PayloadTooLarge' };
    let payload: { aps?: { alert?: unknown } };
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, reason: 'PayloadEmpty' };
    }
    if (typeof payload.aps?.alert !== 'object' || payload.aps.alert === null)
      return { status: 400, reason: 'PayloadEmpty' };
    return null;
  }

  async function handle(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const deviceToken = req.url.replace(/^\/3\/device\//, '');
    const jwt = String(req.headers.authorization ?? '').replace(/^bearer /, '');
    const answer = (status: number, reason: string | null) => {
      answered.push({ deviceToken, status, reason, jwt });
      res.writeHead(status, {
        'apns-id': String(req.headers['apns-id'] ?? ''),
        'content-type': 'application/json',
      });
      res.end(reason ? JSON.stringify({ reason }) : '');
    };
    const refused = await check(req, body);
    if (refused) return answer(refused.status, refused.reason);
    const rule = rules.get(deviceToken);
    if (rule) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) rules.delete(deviceToken);
      return answer(rule.status, rule.reason ?? null);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!name.startsWith(':') && value !== undefined) headers[name] = String(value);
    }
    received.push({ deviceToken, headers, payload: JSON.parse(body.toString('utf8')), jwt });
    answer(200, null);
  }

  return {
    async start() {
      if (server) throw new Error('APNs stand-in already started');
      const identity = await selfSignedCertificate();
      ca = identity.cert;
      const started = createSecureServer(identity, (req, res) => {
        handle(req, res).catch((error: unknown) => {
          if (!res.headersSent) res.writeHead(500);
          res.end(JSON.stringify({ reason: 'InternalServerError', detail: String(error) }));
        });
      });
      started.on('session', (session: Http2Session) => {
        sessions.add(session);
        session.once('close', () => sessions.delete(session));
      });
      await new Promise<void>((resolve, reject) => {
        started.once('error', reject);
        started.listen(0, '127.0.0.1', () => resolve());
      });
      server = started;
      origin = `https://127.0.0.1:${(started.address() as AddressInfo).port}`;
      return { url: origin };
    },
    async stop() {
      const running = server;
      server = null;
      if (!running) return;
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => running.close(() => resolve()));
    },
    get url() {
      if (!origin) throw new Error('APNs stand-in not started');
      return origin;
    },
    get ca() {
      if (!ca) throw new Error('APNs stand-in not started');
      return ca;
    },
    respondWith(deviceToken, rule) {
      if (rule) rules.set(deviceToken, { ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
      else rules.delete(deviceToken);
    },
    received,
    answered,
    clear() {
      received.length = 0;
      answered.length = 0;
    },
  };
}
