import { describe, expect, it } from 'vitest';
import { fixtures } from '../../../src/testing/index.js';
import { campaignRun } from './harness.js';

describe('campaigns.runs: per-run figures and progress', () => {
  it('gives each run of a recurring campaign its own figures, messages and users apart', async () => {
    const b = campaignRun({ start: '2026-05-01T09:00:00Z' });
    await b.addUser('ann');
    await b.addUser('bob');
    // A second browser for ann: two messages, one user.
    await b.herald.subscriptions.add({
      userId: 'ann',
      subscription: {
        endpoint: 'https://push.example.test/send/ann-laptop',
        keys: { p256dh: fixtures.P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
      },
    });
    const campaign = await b.launch({
      when: {
        schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 1 } },
        timezone: 'UTC',
      },
    });
    await b.runUntil('2026-05-02T12:00:00Z');
    const { runs, total, by } = await b.herald.campaigns.runs(campaign.id);
    expect(by).toBe('occurrence');
    expect(runs.map((run) => run.occurrence)).toEqual([
      '2026-05-01T10:00:00.000Z',
      '2026-05-02T10:00:00.000Z',
    ]);
    for (const run of runs) {
      expect(run).toMatchObject({ recipients: 2, sent: 3, pending: 0, users: { delivered: 2 } });
      expect(run.progress).toEqual({
        audience: 2,
        queued: 0,
        inProgress: 0,
        done: 2,
        settledAt: new Date(run.occurrence),
      });
      expect(run.rates.clickThrough).toBe(0);
      expect(run.rates.lift.note).toContain('No control group');
    }
    // Users count once per run: the total reaches two users twice.
    expect(total).toMatchObject({ recipients: 4, sent: 6, users: { delivered: 4 } });
    expect(total.progress.settledAt).toEqual(new Date('2026-05-02T10:00:00.000Z'));
  });

  it('counts users waiting in queued batches, and settles the run only when the last one is done', async () => {
    const b = campaignRun({ start: '2026-04-30T19:00:00Z' });
    await b.addUser('tokyo', 'Asia/Tokyo');
    await b.addUser('la', 'America/Los_Angeles');
    const campaign = await b.launch({
      when: { schedule: { type: 'once', at: '2026-05-01T10:00:00Z' }, timezone: 'UTC', userTimezone: {} },
    });
    // 10:00 in Tokyo is 01:00Z; in Los Angeles 17:00Z. At 02:00Z LA's batch is queued, not yet admitted.
    await b.runUntil('2026-05-01T02:00:00Z');
    expect((await b.herald.campaigns.get(campaign.id)).status).toBe('completed');
    const early = (await b.herald.campaigns.runs(campaign.id)).runs;
    expect(early).toHaveLength(1);
    expect(early[0]?.progress).toEqual({ audience: 2, queued: 1, inProgress: 0, done: 1, settledAt: null });
    // The old total knows nothing of the queued user.
    expect(await b.herald.campaigns.stats(campaign.id)).toMatchObject({ recipients: 1, pending: 0 });

    await b.runUntil('2026-05-01T18:00:00Z');
    const late = (await b.herald.campaigns.runs(campaign.id)).runs;
    expect(late[0]?.progress).toEqual({
      audience: 2,
      queued: 0,
      inProgress: 0,
      done: 2,
      settledAt: new Date('2026-05-01T17:00:00.000Z'),
    });
    expect(late[0]?.sent).toBe(2);
  });

  it('reports a live campaign by day in its zone: one occurrence per trigger, grouped', async () => {
    const b = campaignRun({ start: '2026-05-01T20:00:00Z' });
    await b.addUser('ann');
    await b.addUser('bob');
    const campaign = await b.launch({
      when: { schedule: { type: 'onEvent', event: { name: 'Login' } }, timezone: 'Asia/Tokyo' },
    });
    // 20:00Z is 05:00 on May 2 in Tokyo; 16:00Z the next day is 01:00 on May 3.
    await b.herald.events.track({ userId: 'ann', name: 'Login' });
    await b.herald.events.track({ userId: 'bob', name: 'Login' });
    await b.runUntil('2026-05-02T16:00:00Z');
    await b.herald.events.track({ userId: 'ann', name: 'Login' });
    await b.runUntil('2026-05-02T16:01:00Z');
    const { by, runs, total } = await b.herald.campaigns.runs(campaign.id);
    expect(by).toBe('day');
    expect(runs.map((run) => [run.occurrence, run.sent, run.users.delivered])).toEqual([
      ['2026-05-02', 2, 2],
      ['2026-05-03', 1, 1],
    ]);
    expect(total.sent).toBe(3);
  });
});
