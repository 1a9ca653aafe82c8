import { PGlite } from '@electric-sql/pglite';
import { ConfigError, createHerald, generateVapidKeys, webPush } from '@herald/core';
import { createTestPushService, fakeClock, type TestPushService } from '@herald/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// The engine's counters are no part of the public Herald; a test reads them through the module-private registry.
import { internals } from '../../core/src/engine/internals.js';
import { postgresCounters, postgresQueue, postgresStorage, toSqlClient } from '../src/index.js';
import { type Backend, openBackend, testPool } from './helpers.js';

// PGlite boots a WebAssembly Postgres, and the engines below send real encrypted pushes.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const USERS = 40;

describe('caps on shared Postgres storage', () => {
  let backend: Backend;
  /** In-process Postgres, which no other process can open. */
  let embedded: PGlite;
  let service: TestPushService;
  let serviceUrl: string;
  /** One pool per engine, as separate processes would have. */
  const pools: pg.Pool[] = [];
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

  beforeAll(async () => {
    backend = await openBackend('postgres', 'shared_caps');
    pools.push(testPool(4), testPool(4));
    embedded = new PGlite();
    service = createTestPushService();
    serviceUrl = (await service.start()).url;
    service.expectVapidPublicKey(vapid.publicKey);
  });
  afterAll(async () => {
    await service.stop();
    await Promise.all(pools.map((pool) => pool.end()));
    await Promise.all([backend.close(), embedded.close()]);
  });

  it('postgresStorage announces a server as shared and PGlite as not', () => {
    expect(postgresStorage({ client: pools[0]! }).capabilities).toEqual({
      nativeSegments: true,
      shared: true,
    });
    expect(postgresStorage({ client: toSqlClient(pools[0]!) }).capabilities.shared).toBe(true);
    expect(postgresStorage({ client: embedded }).capabilities.shared).toBe(false);
    expect(postgresStorage({ client: toSqlClient(embedded) }).capabilities.shared).toBe(false);
  });

  it('createHerald refuses postgresStorage on a pool without counters, and accepts it on PGlite', async () => {
    const { schema } = backend;
    expect(() =>
      createHerald({
        storage: postgresStorage({ client: pools[0]!, schema }),
        queue: postgresQueue({ client: pools[0]!, schema }),
        providers: { webpush: webPush({ vapid }) },
      }),
    ).toThrow(ConfigError);
    const herald = createHerald({
      storage: postgresStorage({ client: embedded }),
      queue: postgresQueue({ client: embedded }),
      providers: { webpush: webPush({ vapid }) },
    });
    // The default, counters in this process's memory: right when no other process can open the data.
    expect(await internals(herald).counters.get(['k'], new Date('2026-05-01T00:00:00Z'))).toEqual([0]);
    await herald.stop();
  });

  it('two engines on one database with postgresCounters: perDay 1 holds across them', async () => {
    const { schema } = backend;
    const clock = fakeClock('2026-05-01T09:00:00Z');
    const engines = pools.map((client) =>
      createHerald({
        storage: postgresStorage({ client, schema }),
        queue: postgresQueue({ client, schema }),
        counters: postgresCounters({ client, schema }),
        providers: { webpush: webPush({ vapid }) },
        clock,
        allowEndpoint: [serviceUrl],
        limits: { perUser: { perDay: 1 } },
        random: () => 0.5,
        // Small batches and one job at a time, so the two engines interleave on the same users.
        tuning: { batchSize: 4, claimLimit: 1, concurrency: 1 },
      }),
    );
    const [one, two] = engines as [(typeof engines)[0], (typeof engines)[0]];
    const endpointOwner = new Map<string, string>();
    for (let i = 0; i < USERS; i++) {
      const userId = `user-${String(i).padStart(2, '0')}`;
      await one.profiles.upsert({ userId, properties: {}, timezone: 'UTC' });
      const subscription = service.createSubscription();
      endpointOwner.set(subscription.endpoint, userId);
      await one.subscriptions.add({ userId, subscription });
    }
    const campaignIds: string[] = [];
    for (const [index, engine] of engines.entries()) {
      const campaign = await engine.campaigns.create({
        name: `Same moment ${index}`,
        when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' } },
        who: { segment: { type: 'all' } },
        what: { title: `Campaign ${index}`, deeplink: 'https://shop.example.com/' },
      });
      await engine.campaigns.schedule(campaign.id);
      campaignIds.push(campaign.id);
    }
    const before = service.received.length;
    await clock.set('2026-05-01T10:00:00Z');
    await Promise.all([one.tick(), two.tick(), one.tick(), two.tick()]);
    await Promise.all([one.tick(), two.tick()]);

    const perUser = new Map<string, number>();
    for (const message of service.received.slice(before)) {
      const userId = endpointOwner.get(message.subscriptionEndpoint) ?? 'unknown';
      perUser.set(userId, (perUser.get(userId) ?? 0) + 1);
    }
    expect(perUser.size).toBe(USERS);
    expect([...perUser.values()].every((n) => n === 1)).toBe(true);
    const stats = await Promise.all(campaignIds.map((id) => one.campaigns.stats(id)));
    expect(stats.reduce((sum, s) => sum + s.sent, 0)).toBe(USERS);
    expect(stats.reduce((sum, s) => sum + (s.skipped.capped ?? 0), 0)).toBe(USERS);
    await Promise.all(engines.map((engine) => engine.stop()));
  });
});
