import { describe, expect, it } from 'vitest';
import { type SavedSegment, SavedSegment as SavedSegmentSchema, SegmentDefinition } from '../model/index.js';
import type { Storage } from '../ports/storage.js';
import { at, DAY, profile, safariSubscription, T0, uid, webPushSubscription } from './fixtures.js';
import type { StorageInspector } from './harness.js';

const segment = (id: string, name: string, extra: object = {}): SavedSegment =>
  SavedSegmentSchema.parse({
    id,
    name,
    definition: {
      type: 'and',
      of: [
        { type: 'property', condition: { op: 'after', property: 'signupAt', date: { at: '2025-01-01' } } },
        {
          type: 'did',
          event: { name: 'Charged', where: [{ op: 'gt', property: 'amount', value: 100 }] },
          count: { op: 'atLeast', value: 2 },
          window: { inLast: { amount: 30, unit: 'days' } },
        },
        { type: 'reachable', target: 'webpush' },
      ],
    },
    createdAt: T0,
    updatedAt: T0,
    ...extra,
  });

/**
 * Storage conformance for saved segments, reach estimates and test profiles.
 * Runs inside `runStorageSuite` (which empties the store before each test).
 */
export function describeSegmentStorage(getStorage: () => Storage, inspect: StorageInspector): void {
  describe('saved segments', () => {
    it('stores a segment and reads it back unchanged, dates in the definition included', async () => {
      const storage = getStorage();
      const s = segment('seg_1', 'Big spenders', { description: 'Two large orders this month' });
      await storage.insertSegment(s);
      expect(await inspect.countRows('segments')).toBe(1);
      expect(await storage.getSegment(s.id)).toEqual(s);
      expect(await storage.getSegment(SavedSegmentSchema.shape.id.parse('seg_unknown'))).toBeNull();
    });

    it('refuses a second insert with the same id', async () => {
      const storage = getStorage();
      await storage.insertSegment(segment('seg_1', 'A'));
      await expect(storage.insertSegment(segment('seg_1', 'B'))).rejects.toMatchObject({ code: 'conflict' });
      expect((await storage.getSegment(segment('seg_1', 'A').id))?.name).toBe('A');
    });

    it('updates a stored segment in place; updating an unknown one is false and stores nothing', async () => {
      const storage = getStorage();
      await storage.insertSegment(segment('seg_1', 'A'));
      const changed = {
        ...segment('seg_1', 'A renamed'),
        definition: SegmentDefinition.parse({ type: 'reachable' }),
        updatedAt: at(DAY),
      };
      expect(await storage.updateSegment(changed)).toBe(true);
      expect(await storage.getSegment(changed.id)).toEqual(changed);
      expect(await storage.updateSegment(segment('seg_2', 'B'))).toBe(false);
      expect(await inspect.countRows('segments')).toBe(1);
    });

    it('lists by name, then id', async () => {
      const storage = getStorage();
      for (const [id, name] of [
        ['seg_3', 'Lapsed'],
        ['seg_1', 'Big spenders'],
        ['seg_2', 'Lapsed'],
      ] as const)
        await storage.insertSegment(segment(id, name));
      expect((await storage.listSegments()).map((s) => s.id)).toEqual(['seg_1', 'seg_2', 'seg_3']);
    });

    it('deletes once; deleting an unknown segment is false', async () => {
      const storage = getStorage();
      const s = segment('seg_1', 'A');
      await storage.insertSegment(s);
      expect(await storage.deleteSegment(s.id)).toBe(true);
      expect(await storage.deleteSegment(s.id)).toBe(false);
      expect(await storage.getSegment(s.id)).toBeNull();
      expect(await inspect.countRows('segments')).toBe(0);
    });
  });

  describe('reach estimates', () => {
    it('counts qualified users and, among them, users with a live subscription per target', async () => {
      const storage = getStorage();
      const users: Array<[string, string]> = [
        ['both', 'pro'],
        ['web', 'pro'],
        ['web2', 'pro'],
        ['safari', 'pro'],
        ['expired', 'pro'],
        ['none', 'pro'],
        ['other', 'free'],
      ];
      for (const [id, plan] of users) await storage.upsertProfile(profile(id, { plan }));
      await storage.upsertSubscription(webPushSubscription('both'));
      await storage.upsertSubscription(safariSubscription('both', { deviceToken: '01'.repeat(32) }));
      await storage.upsertSubscription(webPushSubscription('web', 1));
      await storage.upsertSubscription(webPushSubscription('web', 2, { expirationTime: T0.getTime() + 1 }));
      await storage.upsertSubscription(webPushSubscription('web2'));
      await storage.upsertSubscription(safariSubscription('safari', { deviceToken: '02'.repeat(32) }));
      await storage.upsertSubscription(webPushSubscription('expired', 1, { expirationTime: T0.getTime() }));
      await storage.upsertSubscription(webPushSubscription('other'));

      const pro = SegmentDefinition.parse({
        type: 'property',
        condition: { op: 'eq', property: 'plan', value: 'pro' },
      });
      expect(await storage.estimateReach(pro, T0)).toEqual({
        qualified: 6,
        reachable: { total: 4, webpush: 3, safari: 2 },
      });
      expect(await storage.estimateReach({ type: 'all' }, T0)).toEqual({
        qualified: 7,
        reachable: { total: 5, webpush: 4, safari: 2 },
      });
      // One millisecond earlier, the subscription expiring at T0 is still live.
      expect((await storage.estimateReach(pro, new Date(T0.getTime() - 1))).reachable).toEqual({
        total: 5,
        webpush: 4,
        safari: 2,
      });
      expect(
        await storage.estimateReach(SegmentDefinition.parse({ type: 'reachable', target: 'safari' }), T0),
      ).toEqual({ qualified: 2, reachable: { total: 2, webpush: 1, safari: 2 } });
    });

    it('estimates zero on an empty store', async () => {
      expect(await getStorage().estimateReach({ type: 'all' }, T0)).toEqual({
        qualified: 0,
        reachable: { total: 0, webpush: 0, safari: 0 },
      });
    });
  });

  describe('test profiles', () => {
    it('lists only test profiles, ascending by id, up to the limit', async () => {
      const storage = getStorage();
      for (const id of ['t3', 'real', 't1', 't2']) {
        await storage.upsertProfile(profile(id, {}, { test: id.startsWith('t') }));
      }
      expect((await storage.listTestProfiles(10)).map((p) => p.userId)).toEqual([
        uid('t1'),
        uid('t2'),
        uid('t3'),
      ]);
      expect((await storage.listTestProfiles(2)).map((p) => p.userId)).toEqual([uid('t1'), uid('t2')]);
      expect((await storage.listTestProfiles(10))[0]?.test).toBe(true);
    });
  });
}
