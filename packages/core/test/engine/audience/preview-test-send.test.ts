import { describe, expect, it } from 'vitest';
import { capSpecs } from '../../../src/engine/deliver/gates/caps.js';
import { inControlGroup } from '../../../src/engine/deliver/gates/control-group.js';
import {
  ConflictError,
  type CreateCampaignInput,
  type HeraldPayload,
  memoryCounters,
  ValidationError,
} from '../../../src/index.js';
import { audienceHerald } from './harness.js';

const RUN_AT = '2026-03-02T11:00:00Z';
const what = {
  title: '{{ user.first_name | default: "Hey" }}, your {{ event.item | default: "cart" }} 🛒',
  body: 'Back in stock in {{ user.city }}',
  deeplink: 'https://shop.example.test/p/{{ user.first_name }}?src=push',
  image: 'https://cdn.example.test/{{ user.first_name }}.png',
  actions: [{ id: 'buy', title: 'Buy' }],
};
const campaignInput = (extra: Partial<CreateCampaignInput> = {}): CreateCampaignInput => ({
  name: 'Restock',
  when: { schedule: { type: 'once', at: RUN_AT } },
  who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } } },
  what,
  ...extra,
});

describe('campaigns.preview', () => {
  it('shows each target’s notification exactly as a run sends it, Safari’s drops applied', async () => {
    const { herald, user, safari, sent, clock } = audienceHerald({
      iconBaseUrl: 'https://app.example.test/icons',
    });
    await user('ann', { plan: 'pro', first_name: 'Ann Lee', city: 'Lyon' });
    await safari('ann');
    const campaign = await herald.campaigns.create(campaignInput({ what: { ...what, icon: 'cart' } }));
    const preview = await herald.campaigns.preview(campaign.id, 'ann');

    expect(preview).toMatchObject({ inAudience: true, controlGroup: false, skipped: null, warnings: [] });
    const web = preview.targets.find((t) => t.target === 'webpush');
    const apple = preview.targets.find((t) => t.target === 'safari');
    expect(web?.notification).toEqual({
      title: 'Ann Lee, your cart 🛒',
      body: 'Back in stock in Lyon',
      deeplink: 'https://shop.example.test/p/Ann%20Lee?src=push',
      icon: 'https://app.example.test/icons/cart.png',
      image: 'https://cdn.example.test/Ann%20Lee.png',
      actions: [{ id: 'buy', title: 'Buy', url: 'https://shop.example.test/p/Ann%20Lee?src=push' }],
    });
    expect(web?.warnings).toEqual([]);
    expect(web?.bytes).toBe(Buffer.byteLength(JSON.stringify(web?.payload)));
    expect(apple?.notification).toEqual({
      title: 'Ann Lee, your cart 🛒',
      body: 'Back in stock in Lyon',
      deeplink: 'https://shop.example.test/p/Ann%20Lee?src=push',
      actions: [],
    });
    expect(apple?.apns).toEqual({
      aps: {
        alert: { title: 'Ann Lee, your cart 🛒', body: 'Back in stock in Lyon' },
        'url-args': ['p', 'Ann Lee'],
      },
    });
    expect(apple?.warnings).toHaveLength(5);
    expect(apple?.warnings.join(' ')).toMatch(
      /icon.*image.*action buttons.*query string.*no views or clicks/,
    );

    // The run sends the same payload, but for the per-send report token, occurrence and expiry.
    await herald.campaigns.schedule(campaign.id);
    await clock.advance(3_600_000);
    await herald.tick();
    const real = sent.find((s) => s.target === 'webpush')?.payload as HeraldPayload;
    const strip = (p: HeraldPayload | undefined) =>
      p && { ...p, herald: { ...p.herald, token: '', occurrence: '', expiresAt: 0 } };
    expect(strip(real)).toEqual(strip(web?.payload));
  });

  it('warns about missing values, the audience and missing subscriptions', async () => {
    const { herald } = audienceHerald({ iconBaseUrl: 'https://app.example.test/icons' });
    await herald.profiles.upsert({ userId: 'bob', properties: { plan: 'free', first_name: 'Bob' } });
    const campaign = await herald.campaigns.create(campaignInput());
    const preview = await herald.campaigns.preview(campaign.id, 'bob');
    expect(preview.inAudience).toBe(false);
    expect(preview.missing).toEqual([{ field: 'body', variable: 'user.city' }]);
    expect(preview.warnings).toEqual([
      expect.stringContaining('does not match the campaign’s audience'),
      'No value for user.city (in body): it renders empty.',
      'The user has no subscription: nothing would be sent.',
    ]);
  });

  it('reports the cut and the payload size on a long body', async () => {
    const { herald, user } = audienceHerald();
    await user('ann', { plan: 'pro', first_name: 'Ann', bio: '📖 '.repeat(2000) });
    const campaign = await herald.campaigns.create(
      campaignInput({ what: { ...what, body: '{{ user.bio }}' } }),
    );
    const [web] = (await herald.campaigns.preview(campaign.id, 'ann')).targets;
    expect(web?.truncated).toEqual(['body']);
    expect(web?.bytes).toBeLessThanOrEqual(3993);
    expect(web?.warnings).toEqual([expect.stringContaining('The body was cut')]);
  });

  it('says a recipient would be skipped when a value is missing and the campaign skips', async () => {
    const { herald, user } = audienceHerald({ iconBaseUrl: 'https://app.example.test/icons' });
    await user('ann', { plan: 'pro', first_name: 'Ann' });
    const campaign = await herald.campaigns.create(campaignInput({ setup: { onMissingValue: 'skip' } }));
    const preview = await herald.campaigns.preview(campaign.id, 'ann');
    expect(preview).toMatchObject({
      skipped: 'missing-value',
      targets: [],
      issues: [{ path: 'what.body', message: 'no value for user.city' }],
    });
    expect(preview.warnings).toEqual(['No value for user.city (in body): this user would be skipped.']);
  });
});

describe('campaigns.sendTest', () => {
  async function setup() {
    // Caps of zero and DND all day: a real run would send nothing; test sends ignore both.
    const context = audienceHerald({
      iconBaseUrl: 'https://app.example.test/icons',
      limits: { perUser: { perDay: 0 } },
      dnd: { start: '00:00', end: '23:59', action: 'discard' },
    });
    await context.user('qa1', { first_name: 'Quinn', city: 'Oslo' }, { test: true });
    await context.user('qa2', { first_name: 'Kai', city: 'Rome' }, { test: true });
    await context.user('ann', { plan: 'pro', first_name: 'Ann', city: 'Lyon' });
    const campaign = await context.herald.campaigns.create(
      campaignInput({ what: { ...what, icon: 'cart' } }),
    );
    return { ...context, campaign };
  }

  it('sends now to every test profile, bypassing caps and DND, on a draft, never counted', async () => {
    const { herald, sent, storage, campaign } = await setup();
    const results = await herald.campaigns.sendTest(campaign.id);
    expect(results.map((r) => [r.userId, r.skipped, r.deliveries.map((d) => d.outcome)])).toEqual([
      ['qa1', null, ['sent']],
      ['qa2', null, ['sent']],
    ]);
    const payloads = sent.map((s) => s.payload as HeraldPayload);
    expect(payloads.map((p) => p.notification.title)).toEqual(['Quinn, your cart 🛒', 'Kai, your cart 🛒']);
    expect(payloads.every((p) => p.herald.occurrence === 'test')).toBe(true);
    // Reports of a test notification are refused: its token is a placeholder.
    expect(herald.verifyReportToken(payloads[0]?.herald.token ?? '')).toBeNull();

    const stats = await herald.campaigns.stats(campaign.id);
    expect(stats).toMatchObject({ recipients: 0, sent: 0, skipped: {}, control: 0 });
    expect(await storage.campaignTallies(campaign.id)).toMatchObject({
      recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
      deliveries: { sent: 0, failed: 0, gone: 0 },
    });
    expect((await herald.campaigns.get(campaign.id)).status).toBe('draft');
  });

  it('sends to the named test profiles only, and refuses profiles that are not test profiles', async () => {
    const { herald, sent, campaign } = await setup();
    const results = await herald.campaigns.sendTest(campaign.id, { userIds: ['qa2'] });
    expect(results.map((r) => r.userId)).toEqual(['qa2']);
    expect(sent).toHaveLength(1);

    const error = await herald.campaigns
      .sendTest(campaign.id, { userIds: ['qa1', 'ann', 'nobody'] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'userIds[1]', message: 'ann is not a test profile' },
      { path: 'userIds[2]', message: 'no profile nobody' },
    ]);
    expect(sent).toHaveLength(1);
  });

  it('refuses when there are no test profiles at all', async () => {
    const { herald, user } = audienceHerald();
    await user('ann', { plan: 'pro' });
    const campaign = await herald.campaigns.create(campaignInput());
    await expect(herald.campaigns.sendTest(campaign.id)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('campaigns.forecast', () => {
  it('counts qualified → reachable → control group → caps (today’s counters) → DND (each user’s zone)', async () => {
    const counters = memoryCounters();
    const { herald, user, clock } = audienceHerald({
      counters,
      limits: { perUser: { perDay: 1 } },
      // 21:00-09:00 local; the run is at 11:00 UTC.
      dnd: { start: '21:00', end: '09:00', action: 'discard' },
    });
    const ids = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) {
      // Every 4th user has no subscription. At the 11:00 UTC run it is 12:00 in Paris, 20:00 in Tokyo, 00:00 in Auckland (DND).
      const zone = ['Europe/Paris', 'Asia/Tokyo', 'Pacific/Auckland'][i % 3];
      if (i % 4 === 3)
        await herald.profiles.upsert({
          userId: id,
          properties: { plan: i < 36 ? 'pro' : 'free' },
          timezone: zone,
        });
      else await user(id, { plan: i < 36 ? 'pro' : 'free' }, { timezone: zone });
    }
    const campaign = await herald.campaigns.create(campaignInput({ setup: { controlGroupPercent: 25 } }));
    await herald.campaigns.schedule(campaign.id);
    // Two users already got their one message of the day.
    const now = clock.now();
    for (const id of ['u00', 'u01']) {
      const zone = ['Europe/Paris', 'Asia/Tokyo', 'Pacific/Auckland'][Number(id.slice(1)) % 3] as string;
      await counters.consume(capSpecs({ perUser: { perDay: 1 } }, id, zone, now), now);
    }

    const pro = ids.filter((_, i) => i < 36);
    const reachable = pro.filter((_, i) => i % 4 !== 3);
    const sending = reachable.filter((id) => !inControlGroup(campaign.id, id, 25));
    const uncapped = sending.filter((id) => id !== 'u00' && id !== 'u01');
    const notInDnd = uncapped.filter((id) => Number(id.slice(1)) % 3 !== 2);

    const forecast = await herald.campaigns.forecast(campaign.id);
    expect(forecast).toMatchObject({
      occurrence: new Date(RUN_AT),
      qualified: 36,
      reachable: reachable.length,
      afterControlGroup: sending.length,
      afterCaps: uncapped.length,
      afterDnd: notInDnd.length,
      delayedByDnd: 0,
      passed: 0,
    });
    expect(sending.length).toBeLessThan(reachable.length);
    expect(notInDnd.length).toBeLessThan(uncapped.length);
  });

  it('counts DND delays as still reaching the user, and refuses live campaigns', async () => {
    const { herald, user } = audienceHerald({ dnd: { start: '10:00', end: '12:00', action: 'delay' } });
    await user('ann', { plan: 'pro' }, { timezone: 'UTC' });
    const campaign = await herald.campaigns.create(campaignInput());
    expect(await herald.campaigns.forecast(campaign.id)).toMatchObject({ afterDnd: 1, delayedByDnd: 1 });

    const live = await herald.campaigns.create(
      campaignInput({ when: { schedule: { type: 'onEvent', event: { name: 'Added' } } } }),
    );
    await expect(herald.campaigns.forecast(live.id)).rejects.toBeInstanceOf(ConflictError);
  });
});
