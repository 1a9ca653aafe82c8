import {
  createHerald,
  generateVapidKeys,
  type Herald,
  memoryQueue,
  silentLogger,
  ValidationError,
  webPush,
} from '@herald/core';
import { createTestPushService, fakeClock, type TestPushService } from '@herald/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresCounters, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, tablesSnapshot } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * Text Postgres cannot hold (U+0000, a lone UTF-16 surrogate) on the real
 * server: refused at every entry point with the field's path, with nothing
 * stored, where it used to fail the statement (a 500 over HTTP) or, for a
 * `text` column, be stored silently as U+FFFD. Text Herald is handed rather
 * than asked to store (a push service's reason) is kept, made storable.
 */
describe('text Postgres cannot store', () => {
  let backend: Backend;
  let service: TestPushService;
  let herald: Herald;
  const clock = fakeClock('2026-04-01T08:00:00Z');
  const campaign = (what: Record<string, unknown>, name = 'Spring') => ({
    name,
    when: { schedule: { type: 'once' as const, at: '2026-04-02T08:00:00Z' } },
    who: { segment: { type: 'all' as const } },
    what: { title: 'Hello', deeplink: 'https://shop.example.com/', ...what },
  });

  beforeAll(async () => {
    backend = await openBackend('postgres', 'unstorable');
    service = createTestPushService();
    const { url } = await service.start();
    const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
    service.expectVapidPublicKey(vapid.publicKey);
    herald = createHerald({
      storage: postgresStorage({ client: backend.client, schema: backend.schema }),
      counters: postgresCounters({ client: backend.client, schema: backend.schema }),
      queue: memoryQueue(),
      providers: { webpush: webPush({ vapid }) },
      clock,
      allowEndpoint: [url],
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await herald?.stop();
    await service?.stop();
    await backend?.close();
  });

  const snapshot = () => tablesSnapshot(backend, []);

  const entryPoints: Array<{ what: string; path: string; call: (bad: string) => Promise<unknown> }> = [
    {
      what: 'event user id',
      path: 'userId',
      call: (bad) => herald.events.track({ userId: bad, name: 'visit' }),
    },
    { what: 'event name', path: 'name', call: (bad) => herald.events.track({ userId: 'ada', name: bad }) },
    {
      what: 'event property, nested',
      path: 'properties.cart.items[0]',
      call: (bad) =>
        herald.events.track({ userId: 'ada', name: 'cart', properties: { cart: { items: [bad] } } }),
    },
    {
      what: 'profile property',
      path: 'properties.city',
      call: (bad) => herald.profiles.upsert({ userId: 'ada', properties: { city: bad } }),
    },
    {
      what: 'subscription user id',
      path: 'userId',
      call: (bad) => herald.subscriptions.add({ userId: bad, subscription: service.createSubscription() }),
    },
    { what: 'campaign name', path: 'name', call: (bad) => herald.campaigns.create(campaign({}, bad)) },
    {
      what: 'campaign title',
      path: 'what.title',
      call: (bad) => herald.campaigns.create(campaign({ title: bad })),
    },
    {
      what: 'campaign body',
      path: 'what.body',
      call: (bad) => herald.campaigns.create(campaign({ body: bad })),
    },
    {
      what: 'segment name',
      path: 'name',
      call: (bad) => herald.segments.create({ name: bad, definition: { type: 'all' } }),
    },
  ];
  const badTexts = [
    { text: 'nul\u0000here', message: 'NUL character' },
    { text: '\ud800', message: 'lone surrogate' },
    { text: 'cut emoji \ud83d', message: 'lone surrogate' },
    { text: 'a\udfffb', message: 'lone surrogate' },
  ];

  it.each(entryPoints)('$what: refused with its path, and nothing is stored', async ({ path, call }) => {
    for (const { text, message } of badTexts) {
      const before = await snapshot();
      const error = await call(text).then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(error, JSON.stringify(text)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues).toEqual([
        { path, message: expect.stringContaining(message) },
      ]);
      expect(await snapshot()).toBe(before);
    }
  });

  it('a property key Postgres cannot store is refused too, named in the path', async () => {
    const before = await snapshot();
    await expect(
      herald.profiles.upsert({ userId: 'ada', properties: { prefs: { 'k\ud800': 1 } } }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      issues: [
        { path: 'properties.prefs.k\ud800', message: expect.stringContaining('must be valid Unicode') },
      ],
    });
    expect(await snapshot()).toBe(before);
  });

  it('text with characters beyond U+FFFF (surrogate pairs) is stored and read back exactly', async () => {
    const text = 'Grüße 😀 𝄞 🇫🇷';
    await herald.profiles.upsert({ userId: `user ${text}`, properties: { [`k ${text}`]: text } });
    expect((await herald.profiles.get(`user ${text}`))?.properties).toEqual({ [`k ${text}`]: text });
    const created = await herald.campaigns.create(campaign({ title: text }, text));
    expect(await herald.campaigns.get(created.id)).toMatchObject({ name: text, what: { title: text } });
    // A copy's name is cut at the 200-unit limit, here in the middle of a pair: the whole pair goes.
    const long = await herald.campaigns.create(campaign({}, `${'x'.repeat(191)}😀😀`));
    const copy = await herald.campaigns.duplicate(long.id);
    expect(copy.name).toBe(`Copy of ${'x'.repeat(191)}`);
  });

  it("a push service's reason Postgres cannot store is kept, made storable, and the run completes", async () => {
    const subscription = service.createSubscription();
    await herald.subscriptions.add({ userId: 'reason-user', subscription });
    // A NUL, as a misbehaving service may send, and a pair at the reason's 500-unit limit (units 499
    // and 500), which the cut must not halve.
    service.respondWith(subscription.endpoint, {
      status: 400,
      body: `bad\u0000request ${'x'.repeat(487)}😀 tail`,
    });
    const created = await herald.campaigns.create({
      ...campaign({}, 'Reasons'),
      who: { segment: { type: 'property', condition: { op: 'exists', property: 'reasonUser' } } },
    });
    await herald.profiles.upsert({ userId: 'reason-user', properties: { reasonUser: true } });
    await herald.campaigns.schedule(created.id);
    await clock.set('2026-04-02T08:00:00Z');
    await herald.tick();
    expect(await herald.campaigns.get(created.id)).toMatchObject({ status: 'completed' });
    expect(await herald.campaigns.stats(created.id)).toMatchObject({ recipients: 1, failed: 1, pending: 0 });
    const { rows } = await backend.sql.query<{ reason: string }>(
      `SELECT reason FROM "${backend.schema}".deliveries WHERE campaign_id = $1`,
      [created.id],
    );
    expect(rows).toHaveLength(1);
    const reason = rows[0]?.reason ?? '';
    expect(reason.startsWith('400 Bad Request: bad\uFFFDrequest xxx')).toBe(true);
    expect(reason.endsWith('x…')).toBe(true);
  });
});
