import {
  createHerald,
  generateVapidKeys,
  type Herald,
  type HeraldEvent,
  type Logger,
  type Storage,
  webPush,
} from '@herald/core';
import { createTestPushService, fakeClock, type TestPushService } from '@herald/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresCounters, postgresQueue, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, testPool } from './helpers.js';

vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

const USERS = 8;
const ENGINES = 3;
const HOUR = 3_600_000;

/**
 * Every process runs the scheduler (there is no lease): three engines on one
 * Postgres, each with its own pool as separate processes would have, pass
 * by pass at the same instants of one fake clock for a simulated week. Each
 * occurrence of a daily and a weekly campaign must start once, read each
 * audience page once, finish once, and reach each user once.
 */
describe('schedulers in every process', () => {
  let backend: Backend;
  let service: TestPushService;
  let serviceUrl: string;
  const pools: pg.Pool[] = [];
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

  beforeAll(async () => {
    backend = await openBackend('postgres', 'schedulers');
    for (let n = 0; n < ENGINES; n += 1) pools.push(testPool(3));
    service = createTestPushService();
    serviceUrl = (await service.start()).url;
  });
  afterAll(async () => {
    await service.stop();
    await Promise.all(pools.map((pool) => pool.end()));
    await backend.close();
  });

  it('start each occurrence of a recurring campaign once over a week, with the version check alone', async () => {
    const clock = fakeClock('2026-05-04T00:30:00Z');
    const started: Extract<HeraldEvent, { type: 'occurrence-started' }>[] = [];
    const finished: string[] = [];
    /**
     * Audience reads, one per page fan-out reads. A second start a worker takes before the losing
     * pass withdraws it finds its page recorded and reads nothing (fanout.ts), so this stays at
     * three pages an occurrence; counting page-0 claims instead failed in CI when one was taken.
     */
    let audienceReads = 0;
    const countingReads = (storage: Storage): Storage => ({
      ...storage,
      selectAudience(segment, options) {
        audienceReads += 1;
        return storage.selectAudience(segment, options);
      },
    });
    /** Warnings and errors (a failed job, a refused push): none is expected, and one says why a count is off. */
    const complaints: string[] = [];
    const complain = (message: string, fields?: Record<string, unknown>) => {
      complaints.push(`${message} ${JSON.stringify(fields ?? {})}`);
    };
    const logger: Logger = { debug() {}, info() {}, warn: complain, error: complain };
    const engines: Herald[] = pools.map((client) =>
      createHerald({
        storage: countingReads(postgresStorage({ client, schema: backend.schema })),
        queue: postgresQueue({ client, schema: backend.schema }),
        counters: postgresCounters({ client, schema: backend.schema }),
        providers: { webpush: webPush({ vapid }) },
        clock,
        logger,
        reportSecret: 'schedulers-everywhere-secret-long-enough',
        allowEndpoint: [serviceUrl],
        random: () => 0.5,
        onEvent: (event) => {
          if (event.type === 'occurrence-started') started.push(event);
          if (event.type === 'occurrence-finished') finished.push(`${event.campaignId}|${event.occurrence}`);
        },
        // Small pages and batches: each occurrence is several jobs the engines share.
        tuning: { pageSize: 4, batchSize: 2, concurrency: 2 },
      }),
    );
    const [first] = engines as [Herald];
    const userOf = new Map<string, string>();
    for (let n = 0; n < USERS; n += 1) {
      const subscription = service.createSubscription();
      userOf.set(subscription.endpoint, `user-${n}`);
      await first.subscriptions.add({ userId: `user-${n}`, subscription });
    }
    const daily = await first.campaigns.create({
      name: 'Daily digest',
      when: {
        schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 1 } },
        timezone: 'UTC',
      },
      who: { segment: { type: 'all' } },
      what: { title: 'Digest', deeplink: 'https://shop.example.com/' },
    });
    const weekly = await first.campaigns.create({
      name: 'Mon, Wed, Fri',
      when: {
        schedule: { type: 'recurring', time: '18:30', every: { unit: 'week', weekdays: [1, 3, 5] } },
        timezone: 'UTC',
      },
      who: { segment: { type: 'all' } },
      what: { title: 'Deals', deeplink: 'https://shop.example.com/' },
    });
    await first.campaigns.schedule(daily.id);
    await first.campaigns.schedule(weekly.id);
    const before = service.received.length;

    // Monday 00:30 to Sunday 23:30, every half hour: all three engines pass at once each time.
    for (let step = 0; step < 7 * 48; step += 1) {
      await Promise.all(engines.map((engine) => engine.tick()));
      await clock.advance(HOUR / 2);
    }
    await Promise.all(engines.map((engine) => engine.tick()));

    const occurrencesOf = (campaignId: string) =>
      started.filter((event) => event.campaignId === campaignId).map((event) => event.occurrence);
    // Seven days at 10:00; Monday, Wednesday and Friday at 18:30. Each once.
    expect(occurrencesOf(daily.id)).toEqual(
      [4, 5, 6, 7, 8, 9, 10].map((day) => `2026-05-${String(day).padStart(2, '0')}T10:00:00.000Z`),
    );
    expect(occurrencesOf(weekly.id)).toEqual([
      '2026-05-04T18:30:00.000Z',
      '2026-05-06T18:30:00.000Z',
      '2026-05-08T18:30:00.000Z',
    ]);
    // Each user got each occurrence's message once.
    const messages = new Map<string, number>();
    for (const message of service.received.slice(before)) {
      const { herald } = JSON.parse(message.plaintext) as {
        herald: { campaignId: string; occurrence: string };
      };
      const key = `${userOf.get(message.subscriptionEndpoint)}|${herald.campaignId}|${herald.occurrence}`;
      messages.set(key, (messages.get(key) ?? 0) + 1);
    }
    expect(messages.size).toBe(USERS * (7 + 3));
    expect([...messages.values()].every((count) => count === 1)).toBe(true);
    expect(complaints).toEqual([]);
    // Each occurrence finished once, having read its pages once: 8 users, 4 a page, and the empty third.
    expect(finished).toHaveLength(7 + 3);
    expect(new Set(finished).size).toBe(7 + 3);
    expect(audienceReads).toBe((7 + 3) * 3);
    await Promise.all(engines.map((engine) => engine.stop()));
  });
});
