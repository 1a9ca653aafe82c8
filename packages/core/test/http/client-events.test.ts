import { describe, expect, it, vi } from 'vitest';
import type { HttpOptions } from '../../src/index.js';
import { httpEngine, loopbackPushService, sentToAda } from './support.js';

// Each case runs a campaign to its send on a shared, loaded CI box.
vi.setConfig({ testTimeout: 60_000 });

/**
 * Events posted by browsers: whose they are (the subscription the browser holds, or the user the
 * host's session names) and how much revenue they may claim.
 */
describe('events posted by browsers', () => {
  const loopback = loopbackPushService();
  const { service } = loopback;

  async function sentCampaign(options: HttpOptions) {
    const { herald, handle } = httpEngine({ allowEndpoint: loopback.url, http: options });
    const { campaign, subscription } = await sentToAda(herald, service, {
      name: 'Sale',
      when: { schedule: { type: 'once', at: '2026-04-01T08:00:00Z' } },
      who: { segment: { type: 'all' } },
      what: { title: 'Sale', deeplink: 'https://example.com/' },
      setup: { conversion: { event: { name: 'purchase' }, windowHours: 24, revenueProperty: 'amount' } },
    });
    const track = (body: unknown) => handle({ method: 'POST', path: '/events', headers: {}, body });
    const converted = async () => {
      const { conversions, revenue } = (await herald.campaigns.stats(campaign.id)).conversions.recipients;
      return { conversions, revenue };
    };
    return { track, converted, endpoint: subscription.endpoint };
  }

  it('tracks an event for the subscription the browser holds, never for a user it only names', async () => {
    const { converted, track, endpoint } = await sentCampaign({});
    const claimed = await track({ userId: 'ada', name: 'purchase', properties: { amount: 10 } });
    expect(claimed).toMatchObject({ status: 400 });
    const other = await track({ endpoint: `${loopback.url}/push/someone-else`, name: 'purchase' });
    expect(other).toMatchObject({ status: 400 });
    expect(await converted()).toEqual({ conversions: 0, revenue: 0 });
    expect(await track({ endpoint, name: 'purchase', properties: { amount: 10 } })).toEqual({ status: 202 });
    expect(await converted()).toEqual({ conversions: 1, revenue: 10 });
  });

  it('counts client-reported revenue as given by default, capped or not at all when the host says so', async () => {
    const allowed = await sentCampaign({});
    await allowed.track({ endpoint: allowed.endpoint, name: 'purchase', properties: { amount: 1_000_000 } });
    expect(await allowed.converted()).toEqual({ conversions: 1, revenue: 1_000_000 });

    const capped = await sentCampaign({ clientRevenue: { max: 500 } });
    await capped.track({ endpoint: capped.endpoint, name: 'purchase', properties: { amount: 1_000_000 } });
    expect(await capped.converted()).toEqual({ conversions: 1, revenue: 500 });

    const off = await sentCampaign({ clientRevenue: 'off' });
    await off.track({ endpoint: off.endpoint, name: 'purchase', properties: { amount: 1_000_000 } });
    expect(await off.converted()).toEqual({ conversions: 1, revenue: 0 });
  });
});
