import { describe, expect, it } from 'vitest';
import { campaignRun } from './harness.js';

async function clickReport(
  b: ReturnType<typeof campaignRun>,
  campaignId: string,
  occurrence: string,
  userId: string,
) {
  await b.storage.recordInteraction({
    reportId: `click-${campaignId}-${userId}`,
    campaignId: campaignId as never,
    occurrence,
    userId: userId as never,
    kind: 'clicked',
    action: null,
    at: b.clock.now(),
  });
}

describe('conversion tracking', () => {
  it('counts recipients’ and control members’ conversions in the window, with revenue and lift', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    const users = Array.from({ length: 40 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    for (const u of users) await b.addUser(u);
    const campaign = await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' } },
      setup: {
        controlGroupPercent: 50,
        conversion: {
          event: { name: 'Charged', where: [{ op: 'gte', property: 'amount', value: 10 }] },
          windowHours: 24,
          revenueProperty: 'amount',
        },
      },
    });
    await b.runUntil('2026-05-01T11:00:00Z');
    const sentTo = new Set(b.sent.map((m) => m.userId));
    const recipients = users.filter((u) => sentTo.has(u));
    const control = users.filter((u) => !sentTo.has(u));
    expect(recipients.length).toBeGreaterThan(5);
    expect(control.length).toBeGreaterThan(5);

    // Half the recipients buy (one of them twice: counted once), two control members buy, one too small a purchase.
    const buyers = recipients.slice(0, Math.floor(recipients.length / 2));
    for (const u of buyers)
      await b.herald.events.track({ userId: u, name: 'Charged', properties: { amount: 20 } });
    await b.herald.events.track({ userId: buyers[0] as string, name: 'Charged', properties: { amount: 99 } });
    await b.herald.events.track({
      userId: control[0] as string,
      name: 'Charged',
      properties: { amount: 30 },
    });
    await b.herald.events.track({ userId: control[1] as string, name: 'Charged', properties: { amount: 5 } });
    await b.herald.events.track({
      userId: control[2] as string,
      name: 'Charged',
      properties: { amount: 15.5 },
    });
    // Outside the window: nothing.
    await b.clock.set('2026-05-02T11:00:00Z');
    await b.herald.events.track({
      userId: recipients.at(-1) as string,
      name: 'Charged',
      properties: { amount: 50 },
    });

    const { conversions } = await b.herald.campaigns.stats(campaign.id);
    expect(conversions.recipients).toEqual({
      audience: recipients.length,
      conversions: buyers.length,
      revenue: 20 * buyers.length,
      rate: buyers.length / recipients.length,
    });
    expect(conversions.control).toEqual({
      audience: control.length,
      conversions: 2,
      revenue: 45.5,
      rate: 2 / control.length,
    });
    const expectedLift = (buyers.length / recipients.length - 2 / control.length) / (2 / control.length);
    expect(conversions.lift).toBeCloseTo(expectedLift, 10);
  });

  it('last touch: a conversion goes to the campaign that reached the user most recently, once', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    await b.addUser('ann');
    const goal = { event: { name: 'Charged' }, windowHours: 48, revenueProperty: 'amount' };
    const early = await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' } },
      setup: { conversion: goal },
    });
    const late = await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-01T12:00:00Z' } },
      setup: { conversion: goal },
    });
    await b.runUntil('2026-05-01T13:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Charged', properties: { amount: 70 } });
    expect((await b.herald.campaigns.stats(early.id)).conversions.recipients.conversions).toBe(0);
    expect((await b.herald.campaigns.stats(late.id)).conversions.recipients).toMatchObject({
      conversions: 1,
      revenue: 70,
    });
  });

  it('a window after the click opens at the click; no click, no conversion', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    await b.addUser('clicker');
    await b.addUser('ignorer');
    const campaign = await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' } },
      setup: { conversion: { event: { name: 'Signed Up' }, windowHours: 1, after: 'click' } },
    });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.clock.set('2026-05-01T15:00:00Z');
    await clickReport(b, campaign.id, '2026-05-01T10:00:00.000Z', 'clicker');
    await b.clock.advance(30 * 60_000);
    await b.herald.events.track({ userId: 'clicker', name: 'Signed Up' });
    await b.herald.events.track({ userId: 'ignorer', name: 'Signed Up' });
    const stats = await b.herald.campaigns.stats(campaign.id);
    expect(stats.conversions.recipients).toMatchObject({ conversions: 1, revenue: 0 });
  });
});

describe('explain', () => {
  it('answers occurrence by occurrence: zone, DND in the user zone across DST, caps, outcome', async () => {
    const b = campaignRun({
      start: '2026-03-27T00:00:00Z',
      limits: { perUser: { perDay: 1 } },
      dnd: { start: '22:00', end: '07:00', action: 'delay' },
    });
    await b.addUser('paris', 'Europe/Paris');
    const daily = await b.launch({
      when: {
        schedule: { type: 'recurring', time: '21:30', every: { unit: 'day', interval: 1 } },
        timezone: 'UTC',
        end: '2026-03-30T00:00:00Z',
      },
    });
    const other = await b.launch({ when: { schedule: { type: 'once', at: '2026-03-28T08:00:00Z' } } });
    await b.runUntil('2026-03-30T12:00:00Z');

    const why = await b.herald.campaigns.explain(daily.id, 'paris');
    expect(why.user).toMatchObject({ zone: 'Europe/Paris', zoneFrom: 'profile', known: true });
    expect(why.dnd).toMatchObject({
      from: 'global',
      window: { start: '22:00', end: '07:00', action: 'delay' },
      insideNow: false,
      // Now is 2026-03-30 14:00 CEST: the next window, in summer time.
      around: { fromLocal: '2026-03-30 22:00 GMT+2', toLocal: '2026-03-31 07:00 GMT+2' },
    });
    // 21:30 UTC is 22:30 in Paris (inside DND) until the 29th (DST: 23:30). Each run is delayed to 07:00 local.
    const byOccurrence = Object.fromEntries(why.occurrences.map((o) => [o.occurrence, o]));
    const first = byOccurrence['2026-03-27T21:30:00.000Z'];
    expect(first?.decisions.map((d) => d.outcome)).toEqual(['delayed', 'sent']);
    expect(first?.decisions[0]?.facts).toMatchObject({ until: '2026-03-28T06:00:00.000Z' });
    // The 28th: delayed to 07:00 on the 29th, which is after the change to CEST (05:00 UTC).
    const second = byOccurrence['2026-03-28T21:30:00.000Z'];
    expect(second?.decisions[0]?.facts).toMatchObject({ until: '2026-03-29T05:00:00.000Z' });
    expect(second?.decisions.map((d) => d.outcome)).toEqual(['delayed', 'sent']);
    // The 29th at 21:30 UTC is 23:30 CEST: DND would hold it to 07:00 on the 30th, after the campaign's end.
    const third = byOccurrence['2026-03-29T21:30:00.000Z'];
    expect(third).toMatchObject({ state: 'skipped', reason: 'ended' });
    expect(third?.decisions[0]?.facts).toMatchObject({
      why: 'dnd',
      wouldWaitUntil: '2026-03-30T05:00:00.000Z',
    });
    expect(first?.deliveries[0]).toMatchObject({ status: 'sent', statusCode: 201 });
    expect(why.summary.join('\n')).toContain('Do-Not-Disturb (global) 22:00–07:00 Europe/Paris');
    // The daily campaign's first message, held to 07:00 on the 28th, took that day's only slot.
    const otherWhy = await b.herald.campaigns.explain(other.id, 'paris');
    expect(otherWhy.occurrences[0]).toMatchObject({ state: 'skipped', reason: 'capped', deliveries: [] });
    expect(otherWhy.occurrences[0]?.decisions[0]?.facts).toMatchObject({
      counters: [{ key: 'herald:cap:d:paris:2026-03-28', count: 1, limit: 1 }],
    });
    expect(otherWhy.summary.some((line) => line.includes('capped'))).toBe(true);
  });

  it('lists the runs that did not reach the user: not in the segment then', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    await b.addUser('sam', 'UTC', { plan: 'free' });
    const campaign = await b.launch({
      when: { schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 1 } } },
      who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } } },
    });
    await b.runUntil('2026-05-02T12:00:00Z');
    await b.herald.profiles.upsert({ userId: 'sam', timezone: 'UTC', properties: { plan: 'pro' } });
    await b.runUntil('2026-05-03T12:00:00Z');
    const why = await b.herald.campaigns.explain(campaign.id, 'sam');
    expect(why.segment.matchesNow).toBe(true);
    expect(why.occurrences.map((o) => [o.occurrence, o.reached, o.state])).toEqual([
      ['2026-05-01T10:00:00.000Z', false, null],
      ['2026-05-02T10:00:00.000Z', false, null],
      ['2026-05-03T10:00:00.000Z', true, 'delivered'],
    ]);
    expect(why.summary.filter((line) => line.includes('not in the audience when it ran'))).toHaveLength(2);
  });

  it('says so when nothing reached the user, and rejects unknown campaigns', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({ when: { schedule: { type: 'once', at: '2026-05-02T10:00:00Z' } } });
    const why = await b.herald.campaigns.explain(campaign.id, 'ann');
    expect(why.occurrences).toEqual([]);
    expect(why.summary.at(-1)).toMatch(/No decision recorded/);
    await expect(b.herald.campaigns.explain('cmp_nope', 'ann')).rejects.toThrow(/not found/);
  });
});
