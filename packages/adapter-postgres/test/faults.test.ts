import { TransientStorageError, type UserId } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresQueue, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, terminateWhileBlocked, testPool } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

/**
 * A connection dropped mid-statement (failover, restart, an operator's
 * pg_terminate_backend) must surface as TransientStorageError, the error
 * the engine retries, and must not poison the pool for later calls.
 */
describe('connection loss on Postgres', () => {
  let backend: Backend;
  let pool: pg.Pool;
  let admin: pg.Pool;

  beforeAll(async () => {
    backend = await openBackend('postgres', 'faults');
    pool = backend.client as pg.Pool;
    admin = testPool(2);
  });
  afterAll(async () => {
    await admin.end();
    await backend.close();
  });

  /** Cuts the connection of the adapter's next statement on `table` while it is blocked; returns what `call` settled with. */
  const terminateDuring = (table: string, call: () => Promise<unknown>): Promise<unknown> =>
    terminateWhileBlocked({
      admin,
      table: `"${backend.schema}".${table}`,
      blockedQueryLike: `%${backend.schema}%`,
      call,
    });

  it('a terminated query rejects with TransientStorageError, and the pool serves the next call', async () => {
    const storage = postgresStorage({ client: pool, schema: backend.schema });
    await storage.upsertProfile(fixtures.profile('ann', { plan: 'pro' }));

    const outcome = await terminateDuring('profiles', () => storage.getProfile('ann' as UserId));
    expect(outcome).toBeInstanceOf(TransientStorageError);
    expect((outcome as TransientStorageError).code).toBe('storage_unavailable');

    expect((await storage.getProfile('ann' as UserId))?.properties).toEqual({ plan: 'pro' });
  });

  it('a transaction cut off mid-way rolls back, rejects as transient, and the pool recovers', async () => {
    const queue = postgresQueue({ client: pool, schema: backend.schema });
    const outcome = await terminateDuring('jobs', () =>
      queue.enqueue([{ name: 'fanout', payload: { page: 1 }, runAt: fixtures.T0, dedupeKey: 'page-1' }]),
    );
    expect(outcome).toBeInstanceOf(TransientStorageError);
    expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });

    // The retry the engine makes succeeds, and the dedupe key was never taken.
    expect(
      await queue.enqueue([
        { name: 'fanout', payload: { page: 1 }, runAt: fixtures.T0, dedupeKey: 'page-1' },
      ]),
    ).toBe(1);
  });

  it('a batch write cut off is all or nothing: retrying it inserts every recipient exactly once', async () => {
    const storage = postgresStorage({ client: pool, schema: backend.schema });
    const batch = Array.from({ length: 500 }, (_, i) => fixtures.recipient('c1', '2025-03-01', `u${i}`));
    const outcome = await terminateDuring('recipients', () => storage.insertRecipients(batch));
    expect(outcome).toBeInstanceOf(TransientStorageError);
    const retried = await storage.insertRecipients(batch);
    expect(retried.inserted).toBe(500);
    expect(new Set(retried.insertedUserIds)).toEqual(new Set(batch.map((row) => row.userId)));
    expect(await storage.insertRecipients(batch)).toEqual({ inserted: 0, insertedUserIds: [] });
  });

  it('an unreachable server is transient too', async () => {
    const { default: pgModule } = await import('pg');
    const dead = new pgModule.Pool({ connectionString: 'postgres://herald@127.0.0.1:1/postgres', max: 1 });
    dead.on('error', () => undefined);
    try {
      await expect(postgresStorage({ client: dead }).getProfile('x' as UserId)).rejects.toBeInstanceOf(
        TransientStorageError,
      );
    } finally {
      await dead.end();
    }
  });
});
