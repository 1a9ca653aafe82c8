import type { Herald } from '@herald/core';
import type { DevPushService } from '@herald/core/dev';

const CITIES = ['Paris', 'Lisbon', 'Berlin', 'Austin', 'Tokyo'];
const ZONES = ['Europe/Paris', 'Europe/Lisbon', 'Europe/Berlin', 'America/Chicago', 'Asia/Tokyo'];

/**
 * Seeds `count` simulated subscribers on the loopback push service, each
 * with a real P-256 key pair, and sends them one campaign. Returns how many
 * messages the push service decrypted and verified out of how many
 * subscribers there were.
 */
export async function runDemoCampaign(
  herald: Herald,
  pushService: DevPushService,
  count: number,
): Promise<{ delivered: number; subscribers: number; campaignId: string }> {
  for (let i = 0; i < count; i++) {
    const userId = `demo-${String(i).padStart(5, '0')}`;
    // A restarted demo has a new loopback push service: forget the last run's endpoints.
    for (const old of await herald.subscriptions.list(userId)) await herald.subscriptions.remove(old.id);
    await herald.profiles.upsert({
      userId,
      properties: {
        first_name: `Reader ${i}`,
        city: CITIES[i % CITIES.length] as string,
        plan: i % 3 === 0 ? 'pro' : 'free',
      },
      timezone: ZONES[i % ZONES.length],
    });
    await herald.subscriptions.add({ userId, subscription: pushService.createSubscription() });
  }
  const before = pushService.received.length;
  const campaign = await herald.campaigns.create({
    name: 'Demo: welcome',
    labels: ['demo'],
    when: { schedule: { type: 'once', at: new Date() } },
    who: {
      segment: { type: 'property', condition: { op: 'startsWith', property: 'first_name', value: 'Reader' } },
    },
    what: {
      title: 'Hello {{ user.first_name }}',
      body: 'News from {{ user.city }} is waiting for you.',
      deeplink: 'https://example.com/news?city={{ user.city }}',
    },
  });
  await herald.campaigns.schedule(campaign.id);
  await herald.tick();
  const delivered = pushService.received
    .slice(before)
    .filter(
      (message) =>
        message.plaintext !== null && JSON.parse(message.plaintext).herald?.campaignId === campaign.id,
    ).length;
  return { delivered, subscribers: count, campaignId: campaign.id };
}
