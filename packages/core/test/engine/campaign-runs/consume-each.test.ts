import { describe, expect, it } from 'vitest';
import type { ConsumeResult, CounterSpec, Counters } from '../../../src/index.js';
import { memoryCounters } from '../../../src/index.js';
import { campaignRun } from './harness.js';

/**
 * Caps and throttle ask the counters once per delivery batch when the Counters has `consumeEach`,
 * and once per user without it; both must decide the same users the same way.
 */
const once = (at: string) => ({ schedule: { type: 'once' as const, at } });

/** memoryCounters counting its calls; `batched: false` hides consumeEach, as a Counters without it. */
function countedCounters(batched: boolean) {
  const inner = memoryCounters();
  const calls = { consume: 0, consumeEach: 0, requests: 0 };
  const counters: Counters = {
    consume(specs: readonly CounterSpec[], now: Date): Promise<ConsumeResult> {
      calls.consume += 1;
      return inner.consume(specs, now);
    },
    release: (keys, now) => inner.release(keys, now),
    get: (keys, now) => inner.get(keys, now),
    ...(batched
      ? {
          consumeEach(requests: readonly (readonly CounterSpec[])[], now: Date) {
            calls.consumeEach += 1;
            calls.requests += requests.length;
            return inner.consumeEach?.(requests, now) ?? Promise.resolve([]);
          },
        }
      : {}),
  };
  return { counters, calls };
}

/** Two capped campaigns and a throttled one over 30 users, in batches of 20; what each user got when. */
async function runCampaigns(batched: boolean) {
  const { counters, calls } = countedCounters(batched);
  const b = campaignRun({
    start: '2026-05-01T00:00:00Z',
    limits: { perUser: { perDay: 1, perWeek: 2 } },
    counters,
  });
  for (let i = 0; i < 30; i++) await b.addUser(`u${String(i).padStart(2, '0')}`, 'Europe/Paris');
  const first = await b.launch({ when: once('2026-05-01T08:00:00Z') });
  const second = await b.launch({ when: once('2026-05-01T09:00:00Z') });
  const throttled = await b.launch({
    when: { ...once('2026-05-02T09:00:00Z'), throttlePerMinute: 7 },
  });
  await b.runUntil('2026-05-02T10:00:00Z');
  const got = b.sent.map(
    (m) =>
      `${m.campaignId === throttled.id ? 't' : m.campaignId === first.id ? 'a' : 'b'} ${m.userId} ${m.at.toISOString()}`,
  );
  const stats = await Promise.all([first, second, throttled].map((c) => b.herald.campaigns.stats(c.id)));
  const counts = await counters.get(
    ['herald:cap:w:u00:2026-W18', 'herald:cap:d:u00:2026-05-02'],
    b.clock.now(),
  );
  return { got: got.sort(), stats: stats.map((s) => [s.sent, s.skipped]), counts, calls };
}

describe('counter steps per batch (Counters.consumeEach)', () => {
  it('decides every user as the per-user steps do, in one call per batch', async () => {
    const batched = await runCampaigns(true);
    const perUser = await runCampaigns(false);
    expect(batched.got).toEqual(perUser.got);
    expect(batched.stats).toEqual(perUser.stats);
    expect(batched.counts).toEqual(perUser.counts);
    // u00's week holds the first campaign's message and the throttled one's; its second day, one.
    expect(batched.counts).toEqual([2, 1]);
    // The first campaign sends all 30; the second is capped for all; the throttled one sends 7 a minute.
    expect(batched.stats).toEqual([
      [30, {}],
      [0, { capped: 30 }],
      [30, {}],
    ]);
    expect(new Set(batched.got.filter((m) => m.startsWith('t ')).map((m) => m.slice(-24))).size).toBe(5);
    expect(batched.calls.consume).toBe(0);
    expect(batched.calls.consumeEach).toBeGreaterThan(0);
    expect(batched.calls.consumeEach).toBeLessThan(batched.calls.requests);
    expect(perUser.calls.consumeEach).toBe(0);
    expect(perUser.calls.consume).toBeGreaterThanOrEqual(90);
  });
});
