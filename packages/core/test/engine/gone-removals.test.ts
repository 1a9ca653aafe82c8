import { describe, expect, it } from 'vitest';
import { memoryStorage, type Storage, type SubscriptionRemoval, type UserId } from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { addDevices, DUE, endpointFor, endpointOf, heraldOn, scheduleOnce } from './once-campaign.js';

/** A memoryStorage that notes each removal call: one at a time, and in groups. */
function watchedStorage(withGroups: boolean) {
  const inner = memoryStorage();
  const calls = { one: 0, groups: [] as SubscriptionRemoval[][] };
  const { removeSubscriptions, ...rest } = inner;
  const storage: Storage = {
    ...rest,
    async removeSubscription(id, options) {
      calls.one += 1;
      return inner.removeSubscription(id, options);
    },
    ...(withGroups && removeSubscriptions
      ? {
          async removeSubscriptions(removals: readonly SubscriptionRemoval[]) {
            calls.groups.push([...removals]);
            return removeSubscriptions(removals);
          },
        }
      : {}),
  };
  return { storage, calls };
}

/** Every other user's subscription answers 410 Gone; the campaign runs once. */
async function runWithGone(storage: Storage, users: string[]) {
  const clock = fakeClock('2026-03-01T09:00:00Z');
  const gone = new Set(users.filter((_, index) => index % 2 === 1).map((userId) => endpointFor(userId)));
  const herald = heraldOn(
    storage,
    (request) =>
      gone.has(endpointOf(request)) ? { kind: 'gone', statusCode: 410 } : { kind: 'sent', statusCode: 201 },
    clock,
  );
  for (const userId of users) await addDevices(herald, userId, 1);
  const campaignId = await scheduleOnce(herald, 'Gone subscriptions');
  await clock.set(DUE);
  await herald.tick();
  const stats = await herald.campaigns.stats(campaignId);
  const left = await storage.listSubscriptions(users as UserId[]);
  await herald.stop();
  return { stats, left: left.map((subscription) => subscription.userId as string) };
}

describe('gone subscriptions', () => {
  const users = Array.from({ length: 40 }, (_, index) => `u${String(index).padStart(2, '0')}`);
  const kept = users.filter((_, index) => index % 2 === 0);

  it('are removed in groups, with the outcomes they came with, not one write each', async () => {
    const { storage, calls } = watchedStorage(true);
    const { stats, left } = await runWithGone(storage, users);
    expect(stats).toMatchObject({ sent: 20, gone: 20, pending: 0 });
    expect(left.sort()).toEqual(kept);
    expect(calls.one).toBe(0);
    // At most one removal write per group of stored outcomes (half the send slots: 50), here one.
    expect(calls.groups).toHaveLength(1);
    expect(calls.groups.flat()).toHaveLength(20);
    expect(calls.groups.flat().every((removal) => removal.ifEndpoint?.startsWith('https://fcm'))).toBe(true);
  });

  it('are removed one at a time by a storage without removeSubscriptions', async () => {
    const { storage, calls } = watchedStorage(false);
    expect(storage.removeSubscriptions).toBeUndefined();
    const { stats, left } = await runWithGone(storage, users);
    expect(stats).toMatchObject({ sent: 20, gone: 20, pending: 0 });
    expect(left.sort()).toEqual(kept);
    expect(calls.one).toBe(20);
  });
});
