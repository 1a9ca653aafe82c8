import { TransientStorageError } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCounters, redisQueue } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

const { T0, at, HOUR } = fixtures;
const prefix = uniquePrefix('connection');

/** The admin connection that kills the others; it survives because CLIENT KILL skips the caller. */
let admin: Redis;

beforeAll(async () => {
  admin = await connect();
});
afterAll(async () => {
  await clearPrefix(admin, prefix);
  admin.disconnect();
});

const clientId = async (connection: Redis) => Number(await connection.client('ID'));
const ready = (connection: Redis) =>
  connection.status === 'ready'
    ? Promise.resolve()
    : new Promise<void>((resolve) => connection.once('ready', resolve));

describe('a dropped connection', () => {
  it('surfaces as TransientStorageError, and the next call after reconnecting works', async () => {
    const connection = await connect();
    try {
      const queue = redisQueue({ connection, prefix: `${prefix}:a` });
      const counters = redisCounters({ connection, prefix: `${prefix}:a` });
      await queue.enqueue([{ name: 'a', payload: 1, runAt: T0 }]);

      connection.disconnect();
      const failure = await queue
        .claim({ limit: 1, leaseMs: 1000, now: T0 })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TransientStorageError);
      expect(failure).toMatchObject({
        code: 'storage_unavailable',
        message: expect.stringContaining('claim'),
      });
      await expect(counters.get(['k'], T0)).rejects.toBeInstanceOf(TransientStorageError);

      await connection.connect();
      expect(await queue.claim({ limit: 1, leaseMs: 1000, now: T0 })).toHaveLength(1);
      expect(await counters.get(['k'], T0)).toEqual([0]);
    } finally {
      connection.disconnect();
    }
  });

  it('killed by the server: calls fail as transient while a no-offline-queue client reconnects, then work', async () => {
    // Reconnect 300 ms after a drop, so there is a window in which calls fail.
    const connection = await connect({ enableOfflineQueue: false, retryStrategy: () => 300 });
    try {
      const queue = redisQueue({ connection, prefix: `${prefix}:b` });
      await queue.enqueue([{ name: 'a', payload: 1, runAt: T0 }]);

      const closed = new Promise<void>((resolve) => connection.once('close', resolve));
      expect(await admin.client('KILL', 'ID', await clientId(connection))).toBe(1);
      await closed;
      await expect(queue.counts()).rejects.toBeInstanceOf(TransientStorageError);

      await ready(connection);
      expect(await queue.counts()).toEqual({ waiting: 1, active: 0, failed: 0 });
    } finally {
      connection.disconnect();
    }
  });

  it('killed while its calls wait in the server: ioredis resends them after reconnecting, they take effect once', async () => {
    const connection = await connect();
    try {
      const queue = redisQueue({ connection, prefix: `${prefix}:c` });
      const counters = redisCounters({ connection, prefix: `${prefix}:c` });
      await queue.enqueue([{ name: 'timer', payload: 0, runAt: at(HOUR), dedupeKey: 'cancelled' }]);
      const id = await clientId(connection);
      // Hold every script in the server, kill the connection while they wait, then let go.
      await admin.client('PAUSE', 5000, 'WRITE');
      let settled = false;
      const enqueued = queue.enqueue([{ name: 'a', payload: 1, runAt: T0 }]).finally(() => {
        settled = true;
      });
      // The batch forms are resent too and answer per item (their replay: queue.test.ts).
      const enqueuedEach = queue.enqueueEach?.([
        { name: 'timer', payload: 2, runAt: at(HOUR), dedupeKey: 'added' },
      ]);
      const cancelledEach = queue.cancelEach?.(['cancelled']);
      const consumed = counters.consume([{ key: 'k', limit: 5, expiresAt: at(HOUR) }], T0);
      // flags=b: the server holds the client's script until the pause ends.
      await waitFor(async () => /flags=b .*cmd=evalsha/.test(await clientLine(id)));
      expect(await admin.client('KILL', 'ID', id)).toBe(1);
      expect(settled).toBe(false);
      await admin.client('UNPAUSE');

      expect(await enqueued).toBe(1);
      expect(await enqueuedEach).toEqual([true]);
      expect(await cancelledEach).toEqual([true]);
      expect(await consumed).toEqual({ allowed: true, counts: [1] });
      expect(await queue.counts()).toEqual({ waiting: 2, active: 0, failed: 0 });
      expect(await counters.get(['k'], T0)).toEqual([1]);
      expect(await clientId(connection)).not.toBe(id);
    } finally {
      await admin.client('UNPAUSE');
      connection.disconnect();
    }
  });
});

async function clientLine(id: number): Promise<string> {
  const list = String(await admin.client('LIST'));
  return list.split('\n').find((line) => line.startsWith(`id=${id} `)) ?? '';
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('condition not met within 1 s');
}
