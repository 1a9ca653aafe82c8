import { createHerald, generateVapidKeys, type Herald, silentLogger, webPush } from '@herald/core';
import { createTestPushService, fakeClock, type TestPushService } from '@herald/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresCounters, postgresQueue, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, testPool } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const REFRESH_MS = 1000;

/**
 * `events.track` reads the live campaigns from its engine's memory
 * (`tuning.campaignRefreshMs`). Two engines on one Postgres, each with its
 * own pool as two processes would have: the dashboard's (A) schedules and
 * stops a campaign, the web process's (B) tracks events. B must arm the
 * campaign within the refresh bound of its scheduling, and a stop it has
 * not seen yet must send nothing: the fire job reads the campaign again.
 */
describe('live campaigns seen across processes', () => {
  let backend: Backend;
  let service: TestPushService;
  let serviceUrl: string;
  const pools: pg.Pool[] = [];
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

  beforeAll(async () => {
    backend = await openBackend('postgres', 'live_cache');
    pools.push(testPool(3), testPool(3));
    service = createTestPushService();
    serviceUrl = (await service.start()).url;
  });
  afterAll(async () => {
    await service.stop();
    await Promise.all(pools.map((pool) => pool.end()));
    await backend.close();
  });

  it('arms a campaign scheduled elsewhere within the refresh bound, and a stop it has not seen sends nothing', async () => {
    const clock = fakeClock('2026-05-04T10:00:00Z');
    const [dashboard, web] = pools.map((client) =>
      createHerald({
        storage: postgresStorage({ client, schema: backend.schema }),
        queue: postgresQueue({ client, schema: backend.schema }),
        counters: postgresCounters({ client, schema: backend.schema }),
        providers: { webpush: webPush({ vapid }) },
        clock,
        logger: silentLogger,
        reportSecret: 'live-campaign-cache-secret-long-enough',
        allowEndpoint: [serviceUrl],
        tuning: { campaignRefreshMs: REFRESH_MS },
      }),
    ) as [Herald, Herald];
    for (const userId of ['ann', 'bob', 'cat', 'dan']) {
      await dashboard.subscriptions.add({ userId, subscription: service.createSubscription() });
    }
    /** Messages received once the web process has run every due job. */
    const sentAfterTick = async () => {
      await web.tick();
      return service.received.length;
    };

    // The web process reads the campaigns (none live) with its first event.
    await web.events.track({ userId: 'ann', name: 'Ping' });
    const campaign = await dashboard.campaigns.create({
      name: 'Pong',
      when: { schedule: { type: 'onEvent', event: { name: 'Ping' } } },
      who: { segment: { type: 'all' } },
      what: { title: 'Pong', deeplink: 'https://shop.example.com/' },
    });
    await dashboard.campaigns.schedule(campaign.id);

    // Within the bound the web process may still work from its earlier copy (it does: nothing armed)…
    await clock.advance(REFRESH_MS - 1);
    await web.events.track({ userId: 'ann', name: 'Ping' });
    expect(await sentAfterTick()).toBe(0);
    // …and once the bound has passed, its next event arms the campaign.
    await clock.advance(1);
    await web.events.track({ userId: 'bob', name: 'Ping' });
    expect(await sentAfterTick()).toBe(1);

    // Stopped by the dashboard: the web process's copy still says running, so it queues a fire job,
    // which reads the campaign, finds it stopped and sends nothing.
    await dashboard.campaigns.stop(campaign.id);
    await web.events.track({ userId: 'cat', name: 'Ping' });
    expect((await web.campaigns.explain(campaign.id, 'cat')).occurrences).toHaveLength(0);
    expect(await sentAfterTick()).toBe(1);
    const why = await web.campaigns.explain(campaign.id, 'cat');
    expect(why.occurrences.flatMap((occurrence) => occurrence.decisions.map((d) => d.reason))).toContain(
      'stopped',
    );

    // After the bound the stop is seen when the event comes: nothing is queued at all.
    await clock.advance(REFRESH_MS);
    const queued = await postgresQueue({ client: pools[0] as pg.Pool, schema: backend.schema }).counts();
    await web.events.track({ userId: 'dan', name: 'Ping' });
    expect(await postgresQueue({ client: pools[0] as pg.Pool, schema: backend.schema }).counts()).toEqual(
      queued,
    );
    expect(await sentAfterTick()).toBe(1);
  });

  it('a change made through the same engine is seen by its next event at once', async () => {
    const clock = fakeClock('2026-05-04T10:00:00Z');
    const herald = createHerald({
      storage: postgresStorage({ client: pools[0] as pg.Pool, schema: backend.schema }),
      queue: postgresQueue({ client: pools[0] as pg.Pool, schema: backend.schema }),
      counters: postgresCounters({ client: pools[0] as pg.Pool, schema: backend.schema }),
      providers: { webpush: webPush({ vapid }) },
      clock,
      logger: silentLogger,
      reportSecret: 'live-campaign-cache-secret-long-enough',
      allowEndpoint: [serviceUrl],
      tuning: { campaignRefreshMs: 60_000 },
    });
    await herald.subscriptions.add({ userId: 'eve', subscription: service.createSubscription() });
    await herald.events.track({ userId: 'eve', name: 'Knock' });
    const campaign = await herald.campaigns.create({
      name: 'Who is there',
      when: { schedule: { type: 'onEvent', event: { name: 'Knock' } } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
    });
    await herald.campaigns.schedule(campaign.id);
    const before = service.received.length;
    await herald.events.track({ userId: 'eve', name: 'Knock' });
    await herald.tick();
    expect(service.received.length).toBe(before + 1);
  });

  it('concurrent tracks share the event insert, and a row Postgres refuses fails only its own call', async () => {
    const herald = createHerald({
      storage: postgresStorage({ client: pools[1] as pg.Pool, schema: backend.schema }),
      queue: postgresQueue({ client: pools[1] as pg.Pool, schema: backend.schema }),
      counters: postgresCounters({ client: pools[1] as pg.Pool, schema: backend.schema }),
      providers: { webpush: webPush({ vapid }) },
      logger: silentLogger,
      reportSecret: 'live-campaign-cache-secret-long-enough',
    });
    const users = Array.from({ length: 40 }, (_, index) => `batch-${index}`);
    // A row the server refuses though it passed validation (here a constraint of the test's own).
    await (pools[1] as pg.Pool).query(
      `ALTER TABLE "${backend.schema}".events ADD CONSTRAINT refuse_batch_17 CHECK (user_id <> 'batch-17')`,
    );
    const outcomes = await Promise.allSettled(
      users.map((userId) => herald.events.track({ userId, name: 'Visit', properties: { note: 'ok' } })),
    );
    await (pools[1] as pg.Pool).query(
      `ALTER TABLE "${backend.schema}".events DROP CONSTRAINT refuse_batch_17`,
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(
      users.map((_, index) => (index === 17 ? 'rejected' : 'fulfilled')),
    );
    const { rows } = await (pools[1] as pg.Pool).query<{ user_id: string }>(
      `SELECT user_id FROM "${backend.schema}".events WHERE name = 'Visit' ORDER BY id`,
    );
    expect(rows.map((row) => row.user_id).sort()).toEqual(users.filter((_, index) => index !== 17).sort());
  });
  it('concurrent tracks arm as one group, and a timer Postgres refuses fails only its own call', async () => {
    const pool = pools[1] as pg.Pool;
    /** The pool, counting the statements that insert jobs. */
    const jobInserts: string[] = [];
    const counted = new Proxy(pool, {
      get(target, key) {
        if (key === 'query') {
          return (text: string, params?: unknown[]) => {
            if (/INSERT INTO \S+\.jobs/.test(text)) jobInserts.push(text);
            return target.query(text, params);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const herald = createHerald({
      storage: postgresStorage({ client: pool, schema: backend.schema }),
      queue: postgresQueue({ client: counted, schema: backend.schema }),
      counters: postgresCounters({ client: pool, schema: backend.schema }),
      providers: { webpush: webPush({ vapid }) },
      logger: silentLogger,
      reportSecret: 'live-campaign-cache-secret-long-enough',
    });
    const campaign = await herald.campaigns.create({
      name: 'Welcome back',
      when: { schedule: { type: 'onEvent', event: { name: 'Return' } } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
    });
    await herald.campaigns.schedule(campaign.id);
    const timers = async () =>
      (
        await pool.query<{ user_id: string }>(
          `SELECT payload->>'userId' AS user_id FROM "${backend.schema}".jobs WHERE payload->>'campaignId' = $1`,
          [campaign.id],
        )
      ).rows
        .map((row) => row.user_id)
        .sort();

    const first = Array.from({ length: 40 }, (_, index) => `group-${index}`);
    await Promise.all(first.map((userId) => herald.events.track({ userId, name: 'Return' })));
    // Forty calls made at once: one event insert, then one arming group, whose timers share one statement.
    expect(jobInserts).toHaveLength(1);
    expect(await timers()).toEqual([...first].sort());

    const second = Array.from({ length: 40 }, (_, index) => `refused-${index}`);
    await pool.query(
      `ALTER TABLE "${backend.schema}".jobs ADD CONSTRAINT refuse_timer_17 CHECK (payload->>'userId' <> 'refused-17')`,
    );
    const outcomes = await Promise.allSettled(
      second.map((userId) => herald.events.track({ userId, name: 'Return' })),
    );
    await pool.query(`ALTER TABLE "${backend.schema}".jobs DROP CONSTRAINT refuse_timer_17`);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(
      second.map((_, index) => (index === 17 ? 'rejected' : 'fulfilled')),
    );
    expect(await timers()).toEqual([...first, ...second.filter((_, index) => index !== 17)].sort());
    // The refused call's event is stored all the same: only its arming failed.
    const { rows } = await pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM "${backend.schema}".events WHERE user_id = 'refused-17'`,
    );
    expect(rows[0]?.count).toBe(1);
  });
});
