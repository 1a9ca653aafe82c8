import type { ReachEstimate, SegmentDefinition, Storage } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { postgresStorage } from '../src/index.js';
import { type Backend, openBackend, raceBehindOpenTransaction, truncateStorage } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 });

const { T0, profile, webPushSubscription, safariSubscription } = fixtures;
const ALL: SegmentDefinition = { type: 'all' };
const reach = (total: number, webpush: number, safari: number, qualified = total): ReachEstimate => ({
  qualified,
  reachable: { total, webpush, safari },
});

/**
 * Migration 005 keeps each profile's reachability on its row (the latest
 * instant one of its web push subscriptions is live until, and whether it
 * has a Safari one), maintained by triggers. These cases change
 * subscriptions every way the Storage API can, and some ways only SQL can
 * (bulk statements, truncation), and check both the estimates and that the
 * stored columns equal a recomputation from the subscriptions table.
 */
describe.each(['pglite', 'postgres'] as const)('profile reach on %s', (kind) => {
  let backend: Backend;
  let storage: Storage;

  beforeAll(async () => {
    backend = await openBackend(kind, 'reach');
    storage = postgresStorage({ client: backend.client, schema: backend.schema });
  });
  afterAll(() => backend.close());
  beforeEach(() => truncateStorage(backend));

  /** Profiles whose stored reach differs from their subscriptions' (none when the triggers are right). */
  async function drift(): Promise<string[]> {
    const quotedSchema = `"${backend.schema}"`;
    const { rows } = await backend.sql.query<{ user_id: string }>(
      `SELECT p.user_id FROM ${quotedSchema}.profiles p
       LEFT JOIN LATERAL (
         SELECT max(CASE WHEN jsonb_typeof(x.expiration_time) = 'number' THEN (x.expiration_time)::float8 ELSE 'Infinity' END)
                  FILTER (WHERE x.target = 'webpush') AS until,
                coalesce(bool_or(x.target = 'safari'), false) AS safari
         FROM ${quotedSchema}.subscriptions x WHERE x.user_id = p.user_id
       ) r ON true
       WHERE p.reach_webpush_until IS DISTINCT FROM r.until OR p.reach_safari <> r.safari
       ORDER BY p.user_id`,
    );
    return rows.map((row) => row.user_id);
  }

  it('counts a subscription stored before its profile', async () => {
    await storage.upsertSubscription(webPushSubscription('u1'));
    await storage.upsertSubscription(safariSubscription('u2'));
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(0, 0, 0));
    await storage.upsertProfile(profile('u1'));
    await storage.upsertProfile(profile('u2'));
    await storage.upsertProfile(profile('u3'));
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(2, 1, 1, 3));
    expect(await drift()).toEqual([]);
  });

  it('keeps the latest expiry of several web push subscriptions, and a profile update leaves it alone', async () => {
    await storage.upsertProfile(profile('u1'));
    await storage.upsertSubscription(webPushSubscription('u1', 1, { expirationTime: T0.getTime() - 1 }));
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(0, 0, 0, 1));
    await storage.upsertSubscription(webPushSubscription('u1', 2, { expirationTime: T0.getTime() + 1000 }));
    // Live while its expirationTime is after now (rule 13): at T0 + 999 ms, not at T0 + 1000 ms.
    expect(await storage.estimateReach(ALL, new Date(T0.getTime() + 999))).toEqual(reach(1, 1, 0));
    expect(await storage.estimateReach(ALL, new Date(T0.getTime() + 1000))).toEqual(reach(0, 0, 0, 1));
    await storage.upsertProfile(profile('u1', { plan: 'pro' }));
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(1, 1, 0));
    // One without an expiry (absent or null) is live at any time.
    await storage.upsertSubscription(webPushSubscription('u1', 3));
    expect(await storage.estimateReach(ALL, new Date(T0.getTime() + 10 ** 12))).toEqual(reach(1, 1, 0));
    expect(await drift()).toEqual([]);
  });

  it('follows removals, refreshed expiries and a subscription moving to another user', async () => {
    for (const id of ['u1', 'u2']) await storage.upsertProfile(profile(id));
    await storage.upsertSubscription(webPushSubscription('u1'));
    await storage.upsertSubscription(safariSubscription('u1'));
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(1, 1, 1, 2));

    expect(await storage.removeSubscription('sf_u1' as never)).toBe(true);
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(1, 1, 0, 2));

    await storage.upsertSubscription(webPushSubscription('u1', 1, { expirationTime: T0.getTime() }));
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(0, 0, 0, 2));

    // The same subscription id re-registered by another user (a shared browser).
    await storage.upsertSubscription(webPushSubscription('u1', 1, { userId: 'u2' }));
    const onlyU2 = await storage.estimateReach({ type: 'reachable', target: 'webpush' }, T0);
    expect(onlyU2).toEqual(reach(1, 1, 0));
    const page = await storage.selectAudience({ type: 'reachable' }, { after: null, limit: 10, now: T0 });
    expect(page).toEqual(['u2']);
    expect(await drift()).toEqual([]);
  });

  it('follows a group removal (removeSubscriptions) of several users at once', async () => {
    for (const id of ['u1', 'u2', 'u3']) await storage.upsertProfile(profile(id));
    for (const id of ['u1', 'u2', 'u3']) await storage.upsertSubscription(webPushSubscription(id));
    await storage.upsertSubscription(webPushSubscription('u2', 2));
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(3, 3, 0));

    // u1 loses its only subscription, u2 one of two; u3 keeps its own.
    const removed = await storage.removeSubscriptions?.([
      { id: 'wp_u1_1' as never },
      { id: 'wp_u2_1' as never, ifEndpoint: 'https://push.example.test/send/u2-1' },
    ]);
    expect(removed).toEqual([true, true]);
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(2, 2, 0, 3));
    const page = await storage.selectAudience({ type: 'reachable' }, { after: null, limit: 10, now: T0 });
    expect(page).toEqual(['u2', 'u3']);
    expect(await drift()).toEqual([]);
  });

  it('stays exact through bulk statements, above the per-user lock threshold, and truncation', async () => {
    const quotedSchema = `"${backend.schema}"`;
    await backend.sql.query(
      `INSERT INTO ${quotedSchema}.profiles (user_id, created_at, updated_at)
       SELECT 'b' || lpad(i::text, 5, '0'), $1::timestamptz, $1::timestamptz FROM generate_series(1, 2500) i`,
      [T0.toISOString()],
    );
    // Every third user gets a web push subscription (half of them expired), every fifth a Safari one.
    await backend.sql.query(
      `INSERT INTO ${quotedSchema}.subscriptions (id, user_id, target, endpoint, keys, expiration_time, device_token, created_at, updated_at)
       SELECT 'wp' || i, 'b' || lpad(i::text, 5, '0'), 'webpush', 'https://push.example.test/' || i, '{}'::jsonb,
              CASE WHEN i % 2 = 0 THEN to_jsonb($2::bigint) END, NULL, $1::timestamptz, $1::timestamptz
       FROM generate_series(3, 2500, 3) i
       UNION ALL
       SELECT 'sf' || i, 'b' || lpad(i::text, 5, '0'), 'safari', NULL, NULL, NULL, 'token' || i, $1::timestamptz, $1::timestamptz
       FROM generate_series(5, 2500, 5) i`,
      [T0.toISOString(), T0.getTime() - 1],
    );
    const webpush = Math.floor(2500 / 3) - Math.floor(2500 / 6); // multiples of 3 that are odd
    const safari = 2500 / 5;
    const both = Math.floor(2500 / 15) - Math.floor(2500 / 30); // odd multiples of 15
    expect(await storage.estimateReach(ALL, T0)).toEqual(
      reach(webpush + safari - both, webpush, safari, 2500),
    );
    expect(await drift()).toEqual([]);

    await backend.sql.query(
      `UPDATE ${quotedSchema}.subscriptions SET expiration_time = NULL WHERE target = 'webpush'`,
    );
    const allWebpush = Math.floor(2500 / 3);
    const allBoth = Math.floor(2500 / 15);
    expect(await storage.estimateReach(ALL, T0)).toEqual(
      reach(allWebpush + safari - allBoth, allWebpush, safari, 2500),
    );

    await backend.sql.query(`DELETE FROM ${quotedSchema}.subscriptions WHERE target = 'safari'`);
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(allWebpush, allWebpush, 0, 2500));

    await backend.sql.query(`TRUNCATE ${quotedSchema}.subscriptions`);
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(0, 0, 0, 2500));
    expect(await drift()).toEqual([]);
  });
});

describe('profile reach under concurrent writers on Postgres', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend('postgres', 'reach_race');
  });
  afterAll(() => backend.close());

  it('a profile inserted while another transaction adds its subscription still counts it', async () => {
    const quotedSchema = `"${backend.schema}"`;
    // Transaction 1 subscribes u1 and stays open; transaction 2 then creates u1's profile. Without the
    // per-user lock, 2's trigger would read subscriptions before 1 commits and store "unreachable".
    await raceBehindOpenTransaction(
      (first) =>
        first.query(
          `INSERT INTO ${quotedSchema}.subscriptions (id, user_id, target, device_token, created_at, updated_at)
           VALUES ('sf_u1', 'u1', 'safari', 'token', $1, $1)`,
          [T0.toISOString()],
        ),
      (second) =>
        second.query(
          `INSERT INTO ${quotedSchema}.profiles (user_id, created_at, updated_at) VALUES ('u1', $1, $1)`,
          [T0.toISOString()],
        ),
    );
    const storage = postgresStorage({ client: backend.client, schema: backend.schema });
    expect(await storage.estimateReach(ALL, T0)).toEqual(reach(1, 0, 1));
  });
});
