import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../errors/index.js';
import {
  type Campaign,
  CampaignHistoryEntry,
  type Conversion,
  type Decision,
  type SegmentDefinition,
  type Subscription,
  type UserId,
} from '../model/index.js';
import type { Interaction, RecipientUpdate, Storage } from '../ports/storage.js';
import { evaluateSegment } from '../segments/evaluate.js';
import {
  at,
  byUserId,
  campaign,
  cid,
  DAY,
  delivery,
  HOUR,
  MINUTE,
  profile,
  recipient,
  safariSubscription,
  shuffled,
  T0,
  uid,
  webPushSubscription,
} from './fixtures.js';
import type { StorageSuiteOptions } from './harness.js';
import { MATRIX_NOW, matrixProfiles, matrixSegments } from './segment-matrix.js';
import { describeSegmentStorage } from './segment-storage-suite.js';

const sortIds = (ids: readonly string[]): string[] => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const pad = (n: number): string => String(n).padStart(4, '0');

/** Reads a whole audience page by page, as the engine's fan-out does. */
async function readAllPages(
  storage: Storage,
  segment: SegmentDefinition,
  limit: number,
  now: Date,
): Promise<{ pages: UserId[][]; ids: UserId[] }> {
  const pages: UserId[][] = [];
  let after: UserId | null = null;
  for (;;) {
    const page: UserId[] = await storage.selectAudience(segment, { after, limit, now });
    pages.push(page);
    if (page.length < limit) break;
    after = page[page.length - 1]!;
  }
  return { pages, ids: pages.flat() };
}

/**
 * The Storage conformance suite. Every adapter runs it against its real
 * backend; `inspect` reads what was really stored, so an adapter cannot pass
 * by echoing its input. Only port behaviour is checked: list orders the port
 * leaves open are compared sorted.
 */
export function runStorageSuite(options: StorageSuiteOptions): void {
  const { inspect } = options;

  describe(`${options.name} storage conformance`, () => {
    let storage: Storage;

    beforeAll(async () => {
      storage = await options.create();
    });
    beforeEach(async () => {
      await options.reset();
    });
    afterAll(async () => {
      await options.close?.();
    });

    describeSegmentStorage(() => storage, inspect);

    describe('profiles', () => {
      it('stores a profile and reads it back unchanged', async () => {
        const ann = profile(
          'ann',
          {
            plan: 'pro',
            age: 30,
            vip: true,
            score: 2.5,
            none: null,
            tags: ['a', 'b'],
            address: { city: 'Zürich' },
          },
          { timezone: 'Europe/Zurich', test: true },
        );
        await storage.upsertProfile(ann);
        expect(await inspect.countRows('profiles')).toBe(1);
        expect(await storage.getProfile(uid('ann'))).toEqual(ann);
      });

      it('upserts: a second write of the same user replaces the first, in one row', async () => {
        await storage.upsertProfile(profile('ann', { plan: 'free', old: 1 }));
        const updated = profile('ann', { plan: 'pro' }, { updatedAt: at(HOUR), timezone: 'Asia/Tokyo' });
        await storage.upsertProfile(updated);
        expect(await inspect.countRows('profiles')).toBe(1);
        expect(await storage.getProfile(uid('ann'))).toEqual(updated);
      });

      it('returns null for an unknown user', async () => {
        expect(await storage.getProfile(uid('nobody'))).toBeNull();
      });

      it('upsertProfiles stores a batch as upsertProfile would, replacing stored ones; a repeated id keeps the last', async () => {
        await storage.upsertProfile(profile('ann', { plan: 'free' }));
        const batch = Array.from({ length: 2500 }, (_, i) =>
          profile(`u${pad(i)}`, { n: i }, i % 2 === 0 ? { timezone: 'Europe/Paris' } : { test: true }),
        );
        const annAgain = profile('ann', { plan: 'pro' }, { timezone: 'Asia/Tokyo', updatedAt: at(DAY) });
        await storage.upsertProfiles([
          ...batch,
          profile('dup', { version: 1 }),
          annAgain,
          profile('dup', { version: 2 }),
        ]);
        expect(await inspect.countRows('profiles')).toBe(2502);
        expect(await storage.getProfile(uid('ann'))).toEqual(annAgain);
        expect((await storage.getProfile(uid('dup')))?.properties).toEqual({ version: 2 });
        expect(await storage.getProfiles([uid('u0000'), uid('u0001')])).toEqual([batch[0], batch[1]]);
        await storage.upsertProfiles([]);
        expect(await inspect.countRows('profiles')).toBe(2502);
      });

      it('getProfiles returns the known users among many ids and skips unknown ones', async () => {
        const users = Array.from({ length: 30 }, (_, i) => profile(`u${pad(i)}`, { i }));
        for (const u of users) await storage.upsertProfile(u);
        const wanted = [uid('u0003'), uid('missing'), uid('u0017'), uid('u0029')];
        const found = await storage.getProfiles(wanted);
        expect([...found].sort(byUserId)).toEqual([users[3], users[17], users[29]]);
        expect(await storage.getProfiles([])).toEqual([]);
      });

      it('getProfileZones gives each known user its zone or null, and skips unknown ones', async () => {
        await storage.upsertProfiles([
          profile('ann', {}, { timezone: 'Europe/Paris' }),
          profile('bob', { plan: 'pro' }),
        ]);
        const zones = await storage.getProfileZones([uid('ann'), uid('missing'), uid('bob'), uid('ann')]);
        expect([...zones].sort(([a], [b]) => a.localeCompare(b))).toEqual([
          ['ann', 'Europe/Paris'],
          ['bob', null],
        ]);
        expect((await storage.getProfileZones([])).size).toBe(0);
      });

      it('keeps its own copy: mutating the object after the write changes nothing stored', async () => {
        const ann = profile('ann', { plan: 'free', tags: ['a'] });
        await storage.upsertProfile(ann);
        ann.properties.plan = 'mutated';
        (ann.properties.tags as string[]).push('b');
        expect((await storage.getProfile(uid('ann')))?.properties).toEqual({ plan: 'free', tags: ['a'] });
      });
    });

    describe('subscriptions', () => {
      it('stores web push and safari subscriptions and reads them back', async () => {
        const wp = webPushSubscription('ann', 1, {
          timezone: 'Europe/Paris',
          expirationTime: 1_767_225_600_000,
        });
        const sf = safariSubscription('bob');
        await storage.upsertSubscription(wp);
        await storage.upsertSubscription(sf);
        expect(await inspect.countRows('subscriptions')).toBe(2);
        expect(await inspect.subscriptionAddress(wp.id)).toBe('https://push.example.test/send/ann-1');
        expect(await inspect.subscriptionAddress(sf.id)).toBe('ab'.repeat(32));
        expect(await storage.getSubscription(wp.id)).toEqual(wp);
        expect(await storage.getSubscription(sf.id)).toEqual(sf);
      });

      it('upserts by id: a refreshed endpoint replaces the stored one', async () => {
        const first = webPushSubscription('ann', 1);
        await storage.upsertSubscription(first);
        const refreshed = webPushSubscription('ann', 1, {
          endpoint: 'https://push.example.test/send/refreshed',
          updatedAt: at(DAY),
        });
        await storage.upsertSubscription(refreshed);
        expect(await inspect.countRows('subscriptions')).toBe(1);
        expect(await inspect.subscriptionAddress(first.id)).toBe('https://push.example.test/send/refreshed');
        expect(await storage.getSubscription(first.id)).toEqual(refreshed);
      });

      it('moves a subscription to another user when the same browser subscribes as someone else', async () => {
        await storage.upsertSubscription(webPushSubscription('ann', 1));
        await storage.upsertSubscription(webPushSubscription('ann', 1, { userId: 'bob' }));
        expect(await storage.listSubscriptions([uid('ann')])).toEqual([]);
        expect((await storage.listSubscriptions([uid('bob')])).map((s) => s.id)).toEqual(['wp_ann_1']);
      });

      it('upsertSubscriptions stores a batch as upsertSubscription would; a repeated id keeps the last', async () => {
        await storage.upsertSubscription(webPushSubscription('ann', 1));
        const noExpiry = webPushSubscription('carl', 1);
        const { expirationTime: _dropped, ...withoutKey } = noExpiry as Subscription & {
          expirationTime?: unknown;
        };
        const batch: Subscription[] = [
          ...Array.from({ length: 1500 }, (_, i) =>
            webPushSubscription(`u${pad(i)}`, 1, {
              expirationTime: i % 3 === 0 ? 1_767_225_600_000 : null,
              // The browser's user agent (for stats by browser) is kept by the batch as by one upsert.
              ...(i === 1
                ? { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' }
                : {}),
            }),
          ),
          safariSubscription('bob', { timezone: 'America/New_York' }),
          withoutKey as Subscription,
          webPushSubscription('ann', 1, { userId: 'dana', endpoint: 'https://push.example.test/send/first' }),
          webPushSubscription('ann', 1, { userId: 'dana', endpoint: 'https://push.example.test/send/last' }),
        ];
        await storage.upsertSubscriptions(batch);
        expect(await inspect.countRows('subscriptions')).toBe(1503);
        expect(await inspect.subscriptionAddress('wp_ann_1')).toBe('https://push.example.test/send/last');
        // Moved to another user, as a browser subscribing as someone else is.
        expect(await storage.listSubscriptions([uid('ann')])).toEqual([]);
        expect((await storage.listSubscriptions([uid('dana')])).map((s) => s.userId)).toEqual(['dana']);
        expect(await storage.getSubscription(batch[0]!.id)).toEqual(batch[0]);
        expect(await storage.getSubscription(batch[1]!.id)).toEqual(batch[1]);
        expect(await storage.getSubscription(withoutKey.id as Subscription['id'])).toEqual(withoutKey);
        expect(await storage.getSubscription(safariSubscription('bob').id)).toEqual(batch[1500]);
      });

      it('getSubscriptions returns the stored ones among many ids, each once, in the order asked', async () => {
        const stored = [
          webPushSubscription('ann', 1),
          webPushSubscription('ann', 2),
          safariSubscription('bob'),
        ];
        await storage.upsertSubscriptions(stored);
        const [first, second, safari] = stored as [Subscription, Subscription, Subscription];
        const found = await storage.getSubscriptions([
          safari.id,
          webPushSubscription('nobody').id,
          first.id,
          safari.id,
          second.id,
        ]);
        expect(found).toEqual([safari, first, second]);
        expect(await storage.getSubscriptions([])).toEqual([]);
      });

      it('returns null for an unknown subscription', async () => {
        expect(await storage.getSubscription(webPushSubscription('x').id)).toBeNull();
      });

      it('lists the subscriptions of many users at once, and only theirs', async () => {
        const users = Array.from({ length: 120 }, (_, i) => `u${pad(i)}`);
        for (const u of users) {
          await storage.upsertSubscription(webPushSubscription(u, 1));
          await storage.upsertSubscription(webPushSubscription(u, 2));
        }
        await storage.upsertSubscription(safariSubscription('u0005'));
        const wanted = users.slice(0, 100).map(uid);
        const listed = await storage.listSubscriptions(wanted);
        expect(listed).toHaveLength(201);
        expect(new Set(listed.map((s) => s.userId))).toEqual(new Set(wanted));
        expect(await storage.listSubscriptions([uid('nobody')])).toEqual([]);
        expect(await storage.listSubscriptions([])).toEqual([]);
      });

      it('removes a subscription once; removing an unknown one is false', async () => {
        const wp = webPushSubscription('ann');
        await storage.upsertSubscription(wp);
        expect(await storage.removeSubscription(wp.id)).toBe(true);
        expect(await inspect.subscriptionAddress(wp.id)).toBeNull();
        expect(await inspect.countRows('subscriptions')).toBe(0);
        expect(await storage.removeSubscription(wp.id)).toBe(false);
      });

      it('keeps a subscription refreshed meanwhile: ifEndpoint that no longer matches removes nothing', async () => {
        const wp = webPushSubscription('ann', 1, { endpoint: 'https://push.example.test/send/new' });
        await storage.upsertSubscription(wp);
        expect(
          await storage.removeSubscription(wp.id, { ifEndpoint: 'https://push.example.test/send/old' }),
        ).toBe(false);
        expect(await inspect.subscriptionAddress(wp.id)).toBe('https://push.example.test/send/new');
        expect(
          await storage.removeSubscription(wp.id, { ifEndpoint: 'https://push.example.test/send/new' }),
        ).toBe(true);
        expect(await inspect.subscriptionAddress(wp.id)).toBeNull();
      });

      it('removeSubscriptions removes several at once, as one removal after another would', async (test) => {
        if (!storage.removeSubscriptions) return test.skip('this storage has no removeSubscriptions');
        const ann = webPushSubscription('ann');
        const bob = webPushSubscription('bob');
        const cy = webPushSubscription('cy');
        const eve = safariSubscription('eve');
        for (const subscription of [ann, bob, cy, eve]) await storage.upsertSubscription(subscription);
        const [annId, bobId, cyId] = [ann.id, bob.id, cy.id];
        const removed = await storage.removeSubscriptions([
          { id: annId },
          // Refreshed meanwhile: an address that is no longer the stored one keeps it…
          { id: bobId, ifEndpoint: 'https://push.example.test/send/old' },
          // …and the same id again, with the stored address, removes it.
          { id: bobId, ifEndpoint: 'https://push.example.test/send/bob-1' },
          // Named twice: removed once.
          { id: annId },
          { id: eve.id, ifEndpoint: 'ab'.repeat(32) },
          { id: 'wp_nobody_1' as typeof annId },
        ]);
        expect(removed).toEqual([true, false, true, false, true, false]);
        for (const id of [annId, bobId, eve.id]) expect(await inspect.subscriptionAddress(id)).toBeNull();
        expect(await inspect.subscriptionAddress(cyId)).toBe('https://push.example.test/send/cy-1');
        expect(await inspect.countRows('subscriptions')).toBe(1);
        expect(await storage.removeSubscriptions([])).toEqual([]);
      });
    });

    describe('events', () => {
      it('appends events and lists one user’s, oldest first, with properties intact', async () => {
        await storage.appendEvents([
          {
            userId: uid('ann'),
            name: 'Charged',
            properties: { amount: 120.5, items: ['a'] },
            time: at(2 * HOUR),
          },
          { userId: uid('ann'), name: 'Viewed', properties: {}, time: at(0) },
          { userId: uid('bob'), name: 'Charged', properties: {}, time: at(HOUR) },
          { userId: uid('ann'), name: 'Charged', properties: { amount: 5 }, time: at(HOUR) },
        ]);
        expect(await inspect.countRows('events')).toBe(4);
        const events = await storage.listEvents({ userId: uid('ann') });
        expect(events.map((e) => [e.name, e.time.toISOString()])).toEqual([
          ['Viewed', at(0).toISOString()],
          ['Charged', at(HOUR).toISOString()],
          ['Charged', at(2 * HOUR).toISOString()],
        ]);
        expect(events[2]).toEqual({
          userId: 'ann',
          name: 'Charged',
          properties: { amount: 120.5, items: ['a'] },
          time: at(2 * HOUR),
        });
      });

      it('filters by name and by the half-open range [from, to)', async () => {
        await storage.appendEvents(
          [0, 1, 2, 3, 4].map((h) => ({
            userId: uid('ann'),
            name: 'Tick',
            properties: { h },
            time: at(h * HOUR),
          })),
        );
        await storage.appendEvents([
          { userId: uid('ann'), name: 'Other', properties: {}, time: at(2 * HOUR) },
        ]);
        const ticks = await storage.listEvents({
          userId: uid('ann'),
          name: 'Tick',
          from: at(HOUR),
          to: at(3 * HOUR),
        });
        expect(ticks.map((e) => e.properties.h)).toEqual([1, 2]);
        expect(
          (await storage.listEvents({ userId: uid('ann'), from: at(4 * HOUR) })).map((e) => e.properties.h),
        ).toEqual([4]);
        expect(
          (await storage.listEvents({ userId: uid('ann'), to: at(HOUR) })).map((e) => e.properties.h),
        ).toEqual([0]);
        expect(await storage.listEvents({ userId: uid('nobody') })).toEqual([]);
      });

      it('pruneEvents deletes events before the cutoff in bounded batches; segments see them gone', async () => {
        await storage.upsertProfile(profile('ann'));
        await storage.upsertProfile(profile('bob'));
        await storage.appendEvents([
          ...[0, 1, 2, 3].map((h) => ({
            userId: uid('ann'),
            name: 'Tick',
            properties: { h },
            time: at(h * HOUR),
          })),
          { userId: uid('bob'), name: 'Charged', properties: {}, time: at(HOUR) },
          { userId: uid('bob'), name: 'Charged', properties: {}, time: at(5 * HOUR) },
          { userId: uid('bob'), name: 'Bought', properties: {}, time: at(30 * MINUTE) },
        ]);
        const boughtEver: SegmentDefinition = { type: 'did', event: { name: 'Bought', where: [] } };
        expect(await storage.countAudience(boughtEver, at(6 * HOUR))).toBe(1);

        // Five events are before 2 h (ann's 0 h and 1 h, bob's 1 h Charged and 0.5 h Bought): two batches of 3.
        expect(await storage.pruneEvents({ before: at(2 * HOUR), limit: 3 })).toBe(3);
        expect(await storage.pruneEvents({ before: at(2 * HOUR), limit: 3 })).toBe(1);
        expect(await storage.pruneEvents({ before: at(2 * HOUR), limit: 3 })).toBe(0);
        expect(await inspect.countRows('events')).toBe(3);
        expect((await storage.listEvents({ userId: uid('ann') })).map((e) => e.properties.h)).toEqual([2, 3]);
        expect((await storage.listEvents({ userId: uid('bob') })).map((e) => e.time)).toEqual([at(5 * HOUR)]);
        // A pruned event no longer counts for a behaviour segment (the adapter's latest-event instants follow).
        expect(await storage.countAudience(boughtEver, at(6 * HOUR))).toBe(0);
        expect(
          await storage.countAudience({ type: 'did', event: { name: 'Charged', where: [] } }, at(6 * HOUR)),
        ).toBe(1);
        // Events appended after a prune read back as usual.
        await storage.appendEvents([
          { userId: uid('ann'), name: 'Tick', properties: { h: 9 }, time: at(9 * HOUR) },
        ]);
        expect((await storage.listEvents({ userId: uid('ann') })).map((e) => e.properties.h)).toEqual([
          2, 3, 9,
        ]);
      });
    });

    describe('campaigns', () => {
      it('stores a campaign and reads it back unchanged', async () => {
        const c = campaign('c1', {
          labels: ['spring', 'sale'],
          status: 'scheduled',
          nextRunAt: at(DAY),
          when: {
            schedule: { type: 'recurring', time: '09:30', every: { unit: 'week', weekdays: [1, 5] } },
            timezone: 'Europe/Paris',
            start: at(0),
            end: at(30 * DAY),
            dnd: { start: '21:00', end: '09:00', action: 'delay' },
          },
          who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } } },
          setup: { controlGroupPercent: 10, ignoreGlobalLimits: true, onMissingValue: 'skip' },
          metadata: { owner: 'growth', nested: { n: 1 } },
        });
        await storage.insertCampaign(c);
        expect(await inspect.countRows('campaigns')).toBe(1);
        expect(await storage.getCampaign(c.id)).toEqual(c);
        expect(await storage.getCampaign(cid('missing'))).toBeNull();
      });

      it('updates only at the expected version (optimistic concurrency)', async () => {
        const c = campaign('c1', { version: 3 });
        await storage.insertCampaign(c);
        const running: Campaign = { ...c, status: 'running', version: 4, updatedAt: at(MINUTE) };
        expect(await storage.updateCampaign(running, 3)).toBe(true);
        expect(await storage.getCampaign(c.id)).toEqual(running);

        const stale: Campaign = { ...c, status: 'paused', version: 4 };
        expect(await storage.updateCampaign(stale, 3)).toBe(false);
        expect(await storage.getCampaign(c.id)).toEqual(running);
        expect(await inspect.countRows('campaigns')).toBe(1);
      });

      it('updating a campaign that does not exist is false and stores nothing', async () => {
        expect(await storage.updateCampaign(campaign('ghost', { version: 1 }), 0)).toBe(false);
        expect(await inspect.countRows('campaigns')).toBe(0);
      });

      it('lists campaigns by status, label and due time', async () => {
        await storage.insertCampaign(
          campaign('a', { status: 'scheduled', labels: ['x'], nextRunAt: at(HOUR) }),
        );
        await storage.insertCampaign(
          campaign('b', { status: 'scheduled', labels: ['y'], nextRunAt: at(2 * HOUR) }),
        );
        await storage.insertCampaign(
          campaign('c', { status: 'running', labels: ['x', 'y'], nextRunAt: at(0) }),
        );
        await storage.insertCampaign(campaign('d', { status: 'draft', labels: [], nextRunAt: null }));
        await storage.insertCampaign(campaign('e', { status: 'completed', labels: ['x'], nextRunAt: null }));
        const ids = async (filter?: Parameters<Storage['listCampaigns']>[0]) =>
          sortIds((await storage.listCampaigns(filter)).map((c) => c.id));

        expect(await ids()).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(await ids({})).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(await ids({ status: ['scheduled', 'running'] })).toEqual(['a', 'b', 'c']);
        expect(await ids({ status: [] })).toEqual([]);
        expect(await ids({ label: 'x' })).toEqual(['a', 'c', 'e']);
        expect(await ids({ label: 'none' })).toEqual([]);
        // dueBy is inclusive and never matches a campaign with nothing pending.
        expect(await ids({ dueBy: at(HOUR) })).toEqual(['a', 'c']);
        expect(await ids({ dueBy: at(-MINUTE) })).toEqual([]);
        expect(await ids({ status: ['scheduled'], label: 'y', dueBy: at(3 * HOUR) })).toEqual(['b']);
      });

      it.skipIf(!inspect.corruptCampaign)(
        'fails with CorruptRecordError naming the id when a row is malformed',
        async () => {
          await storage.insertCampaign(campaign('bad'));
          await inspect.corruptCampaign!('bad');
          const error = await storage.getCampaign(cid('bad')).then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(CorruptRecordError);
          expect((error as CorruptRecordError).code).toBe('corrupt_record');
          expect((error as CorruptRecordError).id).toBe('bad');
          expect((error as CorruptRecordError).issues.length).toBeGreaterThan(0);
        },
      );
    });

    describe('campaign history and deletion', () => {
      const entry = (campaignId: string, version: number, extra: Partial<CampaignHistoryEntry> = {}) =>
        CampaignHistoryEntry.parse({
          campaignId,
          version,
          at: at(version * MINUTE),
          actor: 'ana@example.com',
          action: 'updated',
          ...extra,
        });

      it('appends entries and lists one campaign’s in the order appended, unchanged', async () => {
        const updated = entry('c1', 1, {
          changes: [
            { field: 'name', before: 'Spring', after: 'Spring sale' },
            { field: 'nextRunAt', before: null, after: at(DAY).toISOString() },
          ],
        });
        await storage.appendCampaignHistory(entry('c1', 0, { action: 'created', actor: 'library' }));
        await storage.appendCampaignHistory(updated);
        // Several entries may share a version: duplicating does not bump the original.
        await storage.appendCampaignHistory(
          entry('c1', 1, { action: 'duplicated', relatedCampaignId: cid('c2') }),
        );
        await storage.appendCampaignHistory(
          entry('c2', 0, { action: 'created', relatedCampaignId: cid('c1') }),
        );

        expect(await inspect.countRows('campaign_history')).toBe(4);
        expect(await inspect.campaignHistoryRows('c1')).toEqual([
          { actor: 'library', action: 'created', version: 0 },
          { actor: 'ana@example.com', action: 'updated', version: 1 },
          { actor: 'ana@example.com', action: 'duplicated', version: 1 },
        ]);
        const listed = await storage.listCampaignHistory(cid('c1'));
        expect(listed.map((e) => e.action)).toEqual(['created', 'updated', 'duplicated']);
        expect(listed[1]).toEqual(updated);
        expect(listed[2]!.relatedCampaignId).toBe('c2');
        expect(await storage.listCampaignHistory(cid('missing'))).toEqual([]);
      });

      it('deletes a campaign and its history only at the expected version', async () => {
        await storage.insertCampaign(campaign('gone', { version: 2 }));
        await storage.insertCampaign(campaign('kept'));
        await storage.appendCampaignHistory(entry('gone', 0, { action: 'created' }));
        await storage.appendCampaignHistory(entry('kept', 0, { action: 'created' }));

        expect(await storage.deleteCampaign(cid('gone'), 1)).toBe(false);
        expect(await inspect.countRows('campaigns')).toBe(2);
        expect(await inspect.countRows('campaign_history')).toBe(2);

        expect(await storage.deleteCampaign(cid('gone'), 2)).toBe(true);
        expect(await storage.getCampaign(cid('gone'))).toBeNull();
        expect(await inspect.countRows('campaigns')).toBe(1);
        expect(await inspect.campaignHistoryRows('gone')).toEqual([]);
        expect(await inspect.campaignHistoryRows('kept')).toHaveLength(1);
        expect(await storage.deleteCampaign(cid('gone'), 2)).toBe(false);
      });

      it('keeps archivedAt on a campaign row', async () => {
        const archived = campaign('old', { status: 'stopped', archivedAt: at(HOUR) });
        await storage.insertCampaign(archived);
        expect(await storage.getCampaign(cid('old'))).toEqual(archived);
        expect((await storage.listCampaigns({ status: ['stopped'] }))[0]?.archivedAt).toEqual(at(HOUR));
      });
    });

    describe('audience', () => {
      const users = Array.from({ length: 250 }, (_, i) =>
        profile(`u${pad(i)}`, { plan: i % 3 === 0 ? 'pro' : 'free', n: i }),
      );
      const allIds = users.map((u) => u.userId);
      const seed = async () => {
        for (const u of shuffled(users)) await storage.upsertProfile(u);
      };

      it('pages a 250-user segment by keyset: the pages concatenate to exactly the sorted set', async () => {
        await seed();
        const { pages, ids } = await readAllPages(storage, { type: 'all' }, 100, T0);
        expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
        expect(ids).toEqual(allIds);
        expect(new Set(ids).size).toBe(250);
      });

      it('pages exactly: a page size dividing the audience ends with an empty page', async () => {
        await seed();
        const { pages, ids } = await readAllPages(storage, { type: 'all' }, 125, T0);
        expect(pages.map((p) => p.length)).toEqual([125, 125, 0]);
        expect(ids).toEqual(allIds);
      });

      it('starts strictly after a cursor that need not be a stored id', async () => {
        await seed();
        const page = await storage.selectAudience(
          { type: 'all' },
          { after: uid('u0009x'), limit: 3, now: T0 },
        );
        expect(page).toEqual(['u0010', 'u0011', 'u0012']);
        const last = await storage.selectAudience(
          { type: 'all' },
          { after: uid('u0249'), limit: 10, now: T0 },
        );
        expect(last).toEqual([]);
      });

      it('selects and counts a property segment across pages', async () => {
        await seed();
        const pro: SegmentDefinition = {
          type: 'property',
          condition: { op: 'eq', property: 'plan', value: 'pro' },
        };
        const expected = users.filter((u) => u.properties.plan === 'pro').map((u) => u.userId);
        const { ids } = await readAllPages(storage, pro, 30, T0);
        expect(ids).toEqual(expected);
        expect(await storage.countAudience(pro, T0)).toBe(84);
        expect(await storage.countAudience({ type: 'all' }, T0)).toBe(250);
      });

      it('counts zero on an empty store', async () => {
        expect(await storage.countAudience({ type: 'all' }, T0)).toBe(0);
        expect(await storage.selectAudience({ type: 'all' }, { after: null, limit: 10, now: T0 })).toEqual(
          [],
        );
      });

      describe('agrees with the reference evaluator', () => {
        for (const { name, segment } of matrixSegments) {
          it(name, async () => {
            for (const p of matrixProfiles) await storage.upsertProfile(p);
            const expected = matrixProfiles
              .filter((p) => evaluateSegment(segment, { profile: p }, MATRIX_NOW))
              .map((p) => p.userId);
            expect(
              await storage.selectAudience(segment, { after: null, limit: 100, now: MATRIX_NOW }),
            ).toEqual(expected);
            expect(await storage.countAudience(segment, MATRIX_NOW)).toBe(expected.length);
          });
        }
      });

      it('evaluates relative dates against the page’s now, not the wall clock', async () => {
        await storage.upsertProfile(profile('ann', { lastSeen: '2025-03-01T00:00:00Z' }));
        const recent: SegmentDefinition = {
          type: 'property',
          condition: { op: 'after', property: 'lastSeen', date: { ago: { amount: 1, unit: 'days' } } },
        };
        const page = (now: Date) => storage.selectAudience(recent, { after: null, limit: 10, now });
        expect(await page(new Date('2025-03-01T23:59:00Z'))).toEqual(['ann']);
        expect(await page(new Date('2025-03-02T00:01:00Z'))).toEqual([]);
        expect(await storage.countAudience(recent, new Date('2025-03-02T00:01:00Z'))).toBe(0);
      });
    });

    describe('recipients', () => {
      it('inserts recipients and reports which were new', async () => {
        const rs = ['ann', 'bob', 'cid'].map((u) => recipient('c1', 'o1', u));
        const result = await storage.insertRecipients(rs);
        expect(result.inserted).toBe(3);
        expect([...result.insertedUserIds].sort()).toEqual(['ann', 'bob', 'cid']);
        expect(await inspect.countRows('recipients')).toBe(3);
        expect(await inspect.recipientState('c1', 'o1', 'bob')).toEqual({ state: 'pending', reason: null });
        const got = await storage.getRecipients(cid('c1'), 'o1', [uid('ann'), uid('bob'), uid('zed')]);
        expect([...got].sort(byUserId)).toEqual([rs[0], rs[1]]);
      });

      it('is idempotent: inserting the same keys again inserts nothing and keeps the first state', async () => {
        await storage.insertRecipients([
          recipient('c1', 'o1', 'ann'),
          recipient('c1', 'o1', 'bob', 'control', 'control'),
        ]);
        const again = await storage.insertRecipients([
          recipient('c1', 'o1', 'ann', 'skipped', 'capped'),
          recipient('c1', 'o1', 'bob', 'pending'),
        ]);
        expect(again).toEqual({ inserted: 0, insertedUserIds: [] });
        expect(await inspect.recipientState('c1', 'o1', 'ann')).toEqual({ state: 'pending', reason: null });
        expect(await inspect.recipientState('c1', 'o1', 'bob')).toEqual({
          state: 'control',
          reason: 'control',
        });
        expect(await inspect.countRows('recipients')).toBe(2);
      });

      it('inserts only the new keys of a partly overlapping batch; occurrence and campaign are part of the key', async () => {
        await storage.insertRecipients([recipient('c1', 'o1', 'ann')]);
        const result = await storage.insertRecipients([
          recipient('c1', 'o1', 'ann'),
          recipient('c1', 'o2', 'ann'),
          recipient('c2', 'o1', 'ann'),
          recipient('c1', 'o1', 'bob'),
        ]);
        expect(result.inserted).toBe(3);
        // Keyed by run: each of these is its run's only new row, bob's in o1 beside ann's old one.
        expect([...result.insertedUserIds].sort()).toEqual(['ann', 'ann', 'bob']);
        expect(await inspect.countRows('recipients')).toBe(4);
        expect(await storage.getRecipients(cid('c1'), 'o2', [uid('ann'), uid('bob')])).toHaveLength(1);
      });

      it('inserts a large batch in one call', async () => {
        const rs = Array.from({ length: 1200 }, (_, i) => recipient('c1', 'o1', `u${pad(i)}`));
        const result = await storage.insertRecipients(rs);
        expect(result.inserted).toBe(1200);
        expect(new Set(result.insertedUserIds)).toEqual(new Set(rs.map((r) => r.userId)));
        expect(await inspect.countRows('recipients')).toBe(1200);
        expect(await storage.insertRecipients([])).toEqual({ inserted: 0, insertedUserIds: [] });
      });

      it('updates state, reason and updatedAt; leaves other rows alone; never creates rows', async () => {
        await storage.insertRecipients(['ann', 'bob', 'cid'].map((u) => recipient('c1', 'o1', u)));
        await storage.insertRecipients([recipient('c1', 'o2', 'ann')]);
        await storage.updateRecipients(
          [
            {
              campaignId: cid('c1'),
              occurrence: 'o1',
              userId: uid('ann'),
              state: 'skipped',
              reason: 'capped',
            },
            { campaignId: cid('c1'), occurrence: 'o1', userId: uid('bob'), state: 'delivered', reason: null },
            {
              campaignId: cid('c1'),
              occurrence: 'o1',
              userId: uid('ghost'),
              state: 'delivered',
              reason: null,
            },
          ],
          at(HOUR),
        );
        expect(await inspect.recipientState('c1', 'o1', 'ann')).toEqual({
          state: 'skipped',
          reason: 'capped',
        });
        expect(await inspect.recipientState('c1', 'o1', 'bob')).toEqual({ state: 'delivered', reason: null });
        expect(await inspect.recipientState('c1', 'o1', 'cid')).toEqual({ state: 'pending', reason: null });
        expect(await inspect.recipientState('c1', 'o2', 'ann')).toEqual({ state: 'pending', reason: null });
        expect(await inspect.recipientState('c1', 'o1', 'ghost')).toBeNull();
        expect(await inspect.countRows('recipients')).toBe(4);
        const [ann] = await storage.getRecipients(cid('c1'), 'o1', [uid('ann')]);
        expect(ann).toEqual({ ...recipient('c1', 'o1', 'ann', 'skipped', 'capped'), updatedAt: at(HOUR) });
      });
    });

    describe('deliveries', () => {
      it('records outcomes and lists them by campaign, occurrence and user', async () => {
        const d1 = delivery('c1', 'o1', 'ann', 'wp_ann_1', 'sent');
        const d2 = delivery('c1', 'o1', 'ann', 'wp_ann_2', 'gone', { reason: 'expired', attempts: 2 });
        const d3 = delivery('c1', 'o1', 'bob', 'wp_bob_1', 'failed');
        const other = delivery('c1', 'o2', 'ann', 'wp_ann_1', 'sent');
        // Stored out of order: a list comes in user, then subscription id order whatever the arrival order.
        await storage.recordDeliveries([d3, d2]);
        await storage.recordDeliveries([d1, other]);
        expect(await inspect.countRows('deliveries')).toBe(4);
        expect(await storage.listDeliveries(cid('c1'), 'o1', [uid('ann')])).toEqual([d1, d2]);
        expect(await storage.listDeliveries(cid('c1'), 'o1', [uid('bob'), uid('ann')])).toEqual([d1, d2, d3]);
        expect(await storage.listDeliveries(cid('c2'), 'o1', [uid('ann')])).toEqual([]);
      });

      it('keeps the first outcome: a second one for the same (campaign, occurrence, subscription) is ignored', async () => {
        const first = delivery('c1', 'o1', 'ann', 'wp_ann_1', 'sent');
        await storage.recordDeliveries([first]);
        await storage.recordDeliveries([delivery('c1', 'o1', 'ann', 'wp_ann_1', 'failed', { at: at(HOUR) })]);
        await storage.recordDeliveries([
          delivery('c1', 'o1', 'ann', 'wp_ann_1', 'gone'),
          delivery('c1', 'o1', 'bob', 'wp_bob_1', 'sent'),
        ]);
        expect(await inspect.countRows('deliveries')).toBe(2);
        expect(await storage.listDeliveries(cid('c1'), 'o1', [uid('ann')])).toEqual([first]);
      });

      it('keeps the browser and target each outcome was recorded with, or null', async () => {
        const chrome = delivery('c1', 'o1', 'ann', 'wp_ann_1', 'sent', {
          browser: { name: 'chrome', target: 'web-push' },
        });
        const safari = delivery('c1', 'o1', 'ann', 'sf_ann_1', 'failed', {
          browser: { name: 'safari', target: 'safari-legacy' },
        });
        const unknown = delivery('c1', 'o1', 'ann', 'wp_ann_2', 'gone');
        await storage.recordDeliveries([chrome, safari, unknown]);
        const listed = await storage.listDeliveries(cid('c1'), 'o1', [uid('ann')]);
        expect([...listed].sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : 1))).toEqual([
          safari,
          chrome,
          unknown,
        ]);
        expect(unknown.browser).toBeNull();
      });
    });

    describe('interactions', () => {
      it('records a report once per reportId', async () => {
        const report = {
          reportId: 'r1',
          campaignId: cid('c1'),
          occurrence: 'o1',
          userId: uid('ann'),
          kind: 'clicked' as const,
          action: 'buy',
          at: at(MINUTE),
        };
        expect(await storage.recordInteraction(report)).toBe(true);
        expect(await storage.recordInteraction({ ...report, kind: 'closed', action: null })).toBe(false);
        expect(
          await storage.recordInteraction({ ...report, reportId: 'r2', kind: 'viewed', action: null }),
        ).toBe(true);
        expect(await inspect.countRows('interactions')).toBe(2);
      });
    });

    describe('tallies', () => {
      it('tallies recipients, skip reasons, deliveries and interactions of one campaign across occurrences', async () => {
        await storage.insertRecipients([
          recipient('c1', 'o1', 'u1', 'pending'),
          recipient('c1', 'o1', 'u2', 'delivered'),
          recipient('c1', 'o1', 'u3', 'skipped', 'capped'),
          recipient('c1', 'o1', 'u4', 'skipped', 'capped'),
          recipient('c1', 'o2', 'u1', 'skipped', 'dnd-discarded'),
          recipient('c1', 'o2', 'u2', 'control', 'control'),
          recipient('c1', 'o2', 'u3', 'undeliverable'),
          recipient('c2', 'o1', 'u1', 'skipped', 'cutoff'),
        ]);
        await storage.recordDeliveries([
          delivery('c1', 'o1', 'u2', 's2a', 'sent'),
          delivery('c1', 'o1', 'u2', 's2b', 'gone'),
          delivery('c1', 'o2', 'u3', 's3', 'failed'),
          delivery('c1', 'o1', 'u2', 's2a', 'failed'),
          delivery('c2', 'o1', 'u1', 's1', 'sent'),
        ]);
        const report = (
          reportId: string,
          kind: 'viewed' | 'clicked' | 'closed',
          action: string | null,
          c = 'c1',
        ) =>
          storage.recordInteraction({
            reportId,
            campaignId: cid(c),
            occurrence: 'o1',
            userId: uid('u2'),
            kind,
            action,
            at: at(MINUTE),
          });
        await report('r1', 'viewed', null);
        await report('r2', 'viewed', null);
        await report('r3', 'clicked', null);
        await report('r4', 'clicked', 'buy');
        await report('r5', 'clicked', 'buy');
        await report('r5', 'clicked', 'buy');
        await report('r6', 'clicked', 'later');
        await report('r7', 'closed', null);
        await report('r8', 'clicked', 'buy', 'c2');

        expect(await storage.campaignTallies(cid('c1'))).toEqual({
          recipients: { pending: 1, delivered: 1, undeliverable: 1, skipped: 3, control: 1 },
          skipped: { capped: 2, 'dnd-discarded': 1 },
          deliveries: { sent: 1, failed: 1, gone: 1 },
          interactions: { viewed: 2, clicked: 4, closed: 1, clickedByAction: { buy: 2, later: 1 } },
        });
      });

      it('tallies an unknown campaign as zeros', async () => {
        expect(await storage.campaignTallies(cid('none'))).toEqual({
          recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
          skipped: {},
          deliveries: { sent: 0, failed: 0, gone: 0 },
          interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
        });
      });
    });

    // ---- campaign statistics ----
    describe('campaign statistics', () => {
      const page = (c: string, o: string, after: string, users: number, last: boolean) => ({
        campaignId: cid(c),
        occurrence: o,
        after,
        users,
        last,
        at: at(MINUTE),
      });

      it('records an audience page once per (campaign, occurrence, after)', async () => {
        expect(await storage.recordAudiencePage(page('c1', 'o1', '', 3, false))).toBe(true);
        expect(await storage.recordAudiencePage(page('c1', 'o1', '', 9, true))).toBe(false);
        expect(await storage.recordAudiencePage(page('c1', 'o1', 'u3', 2, true))).toBe(true);
        expect(await storage.recordAudiencePage(page('c1', 'o2', '', 1, true))).toBe(true);
        expect(await inspect.countRows('audience_pages')).toBe(3);
      });

      it('reads back a recorded audience page, for that campaign, occurrence and cursor only', async () => {
        const first = { campaignId: cid('c1'), occurrence: 'o1', after: '' };
        expect(await storage.getAudiencePage(first)).toBeNull();
        await storage.recordAudiencePage(page('c1', 'o1', '', 3, false));
        await storage.recordAudiencePage(page('c1', 'o1', 'u3', 2, true));
        expect(await storage.getAudiencePage(first)).toEqual(page('c1', 'o1', '', 3, false));
        expect(await storage.getAudiencePage({ ...first, after: 'u3' })).toEqual(
          page('c1', 'o1', 'u3', 2, true),
        );
        expect(await storage.getAudiencePage({ ...first, after: 'u4' })).toBeNull();
        expect(await storage.getAudiencePage({ ...first, occurrence: 'o2' })).toBeNull();
        expect(await storage.getAudiencePage({ ...first, campaignId: cid('c2') })).toBeNull();
      });

      it('tallies each occurrence apart: states, skips, outcomes, reports with distinct users, conversions, pages', async () => {
        await storage.insertRecipients([
          recipient('c1', 'o1', 'u1', 'pending'),
          recipient('c1', 'o1', 'u2', 'delivered'),
          recipient('c1', 'o1', 'u3', 'skipped', 'capped'),
          recipient('c1', 'o2', 'u1', 'skipped', 'dnd-discarded'),
          recipient('c1', 'o2', 'u2', 'control', 'control'),
          recipient('c2', 'o1', 'u1', 'delivered'),
        ]);
        await storage.updateRecipients(
          [{ campaignId: cid('c1'), occurrence: 'o1', userId: uid('u2'), state: 'delivered', reason: null }],
          at(HOUR),
        );
        await storage.recordDeliveries([
          delivery('c1', 'o1', 'u2', 's2a', 'sent'),
          delivery('c1', 'o1', 'u2', 's2b', 'sent'),
          delivery('c1', 'o1', 'u1', 's1', 'gone'),
          delivery('c2', 'o1', 'u1', 's1', 'sent'),
        ]);
        const report = (
          reportId: string,
          kind: 'viewed' | 'clicked',
          userId: string,
          action: string | null,
        ) =>
          storage.recordInteraction({
            reportId,
            campaignId: cid('c1'),
            occurrence: 'o1',
            userId: uid(userId),
            kind,
            action,
            at: at(MINUTE),
          });
        await report('r1', 'viewed', 'u2', null);
        await report('r2', 'viewed', 'u2', null);
        await report('r3', 'clicked', 'u2', 'buy');
        await report('r4', 'clicked', 'u1', null);
        await storage.recordConversion({
          campaignId: cid('c1'),
          occurrence: 'o1',
          userId: uid('u2'),
          control: false,
          at: at(HOUR),
          eventName: 'Charged',
          revenue: 12.5,
        });
        await storage.recordConversion({
          campaignId: cid('c1'),
          occurrence: 'o2',
          userId: uid('u2'),
          control: true,
          at: at(HOUR),
          eventName: 'Charged',
          revenue: null,
        });
        await storage.recordAudiencePage(page('c1', 'o1', '', 2, false));
        await storage.recordAudiencePage(page('c1', 'o1', 'u2', 5, true));
        await storage.recordAudiencePage(page('c1', 'o3', '', 4, false));

        expect(await storage.occurrenceTallies(cid('c1'))).toEqual([
          {
            occurrence: 'o1',
            recipients: { pending: 1, delivered: 1, undeliverable: 0, skipped: 1, control: 0 },
            skipped: { capped: 1 },
            deliveries: { sent: 2, failed: 0, gone: 1 },
            interactions: { viewed: 2, clicked: 2, closed: 0, clickedByAction: { buy: 1 } },
            interactionUsers: { viewed: 1, clicked: 2, closed: 0 },
            conversions: {
              recipients: { conversions: 1, revenue: 12.5 },
              control: { conversions: 0, revenue: 0 },
            },
            paged: 7,
            pagedAll: true,
            lastSettledAt: at(HOUR),
          },
          {
            occurrence: 'o2',
            recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 1, control: 1 },
            skipped: { 'dnd-discarded': 1 },
            deliveries: { sent: 0, failed: 0, gone: 0 },
            interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
            interactionUsers: { viewed: 0, clicked: 0, closed: 0 },
            conversions: {
              recipients: { conversions: 0, revenue: 0 },
              control: { conversions: 1, revenue: 0 },
            },
            paged: 0,
            pagedAll: false,
            lastSettledAt: T0,
          },
          {
            occurrence: 'o3',
            recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
            skipped: {},
            deliveries: { sent: 0, failed: 0, gone: 0 },
            interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
            interactionUsers: { viewed: 0, clicked: 0, closed: 0 },
            conversions: {
              recipients: { conversions: 0, revenue: 0 },
              control: { conversions: 0, revenue: 0 },
            },
            paged: 4,
            pagedAll: false,
            lastSettledAt: null,
          },
        ]);
        expect(await storage.occurrenceTallies(cid('none'))).toEqual([]);
      });

      it('groups live occurrences by the day, in a zone, of the instant in their id', async () => {
        // 23:30 UTC on Jan 1 is already Jan 2 in Tokyo; 10:00 UTC on Jan 2 is Jan 2 there too.
        const late = 'event:2026-01-01T23:30:00.000Z:abc';
        const next = 'inaction:2026-01-02T10:00:00.000Z';
        await storage.insertRecipients([
          recipient('c1', late, 'u1', 'delivered'),
          recipient('c1', next, 'u1', 'delivered'),
          recipient('c1', next, 'u2', 'pending'),
          recipient('c1', 'manual', 'u3', 'pending'),
        ]);
        const report = (reportId: string, occurrence: string) =>
          storage.recordInteraction({
            reportId,
            campaignId: cid('c1'),
            occurrence,
            userId: uid('u1'),
            kind: 'clicked',
            action: null,
            at: at(MINUTE),
          });
        await report('r1', late);
        await report('r2', next);
        const tokyo = await storage.occurrenceTallies(cid('c1'), { dayIn: 'Asia/Tokyo' });
        expect(
          tokyo.map((day) => [day.occurrence, day.recipients.delivered, day.recipients.pending]),
        ).toEqual([
          ['2026-01-02', 2, 1],
          ['manual', 0, 1],
        ]);
        expect(tokyo[0]?.interactions.clicked).toBe(2);
        expect(tokyo[0]?.interactionUsers.clicked).toBe(1);
        const utc = await storage.occurrenceTallies(cid('c1'), { dayIn: 'UTC' });
        expect(
          utc.map((day) => [day.occurrence, day.recipients.delivered, day.interactionUsers.clicked]),
        ).toEqual([
          ['2026-01-01', 1, 1],
          ['2026-01-02', 1, 1],
          ['manual', 0, 0],
        ]);
      });

      describe('timeline', () => {
        const bucket = (start: string, unit: 'hour' | 'day', figures: object) => ({
          start: new Date(start),
          unit,
          sent: 0,
          viewed: 0,
          clicked: 0,
          conversions: 0,
          revenue: 0,
          ...figures,
        });
        const report = (reportId: string, kind: 'viewed' | 'clicked' | 'closed', when: Date) =>
          storage.recordInteraction({
            reportId,
            campaignId: cid('c1'),
            occurrence: 'o1',
            userId: uid('u1'),
            kind,
            action: null,
            at: when,
          });

        it('buckets sends, reports and conversions by local hour for the first hours, then by local day', async () => {
          // Kolkata is UTC+5:30: its hours start at :30 UTC. First send 12:10Z is 17:40 local,
          // so hours start at 11:30Z and the cutoff is 48 hours later, 2025-03-03T11:30Z.
          await storage.recordDeliveries([
            delivery('c1', 'o1', 'u1', 's1', 'sent', { at: at(10 * MINUTE) }),
            delivery('c1', 'o1', 'u2', 's2', 'sent', { at: at(40 * MINUTE) }),
            delivery('c1', 'o1', 'u3', 's3', 'failed', { at: at(20 * MINUTE) }),
            delivery('c2', 'o1', 'u1', 's1', 'sent', { at: at(20 * MINUTE) }),
          ]);
          await report('r1', 'viewed', at(20 * MINUTE));
          await report('r2', 'clicked', at(50 * MINUTE));
          await report('r3', 'closed', at(50 * MINUTE));
          await report('r4', 'clicked', at(2 * DAY));
          const conversion = (userId: string, control: boolean) =>
            storage.recordConversion({
              campaignId: cid('c1'),
              occurrence: 'o1',
              userId: uid(userId),
              control,
              at: at(3 * DAY),
              eventName: 'Charged',
              revenue: 7.5,
            });
          await conversion('u1', false);
          await conversion('u9', true);

          expect(await storage.campaignTimeline(cid('c1'), { zone: 'Asia/Kolkata', hourlyFor: 48 })).toEqual([
            bucket('2025-03-01T11:30:00.000Z', 'hour', { sent: 1, viewed: 1 }),
            bucket('2025-03-01T12:30:00.000Z', 'hour', { sent: 1, clicked: 1 }),
            // 2025-03-03T12:00Z is past the cutoff: its day (from 2025-03-02T18:30Z) starts at the cutoff.
            bucket('2025-03-03T11:30:00.000Z', 'day', { clicked: 1 }),
            bucket('2025-03-03T18:30:00.000Z', 'day', { conversions: 1, revenue: 7.5 }),
          ]);
          expect(await storage.campaignTimeline(cid('none'), { zone: 'UTC', hourlyFor: 48 })).toEqual([]);
        });

        it('keeps the repeated local hour apart when daylight saving time ends', async () => {
          // New York, 2025-11-02: 05:30Z is 01:30 EDT, 06:30Z is 01:30 EST.
          await storage.recordDeliveries([
            delivery('c1', 'o1', 'u1', 's1', 'sent', { at: new Date('2025-11-02T05:30:00.000Z') }),
            delivery('c1', 'o1', 'u2', 's2', 'sent', { at: new Date('2025-11-02T06:30:00.000Z') }),
            delivery('c1', 'o1', 'u3', 's3', 'sent', { at: new Date('2025-11-04T06:30:00.000Z') }),
          ]);
          expect(
            await storage.campaignTimeline(cid('c1'), { zone: 'America/New_York', hourlyFor: 48 }),
          ).toEqual([
            bucket('2025-11-02T05:00:00.000Z', 'hour', { sent: 1 }),
            bucket('2025-11-02T06:00:00.000Z', 'hour', { sent: 1 }),
            // 01:30 EST on Nov 4 is past the cutoff (Nov 4 05:00Z); that day began at 05:00Z (midnight EST).
            bucket('2025-11-04T05:00:00.000Z', 'day', { sent: 1 }),
          ]);
        });
      });
    });

    describe('stats by browser', () => {
      const chrome = { browser: { name: 'chrome', target: 'web-push' } } as const;
      const firefox = { browser: { name: 'firefox', target: 'web-push' } } as const;
      const legacy = { browser: { name: 'safari', target: 'safari-legacy' } } as const;
      const unknown = { browser: null } as const;
      const report = (
        reportId: string,
        occurrence: string,
        userId: string,
        kind: 'viewed' | 'clicked' | 'closed',
        { browser }: { browser: Interaction['browser'] },
      ) =>
        storage.recordInteraction({
          reportId,
          campaignId: cid('c1'),
          occurrence,
          userId: uid(userId),
          kind,
          action: null,
          at: at(MINUTE),
          browser,
        });
      const conversion = (
        occurrence: string,
        userId: string,
        control: boolean,
        revenue: number | null,
        { browser }: { browser: Conversion['browser'] },
      ) =>
        storage.recordConversion({
          campaignId: cid('c1'),
          occurrence,
          userId: uid(userId),
          control,
          at: at(HOUR),
          eventName: 'Charged',
          revenue,
          browser,
        });
      const byKey = (rows: readonly { name: string; target: string }[]) =>
        [...rows].sort((a, b) => (`${a.name}/${a.target}` < `${b.name}/${b.target}` ? -1 : 1));
      const figures = { users: 0, sent: 0, failed: 0, viewed: 0, clicked: 0, conversions: 0, revenue: 0 };

      it('counts messages, users, reports and conversions each under its own browser and target', async () => {
        await storage.recordDeliveries([
          // u1 has Chrome and Firefox: reached on both in o1, on Chrome only in o2.
          delivery('c1', 'o1', 'u1', 's1c', 'sent', chrome),
          delivery('c1', 'o1', 'u1', 's1f', 'sent', firefox),
          delivery('c1', 'o2', 'u1', 's1c', 'sent', chrome),
          delivery('c1', 'o1', 'u2', 's2c', 'sent', chrome),
          delivery('c1', 'o1', 'u3', 's3c', 'failed', chrome),
          delivery('c1', 'o1', 'u4', 's4f', 'gone', firefox),
          delivery('c1', 'o1', 'u5', 's5s', 'sent', legacy),
          // Recorded without a browser (before browsers were kept): other, web-push.
          delivery('c1', 'o1', 'u6', 's6', 'sent'),
          delivery('c2', 'o1', 'u1', 's1c', 'sent', chrome),
        ]);
        // u1 saw o1 on Firefox and clicked it on Chrome: each report counts where it was made.
        await report('r1', 'o1', 'u1', 'viewed', firefox);
        await report('r2', 'o1', 'u1', 'clicked', chrome);
        await report('r3', 'o2', 'u1', 'clicked', chrome);
        await report('r4', 'o1', 'u2', 'viewed', chrome);
        await report('r5', 'o1', 'u2', 'closed', chrome);
        await report('r6', 'o1', 'u5', 'clicked', legacy);
        // A report whose browser is unknown counts as other, web-push.
        await report('r7', 'o1', 'u3', 'clicked', unknown);
        await conversion('o1', 'u1', false, 10, firefox);
        await conversion('o1', 'u2', false, null, chrome);
        await conversion('o1', 'u6', false, 3, unknown);
        // Control is left out.
        await conversion('o1', 'u5', true, 99, unknown);

        expect(byKey(await storage.campaignBrowsers(cid('c1')))).toEqual([
          {
            name: 'chrome',
            target: 'web-push',
            ...figures,
            users: 3,
            sent: 3,
            failed: 1,
            viewed: 1,
            clicked: 2,
            conversions: 1,
          },
          {
            name: 'firefox',
            target: 'web-push',
            ...figures,
            users: 1,
            sent: 1,
            failed: 1,
            viewed: 1,
            conversions: 1,
            revenue: 10,
          },
          {
            name: 'other',
            target: 'web-push',
            ...figures,
            users: 1,
            sent: 1,
            clicked: 1,
            conversions: 1,
            revenue: 3,
          },
          { name: 'safari', target: 'safari-legacy', ...figures, users: 1, sent: 1, clicked: 1 },
        ]);
        expect(await storage.campaignBrowsers(cid('none'))).toEqual([]);
      });

      it('counts a user once per run and browser, whichever write brings their messages', async () => {
        // Two Chrome profiles of u1: the messages are stored by two writes, as outcome groups are.
        await storage.recordDeliveries([delivery('c1', 'o1', 'u1', 's1a', 'sent', chrome)]);
        await storage.recordDeliveries([
          delivery('c1', 'o1', 'u1', 's1b', 'sent', chrome),
          delivery('c1', 'o1', 'u2', 's2a', 'failed', chrome),
        ]);
        // u2's retry succeeds on another subscription; a duplicate write counts nothing.
        await storage.recordDeliveries([delivery('c1', 'o1', 'u2', 's2b', 'sent', chrome)]);
        await storage.recordDeliveries([delivery('c1', 'o1', 'u1', 's1b', 'sent', chrome)]);
        // A report alone (its message's row pruned, or never stored) still opens an entry.
        await report('r1', 'o1', 'u3', 'viewed', firefox);

        expect(byKey(await storage.campaignBrowsers(cid('c1')))).toEqual([
          { name: 'chrome', target: 'web-push', ...figures, users: 2, sent: 3, failed: 1 },
          { name: 'firefox', target: 'web-push', ...figures, viewed: 1 },
        ]);
      });
    });

    describe('decisions', () => {
      const decision = (c: string, o: string, u: string, offsetMs: number, outcome: Decision['outcome']) =>
        ({
          campaignId: cid(c),
          occurrence: o,
          userId: uid(u),
          at: at(offsetMs),
          outcome,
          reason: outcome === 'skipped' ? 'capped' : null,
          facts: { zone: 'Europe/Paris', caps: { day: { count: 3, limit: 3 } }, list: [1, 'a', null] },
        }) satisfies Decision;

      it('appends every decision, duplicates included, and lists one user’s oldest first', async () => {
        const d1 = decision('c1', 'o1', 'ann', 2 * MINUTE, 'delayed');
        const d2 = decision('c1', 'o1', 'ann', 5 * MINUTE, 'sent');
        const d0 = decision('c2', 'o9', 'ann', MINUTE, 'skipped');
        const bob = decision('c1', 'o1', 'bob', MINUTE, 'control');
        await storage.appendDecisions([d1, d2]);
        await storage.appendDecisions([d0, bob, d2]);
        expect(await inspect.countRows('decisions')).toBe(5);
        expect(await storage.listDecisions({ userId: uid('ann') })).toEqual([d0, d1, d2, d2]);
        expect(await storage.listDecisions({ userId: uid('ann'), campaignId: cid('c1') })).toEqual([
          d1,
          d2,
          d2,
        ]);
        expect(await storage.listDecisions({ userId: uid('ann'), since: at(2 * MINUTE) })).toEqual([
          d1,
          d2,
          d2,
        ]);
        expect(await storage.listDecisions({ userId: uid('nobody') })).toEqual([]);
      });

      it('keeps append order between decisions of the same instant', async () => {
        const a = decision('c1', 'o1', 'ann', MINUTE, 'delayed');
        const b = decision('c1', 'o1', 'ann', MINUTE, 'sent');
        await storage.appendDecisions([a, b]);
        expect((await storage.listDecisions({ userId: uid('ann') })).map((d) => d.outcome)).toEqual([
          'delayed',
          'sent',
        ]);
      });

      /** A transition out of pending, with the decision it records. */
      const settled = (u: string, state: RecipientUpdate['state'], recorded: Decision): RecipientUpdate => ({
        campaignId: cid('c1'),
        occurrence: 'o1',
        userId: uid(u),
        state,
        reason: state === 'skipped' ? 'capped' : null,
        decision: recorded,
      });

      it('an update with a decision appends it with the transition, only for a row that was pending', async () => {
        await storage.insertRecipients([
          recipient('c1', 'o1', 'ann'),
          recipient('c1', 'o1', 'bob'),
          recipient('c1', 'o1', 'cid', 'control', 'control'),
        ]);
        await storage.insertRecipients([recipient('c1', 'o1', 'dan', 'skipped', 'capped')]);
        const sentAnn = decision('c1', 'o1', 'ann', MINUTE, 'sent');
        const skippedBob = decision('c1', 'o1', 'bob', MINUTE, 'skipped');
        await storage.updateRecipients(
          [
            settled('ann', 'delivered', sentAnn),
            settled('bob', 'skipped', skippedBob),
            // Rows no longer pending (control, already skipped) keep their state and get no decision.
            settled('cid', 'delivered', decision('c1', 'o1', 'cid', MINUTE, 'sent')),
            settled('dan', 'delivered', decision('c1', 'o1', 'dan', MINUTE, 'sent')),
            // No row: nothing is created, nothing appended.
            settled('ghost', 'delivered', decision('c1', 'o1', 'ghost', MINUTE, 'sent')),
          ],
          at(HOUR),
        );
        expect(await inspect.recipientState('c1', 'o1', 'ann')).toEqual({ state: 'delivered', reason: null });
        expect(await inspect.recipientState('c1', 'o1', 'bob')).toEqual({
          state: 'skipped',
          reason: 'capped',
        });
        expect(await inspect.recipientState('c1', 'o1', 'cid')).toEqual({
          state: 'control',
          reason: 'control',
        });
        expect(await inspect.recipientState('c1', 'o1', 'dan')).toEqual({
          state: 'skipped',
          reason: 'capped',
        });
        expect(await inspect.recipientState('c1', 'o1', 'ghost')).toBeNull();
        expect(await inspect.countRows('decisions')).toBe(2);
        expect(await storage.listDecisions({ userId: uid('ann') })).toEqual([sentAnn]);
        expect(await storage.listDecisions({ userId: uid('bob') })).toEqual([skippedBob]);
        expect(await storage.listDecisions({ userId: uid('cid') })).toEqual([]);
        expect(await storage.listDecisions({ userId: uid('dan') })).toEqual([]);
      });

      it('the same updates with decisions applied twice, or by two jobs at once, append each decision once', async () => {
        const users = Array.from({ length: 40 }, (_, i) => `u${pad(i)}`);
        await storage.insertRecipients(users.map((u) => recipient('c1', 'o1', u)));
        const updates = users.map((u) => settled(u, 'delivered', decision('c1', 'o1', u, MINUTE, 'sent')));
        // Two jobs settling the same rows concurrently (a re-run racing its first run), then once more.
        await Promise.all([
          storage.updateRecipients(updates, at(HOUR)),
          storage.updateRecipients(updates, at(HOUR)),
        ]);
        await storage.updateRecipients(updates, at(2 * HOUR));
        expect(await inspect.countRows('decisions')).toBe(users.length);
        for (const u of [users[0], users[39]] as string[]) {
          expect(await storage.listDecisions({ userId: uid(u) })).toEqual([
            decision('c1', 'o1', u, MINUTE, 'sent'),
          ]);
          expect(await inspect.recipientState('c1', 'o1', u)).toEqual({ state: 'delivered', reason: null });
        }
        // The row's updatedAt is the transition's: the later no-op did not touch it.
        const [first] = await storage.getRecipients(cid('c1'), 'o1', [uid(users[0] as string)]);
        expect(first?.updatedAt).toEqual(at(HOUR));
      });

      it('a row inserted with a decision appends it only if the row is new, once however often it is inserted', async () => {
        const heldBack = decision('c1', 'o1', 'ann', MINUTE, 'control');
        const rows = [
          { ...recipient('c1', 'o1', 'ann', 'control', 'control'), decision: heldBack },
          recipient('c1', 'o1', 'bob'),
        ];
        expect((await storage.insertRecipients(rows)).inserted).toBe(2);
        const [again] = await Promise.all([storage.insertRecipients(rows), storage.insertRecipients(rows)]);
        expect(again.inserted).toBe(0);
        expect(await inspect.countRows('decisions')).toBe(1);
        expect(await storage.listDecisions({ userId: uid('ann') })).toEqual([heldBack]);
        // The decision is not part of the row.
        expect(await storage.getRecipients(cid('c1'), 'o1', [uid('ann')])).toEqual([
          recipient('c1', 'o1', 'ann', 'control', 'control'),
        ]);
      });

      it('pruneDecisions deletes decisions before the cutoff in bounded batches and keeps the rest in order', async () => {
        const old = [1, 2, 3].map((m) => decision('c1', 'o1', 'ann', m * MINUTE, 'delayed'));
        const kept = [
          decision('c1', 'o2', 'ann', 10 * MINUTE, 'sent'),
          decision('c1', 'o2', 'ann', 10 * MINUTE, 'skipped'),
        ];
        await storage.appendDecisions([...old, decision('c2', 'o1', 'bob', 4 * MINUTE, 'control'), ...kept]);
        expect(await storage.pruneDecisions({ before: at(5 * MINUTE), limit: 3 })).toBe(3);
        expect(await storage.pruneDecisions({ before: at(5 * MINUTE), limit: 3 })).toBe(1);
        expect(await storage.pruneDecisions({ before: at(5 * MINUTE), limit: 3 })).toBe(0);
        expect(await inspect.countRows('decisions')).toBe(2);
        expect(await storage.listDecisions({ userId: uid('ann') })).toEqual(kept);
        expect(await storage.listDecisions({ userId: uid('bob') })).toEqual([]);
        // The cutoff is exclusive.
        expect(await storage.pruneDecisions({ before: at(10 * MINUTE), limit: 10 })).toBe(0);
      });
    });

    describe('interactions by user', () => {
      it('lists one user’s reports since an instant, oldest first', async () => {
        const report = (reportId: string, userId: string, offsetMs: number) => ({
          reportId,
          campaignId: cid('c1'),
          occurrence: 'o1',
          userId: uid(userId),
          kind: 'clicked' as const,
          action: null,
          at: at(offsetMs),
        });
        await storage.recordInteraction(report('r2', 'ann', 3 * MINUTE));
        await storage.recordInteraction(report('r1', 'ann', MINUTE));
        await storage.recordInteraction(report('r3', 'bob', 2 * MINUTE));
        expect((await storage.listInteractions({ userId: uid('ann') })).map((i) => i.reportId)).toEqual([
          'r1',
          'r2',
        ]);
        expect(await storage.listInteractions({ userId: uid('ann'), since: at(2 * MINUTE) })).toEqual([
          report('r2', 'ann', 3 * MINUTE),
        ]);
      });
    });

    describe('conversions', () => {
      const conversion = (c: string, o: string, u: string, control: boolean, revenue: number | null) => ({
        campaignId: cid(c),
        occurrence: o,
        userId: uid(u),
        control,
        at: at(HOUR),
        eventName: 'Charged',
        revenue,
      });

      it('records one conversion per (campaign, occurrence, user) and tallies recipients and control apart', async () => {
        expect(await storage.recordConversion(conversion('c1', 'o1', 'ann', false, 120.5))).toBe(true);
        expect(await storage.recordConversion(conversion('c1', 'o1', 'ann', false, 999))).toBe(false);
        expect(await storage.recordConversion(conversion('c1', 'o2', 'ann', false, null))).toBe(true);
        expect(await storage.recordConversion(conversion('c1', 'o1', 'bob', true, 30))).toBe(true);
        expect(await storage.recordConversion(conversion('c2', 'o1', 'ann', false, 5))).toBe(true);
        expect(await inspect.countRows('conversions')).toBe(4);
        expect(await storage.conversionTallies(cid('c1'))).toEqual({
          recipients: { conversions: 2, revenue: 120.5 },
          control: { conversions: 1, revenue: 30 },
        });
        expect(await storage.conversionTallies(cid('none'))).toEqual({
          recipients: { conversions: 0, revenue: 0 },
          control: { conversions: 0, revenue: 0 },
        });
      });
    });
  });
}
