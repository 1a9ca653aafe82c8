import { describe, expect, it } from 'vitest';
import { campaignRun, local } from './harness.js';

const what = {
  title: 'Hi',
  body: 'Body',
  deeplink: 'https://shop.example.test/',
  // A long TTL: a run that should not exist would be sent, late, rather than skipped as expired.
  ttlSeconds: 28 * 86_400,
};
const monthlyOn7th = {
  schedule: { type: 'recurring', time: '10:00', every: { unit: 'month', dayOfMonth: 7 } },
  timezone: 'Europe/Paris',
} as const;
const daily = (time: string, extra: object = {}) => ({
  schedule: { type: 'recurring' as const, time, every: { unit: 'day' as const, interval: 1 } },
  timezone: 'UTC',
  ...extra,
});

describe('the first run is the first moment on or after scheduling', () => {
  it('monthly on the 7th, created on the 5th and scheduled on the 20th, first runs on next month’s 7th', async () => {
    const b = campaignRun({ start: '2026-03-05T09:00:00Z' });
    await b.addUser('u', 'Europe/Paris');
    const draft = await b.herald.campaigns.create({
      name: 'monthly',
      who: { segment: { type: 'all' } },
      what,
      when: monthlyOn7th,
    });
    await b.clock.set(new Date('2026-03-20T12:00:00Z'));
    const scheduled = await b.herald.campaigns.schedule(draft.id);
    expect(local(scheduled.nextRunAt as Date, 'Europe/Paris')).toBe('2026-04-07 10:00');
    await b.runUntil('2026-04-08T00:00:00Z');
    expect(b.sent.map((m) => local(m.at, 'Europe/Paris'))).toEqual(['2026-04-07 10:00']);
    // No run of the 7th of March: not a single recipient row, not even a skipped one.
    expect((await b.herald.campaigns.stats(draft.id)).recipients).toBe(1);
  });

  it('every 3 days counts from when it was scheduled, on every run after the first too', async () => {
    const b = campaignRun({ start: '2026-03-01T08:00:00Z' });
    await b.addUser('u');
    const draft = await b.herald.campaigns.create({
      name: 'every 3 days',
      who: { segment: { type: 'all' } },
      what,
      when: { schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 3 } } },
    });
    await b.clock.set(new Date('2026-03-02T08:00:00Z'));
    await b.herald.campaigns.schedule(draft.id);
    await b.runUntil('2026-03-09T00:00:00Z');
    expect(b.sent.map((m) => m.at.toISOString().slice(0, 10))).toEqual([
      '2026-03-02',
      '2026-03-05',
      '2026-03-08',
    ]);
  });

  it('in the user zone, a wave already under way when scheduled is not started: the next one is', async () => {
    // 09:00 came in UTC+14 at 19:00Z the day before; at 08:00Z it is still to come in Paris and New York.
    const b = campaignRun({ start: '2026-06-10T08:00:00Z' });
    await b.addUser('tokyo', 'Asia/Tokyo');
    await b.addUser('paris', 'Europe/Paris');
    await b.addUser('ny', 'America/New_York');
    const campaign = await b.launch({
      what,
      when: daily('09:00', { userTimezone: { ifPassed: 'sendNow' } }),
    });
    expect(campaign.nextRunAt?.toISOString()).toBe('2026-06-10T19:00:00.000Z');
    await b.runUntil('2026-06-11T14:00:00Z');
    expect(b.sent.map((m) => [m.userId, local(m.at, 'UTC')])).toEqual([
      ['tokyo', '2026-06-11 00:00'],
      ['paris', '2026-06-11 07:00'],
      ['ny', '2026-06-11 13:00'],
    ]);
  });

  it('start later than scheduling: the first run is the first moment on or after start', async () => {
    const b = campaignRun({ start: '2026-03-01T12:00:00Z' });
    await b.addUser('u');
    const campaign = await b.launch({ what, when: daily('10:00', { start: '2026-03-04T11:00:00Z' }) });
    expect(campaign.nextRunAt?.toISOString()).toBe('2026-03-05T10:00:00.000Z');
  });
});

describe('resume after a pause', () => {
  it('a daily campaign paused for two weeks skips the runs it missed and goes on with the next one', async () => {
    const b = campaignRun({ start: '2026-03-01T08:00:00Z' });
    await b.addUser('u');
    const campaign = await b.launch({ what, when: daily('10:00') });
    await b.runUntil('2026-03-02T12:00:00Z');
    await b.herald.campaigns.pause(campaign.id);
    await b.runUntil('2026-03-16T12:00:00Z');
    const resumed = await b.herald.campaigns.resume(campaign.id);
    expect(resumed).toMatchObject({ status: 'scheduled', nextRunAt: new Date('2026-03-17T10:00:00Z') });
    await b.runUntil('2026-03-18T12:00:00Z');
    expect(b.sent.map((m) => m.at.toISOString().slice(0, 10))).toEqual([
      '2026-03-01',
      '2026-03-02',
      '2026-03-17',
      '2026-03-18',
    ]);
    // Skipped runs leave no recipient rows.
    expect((await b.herald.campaigns.stats(campaign.id)).recipients).toBe(4);
    // …and explain does not list them as runs that started.
    const why = await b.herald.campaigns.explain(campaign.id, 'u');
    expect(why.occurrences).toHaveLength(4);
  });

  it('a one-time campaign paused past its moment runs when resumed', async () => {
    const b = campaignRun({ start: '2026-03-01T08:00:00Z' });
    await b.addUser('u');
    const campaign = await b.launch({
      what,
      when: { schedule: { type: 'once', at: '2026-03-02T10:00:00Z' } },
    });
    await b.herald.campaigns.pause(campaign.id);
    await b.clock.set(new Date('2026-03-03T08:00:00Z'));
    await b.herald.campaigns.resume(campaign.id);
    await b.runUntil('2026-03-03T09:00:00Z');
    expect(b.sent.map((m) => m.at.toISOString())).toEqual(['2026-03-03T08:00:00.000Z']);
  });
});
