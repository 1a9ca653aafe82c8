import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createHerald, memoryQueue, memoryStorage, type Queue, silentLogger } from '../../../src/index.js';
import { fakeClock } from '../../../src/testing/index.js';

/**
 * The loop `herald.start()` runs must wait while there is nothing to do. A pool
 * with no running job answered "a slot is free" at once, so an idle engine
 * claimed in a tight loop (a core at 100 % in the example app). With a fake
 * clock that never moves, an idle engine claims once and then sleeps.
 */
describe('an idle engine', () => {
  it('claims once and waits for the poll interval instead of spinning', async () => {
    const queue = memoryQueue();
    let claims = 0;
    // Each claim also yields a macrotask turn, so a spinning loop could not starve this test.
    const counted: Queue = {
      ...queue,
      claim: async (options) => {
        claims += 1;
        await nextTurn();
        return queue.claim(options);
      },
    };
    const herald = createHerald({
      storage: memoryStorage(),
      queue: counted,
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
    herald.start();
    for (let turn = 0; turn < 50; turn += 1) await nextTurn();
    expect(claims).toBe(1);
    await herald.stop();
  });
});
