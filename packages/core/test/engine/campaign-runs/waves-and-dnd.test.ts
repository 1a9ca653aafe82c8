import { describe, expect, it } from 'vitest';
import { campaignRun, local } from './harness.js';

const KIRITIMATI = 'Pacific/Kiritimati'; // UTC+14
const PAGO_PAGO = 'Pacific/Pago_Pago'; // UTC-11

describe('delivery in the user time zone', () => {
  it('runs one campaign as a wave: 09:00 local for UTC+14, Paris, UTC-11 and a user without a zone', async () => {
    const b = campaignRun({ start: '2026-06-01T00:00:00Z' });
    await b.addUser('kiri', KIRITIMATI);
    await b.addUser('paris', 'Europe/Paris');
    await b.addUser('pago', PAGO_PAGO);
    await b.addUser('nozone');
    const campaign = await b.launch({
      when: {
        schedule: { type: 'once', at: '2026-06-10T09:00:00Z' },
        timezone: 'UTC',
        userTimezone: { ifPassed: 'skip' },
      },
    });
    expect(campaign.nextRunAt?.toISOString()).toBe('2026-06-09T19:00:00.000Z');
    await b.runUntil('2026-06-12T00:00:00Z');
    const at = Object.fromEntries(b.sent.map((m) => [m.userId, m.at]));
    expect(local(at.kiri as Date, KIRITIMATI)).toBe('2026-06-10 09:00');
    expect(local(at.paris as Date, 'Europe/Paris')).toBe('2026-06-10 09:00');
    expect(local(at.pago as Date, PAGO_PAGO)).toBe('2026-06-10 09:00');
    expect(local(at.nozone as Date, 'UTC')).toBe('2026-06-10 09:00');
    // UTC+14 and UTC-11 are a day apart on the wall clock: 25 hours between their 09:00s.
    expect(((at.pago as Date).getTime() - (at.kiri as Date).getTime()) / 3_600_000).toBe(25);
    // Every one of them belongs to the same occurrence.
    expect(new Set(b.sent.map((m) => m.occurrence))).toEqual(new Set(['2026-06-10T09:00:00.000Z']));
    const stats = await b.herald.campaigns.stats(campaign.id);
    expect(stats).toMatchObject({ recipients: 4, sent: 4, pending: 0 });
  });

  it.each([
    ['skip', ['pago'], { 'time-passed': 2 }],
    ['sendNow', ['kiri', 'paris', 'pago'], {}],
  ] as const)(
    'users whose 09:00 passed before the run started: ifPassed %s',
    async (ifPassed, expected, skipped) => {
      // Scheduled at 12:00 UTC on the day: 09:00 has passed in Kiritimati and Paris, not in Pago Pago.
      const b = campaignRun({ start: '2026-06-10T12:00:00Z' });
      await b.addUser('kiri', KIRITIMATI);
      await b.addUser('paris', 'Europe/Paris');
      await b.addUser('pago', PAGO_PAGO);
      const campaign = await b.launch({
        when: { schedule: { type: 'once', at: '2026-06-10T09:00:00Z' }, userTimezone: { ifPassed } },
      });
      await b.runUntil('2026-06-11T12:00:00Z');
      expect(b.sent.map((m) => m.userId).sort()).toEqual([...expected].sort());
      const pago = b.sent.find((m) => m.userId === 'pago');
      expect(local(pago?.at as Date, PAGO_PAGO)).toBe('2026-06-10 09:00');
      if (ifPassed === 'sendNow') {
        expect(b.sent.find((m) => m.userId === 'kiri')?.at.toISOString()).toBe('2026-06-10T12:00:00.000Z');
      }
      expect((await b.herald.campaigns.stats(campaign.id)).skipped).toEqual(skipped);
    },
  );

  it('never sends before start: a wave clamped by start treats earlier zones as passed', async () => {
    const b = campaignRun({ start: '2026-06-01T00:00:00Z' });
    await b.addUser('kiri', KIRITIMATI);
    await b.addUser('pago', PAGO_PAGO);
    await b.launch({
      when: {
        schedule: { type: 'once', at: '2026-06-10T09:00:00Z' },
        start: '2026-06-10T06:00:00Z',
        userTimezone: { ifPassed: 'sendNow' },
      },
    });
    await b.runUntil('2026-06-12T00:00:00Z');
    const kiri = b.sent.find((m) => m.userId === 'kiri');
    expect(kiri?.at.toISOString()).toBe('2026-06-10T06:00:00.000Z');
    expect(b.sent.every((m) => m.at >= new Date('2026-06-10T06:00:00Z'))).toBe(true);
  });
});

describe('Do-Not-Disturb', () => {
  const dnd = { start: '21:00', end: '09:00' } as const;

  it('delay: a message due inside a window crossing midnight goes out when it ends in each user zone', async () => {
    const b = campaignRun({ start: '2026-01-10T00:00:00Z', dnd: { ...dnd, action: 'delay' } });
    await b.addUser('tokyo', 'Asia/Tokyo'); // 22:30 UTC = 07:30 local: inside
    await b.addUser('london', 'Europe/London'); // 22:30 local: inside, ends tomorrow 09:00
    await b.addUser('ny', 'America/New_York'); // 17:30 local: outside
    const campaign = await b.launch({ when: { schedule: { type: 'once', at: '2026-01-10T22:30:00Z' } } });
    await b.runUntil('2026-01-12T00:00:00Z');
    const at = Object.fromEntries(b.sent.map((m) => [m.userId, m.at]));
    expect(local(at.ny as Date, 'America/New_York')).toBe('2026-01-10 17:30');
    expect(local(at.tokyo as Date, 'Asia/Tokyo')).toBe('2026-01-11 09:00');
    expect(local(at.london as Date, 'Europe/London')).toBe('2026-01-11 09:00');
    const explain = await b.herald.campaigns.explain(campaign.id, 'london');
    expect(explain.occurrences[0]?.decisions.map((d) => d.outcome)).toEqual(['delayed', 'sent']);
    expect(explain.occurrences[0]?.decisions[0]?.facts).toMatchObject({
      zone: 'Europe/London',
      dnd: '21:00–09:00',
      until: '2026-01-11T09:00:00.000Z',
    });
  });

  it('a retry never lands inside DND: a 429 just before the window is retried when it ends', async () => {
    const b = campaignRun({ start: '2026-01-10T00:00:00Z', dnd: { ...dnd, action: 'delay' } });
    await b.addUser('london', 'Europe/London');
    const tries: Date[] = [];
    b.answers.set('https://push.example.test/send/london', (_message, now) => {
      tries.push(now);
      // The first try, at 20:59 London, is told to come back in five minutes: inside the window.
      return tries.length === 1
        ? { kind: 'retry', retryAt: new Date(now.getTime() + 300_000), statusCode: 429, reason: '429' }
        : { kind: 'sent', statusCode: 201 };
    });
    await b.launch({ when: { schedule: { type: 'once', at: '2026-01-10T20:59:00Z' } } });
    await b.runUntil('2026-01-12T00:00:00Z');
    expect(tries.map((at) => local(at, 'Europe/London'))).toEqual(['2026-01-10 20:59', '2026-01-11 09:00']);
    expect(b.sent.map((m) => local(m.at, 'Europe/London'))).toEqual(['2026-01-11 09:00']);
  });

  it("retries queued together split at DND: each waits for the end of its own user's window", async () => {
    const b = campaignRun({ start: '2026-01-10T00:00:00Z', dnd: { ...dnd, action: 'delay' } });
    await b.addUser('london', 'Europe/London');
    await b.addUser('newyork', 'America/New_York');
    const tries: string[] = [];
    for (const user of ['london', 'newyork']) {
      let answered = 0;
      b.answers.set(`https://push.example.test/send/${user}`, (_message, now) => {
        tries.push(`${user} ${now.toISOString()}`);
        // Both first tries, at 20:59 UTC, are told to come back in five minutes: one group of retries.
        answered += 1;
        return answered === 1
          ? { kind: 'retry', retryAt: new Date(now.getTime() + 300_000), statusCode: 429, reason: '429' }
          : { kind: 'sent', statusCode: 201 };
      });
    }
    await b.launch({ when: { schedule: { type: 'once', at: '2026-01-10T20:59:00Z' } } });
    await b.runUntil('2026-01-12T00:00:00Z');
    // At 21:04 UTC London is inside its window (21:00-09:00) and New York (16:04) is not.
    expect(tries.sort()).toEqual([
      'london 2026-01-10T20:59:00.000Z',
      'london 2026-01-11T09:00:00.000Z',
      'newyork 2026-01-10T20:59:00.000Z',
      'newyork 2026-01-10T21:04:00.000Z',
    ]);
    expect(b.sent).toHaveLength(2);
  });

  it('discard: inside the window the message is skipped as dnd-discarded', async () => {
    const b = campaignRun({ start: '2026-01-10T00:00:00Z', dnd: { ...dnd, action: 'discard' } });
    await b.addUser('tokyo', 'Asia/Tokyo');
    await b.addUser('ny', 'America/New_York');
    const campaign = await b.launch({ when: { schedule: { type: 'once', at: '2026-01-10T22:30:00Z' } } });
    await b.runUntil('2026-01-12T00:00:00Z');
    expect(b.sent.map((m) => m.userId)).toEqual(['ny']);
    expect((await b.herald.campaigns.stats(campaign.id)).skipped).toEqual({ 'dnd-discarded': 1 });
  });

  it('a campaign window overrides the global one', async () => {
    const b = campaignRun({ start: '2026-01-10T00:00:00Z', dnd: { ...dnd, action: 'discard' } });
    await b.addUser('tokyo', 'Asia/Tokyo');
    await b.launch({
      when: {
        schedule: { type: 'once', at: '2026-01-10T22:30:00Z' },
        dnd: { start: '23:00', end: '06:00', action: 'discard' },
      },
    });
    await b.runUntil('2026-01-11T00:00:00Z');
    expect(b.sent.map((m) => m.userId)).toEqual(['tokyo']);
  });

  it('a delayed message is skipped if by the window end the campaign ended, the cut-off passed or the TTL lapsed', async () => {
    const b = campaignRun({ start: '2026-01-10T00:00:00Z', dnd: { ...dnd, action: 'delay' } });
    await b.addUser('london', 'Europe/London');
    const at = '2026-01-10T22:30:00Z';
    const ended = await b.launch({ when: { schedule: { type: 'once', at }, end: '2026-01-11T08:00:00Z' } });
    const cut = await b.launch({ when: { schedule: { type: 'once', at }, cutoff: '2026-01-11T08:00:00Z' } });
    const ttl = await b.launch({
      when: { schedule: { type: 'once', at } },
      what: { title: 'T', body: 'B', deeplink: 'https://shop.example.test/', ttlSeconds: 3600 },
    });
    await b.runUntil('2026-01-12T00:00:00Z');
    expect(b.sent).toEqual([]);
    expect((await b.herald.campaigns.stats(ended.id)).skipped).toEqual({ ended: 1 });
    expect((await b.herald.campaigns.stats(cut.id)).skipped).toEqual({ cutoff: 1 });
    expect((await b.herald.campaigns.stats(ttl.id)).skipped).toEqual({ expired: 1 });
  });

  it('DST: a window ending at 02:30 on the spring-forward night ends at 03:30 local (New York)', async () => {
    const b = campaignRun({
      start: '2026-03-07T00:00:00Z',
      dnd: { start: '22:00', end: '02:30', action: 'delay' },
    });
    await b.addUser('ny', 'America/New_York');
    // 2026-03-08 01:00 EST = 06:00Z: inside; 02:30 does not exist that night.
    await b.launch({ when: { schedule: { type: 'once', at: '2026-03-08T06:00:00Z' } } });
    await b.runUntil('2026-03-09T00:00:00Z');
    expect(b.sent).toHaveLength(1);
    expect(b.sent[0]?.at.toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(local(b.sent[0]?.at as Date, 'America/New_York')).toBe('2026-03-08 03:30');
  });

  it('DST: on the fall-back night a window ending at 02:30 ends at the first 02:30 (Paris)', async () => {
    const b = campaignRun({
      start: '2026-10-24T00:00:00Z',
      dnd: { start: '22:00', end: '02:30', action: 'delay' },
    });
    await b.addUser('paris', 'Europe/Paris');
    // 2026-10-25 00:30 CEST = 2026-10-24T22:30Z: inside. 02:30 happens twice; the window ends at the first.
    await b.launch({ when: { schedule: { type: 'once', at: '2026-10-24T22:30:00Z' } } });
    await b.runUntil('2026-10-26T00:00:00Z');
    expect(b.sent[0]?.at.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(local(b.sent[0]?.at as Date, 'Europe/Paris')).toBe('2026-10-25 02:30');
  });
});
