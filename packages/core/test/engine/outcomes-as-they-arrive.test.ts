import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createHerald,
  type Delivery,
  type DeliveryOutcome,
  type Herald,
  type InFlight,
  memoryQueue,
  memoryStorage,
  type OutboundMessage,
  type PushProvider,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { addDevices, DUE, endpointFor, scheduleOnce } from './once-campaign.js';

/** A push provider that answers each request a few event-loop turns later (varied), so sends overlap. */
function slowProvider(onRequest: (request: OutboundMessage) => void): PushProvider {
  let requests = 0;
  return {
    target: 'webpush',
    async send(request): Promise<DeliveryOutcome> {
      onRequest(request);
      const turns = 1 + (requests++ % 4);
      for (let turn = 0; turn < turns; turn += 1) await nextTurn();
      return { kind: 'sent', statusCode: 201 };
    },
    close: async () => {},
  };
}

describe('delivery outcomes are stored as they arrive', () => {
  it('in small groups, never more than sendConcurrency messages between request and stored outcome', async () => {
    const users = 40;
    const sendConcurrency = 8;
    const inner = memoryStorage();
    const writes: number[] = [];
    let stored = 0;
    const storage: Storage = {
      ...inner,
      async recordDeliveries(rows: readonly Delivery[]) {
        await nextTurn();
        await inner.recordDeliveries(rows);
        writes.push(rows.length);
        stored += rows.length;
      },
    };
    let requested = 0;
    let widestWindow = 0;
    const gauges: InFlight[] = [];
    let herald: Herald | undefined;
    const clock = fakeClock('2026-03-01T09:00:00Z');
    herald = createHerald({
      storage,
      queue: memoryQueue(),
      clock,
      logger: silentLogger,
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      providers: {
        webpush: slowProvider(() => {
          requested += 1;
          widestWindow = Math.max(widestWindow, requested - stored);
          if (herald) gauges.push(herald.inFlight());
        }),
      },
      tuning: { batchSize: users, sendConcurrency, concurrency: 1 },
    });
    for (let i = 0; i < users; i += 1) {
      const userId = `user-${i}`;
      await addDevices(herald, userId, 1);
    }
    const campaignId = await scheduleOnce(herald, 'Outcomes as they arrive');
    await clock.set(DUE);
    await herald.tick();

    expect(requested).toBe(users);
    expect((await herald.campaigns.stats(campaignId)).sent).toBe(users);
    // One batch, many writes: each a small group, all rows stored once.
    expect(writes.length).toBeGreaterThanOrEqual(users / sendConcurrency);
    expect(Math.max(...writes)).toBeLessThanOrEqual(sendConcurrency);
    expect(writes.reduce((sum, rows) => sum + rows, 0)).toBe(users);
    // The push service never held more than sendConcurrency messages whose outcome was not stored.
    expect(widestWindow).toBeLessThanOrEqual(sendConcurrency);
    // The gauge saw the same window from inside, this request included.
    for (const gauge of gauges) {
      expect(gauge.jobs).toBe(1);
      expect(gauge.requests).toBeGreaterThanOrEqual(1);
      expect(gauge.requests + gauge.unrecorded).toBeLessThanOrEqual(sendConcurrency);
    }
    expect(Math.max(...gauges.map((gauge) => gauge.requests + gauge.unrecorded))).toBeGreaterThan(1);
    expect(herald.inFlight()).toEqual({ jobs: 0, requests: 0, unrecorded: 0 });
    await herald.stop();
  });

  it('a batch run again after a lost outcome write re-sends only that message, and takes no cap twice', async () => {
    const inner = memoryStorage();
    let writesLeftBeforeFault = 1;
    let faults = 0;
    const storage: Storage = {
      ...inner,
      async recordDeliveries(rows: readonly Delivery[]) {
        // The second write is lost, as if the worker were killed between the 201 and storing it.
        if (writesLeftBeforeFault-- === 0) {
          faults += 1;
          throw new Error('connection lost while storing outcomes');
        }
        await inner.recordDeliveries(rows);
      },
    };
    const received: string[] = [];
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const herald = createHerald({
      storage,
      queue: memoryQueue(),
      clock,
      logger: silentLogger,
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      random: () => 0.5,
      limits: { perUser: { perDay: 1 } },
      providers: {
        webpush: slowProvider((request) => {
          if (request.subscription.target === 'webpush') received.push(request.subscription.endpoint);
        }),
      },
      // One send at a time: the first device's outcome is stored before the second is sent.
      tuning: { sendConcurrency: 1, concurrency: 1 },
    });
    await addDevices(herald, 'ada', 2);
    const campaignId = await scheduleOnce(herald, 'Outcomes as they arrive');
    await clock.set(DUE);
    await herald.tick();
    expect(faults).toBe(1);
    // The job failed and waits for its retry; the first device's outcome is stored, the second's is not.
    await clock.advance(10 * 60_000);
    await herald.tick();

    // The first device got one message; the second, whose outcome was lost, got it again.
    expect(received.filter((endpoint) => endpoint === endpointFor('ada', 0))).toHaveLength(1);
    expect(received.filter((endpoint) => endpoint === endpointFor('ada', 1))).toHaveLength(2);
    const stats = await herald.campaigns.stats(campaignId);
    // The run that sent the first device took ada's one message a day; the second run must not be capped by it.
    expect(stats.skipped).toEqual({});
    expect(stats.sent).toBe(2);
    expect(stats.pending).toBe(0);
    await herald.stop();
  });
});
