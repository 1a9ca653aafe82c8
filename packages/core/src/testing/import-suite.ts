import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryQueue } from '../adapters/memory-queue.js';
import type { PushProvider } from '../delivery/provider.js';
import type { Herald } from '../engine/api.js';
import { createHerald } from '../engine/create-herald.js';
import { IMPORT_BATCH } from '../engine/imports.js';
import type { Counters } from '../ports/counters.js';
import type { Storage } from '../ports/storage.js';
import { type FakeClock, fakeClock } from './fake-clock.js';
import { P256DH } from './fixtures.js';

export interface ImportSuiteOptions {
  name: string;
  /** A Storage over an empty store, with the counters that go with it (shared storage needs shared ones); called once before the suite. */
  create: () => Promise<{ storage: Storage; counters?: Counters }>;
  /** Empties the store between tests. */
  reset: () => Promise<void>;
  close?: () => Promise<void>;
}

const NOW = '2026-03-05T09:00:00Z';
// A real P-256 point: subscribe refuses a p256dh that is not one.
const KEYS = { p256dh: P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' };
const endpoint = (name: string) => `https://push.example.test/send/${name}`;

/**
 * profiles.import / subscriptions.import / events.import through the whole
 * engine on one storage: every row validated, bad rows reported by index and
 * the good ones written with the single-row calls' rules, on every adapter.
 */
export function runImportSuite(options: ImportSuiteOptions): void {
  describe(`${options.name}: bulk imports`, () => {
    let storage: Storage;
    let counters: Counters | undefined;
    let clock: FakeClock;
    let herald: Herald;
    let sent: string[];

    beforeAll(async () => {
      ({ storage, counters } = await options.create());
    });
    beforeEach(async () => {
      await options.reset();
      clock = fakeClock(NOW);
      sent = [];
      const provider: PushProvider = {
        target: 'webpush',
        send: async (message) => {
          sent.push(message.subscription.userId);
          return { kind: 'sent', statusCode: 201 };
        },
        close: async () => undefined,
      };
      herald = createHerald({
        storage,
        ...(counters ? { counters } : {}),
        queue: memoryQueue(),
        providers: { webpush: provider },
        clock,
        allowEndpoint: [/^https:\/\/push\.example\.test\//],
        reportSecret: 'x'.repeat(32),
      });
    });
    afterAll(async () => {
      await options.close?.();
    });

    it('profiles: writes the good rows, reports each bad one by index and path, keeps what a row leaves out', async () => {
      await herald.profiles.upsert({
        userId: 'ann',
        timezone: 'Asia/Kolkata',
        test: true,
        properties: { a: 1 },
      });
      const result = await herald.profiles.import([
        { userId: 'ann', properties: { plan: 'pro' } },
        { userId: 'bob', timezone: 'Mars/Olympus' },
        // A misspelt key, as a JavaScript caller or a CSV header may send it.
        { userId: 'carl', properties: { plan: 'free' }, tset: true } as never,
        { userId: 'dana' },
        // A user named twice: the second row merges onto the first, as two upserts would.
        { userId: 'dana', timezone: 'Europe/Paris' },
        'not a row' as never,
      ]);
      expect(result.imported).toBe(3);
      expect(result.rejected.map(({ index, path }) => ({ index, path }))).toEqual([
        { index: 1, path: 'timezone' },
        { index: 2, path: 'tset' },
        { index: 5, path: '' },
      ]);
      expect(await herald.profiles.get('ann')).toMatchObject({
        timezone: 'Asia/Kolkata',
        test: true,
        properties: { plan: 'pro' },
      });
      expect(await herald.profiles.get('dana')).toMatchObject({ timezone: 'Europe/Paris', properties: {} });
      expect(await herald.profiles.get('bob')).toBeNull();
      expect(await herald.profiles.get('carl')).toBeNull();
    });

    it(`profiles: more rows than one batch (${IMPORT_BATCH}) are all written`, async () => {
      const rows = Array.from({ length: IMPORT_BATCH * 2 + 7 }, (_, i) => ({
        userId: `user-${i}`,
        properties: { n: i },
      }));
      expect(await herald.profiles.import(rows)).toEqual({ imported: rows.length, rejected: [] });
      expect(await herald.profiles.get(`user-${rows.length - 1}`)).toMatchObject({
        properties: { n: rows.length - 1 },
      });
      expect(await herald.segments.estimateReach({ type: 'all' })).toMatchObject({ qualified: rows.length });
    });

    it('subscriptions: checks endpoints and keys as add does, creates profiles with the zone, keeps createdAt on a re-import', async () => {
      await herald.profiles.upsert({ userId: 'ann', properties: { plan: 'pro' } });
      const rows = [
        { userId: 'ann', subscription: { endpoint: endpoint('ann'), keys: KEYS }, timezone: 'Europe/Paris' },
        { userId: 'bob', subscription: { endpoint: 'https://evil.example.com/x', keys: KEYS } },
        { userId: 'carl', subscription: { endpoint: endpoint('carl'), keys: { ...KEYS, auth: 'short' } } },
        { target: 'safari' as const, userId: 'dana', deviceToken: 'AB'.repeat(32) },
      ];
      const first = await herald.subscriptions.import(rows);
      expect(first.imported).toBe(2);
      expect(first.rejected.map(({ index, path }) => ({ index, path }))).toEqual([
        { index: 1, path: 'subscription.endpoint' },
        { index: 2, path: 'subscription.keys.auth' },
      ]);
      expect(await herald.profiles.get('ann')).toMatchObject({
        timezone: 'Europe/Paris',
        properties: { plan: 'pro' },
      });
      expect(await herald.profiles.get('dana')).toMatchObject({ properties: {}, test: false });
      expect(await herald.profiles.get('bob')).toBeNull();
      const [annSubscription] = await herald.subscriptions.list('ann');
      expect(annSubscription).toMatchObject({ endpoint: endpoint('ann'), createdAt: new Date(NOW) });
      expect((await herald.subscriptions.list('dana'))[0]).toMatchObject({ deviceToken: 'ab'.repeat(32) });

      await clock.advance(60_000);
      expect((await herald.subscriptions.import([rows[0]!])).imported).toBe(1);
      expect(await herald.subscriptions.list('ann')).toEqual([
        { ...annSubscription, updatedAt: new Date(clock.now()) },
      ]);
    });

    it('profiles and subscriptions: a user in two batches gets the later row merged onto the earlier', async () => {
      // The second batch is checked and read while the first is written: what it reads must still include the first.
      const profileRows = [
        ...Array.from({ length: IMPORT_BATCH }, (_, i) => ({ userId: `user-${i}`, properties: { n: i } })),
        { userId: 'user-0', timezone: 'Europe/Paris' },
      ];
      expect((await herald.profiles.import(profileRows)).imported).toBe(IMPORT_BATCH + 1);
      expect(await herald.profiles.get('user-0')).toMatchObject({
        properties: { n: 0 },
        timezone: 'Europe/Paris',
      });

      const subscriptionRows = [
        { userId: 'zoe', subscription: { endpoint: endpoint('zoe-1'), keys: KEYS }, timezone: 'Asia/Tokyo' },
        ...Array.from({ length: IMPORT_BATCH - 1 }, (_, i) => ({
          userId: `user-${i}`,
          subscription: { endpoint: endpoint(`user-${i}`), keys: KEYS },
        })),
        // Next batch: zoe's profile (made by the first batch, with her zone) is kept, not made again without it.
        { userId: 'zoe', subscription: { endpoint: endpoint('zoe-2'), keys: KEYS } },
      ];
      expect((await herald.subscriptions.import(subscriptionRows)).imported).toBe(IMPORT_BATCH + 1);
      expect(await herald.profiles.get('zoe')).toMatchObject({ timezone: 'Asia/Tokyo' });
      expect((await herald.subscriptions.list('zoe')).map((subscription) => subscription.id)).toHaveLength(2);
    });

    it('subscriptions: a row refused for its address is reported and not counted as imported', async () => {
      const resolving = createHerald({
        storage,
        ...(counters ? { counters } : {}),
        queue: memoryQueue(),
        providers: {
          webpush: {
            target: 'webpush',
            send: async () => ({ kind: 'sent', statusCode: 201 }),
            close: async () => undefined,
          },
        },
        clock,
        resolveHost: async (host) => (host === 'fcm.googleapis.com' ? ['10.0.0.7'] : ['142.250.0.1']),
        reportSecret: 'x'.repeat(32),
      });
      const result = await resolving.subscriptions.import([
        { userId: 'ann', subscription: { endpoint: 'https://fcm.googleapis.com/fcm/send/a', keys: KEYS } },
        {
          userId: 'bob',
          subscription: { endpoint: 'https://updates.push.services.mozilla.com/wpush/v2/b', keys: KEYS },
        },
      ]);
      expect(result.imported).toBe(1);
      expect(result.rejected.map(({ index, path }) => ({ index, path }))).toEqual([
        { index: 0, path: 'subscription.endpoint' },
      ]);
      expect(await resolving.subscriptions.list('ann')).toEqual([]);
      expect(await resolving.subscriptions.list('bob')).toHaveLength(1);
    });

    it('events: recorded for segments; live campaigns ignore them unless live: true', async () => {
      await herald.subscriptions.import([
        { userId: 'ann', subscription: { endpoint: endpoint('ann'), keys: KEYS } },
        { userId: 'bob', subscription: { endpoint: endpoint('bob'), keys: KEYS } },
      ]);
      const campaign = await herald.campaigns.create({
        name: 'Welcome back',
        when: { schedule: { type: 'onEvent', event: { name: 'Login' } } },
        who: { segment: { type: 'all' } },
        what: { title: 'Welcome back', deeplink: 'https://shop.example.com/' },
      });
      await herald.campaigns.schedule(campaign.id);
      await herald.tick();

      const history = await herald.events.import([
        { userId: 'ann', name: 'Login', time: '2026-03-01T10:00:00Z' },
        { userId: 'ann', name: 'Login', time: '2026-03-02T10:00:00Z' },
        { userId: 'bob', name: '' },
      ]);
      expect(history.imported).toBe(2);
      expect(history.rejected.map(({ index, path }) => ({ index, path }))).toEqual([
        { index: 2, path: 'name' },
      ]);
      await herald.tick();
      expect(sent).toEqual([]);
      expect(
        await herald.segments.estimateReach({
          type: 'did',
          event: { name: 'Login' },
          count: { op: 'atLeast', value: 2 },
          window: { inLast: { amount: 30, unit: 'days' } },
        }),
      ).toMatchObject({ qualified: 1 });

      expect((await herald.events.import([{ userId: 'bob', name: 'Login' }], { live: true })).imported).toBe(
        1,
      );
      await herald.tick();
      expect(sent).toEqual(['bob']);
    });
  });
}
