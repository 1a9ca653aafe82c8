import type { ConsumeResult, Counters } from '@herald/core';
import { fixtures } from '@herald/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { postgresCounters } from '../src/index.js';
import { type Backend, openBackend, testPool } from './helpers.js';

// Real-server cases wait on locks and connections.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const { T0, at, DAY, HOUR, MINUTE } = fixtures;

/**
 * postgresCounters on the real server, where statements run at the same time
 * on separate connections (PGlite runs one statement at a time, so the
 * conformance suite's concurrent cases cannot race there).
 */
describe('postgresCounters on Postgres, concurrently', () => {
  let backend: Backend;
  /** Separate pools, as separate processes would have. */
  const pools: pg.Pool[] = [];
  let workers: Counters[];
  let admin: pg.Pool;

  beforeAll(async () => {
    backend = await openBackend('postgres', 'counters_race');
    for (let i = 0; i < 3; i++) pools.push(testPool(8));
    workers = pools.map((client) => postgresCounters({ client, schema: backend.schema }));
    admin = testPool(2);
  });
  beforeEach(async () => {
    await backend.sql.query(`TRUNCATE "${backend.schema}".counters`);
  });
  afterAll(async () => {
    await Promise.all([...pools, admin].map((pool) => pool.end()));
    await backend.close();
  });

  const counterRow = async (key: string) => {
    const { rows } = await admin.query<{ value: number; expires_at: Date }>(
      `SELECT value, expires_at FROM "${backend.schema}".counters WHERE key = $1`,
      [key],
    );
    return rows[0] ?? null;
  };

  it('300 consumes of one key with limit 37 from 24 connections in 3 pools: exactly 37 pass', async () => {
    const spec = [{ key: 'cap:user:ann:day', limit: 37, expiresAt: at(DAY) }];
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => (workers[i % workers.length] as Counters).consume(spec, T0)),
    );
    const allowed = results.filter((r): r is Extract<ConsumeResult, { allowed: true }> => r.allowed);
    expect(allowed).toHaveLength(37);
    expect(allowed.flatMap((r) => r.counts).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 37 }, (_, i) => i + 1),
    );
    expect(results.filter((r) => !r.allowed)).toEqual(
      Array.from({ length: 263 }, () => ({ allowed: false, blockedBy: 'cap:user:ann:day' })),
    );
    expect(await counterRow('cap:user:ann:day')).toEqual({ value: 37, expires_at: at(DAY) });
  });

  it('a limit of 1 raced by 50 connections at once passes exactly once, also on a key that did not exist', async () => {
    for (const key of ['fresh', 'fresh-again']) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (workers[i % workers.length] as Counters).consume([{ key, limit: 1, expiresAt: at(HOUR) }], T0),
        ),
      );
      expect(results.filter((r) => r.allowed)).toEqual([{ allowed: true, counts: [1] }]);
    }
  });

  it('two keys consumed in opposite orders, with releases mixed in, never deadlock and count exactly', async () => {
    const a = { key: 'a', limit: 1_000, expiresAt: at(DAY) };
    const b = { key: 'b', limit: 1_000, expiresAt: at(DAY) };
    const calls = Array.from({ length: 240 }, (_, i) => {
      const counters = workers[i % workers.length] as Counters;
      if (i % 6 === 5) return counters.release(i % 12 === 5 ? ['b', 'a'] : ['a', 'b'], T0);
      return counters.consume(i % 2 ? [a, b] : [b, a], T0);
    });
    // A deadlock would reject one of them (40P01, surfaced as TransientStorageError).
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    // 200 consumes and 40 releases of both keys; a release that ran before any consume took nothing.
    const [valueA, valueB] = await workers[0]!.get(['a', 'b'], T0);
    expect(valueA).toBe(valueB);
    expect(valueA).toBeGreaterThanOrEqual(160);
    expect(valueA).toBeLessThanOrEqual(200);
  });

  it('a caller holding one key makes opposite-order consumers queue behind it, not deadlock', async () => {
    // The deterministic form of the race. With locks taken in spec order: [a, b] queues first on a;
    // [b, a] takes b and queues second on a; the holder commits, [a, b] gets a and waits for b, which
    // [b, a] holds while waiting for a: a deadlock, one of them aborted.
    await workers[0]!.consume(
      [
        { key: 'a', limit: 10, expiresAt: at(DAY) },
        { key: 'b', limit: 10, expiresAt: at(DAY) },
      ],
      T0,
    );
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM "${backend.schema}".counters WHERE key = 'a' FOR UPDATE`);
      const spec = (key: string) => ({ key, limit: 10, expiresAt: at(DAY) });
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const first = workers[1]!.consume([spec('a'), spec('b')], T0);
      await pause(300);
      const second = workers[2]!.consume([spec('b'), spec('a')], T0);
      const waiting = Promise.allSettled([first, second]);
      // Postgres looks for deadlocks after deadlock_timeout (1 s) of waiting.
      await pause(1_500);
      await holder.query('COMMIT');
      const outcomes = await waiting;
      expect(outcomes).toEqual([
        { status: 'fulfilled', value: { allowed: true, counts: [2, 2] } },
        { status: 'fulfilled', value: { allowed: true, counts: [3, 3] } },
      ]);
    } finally {
      holder.release();
    }
    expect(await workers[0]!.get(['a', 'b'], T0)).toEqual([3, 3]);
  });

  it('a blocked consume of a new key leaves no window behind: the next consume starts its own', async () => {
    expect(await workers[0]!.consume([{ key: 'k', limit: 0, expiresAt: at(HOUR) }], T0)).toEqual({
      allowed: false,
      blockedBy: 'k',
    });
    expect(await workers[1]!.consume([{ key: 'k', limit: 2, expiresAt: at(3 * HOUR) }], at(MINUTE))).toEqual({
      allowed: true,
      counts: [1],
    });
    expect(await workers[2]!.get(['k'], at(2 * HOUR))).toEqual([1]);
  });

  describe('the sweep', () => {
    it('deletes counters an hour past their window, keeps the rest, and skips rows a caller holds', async () => {
      // Fresh instances, so their first consume sweeps.
      const counters = postgresCounters({ client: pools[0]!, schema: backend.schema });
      await counters.consume([{ key: 'old', limit: 5, expiresAt: at(HOUR) }], T0);
      await counters.consume([{ key: 'held', limit: 5, expiresAt: at(HOUR) }], T0);
      await counters.consume([{ key: 'recent', limit: 5, expiresAt: at(2 * HOUR) }], T0);
      await counters.consume([{ key: 'live', limit: 5, expiresAt: at(4 * DAY) }], T0);
      const holder = await admin.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(`SELECT 1 FROM "${backend.schema}".counters WHERE key = 'held' FOR UPDATE`);
        // An hour and a half past 'old' and 'held': both due, 'recent' within its hour of grace.
        const sweeper = postgresCounters({ client: pools[1]!, schema: backend.schema });
        const started = Date.now();
        await sweeper.consume([{ key: 'other', limit: 5, expiresAt: at(DAY) }], at(2 * HOUR + 30 * MINUTE));
        expect(Date.now() - started).toBeLessThan(1_000);
        await holder.query('COMMIT');
      } finally {
        holder.release();
      }
      const { rows } = await admin.query<{ key: string }>(
        `SELECT key FROM "${backend.schema}".counters ORDER BY key`,
      );
      expect(rows.map((row) => row.key)).toEqual(['held', 'live', 'other', 'recent']);
    });

    it('runs at most once a minute per instance, by the time consume is given', async () => {
      await workers[0]!.consume([{ key: 'short', limit: 9, expiresAt: at(MINUTE) }], T0);
      const counters = postgresCounters({ client: pools[1]!, schema: backend.schema });
      const live = [{ key: 'live', limit: 9, expiresAt: at(4 * DAY) }];
      const SECOND = 1_000;
      // Sweeps: 'short' ended at T0 + 1 min, within its hour of grace until T0 + 61 min.
      await counters.consume(live, at(HOUR + 30 * SECOND));
      expect(await counterRow('short')).not.toBeNull();
      // Past its grace now, but this instance swept 31 s ago.
      await counters.consume(live, at(HOUR + 61 * SECOND));
      expect(await counterRow('short')).not.toBeNull();
      // A minute after the last sweep: the next one.
      await counters.consume(live, at(HOUR + 91 * SECOND));
      expect(await counterRow('short')).toBeNull();
      expect(await counterRow('live')).toEqual({ value: 3, expires_at: at(4 * DAY) });
    });
  });
});
