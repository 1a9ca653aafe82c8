/**
 * The library's admin API as the example app mounts it (/admin/api, bearer
 * token), over real HTTP, on PGlite and on the real Postgres server. Every
 * answer is validated against the OpenAPI document the API serves, and the
 * last test checks that every route's success answer was validated at least
 * once, so the document cannot lie about any route.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { postgresCounters, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import {
  type Authorize,
  type Campaign,
  createHerald,
  generateVapidKeys,
  type Herald,
  heraldAdminHttp,
  toNodeListener,
  webPush,
} from '@herald/core';
import { createTestPushService, type FakeClock, fakeClock, type TestPushService } from '@herald/core/testing';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, openBackend } from '../../../packages/adapter-postgres/test/helpers.js';
import { adminRoutes } from '../../../packages/core/src/http/admin/route-table.js';
import { createApp } from '../src/app.js';

const ADMIN_TOKEN = 'admin-api-test-token-0123456789';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

type OpenApi = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
};

/** Validates answers against the served document; remembers which operations and statuses were checked. */
function documentValidator(doc: OpenApi) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const toLocal = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(toLocal);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        key === '$ref' && typeof inner === 'string'
          ? inner.replace('#/components/schemas/', 'herald-admin#/$defs/')
          : toLocal(inner),
      ]),
    );
  };
  ajv.addSchema({ $id: 'herald-admin', $defs: toLocal(doc.components.schemas) as object });
  const checked = new Set<string>();
  return {
    checked,
    validate(template: string, method: string, answer: Answer): void {
      const operation = doc.paths[template]?.[method.toLowerCase()];
      expect(operation, `${method} ${template} is in the document`).toBeDefined();
      const response = operation?.responses[String(answer.status)];
      expect(response, `${method} ${template} documents status ${answer.status}`).toBeDefined();
      const schema = response?.content?.['application/json']?.schema;
      if (schema === undefined) {
        expect(answer.body, `${method} ${template} ${answer.status} has no body`).toBeUndefined();
      } else {
        const validate = ajv.compile(toLocal(schema) as object);
        const valid = validate(answer.body);
        expect(valid, `${method} ${template} ${answer.status}: ${ajv.errorsText(validate.errors)}`).toBe(
          true,
        );
      }
      checked.add(`${method.toUpperCase()} ${template} ${answer.status}`);
    },
  };
}

const START = '2026-03-02T09:00:00Z';

async function expectStatus(answer: Answer, status: number): Promise<void> {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
}

const campaignBody = (overrides: Record<string, unknown> = {}) => ({
  name: 'Spring sale',
  labels: ['promo'],
  when: { schedule: { type: 'once', at: '2026-03-02T10:00:00Z' } },
  who: { segment: { type: 'all' } },
  what: { title: 'Hi {{ user.first_name | default: "there" }}', deeplink: 'https://example.com/sale' },
  ...overrides,
});

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`the admin API over HTTP on ${kind}`, { timeout: 90_000 }, () => {
    let backend: Backend;
    let clock: FakeClock;
    let pushService: TestPushService;
    let herald: Herald;
    let server: Server;
    let base: string;
    let checker: ReturnType<typeof documentValidator>;
    const extraServers: Server[] = [];

    async function call<T = unknown>(
      method: string,
      path: string,
      options: { body?: unknown; headers?: Record<string, string>; raw?: string; base?: string } = {},
    ): Promise<Answer<T>> {
      const hasBody = options.body !== undefined || options.raw !== undefined;
      const response = await fetch(`${options.base ?? base}/admin/api${path}`, {
        method,
        headers: { ...auth, ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
        ...(hasBody ? { body: options.raw ?? JSON.stringify(options.body) } : {}),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        body: (text ? JSON.parse(text) : undefined) as T,
      };
    }

    /** Calls a route and validates the answer against the document's entry for `template`. */
    async function checked<T = unknown>(
      method: string,
      template: string,
      path: string,
      options: Parameters<typeof call>[2] = {},
    ): Promise<Answer<T>> {
      const answer = await call<T>(method, path, options);
      checker.validate(template, method, answer);
      return answer;
    }

    async function listen(handler: Parameters<typeof toNodeListener>[0]): Promise<string> {
      const extra = createServer((request, response) => {
        void toNodeListener(handler, { basePath: '/admin/api' })(request, response);
      });
      extra.listen(0, '127.0.0.1');
      await new Promise((resolve) => extra.once('listening', resolve));
      extraServers.push(extra);
      return `http://127.0.0.1:${(extra.address() as AddressInfo).port}`;
    }

    beforeAll(async () => {
      backend = await openBackend(kind, 'admin_api');
      clock = fakeClock(START);
      pushService = createTestPushService();
      const { url } = await pushService.start();
      const vapid = { subject: 'mailto:admin@example.com', ...generateVapidKeys() };
      herald = createHerald({
        storage: postgresStorage({ client: backend.client, schema: backend.schema }),
        queue: postgresQueue({ client: backend.client, schema: backend.schema }),
        counters: postgresCounters({ client: backend.client, schema: backend.schema }),
        providers: { webpush: webPush({ vapid }) },
        allowEndpoint: [url],
        clock,
        reportSecret: 'admin-api-test-report-secret',
      });
      const app = createApp({
        herald,
        adminToken: ADMIN_TOKEN,
        vapidPublicKey: vapid.publicKey,
        publicDir: fileURLToPath(new URL('../public', import.meta.url)),
      });
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const spec = await fetch(`${base}/admin/api/openapi.json`);
      expect(spec.status).toBe(200);
      checker = documentValidator((await spec.json()) as OpenApi);
    });

    afterAll(async () => {
      server?.close();
      for (const extra of extraServers) extra.close();
      await herald?.stop();
      await pushService?.stop();
      await backend?.close();
    });

    it('serves its OpenAPI 3.1 document without authorisation, and it is a valid 2020-12 schema set', async () => {
      const answer = await call<{ openapi: string; paths: object }>('GET', '/openapi.json', {
        headers: { authorization: '' },
      });
      checker.validate('/openapi.json', 'GET', answer);
      expect(answer.body.openapi).toBe('3.1.0');
      expect(Object.keys(answer.body.paths)).toContain('/campaigns/{id}/schedule');
    });

    it('runs the whole life of a campaign: profiles, segment, create (idempotent), test, schedule, run, stats', async () => {
      // Users and their browsers.
      for (const [userId, city] of [
        ['ada', 'Lisbon'],
        ['grace', 'Osaka'],
        ['qa-1', 'Paris'],
      ] as const) {
        const put = await checked('PUT', '/profiles/{userId}', `/profiles/${userId}`, {
          body: { properties: { first_name: userId, city }, timezone: 'Europe/Lisbon' },
        });
        expect(put.status).toBe(200);
        // Ada's browser said it is Firefox; the others' user agents are unknown (stats by browser, below).
        const userAgent = userId === 'ada' ? FIREFOX : undefined;
        await herald.subscriptions.add({
          userId,
          subscription: pushService.createSubscription(),
          ...(userAgent ? { userAgent } : {}),
        });
      }
      const marked = await checked<{ test: boolean; timezone: string }>(
        'PUT',
        '/profiles/{userId}/test',
        '/profiles/qa-1/test',
        {
          body: { test: true },
        },
      );
      expect(marked.body).toMatchObject({ test: true, timezone: 'Europe/Lisbon' });
      const profile = await checked<{ properties: { city: string } }>(
        'GET',
        '/profiles/{userId}',
        '/profiles/ada',
      );
      expect(profile.body.properties.city).toBe('Lisbon');
      const browsers = await checked<Array<{ id: string; endpoint: string }>>(
        'GET',
        '/profiles/{userId}/subscriptions',
        '/profiles/ada/subscriptions',
      );
      expect(browsers.body).toHaveLength(1);
      expect(JSON.stringify(browsers.body)).not.toContain('p256dh');

      // A saved segment: everyone who is not a test profile's city, edited, estimated.
      const segment = await checked<{ id: string }>('POST', '/segments', '/segments', {
        body: {
          name: 'Non-test',
          definition: { type: 'property', condition: { op: 'neq', property: 'city', value: 'Nowhere' } },
        },
      });
      expect(segment.status).toBe(201);
      const segmentId = segment.body.id;
      await checked('PATCH', '/segments/{id}', `/segments/${segmentId}`, {
        body: { description: 'all real users' },
      });
      expect(
        (await checked<Array<{ id: string }>>('GET', '/segments', '/segments')).body.map((s) => s.id),
      ).toContain(segmentId);
      expect(
        (await checked<{ description: string }>('GET', '/segments/{id}', `/segments/${segmentId}`)).body
          .description,
      ).toBe('all real users');
      const reach = await checked<{ qualified: number }>(
        'GET',
        '/segments/{id}/reach',
        `/segments/${segmentId}/reach`,
      );
      expect(reach.body.qualified).toBe(3);
      const adHoc = await checked<{ reachable: { total: number } }>(
        'POST',
        '/segments/reach',
        '/segments/reach',
        {
          body: { definition: { type: 'all' } },
        },
      );
      expect(adHoc.body.reachable.total).toBe(3);

      // Create with an Idempotency-Key; the retry gets the same campaign, a different body is refused.
      const body = campaignBody({ who: { segmentId } });
      const key = { 'idempotency-key': `create-${kind}-1` };
      const created = await checked<Campaign>('POST', '/campaigns', '/campaigns', { body, headers: key });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('draft');
      expect(created.headers.get('etag')).toBe('"0"');
      expect(created.headers.get('location')).toBe(`/admin/api/campaigns/${created.body.id}`);
      const retried = await checked<Campaign>('POST', '/campaigns', '/campaigns', { body, headers: key });
      expect(retried.status).toBe(201);
      expect(retried.body.id).toBe(created.body.id);
      expect(retried.headers.get('idempotency-replayed')).toBe('true');
      const reused = await checked<{ error: { code: string } }>('POST', '/campaigns', '/campaigns', {
        body: { ...body, name: 'Other' },
        headers: key,
      });
      expect(reused.status).toBe(422);
      expect(reused.body.error.code).toBe('idempotency_key_reused');
      const id = created.body.id;
      expect((await herald.campaigns.list()).filter((c) => c.name === 'Spring sale')).toHaveLength(1);

      // Read it back, see it in the list, preview, explain, estimate, forecast, test-send.
      const got = await checked<Campaign>('GET', '/campaigns/{id}', `/campaigns/${id}`);
      expect(got.headers.get('etag')).toBe('"0"');
      const listed = await checked<{ items: Campaign[] }>(
        'GET',
        '/campaigns',
        '/campaigns?status=draft&label=promo&q=SPRING',
      );
      expect(listed.body.items.map((c) => c.id)).toEqual([id]);
      const preview = await checked<{ targets: Array<{ notification: { title: string } }> }>(
        'POST',
        '/campaigns/{id}/preview',
        `/campaigns/${id}/preview`,
        { body: { userId: 'ada', target: 'webpush' } },
      );
      expect(preview.body.targets[0]?.notification.title).toBe('Hi ada');
      const explained = await checked<{ userId: string }>(
        'GET',
        '/campaigns/{id}/explain',
        `/campaigns/${id}/explain?userId=ada`,
      );
      expect(explained.body.userId).toBe('ada');
      const campaignReach = await checked<{ qualified: number }>(
        'GET',
        '/campaigns/{id}/reach',
        `/campaigns/${id}/reach`,
      );
      expect(campaignReach.body.qualified).toBe(3);
      const tests = await checked<Array<{ userId: string; deliveries: Array<{ outcome: string }> }>>(
        'POST',
        '/campaigns/{id}/test-sends',
        `/campaigns/${id}/test-sends`,
        { body: {} },
      );
      expect(tests.body).toEqual([
        expect.objectContaining({
          userId: 'qa-1',
          deliveries: [expect.objectContaining({ outcome: 'sent' })],
        }),
      ]);

      // Schedule with If-Match, forecast, pause and resume, then let the clock reach the send time.
      const scheduled = await checked<Campaign>(
        'POST',
        '/campaigns/{id}/schedule',
        `/campaigns/${id}/schedule`,
        {
          headers: { 'if-match': '"0"' },
        },
      );
      expect(scheduled.body.status).toBe('scheduled');
      expect(scheduled.headers.get('etag')).toBe(`"${scheduled.body.version}"`);
      const forecast = await checked<{ qualified: number }>(
        'GET',
        '/campaigns/{id}/forecast',
        `/campaigns/${id}/forecast`,
      );
      expect(forecast.body.qualified).toBe(3);
      const inUse = await checked<{ error: { code: string } }>(
        'GET',
        '/segments/{id}/campaigns',
        `/segments/${segmentId}/campaigns`,
      );
      expect((inUse.body as unknown as Campaign[]).map((c) => c.id)).toEqual([id]);
      const paused = await checked<Campaign>('POST', '/campaigns/{id}/pause', `/campaigns/${id}/pause`, {
        headers: { 'if-match': scheduled.headers.get('etag') as string },
      });
      expect(paused.body.status).toBe('paused');
      const resumed = await checked<Campaign>('POST', '/campaigns/{id}/resume', `/campaigns/${id}/resume`);
      expect(resumed.body.status).toBe('scheduled');

      await clock.set('2026-03-02T10:00:00Z');
      await herald.tick();
      const stats = await checked<{ sent: number; recipients: number }>(
        'GET',
        '/campaigns/{id}/stats',
        `/campaigns/${id}/stats`,
      );
      expect(stats.body).toMatchObject({ recipients: 3, sent: 3 });
      const runs = await checked<{
        by: string;
        runs: { occurrence: string; sent: number; progress: { queued: number; settledAt: string | null } }[];
      }>('GET', '/campaigns/{id}/runs', `/campaigns/${id}/runs`);
      expect(runs.body.by).toBe('occurrence');
      expect(runs.body.runs).toHaveLength(1);
      expect(runs.body.runs[0]).toMatchObject({ sent: 3, progress: { queued: 0 } });
      expect(runs.body.runs[0]?.progress.settledAt).not.toBeNull();
      const timeline = await checked<{
        timezone: string;
        buckets: { unit: string; sent: number }[];
        totals: { sent: number };
      }>('GET', '/campaigns/{id}/timeline', `/campaigns/${id}/timeline`);
      expect(timeline.body.totals.sent).toBe(3);
      expect(timeline.body.buckets[0]).toMatchObject({ unit: 'hour', sent: 3 });
      const byBrowser = await checked<{ browsers: { browser: string; target: string; sent: number }[] }>(
        'GET',
        '/campaigns/{id}/browsers',
        `/campaigns/${id}/browsers`,
      );
      // The loopback push service is no known one: browsers without a user agent are "other".
      expect(byBrowser.body.browsers).toEqual([
        expect.objectContaining({ browser: 'other', target: 'web-push', sent: 2, users: 2 }),
        expect.objectContaining({ browser: 'firefox', target: 'web-push', sent: 1, users: 1 }),
      ]);

      // A server-side event, a browser removed, the segment freed and deleted.
      const tracked = await checked<{ name: string }>('POST', '/events', '/events', {
        body: { userId: 'ada', name: 'Charged', properties: { amount: 20 } },
      });
      expect(tracked.status).toBe(202);
      const removed = await checked(
        'DELETE',
        '/profiles/{userId}/subscriptions/{subscriptionId}',
        `/profiles/ada/subscriptions/${encodeURIComponent(browsers.body[0]?.id as string)}`,
      );
      expect(removed.status).toBe(204);
      expect(await herald.subscriptions.list('ada')).toEqual([]);
      // Sent and done: a completed campaign cannot be stopped.
      expect((await herald.campaigns.get(id)).status).toBe('completed');
      await expectStatus(await checked('POST', '/campaigns/{id}/stop', `/campaigns/${id}/stop`), 409);
      const deleted = await checked('DELETE', '/segments/{id}', `/segments/${segmentId}`);
      expect(deleted.status).toBe(204);
    });

    it('pages the campaign list by cursor, newest first, without repeats', async () => {
      const names: string[] = [];
      for (let i = 0; i < 5; i++) {
        await clock.advance(1000);
        const created = await checked<Campaign>('POST', '/campaigns', '/campaigns', {
          body: campaignBody({ name: `Paged ${i}`, labels: ['paged'] }),
        });
        names.unshift(created.body.name);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/campaigns?label=paged&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page: Answer<{ items: Campaign[]; nextCursor: string | null }> = await checked(
          'GET',
          '/campaigns',
          query,
        );
        seen.push(...page.body.items.map((c) => c.name));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(names);
    });

    it('answers every refusal with its status and one error shape', async () => {
      const draft = (await call<Campaign>('POST', '/campaigns', { body: campaignBody({ name: 'Errors' }) }))
        .body;
      const expectError = async (answer: Answer, status: number, code: string) => {
        expect(answer.status, JSON.stringify(answer.body)).toBe(status);
        expect((answer.body as { error: { code: string } }).error.code).toBe(code);
      };

      // 400: validation with field paths.
      const invalid = await checked<{ error: { issues: Array<{ path: string }> } }>(
        'POST',
        '/campaigns',
        '/campaigns',
        {
          body: campaignBody({ what: { title: '', deeplink: 'https://example.com/' } }),
        },
      );
      await expectError(invalid, 400, 'validation_failed');
      expect(invalid.body.error.issues.map((issue) => issue.path)).toContain('what.title');
      await expectError(
        await checked('GET', '/campaigns', '/campaigns?status=bogus'),
        400,
        'validation_failed',
      );
      await expectError(
        await checked('GET', '/campaigns', '/campaigns?cursor=nonsense'),
        400,
        'validation_failed',
      );
      await expectError(await call('POST', '/campaigns', { raw: '{"name":' }), 400, 'malformed_json');
      // 401: no token, a wrong token, another scheme.
      for (const authorization of ['', 'Bearer wrong-token-of-some-length', `Basic ${ADMIN_TOKEN}`]) {
        const refused = await checked('GET', '/campaigns', '/campaigns', { headers: { authorization } });
        await expectError(refused, 401, 'unauthenticated');
        expect(refused.headers.get('www-authenticate')).toBe('Bearer');
      }
      // 404: a campaign, a profile, a route.
      await expectError(await checked('GET', '/campaigns/{id}', '/campaigns/cmp_missing'), 404, 'not_found');
      await expectError(await checked('GET', '/profiles/{userId}', '/profiles/nobody'), 404, 'not_found');
      await expectError(await call('GET', '/nothing-here'), 404, 'route_not_found');
      // 405 with Allow.
      const wrongMethod = await call('DELETE', '/campaigns');
      await expectError(wrongMethod, 405, 'method_not_allowed');
      expect(wrongMethod.headers.get('allow')).toBe('POST, GET');
      // 409: a lifecycle transition the engine refuses.
      await expectError(
        await checked('POST', '/campaigns/{id}/resume', `/campaigns/${draft.id}/resume`),
        409,
        'conflict',
      );
      // 412: If-Match names a version the campaign has left.
      const stale = await checked('POST', '/campaigns/{id}/schedule', `/campaigns/${draft.id}/schedule`, {
        headers: { 'if-match': '"7"' },
      });
      await expectError(stale, 412, 'version_mismatch');
      expect(stale.headers.get('etag')).toBe('"0"');
      expect((await herald.campaigns.get(draft.id)).status).toBe('draft');
      // 413 and 415.
      const huge = { ...campaignBody(), metadata: { blob: 'x'.repeat(70 * 1024) } };
      await expectError(await call('POST', '/campaigns', { body: huge }), 413, 'body_too_large');
      await expectError(
        await checked('POST', '/campaigns', '/campaigns', {
          raw: 'name=x',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
        415,
        'unsupported_media_type',
      );
      await expectError(
        await checked('POST', '/segments', '/segments', {
          body: { name: 'x', definition: { type: 'all' } },
          headers: { 'content-type': 'text/plain' },
        }),
        415,
        'unsupported_media_type',
      );
      // 409: a segment still used by a scheduled campaign.
      const used = (
        await call<{ id: string }>('POST', '/segments', {
          body: { name: 'Used', definition: { type: 'all' } },
        })
      ).body;
      const user = (
        await call<Campaign>('POST', '/campaigns', {
          body: campaignBody({ name: 'User', who: { segmentId: used.id } }),
        })
      ).body;
      await call('POST', `/campaigns/${user.id}/schedule`);
      await expectError(await checked('DELETE', '/segments/{id}', `/segments/${used.id}`), 409, 'conflict');
      const stopped = await checked<Campaign>('POST', '/campaigns/{id}/stop', `/campaigns/${user.id}/stop`);
      expect(stopped.body.status).toBe('stopped');
      // No CORS headers when none are configured.
      const noCors = await call('GET', '/campaigns', { headers: { origin: 'https://evil.example' } });
      expect(noCors.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('refuses with 403 what a host authoriser forbids, seeing the framework request', async () => {
      const seenRaw: unknown[] = [];
      const readOnly: Authorize = ({ raw, operation }) => {
        seenRaw.push(raw);
        return operation.changes
          ? { allow: false, reason: 'forbidden', message: 'read-only key' }
          : { allow: true, principal: 'viewer' };
      };
      const other = await listen(heraldAdminHttp(herald, { authorize: readOnly }));
      expect((await call('GET', '/campaigns', { base: other })).status).toBe(200);
      const refused = await call<{ error: { code: string; message: string } }>('POST', '/campaigns', {
        base: other,
        body: campaignBody({ name: 'Forbidden' }),
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toEqual({ code: 'forbidden', message: 'read-only key' });
      checker.validate('/campaigns', 'POST', refused);
      expect((await herald.campaigns.list()).some((c) => c.name === 'Forbidden')).toBe(false);
      expect(seenRaw[0]).toHaveProperty('headers');
      expect((seenRaw[0] as { url: string }).url).toBe('/admin/api/campaigns');
    });

    it('creates once when a retry reaches another process: 409 there, never a second campaign', async () => {
      // A second handler on the same engine shares its Counters but not the first one's memory: another process.
      const other = await listen(
        heraldAdminHttp(herald, { authorize: () => ({ allow: true, principal: 'admin-token' }) }),
      );
      const body = campaignBody({ name: 'Once across processes' });
      const headers = { 'idempotency-key': `cross-${kind}` };
      expect((await call('POST', '/campaigns', { body, headers })).status).toBe(201);
      const elsewhere = await call<{ error: { code: string } }>('POST', '/campaigns', {
        base: other,
        body,
        headers,
      });
      expect(elsewhere.status).toBe(409);
      expect(elsewhere.body.error.code).toBe('idempotency_key_in_use');
      checker.validate('/campaigns', 'POST', elsewhere);
      expect((await herald.campaigns.list()).filter((c) => c.name === 'Once across processes')).toHaveLength(
        1,
      );
    });

    it('edits, duplicates, archives and deletes campaigns, each change in a history naming the principal', async () => {
      const created = await checked<Campaign>('POST', '/campaigns', '/campaigns', {
        body: campaignBody({
          name: 'Editable',
          when: { schedule: { type: 'once', at: '2026-04-01T10:00:00Z' } },
        }),
      });
      const id = created.body.id;
      const etag = created.headers.get('etag')!;
      const patched = await checked<Campaign>('PATCH', '/campaigns/{id}', `/campaigns/${id}`, {
        body: { name: 'Edited' },
        headers: { 'if-match': etag },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.name).toBe('Edited');
      expect(patched.headers.get('etag')).toBe(`"${patched.body.version}"`);
      // A second editor still holding the first ETag: refused in the same write, with the current ETag.
      const stale = await checked<{ error: { code: string } }>(
        'PATCH',
        '/campaigns/{id}',
        `/campaigns/${id}`,
        {
          body: { name: 'Overwritten' },
          headers: { 'if-match': etag },
        },
      );
      expect(stale.status).toBe(412);
      expect(stale.body.error.code).toBe('version_mismatch');
      expect(stale.headers.get('etag')).toBe(`"${patched.body.version}"`);
      expectStatus(
        await checked('PATCH', '/campaigns/{id}', `/campaigns/${id}`, { body: { nmae: 'x' } }),
        400,
      );

      await checked('POST', '/campaigns/{id}/schedule', `/campaigns/${id}/schedule`);
      const moved = await checked<Campaign>('PATCH', '/campaigns/{id}', `/campaigns/${id}`, {
        body: { when: { schedule: { type: 'once', at: '2026-04-02T10:00:00Z' } } },
      });
      expect(moved.body.nextRunAt).toBe('2026-04-02T10:00:00.000Z');
      const retyped = await checked<{ error: { code: string } }>(
        'PATCH',
        '/campaigns/{id}',
        `/campaigns/${id}`,
        {
          body: { when: { schedule: { type: 'onEvent', event: { name: 'signup' } } } },
        },
      );
      expect(retyped.status).toBe(409);

      const copy = await checked<Campaign>(
        'POST',
        '/campaigns/{id}/duplicate',
        `/campaigns/${id}/duplicate`,
        {
          body: {},
        },
      );
      expect(copy.status).toBe(201);
      expect(copy.body).toMatchObject({ name: 'Copy of Edited', status: 'draft', nextRunAt: null });
      await expectStatus(await checked('DELETE', '/campaigns/{id}', `/campaigns/${id}`), 409);
      const deleted = await checked('DELETE', '/campaigns/{id}', `/campaigns/${copy.body.id}`);
      expect(deleted.status).toBe(204);
      await expectStatus(await checked('GET', '/campaigns/{id}', `/campaigns/${copy.body.id}`), 404);

      await expectStatus(await checked('POST', '/campaigns/{id}/archive', `/campaigns/${id}/archive`), 409);
      await checked('POST', '/campaigns/{id}/stop', `/campaigns/${id}/stop`);
      const archived = await checked<Campaign>('POST', '/campaigns/{id}/archive', `/campaigns/${id}/archive`);
      expect(archived.status).toBe(200);
      expect(archived.body.archivedAt).toBeTruthy();
      const listed = await checked<{ items: Campaign[] }>('GET', '/campaigns', '/campaigns?limit=100');
      expect(listed.body.items.map((c) => c.id)).not.toContain(id);
      const all = await checked<{ items: Campaign[] }>(
        'GET',
        '/campaigns',
        '/campaigns?includeArchived=true&limit=100',
      );
      expect(all.body.items.map((c) => c.id)).toContain(id);

      const history = await checked<{ items: { action: string; actor: string }[] }>(
        'GET',
        '/campaigns/{id}/history',
        `/campaigns/${id}/history`,
      );
      expect(history.body.items.map((entry) => entry.action)).toEqual([
        'created',
        'updated',
        'scheduled',
        'updated',
        'duplicated',
        'stopped',
        'archived',
      ]);
      expect(new Set(history.body.items.map((entry) => entry.actor))).toEqual(new Set(['admin-token']));
    });

    it('has validated the success answer of every route in the table against the document', () => {
      const missing = [
        ...adminRoutes.map((r) => `${r.method} ${r.path} ${r.response.status}`),
        'GET /openapi.json 200',
      ].filter((entry) => !checker.checked.has(entry));
      expect(missing).toEqual([]);
    });
  });
}
