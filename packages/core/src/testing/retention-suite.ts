import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateVapidKeys, webPush } from '../delivery/index.js';
import { createDevPushService, type DevPushService } from '../dev/push-service.js';
import type { CreateCampaignInput, Herald } from '../engine/api.js';
import { createHerald } from '../engine/create-herald.js';
import { inControlGroup } from '../engine/deliver/gates/control-group.js';
import { ValidationError } from '../errors/index.js';
import type { HeraldPayload } from '../payload/index.js';
import type { Counters } from '../ports/counters.js';
import type { Queue } from '../ports/queue.js';
import type { Storage } from '../ports/storage.js';
import { type FakeClock, fakeClock } from './fake-clock.js';
import { uid } from './fixtures.js';

export interface RetentionSuiteOptions {
  name: string;
  /**
   * The storage over an empty store, with the counters that go with it (shared storage needs shared
   * ones), and how to open an empty queue for each test; called once.
   */
  create: () => Promise<{ storage: Storage; newQueue: () => Queue; counters?: Counters }>;
  /** Empties the store between tests. */
  reset: () => Promise<void>;
  close?: () => Promise<void>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const USERS = 12;

/**
 * USERS user ids of which a quarter fall in the campaign's 25% control group. The draw hashes the
 * campaign's random id, so the users are picked for it: left to the draw, twelve users hold nobody
 * out about one run in thirty.
 */
function usersWithControl(campaignId: string): string[] {
  const held = USERS / 4;
  const control: string[] = [];
  const treated: string[] = [];
  for (let i = 0; control.length < held || treated.length < USERS - held; i++) {
    const userId = `user-${String(i).padStart(3, '0')}`;
    const group = inControlGroup(campaignId, userId, 25) ? control : treated;
    if (group.length < (group === control ? held : USERS - held)) group.push(userId);
  }
  return [...control, ...treated];
}

/**
 * `herald.prune` through the whole engine on one storage and queue: what it
 * removes, what it must keep for live campaigns and attribution, and that
 * the figures of a finished campaign are the same before and after.
 */
export function runRetentionSuite(options: RetentionSuiteOptions): void {
  describe(`${options.name}: retention (herald.prune)`, () => {
    let storage: Storage;
    let newQueue: () => Queue;
    let queue: Queue;
    let counters: Counters | undefined;
    let clock: FakeClock;
    let herald: Herald;
    let service: DevPushService;
    const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

    beforeAll(async () => {
      ({ storage, newQueue, counters } = await options.create());
      service = createDevPushService();
      await service.start();
    });
    beforeEach(async () => {
      await options.reset();
      service.clear();
      queue = newQueue();
      clock = fakeClock('2026-03-01T09:00:00Z');
      herald = createHerald({
        storage,
        queue,
        ...(counters ? { counters } : {}),
        providers: { webpush: webPush({ vapid }) },
        clock,
        allowEndpoint: [service.url],
        random: () => 0.5,
        reportSecret: 'retention-suite-secret',
        tuning: { batchSize: 5 },
      });
    });
    afterAll(async () => {
      await service.stop();
      await options.close?.();
    });

    async function subscribers(users: number | string[]): Promise<void> {
      const ids =
        typeof users === 'number'
          ? Array.from({ length: users }, (_, i) => `user-${String(i).padStart(2, '0')}`)
          : users;
      for (const [i, userId] of ids.entries()) {
        await herald.profiles.upsert({ userId, properties: { plan: 'pro' } });
        await herald.subscriptions.add({ userId, subscription: service.createSubscription() });
        await herald.events.track({ userId, name: 'Viewed', properties: { page: i } });
      }
    }

    async function launch(input: Partial<CreateCampaignInput>) {
      const campaign = await herald.campaigns.create({
        name: 'Spring sale',
        who: { segment: { type: 'all' } },
        what: { title: 'Hello', deeplink: 'https://shop.example.com/sale' },
        when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } },
        ...input,
      });
      return herald.campaigns.schedule(campaign.id);
    }

    /** Ticks the engine every `step` until `until`. */
    async function runUntil(until: string, step = 10 * MINUTE): Promise<void> {
      while (clock.now() < new Date(until)) {
        await herald.tick();
        await clock.advance(step);
      }
      await herald.tick();
    }

    it('keeps stats, runs and timeline of a finished campaign whole while events, decisions and failed jobs go', async () => {
      const campaign = await launch({
        setup: {
          controlGroupPercent: 25,
          conversion: { event: { name: 'Charged' }, windowHours: 24, revenueProperty: 'amount' },
        },
      });
      await subscribers(usersWithControl(campaign.id));
      await runUntil('2026-03-01T11:00:00Z');
      // Reports and conversions from the first recipients, as service workers and the shop send them.
      const payloads = service.received.map((message) => JSON.parse(message.plaintext) as HeraldPayload);
      expect(payloads.length).toBeGreaterThan(4);
      for (const [index, payload] of payloads.slice(0, 4).entries()) {
        expect(
          await herald.reports.record({
            kind: index % 2 === 0 ? 'clicked' : 'viewed',
            token: payload.herald.token,
            reportId: `report-${index}-0000`,
          }),
        ).toBe(true);
        await herald.events.track({
          userId: payload.herald.userId,
          name: 'Charged',
          properties: { amount: 10 },
        });
      }
      // A job that failed for good, as a worker gives up on one.
      await queue.enqueue([{ name: 'retention-suite', payload: {}, runAt: clock.now() }]);
      const [claimed] = await queue.claim({
        limit: 1,
        leaseMs: MINUTE,
        now: clock.now(),
        names: ['retention-suite'],
      });
      expect(await queue.fail(claimed!.id, claimed!.token, 'gave up')).toBe(true);

      const stats = await herald.campaigns.stats(campaign.id);
      // Every figure the prune could touch is there to be compared.
      expect(stats).toMatchObject({
        recipients: USERS,
        viewed: 2,
        clicked: 2,
        conversions: { recipients: { conversions: 4 } },
      });
      expect(stats.sent).toBe(payloads.length);
      expect(stats.control).toBe(USERS / 4);
      const runs = await herald.campaigns.runs(campaign.id);
      const timeline = await herald.campaigns.timeline(campaign.id);
      const someone = payloads[0]!.herald.userId;
      const explainedBefore = await herald.campaigns.explain(campaign.id, someone);

      await clock.advance(40 * DAY);
      const result = await herald.prune({
        olderThan: { events: '30d', decisions: '30d', jobs: '7d' },
        batchSize: 7,
      });
      expect(result.dryRun).toBe(false);
      // Every user's Viewed event and four Charged events, the decision log of every user, the failed job.
      expect(result.events).toMatchObject({ deleted: USERS + 4, complete: true, keptForCampaigns: false });
      expect(result.decisions?.deleted).toBeGreaterThanOrEqual(USERS);
      expect(result.jobs).toMatchObject({ deleted: 1, complete: true });
      expect(result.events?.cutoff).toEqual(new Date(clock.now().getTime() - 30 * DAY));

      expect(await herald.campaigns.stats(campaign.id)).toEqual(stats);
      expect(await herald.campaigns.runs(campaign.id)).toEqual(runs);
      expect(await herald.campaigns.timeline(campaign.id)).toEqual(timeline);
      expect(await queue.counts()).toEqual({ waiting: 0, active: 0, failed: 0 });
      // What pruning costs: explain has no decision log left for that user.
      expect(JSON.stringify(await herald.campaigns.explain(campaign.id, someone))).not.toEqual(
        JSON.stringify(explainedBefore),
      );
      expect(await storage.listEvents({ userId: uid(someone) })).toEqual([]);
      // A second pass finds nothing.
      const again = await herald.prune({ olderThan: { events: '30d', decisions: '30d', jobs: '7d' } });
      expect([again.events?.deleted, again.decisions?.deleted, again.jobs?.deleted]).toEqual([0, 0, 0]);
    });

    it('keeps the events a live inaction trigger and the decisions a conversion window still read', async () => {
      await subscribers(2);
      // Abandoned carts: a Carted not followed by Charged within 3 days.
      await launch({
        when: {
          schedule: {
            type: 'inaction',
            event: { name: 'Carted' },
            notFollowedBy: { name: 'Charged' },
            within: { amount: 3, unit: 'days' },
          },
        },
        setup: { conversion: { event: { name: 'Charged' }, windowHours: 24 * 10 } },
      });
      await herald.tick();
      await clock.advance(2 * DAY);
      await herald.events.track({ userId: 'user-00', name: 'Carted', properties: {} });
      await clock.advance(2 * DAY);

      const asked = { olderThan: { events: '1h', decisions: '1h' } } as const;
      const dry = await herald.prune({ ...asked, dryRun: true });
      const now = clock.now().getTime();
      // Inaction window 3 days + 1 day margin; conversion window 10 days + 1 day margin.
      expect(dry).toEqual({
        dryRun: true,
        events: { cutoff: new Date(now - 4 * DAY), keptForCampaigns: true, deleted: 0, complete: true },
        decisions: { cutoff: new Date(now - 11 * DAY), keptForCampaigns: true, deleted: 0, complete: true },
      });
      const result = await herald.prune(asked);
      // The Viewed events of 4 days ago (at the cutoff itself: not before it) and the Carted event stay.
      expect(result.events?.deleted).toBe(0);
      expect((await storage.listEvents({ userId: uid('user-00') })).map((event) => event.name)).toEqual([
        'Viewed',
        'Carted',
      ]);
      // The abandoned-cart reminder still fires when its window ends, reading the events kept.
      await clock.advance(DAY + MINUTE);
      await herald.tick();
      expect(service.received).toHaveLength(1);
    });

    it('stops between batches when the signal aborts, and refuses ages it cannot read', async () => {
      await subscribers(6);
      await clock.advance(10 * DAY);
      const abort = new AbortController();
      abort.abort();
      const stopped = await herald.prune({ olderThan: { events: '1d' }, batchSize: 2, signal: abort.signal });
      expect(stopped.events).toMatchObject({ deleted: 0, complete: false });
      const done = await herald.prune({ olderThan: { events: 86_400_000 }, batchSize: 2 });
      expect(done.events).toMatchObject({ deleted: 6, complete: true });
      await expect(herald.prune({ olderThan: { events: '30 days' } })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(herald.prune({ olderThan: { events: -5 } })).rejects.toBeInstanceOf(ValidationError);
      await expect(
        herald.prune({ olderThan: { recipients: '30d' } } as unknown as Parameters<Herald['prune']>[0]),
      ).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
