import { describe, expect, it } from 'vitest';
import { campaignRun } from './harness.js';

describe('campaigns.timeline: figures over time in the campaign zone', () => {
  it('gives hour buckets for 48 hours from the first send, then local days', async () => {
    const b = campaignRun({ start: '2026-05-01T09:00:00Z' });
    await b.addUser('ann');
    await b.addUser('bob');
    const campaign = await b.launch({
      when: {
        schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 1 } },
        timezone: 'America/New_York',
      },
    });
    // 10:00 in New York (EDT) is 14:00Z; the cutoff is 48 hours after the first send's hour.
    expect((await b.herald.campaigns.timeline(campaign.id)).buckets).toEqual([]);
    await b.runUntil('2026-05-04T20:00:00Z');
    const timeline = await b.herald.campaigns.timeline(campaign.id);
    expect(timeline).toMatchObject({ timezone: 'America/New_York', hourlyFor: 48 });
    expect(
      timeline.buckets.map((bucket) => [
        bucket.unit,
        bucket.start.toISOString(),
        bucket.end.toISOString(),
        bucket.sent,
      ]),
    ).toEqual([
      ['hour', '2026-05-01T14:00:00.000Z', '2026-05-01T15:00:00.000Z', 2],
      ['hour', '2026-05-02T14:00:00.000Z', '2026-05-02T15:00:00.000Z', 2],
      // The third send is at the cutoff: its day bucket starts there and ends at local midnight.
      ['day', '2026-05-03T14:00:00.000Z', '2026-05-04T04:00:00.000Z', 2],
      ['day', '2026-05-04T04:00:00.000Z', '2026-05-05T04:00:00.000Z', 2],
    ]);
    expect(timeline.totals).toEqual({ sent: 8, viewed: 0, clicked: 0, conversions: 0, revenue: 0 });
    expect(timeline.rates.clickThrough).toBe(0);
  });
});
