import { describe, expect, it } from 'vitest';
import { memoryCounters, memoryQueue, memoryStorage } from '../../../src/index.js';
import { fakeClock } from '../../../src/testing/index.js';
import { campaignRun, type SentMessage } from './harness.js';

const once = (at: string) => ({ schedule: { type: 'once' as const, at } });

describe('global per-user caps', () => {
  it('caps per day in the user zone; the next local day counts afresh; a campaign may opt out', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z', limits: { perUser: { perDay: 1 } } });
    await b.addUser('tokyo', 'Asia/Tokyo');
    await b.addUser('la', 'America/Los_Angeles');
    // 10:00Z is 19:00 in Tokyo and 03:00 in LA; 16:00Z is 01:00 next day in Tokyo, 09:00 same day in LA.
    const first = await b.launch({ when: once('2026-05-01T10:00:00Z') });
    const second = await b.launch({ when: once('2026-05-01T16:00:00Z') });
    const vip = await b.launch({ when: once('2026-05-01T17:00:00Z'), setup: { ignoreGlobalLimits: true } });
    await b.runUntil('2026-05-02T00:00:00Z');
    const got = (campaignId: string) =>
      b.sent
        .filter((m) => m.campaignId === campaignId)
        .map((m) => m.userId)
        .sort();
    expect(got(first.id)).toEqual(['la', 'tokyo']);
    expect(got(second.id)).toEqual(['tokyo']);
    expect(got(vip.id)).toEqual(['la', 'tokyo']);
    expect((await b.herald.campaigns.stats(second.id)).skipped).toEqual({ capped: 1 });
    const why = await b.herald.campaigns.explain(second.id, 'la');
    expect(why.occurrences[0]?.decisions[0]).toMatchObject({ outcome: 'skipped', reason: 'capped' });
    expect(why.occurrences[0]?.decisions[0]?.facts).toMatchObject({
      zone: 'America/Los_Angeles',
      counters: [{ key: 'herald:cap:d:la:2026-05-01', count: 1, limit: 1 }],
    });
    // The sent decision records the counters as that send left them.
    const sentWhy = await b.herald.campaigns.explain(first.id, 'la');
    expect(sentWhy.occurrences[0]?.decisions.at(-1)).toMatchObject({
      outcome: 'sent',
      facts: {
        zone: 'America/Los_Angeles',
        localTime: '2026-05-01 03:00 PDT',
        counters: [{ key: 'herald:cap:d:la:2026-05-01', count: 1, limit: 1 }],
        outcomes: ['sent 201'],
      },
    });
  });

  it('caps per week (ISO week, Monday to Sunday, in the user zone)', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z', limits: { perUser: { perWeek: 2 } } });
    await b.addUser('u', 'Europe/Paris');
    // Fri 1, Sat 2, Sun 3 May (same ISO week), Mon 4 May (next week).
    const ids = [];
    for (const day of ['01', '02', '03', '04'])
      ids.push((await b.launch({ when: once(`2026-05-${day}T10:00:00Z`) })).id);
    await b.runUntil('2026-05-05T00:00:00Z');
    expect(b.sent.map((m) => m.at.toISOString().slice(0, 10))).toEqual([
      '2026-05-01',
      '2026-05-02',
      '2026-05-04',
    ]);
  });

  it('a counted message that ends up not sent gives its unit back', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z', limits: { perUser: { perDay: 1 } } });
    await b.addUser('u', 'UTC');
    b.answers.set('https://push.example.test/send/u', () => ({
      kind: 'failed',
      statusCode: 400,
      reason: 'bad request',
    }));
    await b.launch({ when: once('2026-05-01T10:00:00Z') });
    await b.runUntil('2026-05-01T10:30:00Z');
    expect(await b.counters.get(['herald:cap:d:u:2026-05-01'], b.clock.now())).toEqual([0]);
    b.answers.clear();
    const second = await b.launch({ when: once('2026-05-01T11:00:00Z') });
    await b.runUntil('2026-05-01T12:00:00Z');
    expect(b.sent.map((m) => m.campaignId)).toEqual([second.id]);
  });

  it('two workers racing for a user’s last allowed message: exactly one sends it', async () => {
    const storage = memoryStorage();
    const queue = memoryQueue();
    const counters = memoryCounters();
    const clock = fakeClock('2026-05-01T00:00:00Z');
    const sent: SentMessage[] = [];
    const shared = { start: '2026-05-01T00:00:00Z', storage, queue, counters, clock, sent };
    const one = campaignRun({ ...shared, limits: { perUser: { perDay: 1 } }, tuning: { batchSize: 1 } });
    const two = campaignRun({ ...shared, limits: { perUser: { perDay: 1 } }, tuning: { batchSize: 1 } });
    const users = Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    for (const u of users) await one.addUser(u, 'UTC');
    const a = await one.launch({ when: once('2026-05-01T10:00:00Z') });
    const b = await two.launch({ when: once('2026-05-01T10:00:00Z') });
    await clock.set('2026-05-01T10:00:00Z');
    await Promise.all([one.herald.tick(), two.herald.tick(), one.herald.tick(), two.herald.tick()]);
    await Promise.all([one.herald.tick(), two.herald.tick()]);
    const perUser = new Map<string, number>();
    for (const m of sent) perUser.set(m.userId, (perUser.get(m.userId) ?? 0) + 1);
    expect([...perUser.keys()].sort()).toEqual(users);
    expect([...perUser.values()].every((n) => n === 1)).toBe(true);
    const statsA = await one.herald.campaigns.stats(a.id);
    const statsB = await one.herald.campaigns.stats(b.id);
    expect(statsA.sent + statsB.sent).toBe(30);
    expect((statsA.skipped.capped ?? 0) + (statsB.skipped.capped ?? 0)).toBe(30);
  });
});

describe('throttle, cut-off, control group, idempotency', () => {
  it('throttle: at most N sends a minute; the rest wait for the next minute', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    for (let i = 0; i < 10; i++) await b.addUser(`u${i}`);
    const campaign = await b.launch({ when: { ...once('2026-05-01T10:00:00Z'), throttlePerMinute: 3 } });
    await b.runUntil('2026-05-01T10:10:00Z');
    const perMinute = new Map<string, number>();
    for (const m of b.sent) perMinute.set(m.at.toISOString(), (perMinute.get(m.at.toISOString()) ?? 0) + 1);
    expect([...perMinute]).toEqual([
      ['2026-05-01T10:00:00.000Z', 3],
      ['2026-05-01T10:01:00.000Z', 3],
      ['2026-05-01T10:02:00.000Z', 3],
      ['2026-05-01T10:03:00.000Z', 1],
    ]);
    // Waiting users were spread over the coming minutes at the throttle's pace: each waited once.
    for (let i = 0; i < 10; i++) {
      const why = await b.herald.campaigns.explain(campaign.id, `u${i}`);
      const delays = why.occurrences[0]?.decisions.filter((d) => d.outcome === 'delayed') ?? [];
      expect(delays.length).toBeLessThanOrEqual(1);
    }
  });

  it('cut-off: messages not yet sent when it passes are skipped as cutoff', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    for (let i = 0; i < 10; i++) await b.addUser(`u${i}`);
    const campaign = await b.launch({
      when: { ...once('2026-05-01T10:00:00Z'), throttlePerMinute: 4, cutoff: '2026-05-01T10:01:30Z' },
    });
    await b.runUntil('2026-05-01T10:10:00Z');
    expect(b.sent).toHaveLength(8);
    expect(await b.herald.campaigns.stats(campaign.id)).toMatchObject({ sent: 8, skipped: { cutoff: 2 } });
  });

  it('control group: a deterministic share is held out, recorded as control, never sent', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    for (let i = 0; i < 200; i++) await b.addUser(`u${String(i).padStart(3, '0')}`);
    const campaign = await b.launch({
      when: once('2026-05-01T10:00:00Z'),
      setup: { controlGroupPercent: 25 },
    });
    await b.runUntil('2026-05-01T11:00:00Z');
    const stats = await b.herald.campaigns.stats(campaign.id);
    expect(stats.control + stats.sent).toBe(200);
    expect(stats.control).toBeGreaterThan(25);
    expect(stats.control).toBeLessThan(75);
    const controlIds = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const u = `u${String(i).padStart(3, '0')}`;
      if (!b.sent.some((m) => m.userId === u)) controlIds.add(u);
    }
    expect(controlIds.size).toBe(stats.control);
    const why = await b.herald.campaigns.explain(campaign.id, [...controlIds][0] as string);
    expect(why.controlGroup).toEqual({ percent: 25, member: true });
    expect(why.occurrences[0]).toMatchObject({ state: 'control' });
  });

  it('at most one message per recipient per occurrence, however often the scheduler ticks or a batch is re-run', async () => {
    const b = campaignRun({ start: '2026-05-01T00:00:00Z' });
    for (let i = 0; i < 5; i++) await b.addUser(`u${i}`);
    const campaign = await b.launch({ when: once('2026-05-01T10:00:00Z') });
    await b.clock.set('2026-05-01T10:00:00Z');
    await Promise.all([b.herald.tick(), b.herald.tick(), b.herald.tick()]);
    // A worker retrying the same batch (a new job for the same users) sends nothing more.
    await b.queue.enqueue([
      {
        name: 'herald.deliver-batch',
        payload: {
          campaignId: campaign.id,
          occurrence: '2026-05-01T10:00:00.000Z',
          userIds: ['u0', 'u1', 'u2'],
        },
        runAt: b.clock.now(),
      },
    ]);
    await b.herald.tick();
    expect(b.sent).toHaveLength(5);
    expect(new Set(b.sent.map((m) => m.userId)).size).toBe(5);
  });
});
