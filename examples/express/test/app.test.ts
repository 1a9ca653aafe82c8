import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createHerald, generateVapidKeys, memoryQueue, memoryStorage, webPush } from '@herald/core';
import { createTestPushService, type TestPushService } from '@herald/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { runDemoCampaign } from '../src/demo.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

describe('the example app', () => {
  let server: Server;
  let base: string;
  let pushService: TestPushService;
  let herald: ReturnType<typeof createHerald>;

  beforeAll(async () => {
    pushService = createTestPushService();
    const { url } = await pushService.start();
    const vapid = { subject: 'mailto:demo@example.com', ...generateVapidKeys() };
    herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: { webpush: webPush({ vapid }) },
      allowEndpoint: [url],
    });
    const app = createApp({
      herald,
      adminToken: ADMIN_TOKEN,
      vapidPublicKey: vapid.publicKey,
      publicDir: fileURLToPath(new URL('../public', import.meta.url)),
      http: { trustClientUserId: true },
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await herald.stop();
    await pushService.stop();
  });

  const campaign = {
    name: 'Hello',
    when: { schedule: { type: 'once', at: '2026-01-01T00:00:00Z' } },
    who: { segment: { type: 'all' } },
    what: { title: 'Hi', deeplink: 'https://example.com/' },
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('refuses the admin API without the right bearer token and changes nothing', async () => {
    expect((await post('/admin/api/campaigns', campaign)).status).toBe(401);
    expect((await post('/admin/api/campaigns', campaign, { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    expect(
      (await post('/admin/api/campaigns', campaign, { authorization: `Basic ${ADMIN_TOKEN}` })).status,
    ).toBe(401);
    expect(await herald.campaigns.list()).toEqual([]);
  });

  it('creates a draft and schedules it with the token, and explains bad input by path', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const created = await post('/admin/api/campaigns', campaign, auth);
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; status: string };
    expect(body.status).toBe('draft');
    const scheduled = await post(`/admin/api/campaigns/${body.id}/schedule`, undefined, auth);
    expect(scheduled.status).toBe(200);
    expect(((await scheduled.json()) as { status: string }).status).toBe('scheduled');

    const bad = await post(
      '/admin/api/campaigns',
      { ...campaign, what: { title: '', deeplink: 'javascript:alert(1)' } },
      auth,
    );
    expect(bad.status).toBe(400);
    const error = (await bad.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(error.error.code).toBe('validation_failed');
    expect(error.error.issues.map((issue) => issue.path)).toContain('what.title');

    const stats = await fetch(`${base}/admin/api/campaigns/${body.id}/stats`, { headers: auth });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ campaignId: body.id, sent: 0 });
  });

  it("answers the admin API's errors as Herald maps them: 404 for a missing campaign, 409 for a forbidden transition", async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const missing = await fetch(`${base}/admin/api/campaigns/cmp_00000000000000000000000000000000`, {
      headers: auth,
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');

    const created = (await (await post('/admin/api/campaigns', campaign, auth)).json()) as { id: string };
    expect((await post(`/admin/api/campaigns/${created.id}/stop`, {}, auth)).status).toBe(200);
    const paused = await post(`/admin/api/campaigns/${created.id}/pause`, {}, auth);
    expect(paused.status).toBe(409);
    expect(((await paused.json()) as { error: { code: string } }).error.code).toBe('conflict');
  });

  it('takes a subscription from the page and refuses an endpoint outside the push services', async () => {
    const subscription = pushService.createSubscription();
    const ok = await post('/herald/subscriptions', {
      subscription,
      userId: 'reader-1',
      timezone: 'Europe/Paris',
    });
    expect(ok.status).toBe(201);
    expect(await herald.subscriptions.list('reader-1')).toHaveLength(1);
    expect((await herald.profiles.get('reader-1'))?.timezone).toBe('Europe/Paris');

    const evil = { ...subscription, endpoint: 'https://169.254.169.254/latest/meta-data' };
    const refused = await post('/herald/subscriptions', { subscription: evil, userId: 'reader-2' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('endpoint_not_allowed');
    expect(await herald.subscriptions.list('reader-2')).toEqual([]);
  });

  it('answers hostile bodies on /herald with JSON errors that say what was wrong, storing nothing', async () => {
    const raw = (path: string, body: Uint8Array<ArrayBuffer> | string, type: string) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    const big = JSON.stringify({ userId: 'flood', name: 'x', properties: { pad: 'y'.repeat(200_000) } });
    const tooLarge = await raw('/herald/events', big, 'application/json');
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({
      error: { code: 'body_too_large', message: 'body over the limit of 65536 bytes' },
    });
    const notUtf8 = new Uint8Array(
      Buffer.concat([
        Buffer.from('{"userId":"flood","name":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
    );
    const badBytes = await raw('/herald/events', notUtf8, 'application/json');
    expect(badBytes.status).toBe(400);
    expect(((await badBytes.json()) as { error: { message: string } }).error.message).toBe(
      'body is not valid UTF-8',
    );
    const form = await raw('/herald/events', 'userId=flood&name=x', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    const truncated = await raw('/herald/events', '{"userId":"flood","na', 'application/json');
    expect(truncated.status).toBe(400);
    expect(await herald.profiles.get('flood')).toBeNull();
  });

  it('serves the page, the service worker and the built SDK', async () => {
    for (const path of [
      '/',
      '/app.js',
      '/sw.js',
      '/herald-sw.js',
      '/sdk/index.js',
      '/sdk/prompt.js',
      '/config.json',
    ]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(200);
    }
    expect(await (await fetch(`${base}/herald-sw.js`)).text()).toContain('installHerald');
  });

  it('runs the demo campaign: every simulated subscriber gets a decrypted, verified message', async () => {
    const result = await runDemoCampaign(herald, pushService, 40);
    expect(result).toMatchObject({ delivered: 40, subscribers: 40 });
    expect(await herald.campaigns.stats(result.campaignId)).toMatchObject({ sent: 40, failed: 0 });
  });
});
