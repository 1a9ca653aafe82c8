import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createHerald,
  generateVapidKeys,
  type Herald,
  heraldHttp,
  memoryQueue,
  memoryStorage,
  silentLogger,
  toNodeListener,
  webPush,
} from '@herald/core';
import { createDevPushService, type DevPushService } from '@herald/core/dev';
import express from 'express';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';

/** What Passport or express-session leave on a request; Passport's own typings declare `req.user` the same way. */
type SignedInRequest = express.Request & { user?: { id: string } };

/**
 * resolveUser reads the host framework's own request (`request.raw`), typed
 * by heraldHttp's type parameter: a middleware's `req.user` is the
 * subscriber's id, with no anonymous fallback.
 */
describe('resolveUser through a real Express app', () => {
  let push: DevPushService;
  let herald: Herald;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    push = createDevPushService();
    await push.start();
    herald = createHerald({
      storage: memoryStorage(),
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      allowEndpoint: [push.url],
      logger: silentLogger,
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
    });
    const app = express();
    app.use(express.json());
    // Stands in for passport.session(): a signed-in user named by a header the test sets.
    app.use((req: SignedInRequest, _res, next) => {
      const user = req.header('x-test-user');
      if (user) req.user = { id: user };
      next();
    });
    const handler = heraldHttp<SignedInRequest>(herald, {
      resolveUser: (request) => {
        expectTypeOf(request.raw).toEqualTypeOf<SignedInRequest | undefined>();
        return request.raw?.user?.id ?? null;
      },
    });
    app.use('/herald', toNodeListener(handler));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await herald.stop();
    await push.stop();
  });

  const subscribe = (headers: Record<string, string>) =>
    fetch(`${base}/herald/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ subscription: push.createSubscription(), userId: 'claimed-by-the-browser' }),
    });

  it('stores the subscription under req.user set by a middleware', async () => {
    const response = await subscribe({ 'x-test-user': 'ada' });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ userId: 'ada' });
    expect(await herald.subscriptions.list('ada')).toHaveLength(1);
  });

  it('falls back to an anonymous id without a signed-in user, ignoring the id the browser claims', async () => {
    const response = await subscribe({});
    const body = (await response.json()) as { userId: string };
    expect(response.status).toBe(201);
    expect(body.userId).toMatch(/^anon_/);
    expect(await herald.subscriptions.list('claimed-by-the-browser')).toEqual([]);
  });
});
