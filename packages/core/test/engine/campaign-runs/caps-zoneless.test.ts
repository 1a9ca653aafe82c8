import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/index.js';
import { campaignRun } from './harness.js';

const onceIn = (timezone: string, at: string) => ({ schedule: { type: 'once' as const, at }, timezone });

describe('the per-day cap of a user without a zone', () => {
  it('counts one day for every campaign: a Tokyo campaign and a Los Angeles one do not both reach them', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z', limits: { perUser: { perDay: 1 } } });
    await b.addUser('zoneless');
    // 15:30Z is 00:30 on 2 May in Tokyo; 16:30Z is 09:30 on 1 May in Los Angeles: in their campaigns' zones
    // these are two different days, for the user (UTC by default) one day.
    const tokyo = await b.launch({ when: onceIn('Asia/Tokyo', '2026-05-01T15:30:00Z') });
    const la = await b.launch({ when: onceIn('America/Los_Angeles', '2026-05-01T16:30:00Z') });
    await b.runUntil('2026-05-01T18:00:00Z');
    expect(b.sent.map((m) => m.campaignId)).toEqual([tokyo.id]);
    expect((await b.herald.campaigns.stats(la.id)).skipped).toEqual({ capped: 1 });
    const why = await b.herald.campaigns.explain(la.id, 'zoneless');
    expect(why.caps).toMatchObject({
      zone: 'UTC',
      counters: [{ key: 'herald:cap:d:zoneless:2026-05-01', count: 1 }],
    });
    expect(why.occurrences[0]?.decisions[0]?.facts).toMatchObject({
      zone: 'America/Los_Angeles',
      capZone: 'UTC',
      counters: [{ key: 'herald:cap:d:zoneless:2026-05-01', count: 1, limit: 1 }],
    });
  });

  it('counts days in createHerald’s defaultTimezone when it is set', async () => {
    const b = campaignRun({
      start: '2026-05-01T00:00:00Z',
      limits: { perUser: { perDay: 1 } },
      defaultTimezone: 'Asia/Tokyo',
    });
    await b.addUser('zoneless');
    await b.addUser('paris', 'Europe/Paris');
    // 14:30Z is 23:30 on 1 May in Tokyo, 15:30Z 00:30 on 2 May: a new day for the zoneless user;
    // in Paris both are 1 May, and the user's own zone wins over the default.
    await b.launch({ when: onceIn('America/Los_Angeles', '2026-05-01T14:30:00Z') });
    await b.launch({ when: onceIn('America/Los_Angeles', '2026-05-01T15:30:00Z') });
    await b.runUntil('2026-05-01T18:00:00Z');
    expect(b.sent.map((m) => m.userId).sort()).toEqual(['paris', 'zoneless', 'zoneless']);
  });

  it('refuses a defaultTimezone that is not an IANA zone', () => {
    expect(() => campaignRun({ start: '2026-05-01T00:00:00Z', defaultTimezone: 'Tokyo' })).toThrow(
      ValidationError,
    );
  });
});
