import { describe, expect, it } from 'vitest';
import { type HeraldPayload, type HttpOptions, heraldHttp } from '../../src/index.js';
import { httpEngine, loopbackPushService } from './support.js';

/**
 * The endpoints the browser SDK and the service worker call, driven the way
 * they call them: subscriptions, identify, events, and reports whose token
 * must verify and which count once however often they are retried.
 */
describe('HTTP handlers', () => {
  const loopback = loopbackPushService();
  const { service } = loopback;

  async function setup(options: HttpOptions = {}) {
    const { clock, storage, herald, handle } = httpEngine({
      allowEndpoint: loopback.url,
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      http: options,
    });
    const call = (method: string, path: string, body?: unknown) =>
      handle({ method, path, headers: {}, body });
    return { clock, herald, storage, call };
  }

  it('stores a subscription for the signed-in user, with the browser time zone, and replaces an old endpoint', async () => {
    const { herald, call } = await setup({ resolveUser: () => 'signed-in' });
    const first = service.createSubscription();
    const created = await call('POST', '/subscriptions', {
      subscription: first,
      userId: 'claimed',
      timezone: 'Asia/Tokyo',
    });
    expect(created).toMatchObject({ status: 201, body: { userId: 'signed-in' } });
    expect((await herald.profiles.get('signed-in'))?.timezone).toBe('Asia/Tokyo');

    const second = service.createSubscription();
    await call('POST', '/subscriptions', { subscription: second, oldEndpoint: first.endpoint });
    const stored = await herald.subscriptions.list('signed-in');
    expect(stored.map((s) => (s.target === 'webpush' ? s.endpoint : null))).toEqual([second.endpoint]);
  });

  it('keeps a browser-claimed user id only when told to trust it; otherwise the subscriber is anonymous', async () => {
    const subscription = service.createSubscription();
    const untrusted = await setup();
    const anonymous = await untrusted.call('POST', '/subscriptions', { subscription, userId: 'admin' });
    expect((anonymous.body as { userId: string }).userId).toMatch(/^anon_wp_/);
    expect(await untrusted.herald.subscriptions.list('admin')).toEqual([]);

    const trusted = await setup({ trustClientUserId: true });
    const named = await trusted.call('POST', '/subscriptions', { subscription, userId: 'reader-7' });
    expect((named.body as { userId: string }).userId).toBe('reader-7');
  });

  it('a rotated subscription posted without identity inherits the owner and zone of its old endpoint', async () => {
    let session: string | null = 'ada';
    const { herald, call } = await setup({ resolveUser: () => session });
    const old = service.createSubscription();
    await call('POST', '/subscriptions', { subscription: old, timezone: 'Asia/Kolkata' });
    // The service worker's pushsubscriptionchange post carries no session cookie or bearer token.
    session = null;
    const rotated = service.createSubscription();
    const answer = await call('POST', '/subscriptions', { subscription: rotated, oldEndpoint: old.endpoint });
    expect(answer).toMatchObject({ status: 201, body: { userId: 'ada' } });
    const stored = await herald.subscriptions.list('ada');
    expect(stored).toMatchObject([
      { target: 'webpush', endpoint: rotated.endpoint, timezone: 'Asia/Kolkata' },
    ]);
    expect((await herald.profiles.get('ada'))?.timezone).toBe('Asia/Kolkata');

    // An old endpoint nobody stored gives nothing to inherit: the subscriber is anonymous.
    const stranger = service.createSubscription();
    const unknown = await call('POST', '/subscriptions', {
      subscription: stranger,
      oldEndpoint: 'https://push.example.test/never-stored',
    });
    expect((unknown.body as { userId: string }).userId).toMatch(/^anon_wp_/);
  });

  it('identify says whose the subscription is: kept by its owner when the host cannot vouch for the browser', async () => {
    const { herald, call } = await setup();
    const subscription = service.createSubscription();
    const created = await call('POST', '/subscriptions', { subscription });
    const owner = (created.body as { userId: string }).userId;
    expect(await call('POST', '/identify', { endpoint: subscription.endpoint, userId: 'user_99' })).toEqual({
      status: 200,
      body: { userId: owner, changed: false },
    });
    expect(await herald.subscriptions.list('user_99')).toEqual([]);

    const signedIn = heraldHttp(herald, { resolveUser: () => 'user_99' });
    expect(
      await signedIn({
        method: 'POST',
        path: '/identify',
        headers: {},
        body: { endpoint: subscription.endpoint, userId: 'user_99' },
      }),
    ).toEqual({ status: 200, body: { userId: 'user_99', changed: true } });
  });

  it('refuses a bad subscription with the fields by path, and an endpoint outside the push services', async () => {
    const { herald, call } = await setup({ trustClientUserId: true });
    const bad = await call('POST', '/subscriptions', {
      subscription: { endpoint: 'nope', keys: {} },
      userId: 'u',
    });
    expect(bad.status).toBe(400);
    const issues = (bad.body as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path);
    expect(issues).toEqual(
      expect.arrayContaining(['subscription.endpoint', 'subscription.keys.p256dh', 'subscription.keys.auth']),
    );
    const evil = { ...service.createSubscription(), endpoint: 'https://10.0.0.1/push' };
    const refused = await call('POST', '/subscriptions', { subscription: evil, userId: 'u' });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'endpoint_not_allowed' } } });
    expect(await herald.subscriptions.list('u')).toEqual([]);
  });

  it('identify re-binds the subscription; events are tracked for the subscription user; unsubscribe removes it', async () => {
    const { herald, storage, call } = await setup({ trustClientUserId: true });
    const subscription = service.createSubscription();
    await call('POST', '/subscriptions', { subscription });
    expect(await call('POST', '/identify', { endpoint: subscription.endpoint, userId: 'logged-in' })).toEqual(
      { status: 200, body: { userId: 'logged-in', changed: true } },
    );
    expect(await herald.subscriptions.list('logged-in')).toHaveLength(1);

    expect(
      await call('POST', '/events', {
        endpoint: subscription.endpoint,
        name: 'Viewed',
        properties: { sku: 'a1' },
      }),
    ).toEqual({ status: 202 });
    const events = await storage.listEvents({ userId: 'logged-in' as never });
    expect(events).toMatchObject([{ name: 'Viewed', properties: { sku: 'a1' } }]);

    expect(await call('POST', '/events', { name: 'Viewed' })).toMatchObject({ status: 400 });
    expect(await call('DELETE', '/subscriptions', { endpoint: subscription.endpoint })).toEqual({
      status: 204,
    });
    expect(await herald.subscriptions.list('logged-in')).toEqual([]);
  });

  it('records viewed / clicked / closed once per report id, refuses forged and expired tokens', async () => {
    const { clock, herald, call } = await setup({ trustClientUserId: true });
    const subscription = service.createSubscription();
    await call('POST', '/subscriptions', { subscription, userId: 'ada' });
    const campaign = await herald.campaigns.create({
      name: 'Reports',
      when: { schedule: { type: 'once', at: '2026-04-01T08:00:00Z' } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hi', deeplink: 'https://example.com/', actions: [{ id: 'buy', title: 'Buy' }] },
    });
    await herald.campaigns.schedule(campaign.id);
    await herald.tick();
    const message = service.receivedFor(subscription.endpoint).at(-1);
    const payload = JSON.parse(message?.plaintext as string) as HeraldPayload;
    const token = payload.herald.token;

    const report = (kind: string, reportId: string, extra: object = {}) =>
      call('POST', '/reports', { kind, token, reportId, ...extra });
    expect(await report('viewed', 'report-0001')).toEqual({ status: 204 });
    expect(await report('viewed', 'report-0001')).toEqual({ status: 204 });
    expect(await report('clicked', 'report-0002', { action: 'buy' })).toEqual({ status: 204 });
    expect(await report('clicked', 'report-0003')).toEqual({ status: 204 });
    expect(await report('closed', 'report-0004')).toEqual({ status: 204 });

    const forged = `${token.split('.')[0]}.${'A'.repeat(43)}`;
    expect(
      await call('POST', '/reports', { kind: 'viewed', token: forged, reportId: 'report-0005' }),
    ).toMatchObject({
      status: 403,
    });
    expect(await call('POST', '/reports', { kind: 'seen', token, reportId: 'report-0006' })).toMatchObject({
      status: 400,
    });

    const stats = await herald.campaigns.stats(campaign.id);
    expect(stats).toMatchObject({ sent: 1, viewed: 1, clicked: 2, closed: 1, clickedByAction: { buy: 1 } });

    await clock.advance(61 * 24 * 3600_000);
    expect(await report('viewed', 'report-0007')).toMatchObject({ status: 403 });
  });

  it('answers 404 for an unknown route', async () => {
    const { call } = await setup();
    expect(await call('GET', '/nothing')).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
  });
});
