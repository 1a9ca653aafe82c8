import { describe, expect, it } from 'vitest';
import {
  createHerald,
  type Decision,
  type DeliveryOutcome,
  memoryQueue,
  memoryStorage,
  type PushProvider,
  type RecipientUpdate,
  type Storage,
  silentLogger,
  UserId,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';

const DUE = '2026-03-01T10:00:00Z';
const keys = {
  p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
  auth: 'tBHItJI5svbpez7KI4CCXg',
};

const acceptingProvider: PushProvider = {
  target: 'webpush',
  send: async (): Promise<DeliveryOutcome> => ({ kind: 'sent', statusCode: 201 }),
  close: async () => {},
};

/**
 * A storage on which the writes that follow a batch's sends fail once each, as when Postgres restarts
 * then: the settle's write lands but its acknowledgement is lost, and the job's last write (its
 * decision log, flushed as the failed job ends) is refused.
 */
function storageFailingAfterSettle() {
  const inner = memoryStorage();
  const faults = { settle: 0, decisionLog: 0 };
  const storage: Storage = {
    ...inner,
    async updateRecipients(updates: readonly RecipientUpdate[], now: Date) {
      await inner.updateRecipients(updates, now);
      if (faults.settle === 0 && updates.some((update) => update.state === 'delivered')) {
        faults.settle += 1;
        throw new Error('connection lost before the settle was acknowledged');
      }
    },
    async appendDecisions(decisions: readonly Decision[]) {
      if (faults.settle > 0 && faults.decisionLog === 0 && decisions.length > 0) {
        faults.decisionLog += 1;
        throw new Error('connection refused: the database is restarting');
      }
      await inner.appendDecisions(decisions);
    },
  };
  return { storage, faults };
}

describe('a recipient transition and its decision are one write', () => {
  it('a job failing after settling its recipients loses no sent or control decision and doubles none', async () => {
    const users = Array.from({ length: 12 }, (_, i) => UserId.parse(`user-${i}`));
    const { storage, faults } = storageFailingAfterSettle();
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const herald = createHerald({
      storage,
      queue: memoryQueue(),
      clock,
      logger: silentLogger,
      reportSecret: 'a-secret-that-is-long-enough-for-hmac',
      providers: { webpush: acceptingProvider },
      tuning: { batchSize: users.length, concurrency: 1 },
    });
    for (const userId of users) {
      await herald.subscriptions.add({
        userId,
        subscription: { endpoint: `https://fcm.googleapis.com/fcm/send/${userId}`, keys },
      });
    }
    const campaign = await herald.campaigns.create({
      name: 'Settled, then the database restarts',
      when: { schedule: { type: 'once', at: DUE } },
      who: { segment: { type: 'all' } },
      what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
      setup: {
        controlGroupPercent: 50,
        conversion: { event: { name: 'Charged' }, windowHours: 24, revenueProperty: 'amount' },
      },
    });
    await herald.campaigns.schedule(campaign.id);
    await clock.set(DUE);
    await herald.tick();
    expect(faults.settle).toBe(1);
    // The failed job's retry finds every recipient settled.
    await clock.advance(10 * 60_000);
    await herald.tick();

    const stats = await herald.campaigns.stats(campaign.id);
    expect(stats.pending).toBe(0);
    // Each user has exactly one decision: sent, or control for those held back (inserted with theirs).
    const outcomes = new Map<UserId, string[]>();
    for (const userId of users) {
      const decisions = await storage.listDecisions({ userId, campaignId: campaign.id });
      outcomes.set(
        userId,
        decisions.map((decision) => decision.outcome),
      );
    }
    const sentTo = users.filter((userId) => outcomes.get(userId)?.[0] === 'sent');
    const control = users.filter((userId) => outcomes.get(userId)?.[0] === 'control');
    expect(sentTo.length).toBeGreaterThan(0);
    expect(control.length).toBeGreaterThan(0);
    expect(sentTo.length + control.length).toBe(users.length);
    for (const userId of users) expect(outcomes.get(userId)).toHaveLength(1);
    expect(stats.sent).toBe(sentTo.length);
    // Last-touch attribution reads the sent decisions: every purchase after the message is the campaign's.
    await clock.advance(60 * 60_000);
    for (const userId of users) {
      await herald.events.track({ userId, name: 'Charged', properties: { amount: 10 } });
    }
    const { conversions } = await herald.campaigns.stats(campaign.id);
    expect(conversions.recipients).toMatchObject({ conversions: sentTo.length, revenue: 10 * sentTo.length });
    expect(conversions.control).toMatchObject({ conversions: control.length, revenue: 10 * control.length });
    await herald.stop();
  });
});
