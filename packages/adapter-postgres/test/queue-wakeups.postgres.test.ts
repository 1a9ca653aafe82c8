import type { Queue } from '@herald/core';
import { listenForWakes, untilListening } from '@herald/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresQueue } from '../src/index.js';
import { jobsChannel } from '../src/queue/wakeups.js';
import { type Backend, openBackend, testPool } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const job = (name: string) => ({ name, payload: null, runAt: new Date('2026-05-01T10:00:00Z') });

describe('postgresQueue wake-ups across connections', () => {
  let backend: Backend;
  let workerPool: pg.Pool;
  let web: Queue;
  let worker: Queue;

  beforeAll(async () => {
    backend = await openBackend('postgres', 'queue_wakeups');
    workerPool = testPool(3);
    web = postgresQueue({ client: backend.client, schema: backend.schema });
    worker = postgresQueue({ client: workerPool, schema: backend.schema });
  });
  afterAll(async () => {
    await workerPool.end();
    await backend.close();
  });

  /** The backend pids LISTENing on this schema's channel. */
  async function listeners(): Promise<number[]> {
    const { rows } = await backend.sql.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE query = $1`,
      [`LISTEN "${jobsChannel(backend.schema)}"`],
    );
    return rows.map((row) => row.pid);
  }

  /** What `untilListening` enqueues, on the web handle, until the worker's listener hears it. */
  const warmUp = () => web.enqueue([job('warm-up')]);

  it('holds one connection for LISTEN while listened to, and gives it back when nobody listens', async () => {
    const first = listenForWakes(worker);
    const second = listenForWakes(worker);
    try {
      await untilListening(first, warmUp);
      expect(await listeners()).toHaveLength(1);
    } finally {
      first.stop();
      second.stop();
    }
    await vi.waitFor(async () => expect(await listeners()).toHaveLength(0), { timeout: 5_000 });
  });

  it('listens again after its connection is killed, wakes once on return, then within 100 ms again', async () => {
    const listener = listenForWakes(worker);
    try {
      await untilListening(listener, warmUp);
      const [pid] = await listeners();
      expect(pid).toBeDefined();
      const regained = listener.wake(10_000);
      await backend.sql.query('SELECT pg_terminate_backend($1)', [pid]);
      // Notices sent while nobody listened are gone, so the queue wakes its listeners once it listens again.
      expect(await regained).toBe(true);
      const [again] = await listeners();
      expect(again).toBeDefined();
      expect(again).not.toBe(pid);
      const started = performance.now();
      const heard = listener.wake(1_000);
      await web.enqueue([job('after-loss')]);
      expect(await heard).toBe(true);
      expect(performance.now() - started).toBeLessThan(100);
    } finally {
      listener.stop();
    }
  });

  it('holds no connection from a pool of two: its workers poll rather than starve their queries', async () => {
    const small = testPool(2);
    const listener = listenForWakes(postgresQueue({ client: small, schema: backend.schema }));
    try {
      const heard = listener.wake(500);
      await web.enqueue([job('unheard')]);
      expect(await heard).toBe(false);
      expect(await listeners()).toHaveLength(0);
    } finally {
      listener.stop();
      await small.end();
    }
  });

  it('does not notify when an enqueue adds nothing', async () => {
    const listener = listenForWakes(worker);
    try {
      await untilListening(listener, warmUp);
      await web.enqueue([{ ...job('held'), dedupeKey: 'held' }]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const before = listener.calls();
      expect(await web.enqueue([{ ...job('held'), dedupeKey: 'held' }])).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(listener.calls()).toBe(before);
    } finally {
      listener.stop();
    }
  });
});
