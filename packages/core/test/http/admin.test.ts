import { describe, expect, it } from 'vitest';
import { adminRoutes } from '../../src/http/admin/route-table.js';
import {
  type AuditEntry,
  bearerToken,
  ConfigError,
  createHerald,
  generateVapidKeys,
  type HttpRequest,
  heraldAdminHttp,
  type LogFields,
  type Logger,
  memoryQueue,
  memoryStorage,
  webPush,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';

const TOKEN = 'unit-admin-token-0123456789';

function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields: LogFields | undefined }> = [];
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function engine(logger?: Logger) {
  return createHerald({
    storage: memoryStorage(),
    queue: memoryQueue(),
    providers: { webpush: webPush({ vapid: { subject: 'mailto:a@example.com', ...generateVapidKeys() } }) },
    clock: fakeClock('2026-03-02T09:00:00Z'),
    ...(logger ? { logger } : {}),
  });
}

const request = (method: string, path: string, extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method,
  path,
  headers: {
    authorization: `Bearer ${TOKEN}`,
    ...(extra.body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...extra.headers,
  },
  body: extra.body,
  query: extra.query ?? {},
  ...(extra.raw !== undefined ? { raw: extra.raw } : {}),
});

const campaign = {
  name: 'Unit',
  when: { schedule: { type: 'once', at: '2026-03-02T10:00:00Z' } },
  who: { segment: { type: 'all' } },
  what: { title: 'Hi', deeplink: 'https://example.com/' },
};

describe('heraldAdminHttp', () => {
  it('refuses to start without an authorize function', () => {
    const herald = engine();
    expect(() => heraldAdminHttp(herald, {} as never)).toThrow(ConfigError);
    expect(() => bearerToken('short')).toThrow(ConfigError);
  });

  it('bearerToken allows the exact token only, whatever the length of a wrong one', async () => {
    const authorize = bearerToken(TOKEN, { principal: 'ops' });
    const operation = { id: 'listCampaigns', method: 'GET', path: '/campaigns', changes: false };
    const decide = (authorization: string | undefined) =>
      authorize({
        request: { method: 'GET', path: '/', headers: { authorization }, body: undefined },
        raw: undefined,
        operation,
      });
    expect(await decide(`Bearer ${TOKEN}`)).toEqual({ allow: true, principal: 'ops' });
    for (const wrong of [
      undefined,
      '',
      'Bearer ',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      expect(await decide(wrong)).toMatchObject({ allow: false, reason: 'unauthenticated' });
    }
  });

  it('records every change with the principal, route and ids, never the body or the token', async () => {
    const { logger, lines } = recordingLogger();
    const herald = engine(logger);
    const audited: AuditEntry[] = [];
    const handle = heraldAdminHttp(herald, {
      authorize: bearerToken(TOKEN, { principal: 'alice@example.com' }),
      audit: (entry) => {
        audited.push(entry);
      },
    });
    const created = await handle(
      request('POST', '/campaigns', { body: { ...campaign, metadata: { secret: 's3cr3t' } } }),
    );
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    await handle(request('POST', `/campaigns/${id}/schedule`));
    await handle(request('GET', `/campaigns/${id}`));

    expect(
      audited.map((entry) => [entry.principal, entry.operation, entry.ids.campaignId ?? entry.ids.id]),
    ).toEqual([
      ['alice@example.com', 'createCampaign', id],
      ['alice@example.com', 'scheduleCampaign', id],
    ]);
    expect(audited[1]).toMatchObject({
      route: '/campaigns/{id}/schedule',
      path: `/campaigns/${id}/schedule`,
      status: 200,
    });
    expect(audited[1]?.at.toISOString()).toBe('2026-03-02T09:00:00.000Z');
    const changes = lines.filter((line) => line.message === 'herald admin change');
    expect(changes).toHaveLength(2);
    expect(changes[0]?.fields).toMatchObject({
      principal: 'alice@example.com',
      operation: 'createCampaign',
      campaignId: id,
    });
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('s3cr3t');
  });

  it('never logs a token, right or nearly right, whatever the request ends in (debug level included)', async () => {
    const { logger, lines } = recordingLogger();
    const herald = engine(logger);
    const handle = heraldAdminHttp(herald, { authorize: bearerToken(TOKEN) });
    const near = `${TOKEN.slice(0, -1)}X`;
    const answers = [
      await handle(request('POST', '/campaigns', { body: campaign })),
      await handle(request('POST', '/campaigns', { body: { ...campaign, name: 42 } })),
      await handle(request('GET', '/campaigns/cmp_missing')),
      await handle(
        request('POST', '/campaigns', { body: campaign, headers: { authorization: `Bearer ${near}` } }),
      ),
      await handle(request('GET', '/campaigns', { headers: { authorization: `Basic ${TOKEN}` } })),
      await handle(
        request('POST', '/campaigns', { body: campaign, headers: { 'content-type': 'text/xml' } }),
      ),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([201, 400, 404, 401, 401, 415]);
    expect(lines.length).toBeGreaterThan(0);
    const everything = JSON.stringify([lines, answers]);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(near);
    expect(everything).not.toContain(TOKEN.slice(0, 12));
  });

  it('hands the framework request to authorize as raw, with Herald’s parsed one', async () => {
    const herald = engine();
    const seen: unknown[] = [];
    const handle = heraldAdminHttp<{ user?: { name: string } }>(herald, {
      authorize: ({ raw, request: parsed }) => {
        seen.push(parsed.path);
        return raw?.user
          ? { allow: true, principal: raw.user.name }
          : { allow: false, reason: 'unauthenticated' };
      },
    });
    expect((await handle({ ...request('GET', '/campaigns'), raw: {} })).status).toBe(401);
    const allowed = await handle({ ...request('GET', '/campaigns'), raw: { user: { name: 'grace' } } });
    expect(allowed.status).toBe(200);
    expect(seen).toEqual(['/campaigns', '/campaigns']);
  });

  it('sends CORS headers only to configured origins, and answers their preflight', async () => {
    const herald = engine();
    const handle = heraldAdminHttp(herald, {
      authorize: bearerToken(TOKEN),
      cors: { origins: ['https://dashboard.example.com'] },
    });
    const allowed = await handle(
      request('GET', '/campaigns', { headers: { origin: 'https://dashboard.example.com' } }),
    );
    expect(allowed.headers?.['access-control-allow-origin']).toBe('https://dashboard.example.com');
    const other = await handle(
      request('GET', '/campaigns', { headers: { origin: 'https://evil.example.com' } }),
    );
    expect(other.headers?.['access-control-allow-origin']).toBeUndefined();
    const preflight = await handle({
      method: 'OPTIONS',
      path: '/campaigns/abc/pause',
      headers: { origin: 'https://dashboard.example.com' },
      body: undefined,
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers?.['access-control-allow-headers']).toContain('if-match');
    expect(preflight.headers?.['access-control-allow-methods']).toBe('POST');
  });

  it('can put the OpenAPI document behind authorize', async () => {
    const handle = heraldAdminHttp(engine(), { authorize: bearerToken(TOKEN), openapi: 'protected' });
    expect(
      (await handle({ method: 'GET', path: '/openapi.json', headers: {}, body: undefined })).status,
    ).toBe(401);
    expect((await handle(request('GET', '/openapi.json'))).status).toBe(200);
  });

  it('documents request examples that its own validation accepts', () => {
    for (const route of adminRoutes) {
      for (const [name, example] of Object.entries(route.examples ?? {})) {
        const parsed = route.body?.safeParse(example.value);
        expect(
          parsed?.success,
          `${route.operationId} example ${name}: ${JSON.stringify(parsed?.error?.issues)}`,
        ).toBe(true);
      }
    }
  });

  it('has one entry per operation, with unique operation ids and (method, path) pairs', () => {
    const ids = adminRoutes.map((route) => route.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const keys = adminRoutes.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
