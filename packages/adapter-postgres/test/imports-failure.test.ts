import { createHerald, type Herald, memoryQueue, silentLogger } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresCounters, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, truncateStorage } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/**
 * What a database error in the middle of a bulk import leaves, on the real
 * server: the batches before the failing one written whole, the failing one
 * and every later one not at all, and the call rejected. The fault here is a
 * row the checks let through but the server refuses (a constraint the test
 * adds), so it fails its batch's statement as any constraint violation or
 * dropped connection would. A NUL character, which Postgres cannot store, is
 * refused by the checks and reported on its row like any other bad value.
 */
describe('bulk imports on Postgres: a failing batch', () => {
  let backend: Backend;
  let herald: Herald;
  const count = async (table: string) =>
    (
      await backend.sql.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM "${backend.schema}".${table}`,
      )
    ).rows[0]?.count;

  /** A check constraint the rows meet but one: the server's refusal in the middle of an import. */
  const refuse = (table: string, check: string) =>
    backend.sql.query(
      `ALTER TABLE "${backend.schema}".${table} ADD CONSTRAINT test_refusal CHECK (${check})`,
    );
  const allow = (table: string) =>
    backend.sql.query(`ALTER TABLE "${backend.schema}".${table} DROP CONSTRAINT test_refusal`);

  beforeAll(async () => {
    backend = await openBackend('postgres', 'import_failure');
    herald = createHerald({
      storage: postgresStorage({ client: backend.client, schema: backend.schema }),
      counters: postgresCounters({ client: backend.client, schema: backend.schema }),
      queue: memoryQueue(),
      providers: {
        webpush: {
          target: 'webpush',
          send: async () => ({ kind: 'sent', statusCode: 201 }),
          close: async () => undefined,
        },
      },
      allowEndpoint: [/^https:\/\/push\.example\.test\//],
      reportSecret: 'x'.repeat(32),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('profiles: a prefix of whole batches is written, nothing from the failing row on', async () => {
    await truncateStorage(backend);
    // Several batches of rows (a batch is 2,000 today), the bad one in a later batch.
    const badIndex = 4500;
    const rows = Array.from({ length: 6000 }, (_, index) => ({
      userId: `user-${index}`,
      properties: { index },
    }));
    await refuse('profiles', `user_id <> 'user-${badIndex}'`);
    await expect(herald.profiles.import(rows)).rejects.toThrow();
    await allow('profiles');
    const { rows: stored } = await backend.sql.query<{ count: number; last: number }>(
      `SELECT count(*)::int AS count, max((properties->>'index')::int) AS last FROM "${backend.schema}".profiles`,
    );
    const { count, last } = stored[0] ?? { count: 0, last: -1 };
    // Rows 0 … count − 1 and nothing else: whole batches before the failing one, none after it.
    expect(count).toBeGreaterThan(0);
    expect(last).toBe(count - 1);
    expect(count).toBeLessThanOrEqual(badIndex);
    expect(await herald.profiles.get(`user-${count - 1}`)).toMatchObject({
      properties: { index: count - 1 },
    });
  });

  it('subscriptions: a failing batch leaves none of the profiles it would have created', async () => {
    await truncateStorage(backend);
    const rows = Array.from({ length: 10 }, (_, index) => ({
      userId: `new-${index}`,
      timezone: 'Europe/Paris',
      subscription: {
        endpoint: `https://push.example.test/send/${index}`,
        keys: { p256dh: fixtures.P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
      },
    }));
    await refuse('subscriptions', `endpoint <> 'https://push.example.test/send/5'`);
    await expect(herald.subscriptions.import(rows)).rejects.toThrow();
    await allow('subscriptions');
    expect(await count('subscriptions')).toBe(0);
    expect(await count('profiles')).toBe(0);
    // The same rows without the bad one land whole: profiles with their zone, and their reach.
    expect((await herald.subscriptions.import(rows.filter((_, index) => index !== 5))).imported).toBe(9);
    expect(await count('subscriptions')).toBe(9);
    expect(await herald.profiles.get('new-0')).toMatchObject({ timezone: 'Europe/Paris' });
    expect(await herald.segments.estimateReach({ type: 'all' })).toMatchObject({
      qualified: 9,
      reachable: { total: 9 },
    });
  });

  it('a NUL character, which Postgres cannot store, is refused on its row; the rest are written', async () => {
    await truncateStorage(backend);
    const result = await herald.profiles.import([
      { userId: 'ada', properties: { plan: 'pro' } },
      { userId: 'nul\u0000user', properties: {} },
      { userId: 'bob', properties: { note: 'bad\u0000value' } },
      { userId: 'cy', properties: { nested: { 'key\u0000': 1 } } },
      { userId: 'dee', properties: {} },
    ]);
    expect(result.imported).toBe(2);
    expect(result.rejected.map((rejection) => rejection.index)).toEqual([1, 2, 3]);
    expect(JSON.stringify(result.rejected)).toContain('NUL character');
    expect(await count('profiles')).toBe(2);
    await expect(
      herald.events.track({ userId: 'ada', name: 'Vis\u0000it', properties: {} }),
    ).rejects.toMatchObject({ name: 'ValidationError', issues: [{ path: 'name' }] });
  });
});
