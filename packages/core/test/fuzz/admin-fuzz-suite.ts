import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/http/admin/index.js';
import {
  bearerToken,
  type Counters,
  createHerald,
  generateVapidKeys,
  type Herald,
  type HeraldAdminHandler,
  heraldAdminHttp,
  memoryQueue,
  type Storage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import { createTestPushService, fakeClock, type TestPushService } from '../../src/testing/index.js';
import { badAnswer, fuzzRuns, mutated, wrongValue } from './support.js';

const TOKEN = 'fuzz-admin-token-0123456789';

/** The storage a run fuzzes, and a snapshot of everything it holds (read straight from its tables). */
export interface AdminFuzzBackend {
  storage: Storage;
  counters?: Counters;
  snapshot(): string | Promise<string>;
  close?(): Promise<void>;
}

/**
 * Every route of the admin route table, found by enumerating it (a new route is fuzzed without
 * touching this file): hostile path parameters, queries, bodies and headers get a 2xx or a JSON
 * 4xx, never a 5xx, and a refused request changes nothing stored. Run on memoryStorage for many
 * cases, and on real Postgres, which refuses values memory takes (a NUL in a path parameter).
 */
export function runAdminFuzz(name: string, open: () => Promise<AdminFuzzBackend>, runs: number): void {
  describe(`admin HTTP API under fuzzed input, on ${name}`, () => {
    let service: TestPushService;
    let herald: Herald;
    let backend: AdminFuzzBackend;
    let handle: HeraldAdminHandler;
    const ids: Record<string, string> = {};
    let cases = 0;

    beforeAll(async () => {
      service = createTestPushService();
      const { url } = await service.start();
      backend = await open();
      herald = createHerald({
        storage: backend.storage,
        ...(backend.counters ? { counters: backend.counters } : {}),
        queue: memoryQueue(),
        providers: {
          webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
        },
        clock: fakeClock('2026-04-01T08:00:00Z'),
        allowEndpoint: [url],
        logger: silentLogger,
      });
      handle = heraldAdminHttp(herald, { authorize: bearerToken(TOKEN), logger: silentLogger });
      const subscription = await herald.subscriptions.add({
        userId: 'ada',
        subscription: service.createSubscription(),
      });
      const campaign = await herald.campaigns.create({
        name: 'Fuzz',
        when: { schedule: { type: 'once', at: '2026-04-02T08:00:00Z' } },
        who: { segment: { type: 'all' } },
        what: { title: 'Hi', deeplink: 'https://example.com/' },
      });
      const segment = await herald.segments.create({ name: 'All', definition: { type: 'all' } });
      Object.assign(ids, {
        id: campaign.id,
        userId: 'ada',
        subscriptionId: subscription.id,
        segmentId: segment.id,
      });
    });
    afterAll(async () => {
      await herald?.stop();
      await service?.stop();
      await backend?.close?.();
      console.log(`admin HTTP fuzz on ${name}: ${cases} cases over ${adminRoutes.length} routes`);
    });

    const snapshot = () => backend.snapshot();

    const paramValue = (name: string): fc.Arbitrary<string> =>
      fc.oneof(
        {
          weight: 3,
          arbitrary: fc.constant(name === 'id' ? `${ids.id}|${ids.segmentId}` : (ids[name] ?? 'x')),
        },
        { weight: 2, arbitrary: fc.string({ maxLength: 30 }).map((text) => encodeURIComponent(text) || 'x') },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            '%',
            '%E0%A4%A',
            '..',
            '%2e%2e',
            '__proto__',
            'constructor',
            'x'.repeat(5000),
            '%00',
          ),
        },
      );

    /** A request for one route: its path filled in, a body near one of its examples, a query, headers. */
    const requestFor = (route: (typeof adminRoutes)[number]) => {
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
      const example = (Object.values(route.examples ?? {})[0] as { value?: unknown } | undefined)?.value;
      const seed =
        example && typeof example === 'object' && !Array.isArray(example)
          ? (example as Record<string, unknown>)
          : { name: 'x' };
      return fc
        .record({
          params: fc.tuple(...names.map(paramValue)),
          body: fc.oneof(
            { weight: 4, arbitrary: mutated(seed) },
            { weight: 1, arbitrary: wrongValue },
            { weight: 1, arbitrary: fc.constant(undefined) },
          ),
          query: fc.dictionary(
            fc.constantFrom('limit', 'cursor', 'status', 'from', 'to', 'userId', 'bucket', 'q', '__proto__'),
            fc.oneof(
              fc.string({ maxLength: 12 }),
              fc.constantFrom('-1', '1e309', 'NaN', '99999999999', 'x'.repeat(3000), '\u0000', 'a\ud800'),
            ),
            { maxKeys: 3 },
          ),
          contentType: fc.constantFrom(
            'application/json',
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            undefined,
          ),
          auth: fc.constantFrom(
            `Bearer ${TOKEN}`,
            `Bearer ${TOKEN}`,
            `Bearer ${TOKEN}`,
            'Bearer wrong-token',
            `Basic ${TOKEN}`,
            undefined,
          ),
          ifMatch: fc.option(fc.constantFrom('"1"', 'W/"1"', '*', '"x"', '"1", "2"', 'garbage'), {
            nil: undefined,
          }),
          contentLength: fc.option(fc.constantFrom('70000', '-1', 'abc', '0'), { nil: undefined }),
        })
        .map((parts) => {
          const path = names.reduce((built, name, index) => {
            const value = parts.params[index] as string;
            return built.replace(
              `{${name}}`,
              name === 'id' ? (value.split('|')[route.path.startsWith('/segments') ? 1 : 0] ?? value) : value,
            );
          }, route.path);
          const headers: Record<string, string> = {};
          if (parts.contentType) headers['content-type'] = parts.contentType;
          if (parts.auth) headers.authorization = parts.auth;
          if (parts.ifMatch) headers['if-match'] = parts.ifMatch;
          if (parts.contentLength) headers['content-length'] = parts.contentLength;
          return { method: route.method, path, headers, body: parts.body, query: parts.query };
        });
    };

    it('answers every route with a 2xx or a JSON 4xx, and a refusal stores nothing', async () => {
      expect(adminRoutes.length).toBeGreaterThan(20);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...adminRoutes).chain((route) => requestFor(route)),
          async (request) => {
            cases += 1;
            const before = await snapshot();
            const response = await handle(request);
            const problem = badAnswer(response);
            if (problem) throw new Error(`${request.method} ${request.path}: ${problem}`);
            if (response.status >= 400) expect(await snapshot()).toBe(before);
            if (request.headers.authorization !== `Bearer ${TOKEN}` && request.path !== '/openapi.json')
              expect(response.status).toBe(401);
            expect(Object.prototype).not.toHaveProperty('polluted');
          },
        ),
        { numRuns: fuzzRuns(runs) },
      );
    });
  });
}
