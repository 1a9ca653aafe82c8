import { randomUUID } from 'node:crypto';
import type { Queue } from '@herald/core';
import { listenForWakes, untilListening } from '@herald/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisQueue } from '../src/index.js';
import { clearPrefix, connect, uniquePrefix } from './support/redis.js';

vi.setConfig({ testTimeout: 30_000 });

const job = (name: string) => ({ name, payload: null, runAt: new Date('2026-05-01T10:00:00Z') });

describe('redisQueue wake-ups across connections', () => {
  const prefix = uniquePrefix('queue-wakeups');
  /** Names the worker's connections (its subscriber inherits the name), so the test kills only its own. */
  const workerName = `herald-wake-${randomUUID().slice(0, 8)}`;
  let webConnection: Redis;
  let workerConnection: Redis;
  let web: Queue;
  let worker: Queue;

  beforeAll(async () => {
    webConnection = await connect();
    workerConnection = await connect({ connectionName: workerName });
    web = redisQueue({ connection: webConnection, prefix });
    worker = redisQueue({ connection: workerConnection, prefix });
  });
  afterAll(async () => {
    await clearPrefix(webConnection, prefix);
    webConnection.disconnect();
    workerConnection.disconnect();
  });

  /** What `untilListening` enqueues, on the web handle, until the worker's listener hears it. */
  const warmUp = () => web.enqueue([job('warm-up')]);

  /** The ids of the worker's subscribed connections. */
  async function subscribers(): Promise<string[]> {
    const list = (await webConnection.client('LIST')) as string;
    return list
      .split('\n')
      .filter((line) => line.includes(`name=${workerName} `) && !line.includes(' sub=0 '))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1] ?? '')
      .filter((id) => id !== '');
  }

  it('subscribes while listened to, and closes its subscriber when nobody listens', async () => {
    const listener = listenForWakes(worker);
    try {
      await untilListening(listener, warmUp);
      expect(await subscribers()).toHaveLength(1);
    } finally {
      listener.stop();
    }
    await vi.waitFor(async () => expect(await subscribers()).toHaveLength(0), { timeout: 5_000 });
  });

  it('subscribes again after its connection is killed, wakes once on return, then within 100 ms again', async () => {
    const listener = listenForWakes(worker);
    try {
      await untilListening(listener, warmUp);
      const [id] = await subscribers();
      expect(id).toBeDefined();
      const regained = listener.wake(10_000);
      await webConnection.client('KILL', 'ID', id!);
      expect(await regained).toBe(true);
      await vi.waitFor(async () => expect(await subscribers()).toHaveLength(1), { timeout: 5_000 });
      const started = performance.now();
      const heard = listener.wake(1_000);
      await web.enqueue([job('after-loss')]);
      expect(await heard).toBe(true);
      expect(performance.now() - started).toBeLessThan(100);
    } finally {
      listener.stop();
    }
  });
});
