import {
  type CampaignId,
  createHerald,
  type DeliveryOutcome,
  type Herald,
  memoryQueue,
  type OutboundMessage,
  type Storage,
  silentLogger,
} from '../../src/index.js';
import { fakeClock } from '../../src/testing/index.js';

/**
 * A one-time campaign to everyone, due at DUE, and the subscriptions it goes to: what the tests of
 * a delivery job's writes (outcomes as they arrive, settling without read-back) set up alike.
 */
export const DUE = '2026-03-01T10:00:00Z';

export const keys = {
  p256dh: 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
  auth: 'tBHItJI5svbpez7KI4CCXg',
};

/** A distinct FCM endpoint per user and device. */
export const endpointFor = (userId: string, device = 0) =>
  `https://fcm.googleapis.com/fcm/send/${userId}-${device}`;

/** Subscribes `devices` browsers of one user (endpoints `endpointFor(userId, 0…devices − 1)`). */
export async function addDevices(herald: Herald, userId: string, devices: number): Promise<void> {
  for (let device = 0; device < devices; device += 1) {
    await herald.subscriptions.add({ userId, subscription: { endpoint: endpointFor(userId, device), keys } });
  }
}

/** Creates and schedules the campaign; its one run is due at DUE. */
export async function scheduleOnce(herald: Herald, name: string): Promise<CampaignId> {
  const campaign = await herald.campaigns.create({
    name,
    when: { schedule: { type: 'once', at: DUE } },
    who: { segment: { type: 'all' } },
    what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
  });
  await herald.campaigns.schedule(campaign.id);
  return campaign.id;
}

/** The endpoint a web push request goes to ('' for Safari). */
export const endpointOf = (request: OutboundMessage) =>
  request.subscription.target === 'webpush' ? request.subscription.endpoint : '';

/** A Herald on `storage` whose push service answers `answer`, one job at a time. */
export function heraldOn(
  storage: Storage,
  answer: (request: OutboundMessage) => DeliveryOutcome | Promise<DeliveryOutcome>,
  clock = fakeClock('2026-03-01T09:00:00Z'),
  tuning: { sendConcurrency?: number } = {},
): Herald {
  return createHerald({
    storage,
    queue: memoryQueue(),
    clock,
    logger: silentLogger,
    reportSecret: 'a-secret-that-is-long-enough-for-hmac',
    random: () => 0.5,
    // Trusted as it is: no DNS lookup of FCM's name before each send (none answers in a sandbox).
    allowEndpoint: ['https://fcm.googleapis.com'],
    providers: {
      webpush: { target: 'webpush', send: async (request) => answer(request), close: async () => {} },
    },
    tuning: { concurrency: 1, ...tuning },
  });
}
