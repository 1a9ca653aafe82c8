import { createECDH, randomBytes } from 'node:crypto';
import { createSecureServer, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pooledHttpTransport } from '../../src/delivery/pooled-http-transport.js';
import type { PooledTransportOptions } from '../../src/delivery/pooled-transport.js';
import type { OutboundMessage } from '../../src/delivery/provider.js';
import { generateVapidKeys } from '../../src/delivery/vapid.js';
import { webPush } from '../../src/delivery/webpush-provider.js';
import { createDevPushService, type DevPushService } from '../../src/dev/push-service.js';
import { selfSignedCertificate } from '../../src/dev/self-signed.js';
import type { PushSubscriptionJson } from '../../src/model/index.js';
import { storedWebPush } from './support/stored-subscription.js';

const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
const now = new Date('2031-01-15T12:00:00Z');

function message(json: PushSubscriptionJson, payload: string): OutboundMessage {
  return { subscription: storedWebPush(json, now), payload, ttlSeconds: 60, urgency: 'normal' };
}

// The same transport runs on the calling thread (no workers) and inside each
// delivery worker (the default on a multi-core machine): both are tested.
describe.each([
  { mode: 'on the calling thread', encryptionWorkers: 0 },
  { mode: 'from delivery workers', encryptionWorkers: 2 },
])('pooled transport against the loopback push service over TLS, $mode', ({ encryptionWorkers }) => {
  let service: DevPushService;
  /** Where the transport runs, its own record of the protocol is readable. */
  const onThisThread = encryptionWorkers === 0;

  beforeAll(async () => {
    service = createDevPushService({ tls: true });
    await service.start();
  });
  afterAll(() => service.stop());
  beforeEach(() => service.clear());

  it('negotiates HTTP/2 by ALPN and multiplexes 120 messages, each decrypted by http_ece', async () => {
    const transport = pooledHttpTransport({ ca: service.ca, maxInFlightPerOrigin: 50 });
    const provider = webPush({ vapid, transport, encryptionWorkers });
    try {
      const subscribers = Array.from({ length: 120 }, () => service.createSubscription());
      const outcomes = await Promise.all(
        subscribers.map((s, i) => provider.send(message(s, `{"n":${i}}`), now)),
      );
      expect(outcomes.filter((o) => o.kind !== 'sent')).toEqual([]);
      if (onThisThread) expect(transport.protocolOf(service.url)).toBe('h2');
      expect(service.received).toHaveLength(120);
      expect(new Set(service.received.map((m) => m.httpVersion))).toEqual(new Set(['2.0']));
      for (const [i, s] of subscribers.entries()) {
        expect(service.receivedFor(s.endpoint)[0]?.plaintext).toBe(`{"n":${i}}`);
      }
    } finally {
      await provider.close();
    }
  });

  it('falls back to HTTP/1.1 keep-alive when the service offers no h2', async () => {
    const transport = pooledHttpTransport({ ca: service.ca, http1Only: true });
    const provider = webPush({ vapid, transport, encryptionWorkers });
    try {
      const s = service.createSubscription();
      const outcome = await provider.send(message(s, 'hi'), now);
      expect(outcome).toEqual({ kind: 'sent', statusCode: 201 });
      if (onThisThread) expect(transport.protocolOf(service.url)).toBe('http/1.1');
      expect(service.received[0]?.httpVersion).toBe('1.1');
    } finally {
      await provider.close();
    }
  });

  it('sends a REFUSED_STREAM reset once more on a fresh stream; another reset becomes a retry', async () => {
    const provider = webPush({
      vapid,
      transport: pooledHttpTransport({ ca: service.ca }),
      encryptionWorkers,
    });
    try {
      const refused = service.createSubscription();
      service.respondWith(refused.endpoint, { status: 0, resetCode: 7, times: 1 });
      expect(await provider.send(message(refused, 'again'), now)).toEqual({ kind: 'sent', statusCode: 201 });
      expect(service.receivedFor(refused.endpoint).map((m) => m.plaintext)).toEqual(['again']);

      const broken = service.createSubscription();
      service.respondWith(broken.endpoint, { status: 0, resetCode: 2, times: 1 });
      const outcome = await provider.send(message(broken, 'x'), now);
      expect(outcome).toMatchObject({ kind: 'retry', statusCode: null, retryAt: now });
      expect(outcome.kind === 'retry' && outcome.reason).toMatch(/reset|INTERNAL_ERROR|code 2/i);
    } finally {
      await provider.close();
    }
  });

  it('keeps delivering after the service sends GOAWAY: new requests go to a new session', async () => {
    const transport = pooledHttpTransport({ ca: service.ca });
    const provider = webPush({ vapid, transport, encryptionWorkers });
    try {
      const subscribers = Array.from({ length: 40 }, () => service.createSubscription());
      const first = await Promise.all(
        subscribers.slice(0, 20).map((s) => provider.send(message(s, 'a'), now)),
      );
      expect(first.every((o) => o.kind === 'sent')).toBe(true);
      service.goAway();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = await Promise.all(subscribers.slice(20).map((s) => provider.send(message(s, 'b'), now)));
      expect(second.filter((o) => o.kind !== 'sent')).toEqual([]);
      expect(service.received).toHaveLength(40);
    } finally {
      await provider.close();
    }
  });
});

describe('pooled transport limits', () => {
  let hanging: ReturnType<typeof createSecureServer>;
  let origin: string;
  let ca: string;
  let inFlight = 0;
  let peak = 0;
  const sessions = new Set<Http2Session>();

  beforeAll(async () => {
    const identity = await selfSignedCertificate();
    ca = identity.cert;
    hanging = createSecureServer({ ...identity, allowHTTP1: true }, (req, res) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      req.resume();
      const slow = req.url === '/slow';
      setTimeout(
        () => {
          inFlight -= 1;
          res.writeHead(201);
          res.end();
        },
        slow ? 2_000 : 20,
      );
    });
    hanging.on('session', (s: Http2Session) => sessions.add(s));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await new Promise((resolve) => hanging.close(resolve));
  });

  it('keeps at most maxInFlightPerOrigin requests in flight and serves the rest in turn', async () => {
    const transport = pooledHttpTransport({ ca, maxInFlightPerOrigin: 8 });
    try {
      const request = {
        url: new URL(`${origin}/fast`),
        method: 'POST' as const,
        headers: {},
        body: new Uint8Array(10),
      };
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => transport.send(request, { timeoutMs: 5_000 })),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(40).fill(201));
      expect(peak).toBe(8);
    } finally {
      await transport.close();
    }
  });

  it('gives up on a request after timeoutMs with a TimeoutError, which the provider maps to retry', async () => {
    const transport = pooledHttpTransport({ ca });
    try {
      const request = {
        url: new URL(`${origin}/slow`),
        method: 'POST' as const,
        headers: {},
        body: new Uint8Array(1),
      };
      await expect(transport.send(request, { timeoutMs: 100 })).rejects.toMatchObject({
        name: 'TimeoutError',
        message: 'no answer within 100 ms',
      });
    } finally {
      await transport.close();
    }
  });

  it('from delivery workers: shares maxInFlightPerOrigin between them and maps a timeout to retry', async () => {
    const receiver = createECDH('prime256v1');
    receiver.generateKeys();
    const keys = {
      p256dh: receiver.getPublicKey().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    };
    const provider = webPush({
      vapid,
      transport: pooledHttpTransport({ ca, maxInFlightPerOrigin: 8 }),
      encryptionWorkers: 2,
      timeoutMs: 300,
    });
    try {
      peak = 0;
      const fast = await Promise.all(
        Array.from({ length: 40 }, () =>
          provider.send(message({ endpoint: `${origin}/fast`, keys }, 'x'), now),
        ),
      );
      expect(fast.map((o) => o.kind)).toEqual(Array(40).fill('sent'));
      // Two workers with four streams each: never more than the transport's eight at once.
      expect(peak).toBeLessThanOrEqual(8);
      expect(peak).toBeGreaterThan(1);

      const slow = await provider.send(message({ endpoint: `${origin}/slow`, keys }, 'x'), now);
      expect(slow).toMatchObject({ kind: 'retry', statusCode: null, reason: 'no answer within 300 ms' });
    } finally {
      await provider.close();
    }
  });
});

// FCM, the service most subscriptions point to, allows 100 streams a connection: one session would
// cap a sender at 100 answers a round trip, whatever its in-flight bound.
describe('pooled transport over a service that allows 100 streams a connection, as FCM does', () => {
  let service: ReturnType<typeof createSecureServer>;
  let origin: string;
  let ca: string;
  /** Streams open now, per server-side session, and the most each and all of them reached. */
  const open = new Map<Http2Session, number>();
  const peakOf = new Map<Http2Session, number>();
  let inFlight = 0;
  let peak = 0;

  beforeAll(async () => {
    const identity = await selfSignedCertificate();
    ca = identity.cert;
    service = createSecureServer({ ...identity, settings: { maxConcurrentStreams: 100 } });
    service.on('stream', (stream) => {
      const session = stream.session as Http2Session;
      const streams = (open.get(session) ?? 0) + 1;
      open.set(session, streams);
      peakOf.set(session, Math.max(peakOf.get(session) ?? 0, streams));
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      stream.resume();
      // Answered a round trip later, as a distant service would.
      stream.on('end', () =>
        setTimeout(() => {
          open.set(session, (open.get(session) ?? 1) - 1);
          inFlight -= 1;
          stream.respond({ ':status': 201 }, { endStream: true });
        }, 50),
      );
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(service.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    open.clear();
    peakOf.clear();
    peak = 0;
  });
  afterAll(async () => {
    for (const session of open.keys()) session.destroy();
    await new Promise((resolve) => service.close(resolve));
  });

  const sendMany = (transport: ReturnType<typeof pooledHttpTransport>, count: number) =>
    Promise.all(
      Array.from({ length: count }, () =>
        transport.send(
          { url: new URL('/push/x', origin), method: 'POST', headers: {}, body: new Uint8Array(10) },
          { timeoutMs: 5_000 },
        ),
      ),
    );

  it('opens another session when every one is at the service limit, up to the in-flight bound', async () => {
    const transport = pooledHttpTransport({ ca, maxInFlightPerOrigin: 250 });
    try {
      const answers = await sendMany(transport, 600);
      expect(answers.map((a) => a.statusCode)).toEqual(Array(600).fill(201));
      // 250 in flight over three sessions: the service's limit kept on each, the bound used.
      expect(peak).toBe(250);
      expect(peakOf.size).toBe(3);
      expect(Math.max(...peakOf.values())).toBe(100);
    } finally {
      await transport.close();
    }
  });

  it('opens no session beyond what the in-flight bound takes at 100 streams each', async () => {
    const transport = pooledHttpTransport({ ca, maxInFlightPerOrigin: 100 });
    try {
      const answers = await sendMany(transport, 300);
      expect(answers.map((a) => a.statusCode)).toEqual(Array(300).fill(201));
      expect(peakOf.size).toBe(1);
      expect(peak).toBe(100);
    } finally {
      await transport.close();
    }
  });
});

describe('pooled transport options', () => {
  it('refuses a bound that would leave every request waiting, and a misspelt key, naming them', () => {
    expect(() => pooledHttpTransport({ maxInFlightPerOrigin: 0 })).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        message: expect.stringMatching(/maxInFlightPerOrigin/),
      }),
    );
    expect(() => pooledHttpTransport({ maxInFlightPerOrigin: Number.NaN })).toThrow(/maxInFlightPerOrigin/);
    const misspelt = { maxInflightPerOrigin: 400 } as unknown as PooledTransportOptions;
    expect(() => pooledHttpTransport(misspelt)).toThrow(
      /maxInflightPerOrigin.*did you mean "maxInFlightPerOrigin"/,
    );
  });

  it('takes every option in its documented forms: a certificate authority as a string, a Buffer or a list', async () => {
    for (const ca of ['pem', Buffer.from('pem'), ['pem', Buffer.from('pem')]]) {
      const options = { ca, maxInFlightPerOrigin: 1, maxBodyBytes: 0, http1Only: true };
      let transport: ReturnType<typeof pooledHttpTransport> | undefined;
      expect(() => {
        transport = pooledHttpTransport(options);
      }).not.toThrow();
      await transport?.close();
    }
  });
});
