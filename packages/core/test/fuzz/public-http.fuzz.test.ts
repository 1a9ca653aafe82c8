import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryTablesOf } from '../../src/adapters/memory-storage.js';
import {
  createHerald,
  generateVapidKeys,
  type Herald,
  type HeraldHttpHandler,
  heraldHttp,
  memoryQueue,
  memoryStorage,
  type Storage,
  silentLogger,
  toNodeListener,
  webPush,
} from '../../src/index.js';
import { createTestPushService, fakeClock, type TestPushService } from '../../src/testing/index.js';
import {
  badAnswer,
  fuzzRuns,
  mutated,
  pollutingKeys,
  snapshotOf,
  withPollutingKey,
  wrongValue,
} from './support.js';

/**
 * The endpoints browsers call face the whole internet: whatever is posted to
 * them, the answer is a 2xx for valid input or a 4xx JSON error, never a 5xx
 * or a stack trace, and a refused request changes nothing stored.
 */
describe('public HTTP endpoints under fuzzed input', () => {
  let service: TestPushService;
  let herald: Herald;
  let storage: Storage;
  let handle: HeraldHttpHandler;
  let server: Server;
  let base: string;
  const valid: Record<string, Record<string, unknown>> = {};
  const cases = { handler: 0, wire: 0 };

  beforeAll(async () => {
    service = createTestPushService();
    const { url } = await service.start();
    storage = memoryStorage();
    herald = createHerald({
      storage,
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      clock: fakeClock('2026-04-01T08:00:00Z'),
      allowEndpoint: [url],
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      logger: silentLogger,
    });
    handle = heraldHttp(herald, { trustClientUserId: true });
    const subscription = service.createSubscription();
    await herald.subscriptions.add({ userId: 'ada', subscription });
    const campaign = await herald.campaigns.create({
      name: 'Fuzz',
      when: { schedule: { type: 'once', at: '2026-04-01T08:00:00Z' } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hi', deeplink: 'https://example.com/' },
    });
    await herald.campaigns.schedule(campaign.id);
    await herald.tick();
    const payload = JSON.parse(service.receivedFor(subscription.endpoint)[0]?.plaintext as string);
    valid['POST /subscriptions'] = {
      subscription: service.createSubscription(),
      userId: 'bob',
      timezone: 'Europe/Paris',
    };
    valid['POST /identify'] = { endpoint: subscription.endpoint, userId: 'ada' };
    valid['POST /events'] = { userId: 'ada', name: 'purchase', properties: { revenue: 12.5, sku: 'a-1' } };
    valid['POST /reports'] = { kind: 'clicked', token: payload.herald.token, reportId: 'report-00001' };
    valid['DELETE /subscriptions'] = { endpoint: `${url}/push/unknown` };
    valid['POST /subscriptions/safari'] = { deviceToken: 'ab'.repeat(32), userId: 'cy' };

    server = createServer((request, response) => void toNodeListener(handle)(request, response));
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await herald.stop();
    await service.stop();
    console.log(`public HTTP fuzz: ${cases.handler} handler cases, ${cases.wire} wire cases`);
  });

  const snapshot = () => snapshotOf(memoryTablesOf(storage) as object);
  const routes = () => Object.keys(valid);

  /** Sends one request; checks the answer and that a refusal left storage as it was. */
  async function check(send: () => Promise<{ status: number; body?: unknown }>): Promise<void> {
    const before = snapshot();
    const response = await send();
    const problem = badAnswer(response);
    if (problem) throw new Error(problem);
    if (response.status >= 400) expect(snapshot()).toBe(before);
    expect(Object.prototype).not.toHaveProperty('polluted');
  }

  const body = (route: string): fc.Arbitrary<unknown> =>
    fc.oneof(
      { weight: 4, arbitrary: mutated(valid[route] as Record<string, unknown>) },
      { weight: 1, arbitrary: wrongValue },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );

  it('answers any parsed body with a 2xx or a JSON 4xx, and a refusal stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes()).chain((route) => fc.tuple(fc.constant(route), body(route))),
        async ([route, requestBody]) => {
          cases.handler += 1;
          const [method, path] = route.split(' ') as [string, string];
          await check(() => handle({ method, path, headers: {}, body: requestBody }));
        },
      ),
      { numRuns: fuzzRuns(400) },
    );
  });

  it('answers unknown paths and methods with a JSON 404', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'weird'),
        fc.oneof(fc.constantFrom(...routes().map((r) => r.split(' ')[1] as string)), fc.webPath()),
        async (method, path) => {
          cases.handler += 1;
          await check(() => handle({ method, path, headers: {}, body: undefined }));
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });

  function send(method: string, path: string, bytes: Buffer, headers: Record<string, string>) {
    return new Promise<{ status: number; body?: unknown }>((resolve, reject) => {
      // Content-Length set explicitly: Node's client sends a DELETE body unframed otherwise.
      const framed = { ...headers, 'content-length': String(bytes.length) };
      const request = httpRequest(`${base}${path}`, { method, headers: framed }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          expect(response.headers['content-type'] ?? 'application/json').toMatch(/json/);
          resolve({ status: response.statusCode ?? 0, ...(text ? { body: JSON.parse(text) } : {}) });
        });
      });
      request.on('error', reject);
      request.end(bytes);
    });
  }

  type WireCase = {
    kind: 'truncated' | 'invalid-utf8' | 'polluting' | 'oversized' | 'deep' | 'random' | 'empty';
    bytes: Buffer;
  };
  /** The bytes of a body as it might arrive: cut short, with invalid UTF-8, padded past the limit. */
  const wireBody = (route: string): fc.Arbitrary<WireCase> => {
    const text = JSON.stringify(valid[route]);
    const as =
      (kind: WireCase['kind']) =>
      (bytes: Buffer): WireCase => ({ kind, bytes });
    return fc.oneof(
      fc
        .nat({ max: text.length - 1 })
        .map((cut) => Buffer.from(text.slice(0, cut)))
        .map(as('truncated')),
      fc
        .nat({ max: text.length - 2 })
        .map((at) => {
          const bytes = Buffer.from(text);
          return Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xc3, 0x28]), bytes.subarray(at)]);
        })
        .map(as('invalid-utf8')),
      fc
        .constantFrom(...pollutingKeys)
        .map((key) => Buffer.from(withPollutingKey(text, key)))
        .map(as('polluting')),
      fc
        .integer({ min: 65_537, max: 300_000 })
        .map((size) => Buffer.from(JSON.stringify({ ...valid[route], pad: 'x'.repeat(size) })))
        .map(as('oversized')),
      // Built as text: JSON.stringify itself overflows the stack on arrays this deep.
      fc
        .integer({ min: 100, max: 30_000 })
        .map((depth) => Buffer.from(`${text.slice(0, -1)},"deep":${'['.repeat(depth)}1${']'.repeat(depth)}}`))
        .map(as('deep')),
      fc
        .uint8Array({ maxLength: 200 })
        .map((bytes) => Buffer.from(bytes))
        .map(as('random')),
      fc.constant(Buffer.alloc(0)).map(as('empty')),
    );
  };
  const acceptedTypes = [
    'application/json',
    'application/json; charset=utf-8',
    'text/plain;charset=UTF-8',
    '',
  ];
  const refusedTypes = [
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'image/png',
  ];

  /** The status a hostile body must get, when one is certain (a random byte string may even be valid JSON). */
  function expectedStatus(kind: WireCase['kind'], type: string): number | null {
    if (kind === 'oversized') return 413;
    if (refusedTypes.includes(type)) return 415;
    if (kind === 'random') return null;
    return 400;
  }

  it('answers any bytes on the wire with a 2xx or a JSON 4xx, and a refusal stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .constantFrom(...routes())
          .chain((route) =>
            fc.tuple(fc.constant(route), wireBody(route), fc.constantFrom(...acceptedTypes, ...refusedTypes)),
          ),
        async ([route, wire, type]) => {
          cases.wire += 1;
          const path = `${route.split(' ')[1]}`;
          const method = `${route.split(' ')[0]}`;
          let status = 0;
          await check(async () => {
            const response = await send(method, path, wire.bytes, type ? { 'content-type': type } : {});
            status = response.status;
            return response;
          });
          const expected = expectedStatus(wire.kind, type);
          if (expected !== null)
            expect({ kind: wire.kind, type, status }).toEqual({ kind: wire.kind, type, status: expected });
        },
      ),
      { numRuns: fuzzRuns(150) },
    );
  });

  it('survives a client that goes away mid-body', async () => {
    const { connect } = await import('node:net');
    const port = Number(new URL(base).port);
    for (let attempt = 0; attempt < 5; attempt++) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            'POST /events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{"na',
          );
          setTimeout(() => socket.destroy(), 20);
        });
        socket.on('close', () => resolve());
      });
    }
    const after = await send('POST', '/events', Buffer.from(JSON.stringify(valid['POST /events'])), {
      'content-type': 'application/json',
    });
    expect(after.status).toBe(202);
  });
});
