import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../../src/index.js';
import { campaignRun, local } from './harness.js';

describe('live: on a user event', () => {
  it('sends on "Charged where amount > 100", once per event, personalised from the event', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({
      when: {
        schedule: {
          type: 'onEvent',
          event: { name: 'Charged', where: [{ op: 'gt', property: 'amount', value: 100 }] },
        },
      },
      what: { title: 'Thanks for {{ event.amount }}', body: 'B', deeplink: 'https://shop.example.test/' },
    });
    await b.runUntil('2026-05-01T10:00:00Z');
    expect((await b.herald.campaigns.get(campaign.id)).status).toBe('running');
    await b.herald.events.track({ userId: 'ann', name: 'Charged', properties: { amount: 50 } });
    await b.herald.events.track({ userId: 'ann', name: 'Viewed', properties: { amount: 500 } });
    const big = await b.herald.events.track({ userId: 'ann', name: 'Charged', properties: { amount: 150 } });
    await b.runUntil('2026-05-01T10:01:00Z');
    expect(b.sent.map((m) => m.title)).toEqual(['Thanks for 150']);
    // The same event tracked again is the same occurrence: no second message.
    await b.herald.events.track({
      userId: 'ann',
      name: 'Charged',
      properties: { amount: 150 },
      time: big.time,
    });
    await b.herald.events.track({ userId: 'ann', name: 'Charged', properties: { amount: 300 } });
    await b.runUntil('2026-05-01T10:02:00Z');
    expect(b.sent.map((m) => m.title)).toEqual(['Thanks for 150', 'Thanks for 300']);
  });

  it('reacts from its start even before a scheduler pass has armed it', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({ when: { schedule: { type: 'onEvent', event: { name: 'Login' } } } });
    expect(campaign.status).toBe('scheduled');
    await b.herald.events.track({ userId: 'ann', name: 'Login' });
    await b.runUntil('2026-05-01T10:01:00Z');
    expect(b.sent.map((m) => m.userId)).toEqual(['ann']);
  });

  it('filters the stream by user properties: only users in the segment get it', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('pro', undefined, { plan: 'pro' });
    await b.addUser('free', undefined, { plan: 'free' });
    const campaign = await b.launch({
      when: { schedule: { type: 'onEvent', event: { name: 'Login' } } },
      who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } } },
    });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'pro', name: 'Login' });
    await b.herald.events.track({ userId: 'free', name: 'Login' });
    await b.runUntil('2026-05-01T10:01:00Z');
    expect(b.sent.map((m) => m.userId)).toEqual(['pro']);
    const why = await b.herald.campaigns.explain(campaign.id, 'free');
    expect(why.segment.matchesNow).toBe(false);
    expect(why.occurrences[0]?.decisions[0]).toMatchObject({ outcome: 'filtered', reason: 'not-in-segment' });
  });

  it('is armed at start and disarmed at end: events outside [start, end] send nothing', async () => {
    const b = campaignRun({ start: '2026-05-01T09:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({
      when: {
        schedule: { type: 'onEvent', event: { name: 'Login' } },
        start: '2026-05-01T10:00:00Z',
        end: '2026-05-01T12:00:00Z',
      },
    });
    await b.herald.events.track({ userId: 'ann', name: 'Login' });
    await b.runUntil('2026-05-01T11:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Login' });
    await b.runUntil('2026-05-01T12:30:00Z');
    expect((await b.herald.campaigns.get(campaign.id)).status).toBe('completed');
    await b.herald.events.track({ userId: 'ann', name: 'Login' });
    await b.runUntil('2026-05-01T13:00:00Z');
    expect(b.sent.map((m) => m.at.toISOString())).toEqual(['2026-05-01T11:00:00.000Z']);
  });
});

describe('live: event not followed by another within a time (abandoned cart)', () => {
  const cart = {
    schedule: {
      type: 'inaction' as const,
      event: { name: 'Added To Cart' },
      notFollowedBy: { name: 'Charged' },
      within: { amount: 10, unit: 'minutes' as const },
    },
  };

  it('sends at minute 10 when the user does not buy', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    await b.launch({ when: cart });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart', properties: { sku: 'A' } });
    await b.runUntil('2026-05-01T10:09:59Z');
    expect(b.sent).toEqual([]);
    await b.runUntil('2026-05-01T10:30:00Z');
    expect(b.sent.map((m) => m.at.toISOString())).toEqual(['2026-05-01T10:10:00.000Z']);
  });

  it('a waiting timer survives a restart: another engine on the same storage and queue fires it', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    await b.launch({ when: cart });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart' });
    await b.herald.stop();
    // A new process: nothing shared with the first engine but its storage, queue and counters.
    const after = campaignRun({
      start: '2026-05-01T10:00:00Z',
      storage: b.storage,
      queue: b.queue,
      counters: b.counters,
      clock: b.clock,
    });
    await b.clock.set('2026-05-01T10:09:59Z');
    await after.herald.tick();
    expect(after.sent).toEqual([]);
    await b.clock.set('2026-05-01T10:10:00Z');
    await after.herald.tick();
    expect(after.sent.map((m) => [m.userId, m.at.toISOString()])).toEqual([
      ['ann', '2026-05-01T10:10:00.000Z'],
    ]);
    expect(b.sent).toEqual([]);
  });

  it('the completing event cancels it (the timer job is removed from the queue)', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({ when: cart });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart' });
    expect((await b.queue.counts()).waiting).toBe(1);
    await b.runUntil('2026-05-01T10:04:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Charged', properties: { amount: 20 } });
    expect((await b.queue.counts()).waiting).toBe(0);
    await b.runUntil('2026-05-01T11:00:00Z');
    expect(b.sent).toEqual([]);
    const why = await b.herald.campaigns.explain(campaign.id, 'ann');
    // One occurrence, the window opened by the add to cart: opened, then cancelled by the purchase.
    expect(why.occurrences.map((o) => o.occurrence)).toEqual(['inaction:2026-05-01T10:00:00.000Z']);
    expect(why.occurrences[0]?.decisions.map((d) => [d.outcome, d.reason])).toEqual([
      ['delayed', 'inaction-window'],
      ['cancelled', 'completed'],
    ]);
  });

  it('a completing event the timer missed (tracked late with an earlier time) still cancels at fire time', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    await b.launch({ when: cart });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart' });
    // Stored directly, as a bulk import would: no trigger ran for it.
    await b.storage.appendEvents([
      { userId: 'ann' as never, name: 'Charged', properties: {}, time: new Date('2026-05-01T10:05:00Z') },
    ]);
    await b.runUntil('2026-05-01T11:00:00Z');
    expect(b.sent).toEqual([]);
  });

  it('a second trigger inside the window does not double-send: the first window wins', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({ when: cart });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart', properties: { sku: 'A' } });
    await b.runUntil('2026-05-01T10:06:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart', properties: { sku: 'B' } });
    await b.runUntil('2026-05-01T10:30:00Z');
    expect(b.sent.map((m) => m.at.toISOString())).toEqual(['2026-05-01T10:10:00.000Z']);
    const why = await b.herald.campaigns.explain(campaign.id, 'ann');
    expect(why.occurrences[0]?.decisions.map((d) => [d.outcome, d.reason])).toEqual([
      ['delayed', 'inaction-window'],
      ['filtered', 'window-already-open'],
      ['sent', null],
    ]);
    // After the window fired, a new add to cart opens a new window.
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart', properties: { sku: 'C' } });
    await b.runUntil('2026-05-01T11:00:00Z');
    expect(b.sent.map((m) => m.at.toISOString())).toEqual([
      '2026-05-01T10:10:00.000Z',
      '2026-05-01T10:40:00.000Z',
    ]);
  });

  it('a timer firing after the campaign ended is recorded as skipped: ended', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({ when: { ...cart, end: '2026-05-01T10:05:00Z' } });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart' });
    await b.runUntil('2026-05-01T11:00:00Z');
    expect(b.sent).toEqual([]);
    expect((await b.herald.campaigns.stats(campaign.id)).skipped).toEqual({ ended: 1 });
  });
});

describe('live: relative to a date in an event property', () => {
  const flight = {
    schedule: {
      type: 'eventDate' as const,
      event: { name: 'Booked Flight' },
      property: 'departure',
      offset: { amount: -1, unit: 'days' as const },
      keyProperty: 'booking',
    },
  };

  it('reminds a day before departure, in the user zone; re-booking replaces the pending reminder', async () => {
    const b = campaignRun({ start: '2026-03-01T10:00:00Z' });
    await b.addUser('ny', 'America/New_York');
    await b.launch({
      when: flight,
      what: {
        title: 'Flight {{ event.booking }} on {{ event.departure }}',
        body: 'B',
        deeplink: 'https://x.test/',
      },
    });
    await b.runUntil('2026-03-01T10:00:00Z');
    // A local date-time without offset is read in the user's zone; the day before crosses the DST change (Mar 8).
    await b.herald.events.track({
      userId: 'ny',
      name: 'Booked Flight',
      properties: { booking: 'AB12', departure: '2026-03-09T08:00' },
    });
    await b.runUntil('2026-03-03T00:00:00Z');
    await b.herald.events.track({
      userId: 'ny',
      name: 'Booked Flight',
      properties: { booking: 'AB12', departure: '2026-03-12T18:30' },
    });
    await b.herald.events.track({
      userId: 'ny',
      name: 'Booked Flight',
      properties: { booking: 'CD34', departure: '2026-03-05T07:00' },
    });
    await b.runUntil('2026-03-20T00:00:00Z');
    expect(b.sent.map((m) => [m.title, local(m.at, 'America/New_York')])).toEqual([
      ['Flight CD34 on 2026-03-05T07:00', '2026-03-04 07:00'],
      ['Flight AB12 on 2026-03-12T18:30', '2026-03-11 18:30'],
    ]);
  });
});

describe('lifecycle', () => {
  it('validates every transition with a clear error; a stopped campaign cannot resume', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({ when: { schedule: { type: 'once', at: '2026-05-02T10:00:00Z' } } });
    await expect(b.herald.campaigns.schedule(campaign.id)).rejects.toThrow(ConflictError);
    await b.herald.campaigns.pause(campaign.id);
    await expect(b.herald.campaigns.pause(campaign.id)).rejects.toThrow(/is paused; it cannot become paused/);
    expect((await b.herald.campaigns.resume(campaign.id)).status).toBe('scheduled');
    await b.herald.campaigns.stop(campaign.id);
    await expect(b.herald.campaigns.resume(campaign.id)).rejects.toThrow(
      /is stopped; only a paused campaign can resume/,
    );
    await b.runUntil('2026-05-03T00:00:00Z');
    expect(b.sent).toEqual([]);
  });

  it('a paused live campaign holds its timers and resumes armed', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    await b.addUser('ann');
    const campaign = await b.launch({
      when: {
        schedule: {
          type: 'inaction',
          event: { name: 'Added To Cart' },
          notFollowedBy: { name: 'Charged' },
          within: { amount: 10, unit: 'minutes' },
        },
      },
    });
    await b.runUntil('2026-05-01T10:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Added To Cart' });
    await b.herald.campaigns.pause(campaign.id);
    await b.runUntil('2026-05-01T10:20:00Z');
    expect(b.sent).toEqual([]);
    expect((await b.herald.campaigns.resume(campaign.id)).status).toBe('running');
    await b.runUntil('2026-05-01T10:30:00Z');
    expect(b.sent).toHaveLength(1);
  });

  it('lists campaigns by label', async () => {
    const b = campaignRun({ start: '2026-05-01T10:00:00Z' });
    const a = await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-02T10:00:00Z' } },
      labels: ['spring', 'sale'],
    });
    await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-02T10:00:00Z' } },
      labels: ['newsletter'],
    });
    expect((await b.herald.campaigns.list({ label: 'sale' })).map((c) => c.id)).toEqual([a.id]);
  });
});
