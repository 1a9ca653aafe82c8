import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createHerald,
  type HeraldOptions,
  memoryQueue,
  memoryStorage,
  type Queue,
  silentLogger,
} from '../../../src/index.js';
import { fakeClock } from '../../../src/testing/index.js';

/**
 * The loop `herald.start()` runs must wait while there is nothing to do. A pool
 * with no running job answered "a slot is free" at once, so an idle engine
 * claimed in a tight loop (a core at 100 % in the example app). With a fake
 * clock that never moves, an idle engine claims once and then sleeps.
 */
/** A memory queue whose claims are counted; each claim also yields a macrotask turn, so a spinning loop could not starve a test. */
function countedQueue() {
  const queue = memoryQueue();
  const counted = { claims: 0, queue: undefined as unknown as Queue };
  counted.queue = {
    ...queue,
    claim: async (options) => {
      counted.claims += 1;
      await nextTurn();
      return queue.claim(options);
    },
  };
  return counted;
}

const engineOptions = (queue: Queue): HeraldOptions => ({
  storage: memoryStorage(),
  queue,
  // A clock that never moves: the poll interval never passes.
  clock: fakeClock('2026-03-02T09:00:00Z'),
  logger: silentLogger,
  reportSecret: 'a-secret-that-is-long-enough-for-hmac',
  providers: {
    webpush: {
      target: 'webpush',
      send: async () => ({ kind: 'sent', statusCode: 201 }),
      close: async () => {},
    },
  },
  tuning: { pollIntervalMs: 1000 },
});

describe('an idle engine', () => {
  it('claims once and waits for the poll interval instead of spinning', async () => {
    const counted = countedQueue();
    const herald = createHerald(engineOptions(counted.queue));
    const claims = () => counted.claims;
    herald.start();
    for (let turn = 0; turn < 50; turn += 1) await nextTurn();
    expect(claims()).toBe(1);
    await herald.stop();
  });

  it("claims a job enqueued elsewhere at once, woken by the queue's onWake, not after the poll interval", async () => {
    const counted = countedQueue();
    const herald = createHerald(engineOptions(counted.queue));
    herald.start();
    for (let turn = 0; turn < 20; turn += 1) await nextTurn();
    expect(counted.claims).toBe(1);
    // As a web process would: a job enqueued on the shared queue (a page of a campaign that no longer exists: done at once).
    await counted.queue.enqueue([
      {
        name: 'herald.audience-page',
        payload: { campaignId: 'cmp_gone', occurrence: '2026-03-02T09:00:00.000Z', after: null, page: 0 },
        runAt: new Date('2026-03-02T09:00:00Z'),
      },
    ]);
    for (let turn = 0; turn < 20; turn += 1) await nextTurn();
    expect(counted.claims).toBeGreaterThanOrEqual(2);
    expect(await counted.queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
    await herald.stop();
  });

  it('without onWake, the same job waits for the poll interval', async () => {
    const counted = countedQueue();
    const { onWake: _pollOnly, ...pollOnly } = counted.queue;
    const options = engineOptions(pollOnly);
    const herald = createHerald(options);
    herald.start();
    for (let turn = 0; turn < 20; turn += 1) await nextTurn();
    await pollOnly.enqueue([
      {
        name: 'herald.audience-page',
        payload: { campaignId: 'cmp_gone', occurrence: '2026-03-02T09:00:00.000Z', after: null, page: 0 },
        runAt: new Date('2026-03-02T09:00:00Z'),
      },
    ]);
    for (let turn = 0; turn < 20; turn += 1) await nextTurn();
    expect(counted.claims).toBe(1);
    expect((await pollOnly.counts()).waiting).toBe(1);
    await herald.stop();
  });
});
