import type { CampaignId, Herald } from '../../src/index.js';

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
