import { describe, expect, it } from 'vitest';
import { type CampaignId, memoryStorage, type Storage, type UserId } from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';
import { addDevices, DUE, endpointFor, endpointOf, heraldOn, scheduleOnce } from './once-campaign.js';

const OCCURRENCE = '2026-03-01T10:00:00.000Z';

/** A memoryStorage that notes which users each read-back of recipients and deliveries asked for. */
function watchedStorage() {
  const inner = memoryStorage();
  const readBack: { recipients: UserId[]; deliveries: UserId[] } = { recipients: [], deliveries: [] };
  const storage: Storage = {
    ...inner,
    async getRecipients(campaignId, occurrence, userIds) {
      readBack.recipients.push(...userIds);
      return inner.getRecipients(campaignId, occurrence, userIds);
    },
    async listDeliveries(campaignId, occurrence, userIds) {
      readBack.deliveries.push(...userIds);
      return inner.listDeliveries(campaignId, occurrence, userIds);
    },
  };
  return { storage, readBack };
}

describe('settling a fresh batch', () => {
  it('reads back only the users it stored no final outcome of every send for, and decides as the read-back would', async () => {
    const { storage, readBack } = watchedStorage();
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const herald = heraldOn(
      storage,
      (request) => {
        const endpoint = endpointOf(request);
        if (endpoint === endpointFor('refused')) return { kind: 'failed', statusCode: 400, reason: 'bad' };
        if (endpoint === endpointFor('mixed', 1)) return { kind: 'failed', statusCode: 403, reason: 'no' };
        if (endpoint === endpointFor('lost')) return { kind: 'gone', statusCode: 410 };
        if (endpoint === endpointFor('half-lost', 0)) return { kind: 'gone', statusCode: 410 };
        if (endpoint === endpointFor('half-lost', 1))
          return { kind: 'failed', statusCode: 413, reason: 'big' };
        if (endpoint === endpointFor('flaky'))
          return { kind: 'retry', statusCode: 503, reason: 'unavailable', retryAt: new Date(0) };
        return { kind: 'sent', statusCode: 201 };
      },
      clock,
    );
    const plain = ['ada', 'bob', 'cy'];
    for (const userId of [...plain, 'refused', 'lost', 'flaky']) {
      await addDevices(herald, userId, 1);
    }
    await addDevices(herald, 'mixed', 2);
    await addDevices(herald, 'half-lost', 2);
    const campaignId = await scheduleOnce(herald, 'Settle without read-back');
    await clock.set(DUE);
    await herald.tick();

    // Every user whose sends all have a final outcome stored by this batch is settled from it: sent, refused
    // or gone alike. Only flaky, whose retry is still to come, is read back.
    expect(readBack.recipients).toEqual(['flaky']);
    expect(readBack.deliveries).toEqual(['flaky']);
    const stats = await herald.campaigns.stats(campaignId);
    expect(stats).toMatchObject({ sent: 4, failed: 3, gone: 2, pending: 1 });
    const users = [...plain, 'mixed', 'refused', 'lost', 'half-lost', 'flaky'] as UserId[];
    const states = await storage.getRecipients(campaignId, OCCURRENCE, users);
    expect(Object.fromEntries(states.map((recipient) => [recipient.userId, recipient.state]))).toEqual({
      ada: 'delivered',
      bob: 'delivered',
      cy: 'delivered',
      mixed: 'delivered',
      refused: 'undeliverable',
      lost: 'undeliverable',
      'half-lost': 'undeliverable',
      flaky: 'pending',
    });
    // The gone subscriptions are removed; the one refused beside them is kept.
    const left = await storage.listSubscriptions(['lost', 'half-lost'] as UserId[]);
    expect(
      left.map((subscription) => (subscription.target === 'webpush' ? subscription.endpoint : '')),
    ).toEqual([endpointFor('half-lost', 1)]);
    // Each decision's facts list every outcome the batch stored for the user, in the read-back's order
    // (by subscription id), and an undeliverable one takes the first outcome's reason, as the read-back does.
    for (const userId of ['mixed', 'refused', 'half-lost'] as UserId[]) {
      const [decision] = await storage.listDecisions({ userId, campaignId });
      const deliveries = await storage.listDeliveries(campaignId, OCCURRENCE, [userId]);
      expect(decision?.facts.outcomes).toEqual(
        deliveries.map((delivery) => `${delivery.status} ${delivery.statusCode}`),
      );
      if (decision?.outcome === 'undeliverable') expect(decision.reason).toBe(deliveries[0]?.reason);
    }
    const [mixedSent] = await storage.listDecisions({ userId: 'mixed' as UserId, campaignId });
    expect(mixedSent?.outcome).toBe('sent');
    expect([...((mixedSent?.facts.outcomes ?? []) as string[])].sort()).toEqual(['failed 403', 'sent 201']);
    const [halfLost] = await storage.listDecisions({ userId: 'half-lost' as UserId, campaignId });
    expect(halfLost?.outcome).toBe('undeliverable');
    expect([...((halfLost?.facts.outcomes ?? []) as string[])].sort()).toEqual(['failed 413', 'gone 410']);
    await herald.stop();
  });

  it('leaves a row another job moved first as that job left it, with one decision', async () => {
    const { storage } = watchedStorage();
    const clock = fakeClock('2026-03-01T09:00:00Z');
    let campaignId: CampaignId | undefined;
    const herald = heraldOn(
      storage,
      async () => {
        // Another job (a copy of this one whose lease ran out) settles ada while this one is sending.
        await storage.updateRecipients(
          [
            {
              campaignId: campaignId as CampaignId,
              occurrence: OCCURRENCE,
              userId: 'ada' as UserId,
              state: 'undeliverable',
              reason: null,
              decision: {
                campaignId: campaignId as CampaignId,
                occurrence: OCCURRENCE,
                userId: 'ada' as UserId,
                at: clock.now(),
                outcome: 'undeliverable',
                reason: 'settled by the other job',
                facts: {},
              },
            },
          ],
          clock.now(),
        );
        return { kind: 'sent', statusCode: 201 };
      },
      clock,
    );
    await addDevices(herald, 'ada', 1);
    campaignId = await scheduleOnce(herald, 'Settle without read-back');
    await clock.set(DUE);
    await herald.tick();

    const [ada] = await storage.getRecipients(campaignId, OCCURRENCE, ['ada' as UserId]);
    expect(ada?.state).toBe('undeliverable');
    const decisions = await storage.listDecisions({ userId: 'ada' as UserId, campaignId });
    expect(decisions.map((decision) => [decision.outcome, decision.reason])).toEqual([
      ['undeliverable', 'settled by the other job'],
    ]);
    await herald.stop();
  });

  it('a batch run again reads back, so the earlier run’s outcomes are in the decision', async () => {
    const { storage: watched, readBack } = watchedStorage();
    let writesLeftBeforeFault = 1;
    const storage: Storage = {
      ...watched,
      async recordDeliveries(rows) {
        // The second device's outcome is lost, as if the worker were killed between the 201 and storing it.
        if (writesLeftBeforeFault-- === 0) throw new Error('connection lost while storing outcomes');
        await watched.recordDeliveries(rows);
      },
    };
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const herald = heraldOn(
      storage,
      (request) =>
        endpointOf(request) === endpointFor('ada', 0)
          ? { kind: 'failed', statusCode: 400, reason: 'bad' }
          : { kind: 'sent', statusCode: 201 },
      clock,
      // One send at a time: the first device's outcome is stored before the second is sent.
      { sendConcurrency: 1 },
    );
    await addDevices(herald, 'ada', 2);
    const campaignId = await scheduleOnce(herald, 'Settle without read-back');
    await clock.set(DUE);
    await herald.tick();
    await clock.advance(10 * 60_000);
    readBack.recipients.length = 0;
    readBack.deliveries.length = 0;
    await herald.tick();

    // The second run was not fresh: it read ada's recipient row and earlier outcomes, and settles from them.
    expect(readBack.recipients).toContain('ada');
    expect(readBack.deliveries.filter((userId) => userId === 'ada').length).toBeGreaterThanOrEqual(2);
    const decisions = await storage.listDecisions({ userId: 'ada' as UserId, campaignId });
    const sent = decisions.filter((decision) => decision.outcome === 'sent');
    expect(sent).toHaveLength(1);
    expect([...((sent[0]?.facts.outcomes ?? []) as string[])].sort()).toEqual(['failed 400', 'sent 201']);
    await herald.stop();
  });
});
