import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryCounters } from '../adapters/memory-counters.js';
import type { ConsumeResult, CounterSpec, Counters } from '../ports/counters.js';
import { at, DAY, HOUR, MINUTE, T0 } from './fixtures.js';
import type { CountersSuiteOptions } from './harness.js';
import { validationRefusal } from './refusal.js';

export type { CountersSuiteOptions };

/**
 * The Counters conformance suite. Expiry is judged against the `now` each
 * call passes (never the backend's own clock), so cases use fixed instants.
 *
 * Rules checked: a counter is live while now < expiresAt; its window is set
 * when it starts and later consumes keep it; consume is all-or-nothing and
 * names the first blocking key in spec order; release never goes below zero.
 */
export function runCountersSuite(options: CountersSuiteOptions): void {
  describe(`${options.name} counters conformance`, () => {
    let counters: Counters;
    const spec = (key: string, limit: number, expiresAt = at(DAY)): CounterSpec => ({
      key,
      limit,
      expiresAt,
    });

    beforeAll(async () => {
      counters = await options.create();
    });
    beforeEach(async () => {
      await options.reset();
    });
    afterAll(async () => {
      await options.close?.();
    });

    it('consumes up to the limit, then blocks naming the key', async () => {
      const key = 'cap:user:ann:day';
      expect(await counters.consume([spec(key, 3)], T0)).toEqual({ allowed: true, counts: [1] });
      expect(await counters.consume([spec(key, 3)], T0)).toEqual({ allowed: true, counts: [2] });
      expect(await counters.consume([spec(key, 3)], T0)).toEqual({ allowed: true, counts: [3] });
      expect(await counters.consume([spec(key, 3)], T0)).toEqual({ allowed: false, blockedBy: key });
      expect(await counters.get([key], T0)).toEqual([3]);
    });

    it('returns the counts of several specs in spec order', async () => {
      await counters.consume([spec('a', 10)], T0);
      await counters.consume([spec('a', 10)], T0);
      expect(await counters.consume([spec('b', 10), spec('a', 10)], T0)).toEqual({
        allowed: true,
        counts: [1, 3],
      });
      expect(await counters.get(['a', 'b', 'missing'], T0)).toEqual([3, 1, 0]);
    });

    it('is all-or-nothing: one spec at its limit blocks and increments none', async () => {
      await counters.consume([spec('hour', 1)], T0);
      const result = await counters.consume([spec('day', 5), spec('hour', 1), spec('week', 9)], T0);
      expect(result).toEqual({ allowed: false, blockedBy: 'hour' });
      expect(await counters.get(['day', 'hour', 'week'], T0)).toEqual([0, 1, 0]);
    });

    it('names the first blocking key in spec order', async () => {
      await counters.consume([spec('x', 1), spec('y', 1)], T0);
      expect(await counters.consume([spec('y', 1), spec('x', 1)], T0)).toEqual({
        allowed: false,
        blockedBy: 'y',
      });
    });

    it('a key listed twice in one consume counts twice against its limit', async () => {
      expect(await counters.consume([spec('twice', 1), spec('twice', 1)], T0)).toEqual({
        allowed: false,
        blockedBy: 'twice',
      });
      expect(await counters.get(['twice'], T0)).toEqual([0]);
      expect(await counters.consume([spec('twice2', 2), spec('twice2', 2)], T0)).toEqual({
        allowed: true,
        counts: [1, 2],
      });
    });

    it('a limit of zero always blocks', async () => {
      expect(await counters.consume([spec('off', 0)], T0)).toEqual({ allowed: false, blockedBy: 'off' });
      expect(await counters.get(['off'], T0)).toEqual([0]);
    });

    it('expires at expiresAt, judged by the passed now, and starts a fresh window after', async () => {
      const expiresAt = at(HOUR);
      await counters.consume([spec('k', 2, expiresAt)], T0);
      await counters.consume([spec('k', 2, expiresAt)], T0);
      expect(await counters.get(['k'], at(HOUR - 1))).toEqual([2]);
      expect(await counters.consume([spec('k', 2, expiresAt)], at(HOUR - 1))).toEqual({
        allowed: false,
        blockedBy: 'k',
      });
      expect(await counters.get(['k'], at(HOUR))).toEqual([0]);
      expect(await counters.consume([spec('k', 2, at(2 * HOUR))], at(HOUR))).toEqual({
        allowed: true,
        counts: [1],
      });
      expect(await counters.get(['k'], at(2 * HOUR - 1))).toEqual([1]);
      expect(await counters.get(['k'], at(2 * HOUR))).toEqual([0]);
    });

    it('keeps the window a counter started with: a later consume does not move its expiry', async () => {
      await counters.consume([spec('k', 5, at(HOUR))], T0);
      await counters.consume([spec('k', 5, at(3 * HOUR))], at(30 * MINUTE));
      expect(await counters.get(['k'], at(HOUR - 1))).toEqual([2]);
      expect(await counters.get(['k'], at(HOUR))).toEqual([0]);
    });

    it('release gives back one unit, never below zero, and only to the named keys', async () => {
      await counters.consume([spec('a', 2), spec('b', 2)], T0);
      await counters.consume([spec('a', 2)], T0);
      expect(await counters.consume([spec('a', 2)], T0)).toEqual({ allowed: false, blockedBy: 'a' });
      await counters.release(['a'], T0);
      expect(await counters.get(['a', 'b'], T0)).toEqual([1, 1]);
      expect(await counters.consume([spec('a', 2)], T0)).toEqual({ allowed: true, counts: [2] });
      await counters.release(['b', 'missing'], T0);
      await counters.release(['b'], T0);
      expect(await counters.get(['a', 'b', 'missing'], T0)).toEqual([2, 0, 0]);
      expect(await counters.consume([spec('b', 1)], T0)).toEqual({ allowed: true, counts: [1] });
    });

    it('release does not revive an expired counter', async () => {
      await counters.consume([spec('k', 5, at(HOUR))], T0);
      await counters.release(['k'], at(2 * HOUR));
      expect(await counters.get(['k'], at(2 * HOUR))).toEqual([0]);
      expect(await counters.consume([spec('k', 1, at(3 * HOUR))], at(2 * HOUR))).toEqual({
        allowed: true,
        counts: [1],
      });
    });

    it('20 concurrent consumes with limit 5: exactly 5 are allowed', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => counters.consume([spec('hot', 5)], T0)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
      expect(results.flatMap((r) => (r.allowed ? r.counts : [])).sort((a, b) => a - b)).toEqual([
        1, 2, 3, 4, 5,
      ]);
      expect(await counters.get(['hot'], T0)).toEqual([5]);
    });

    it('concurrent multi-key consumes never overshoot any limit', async () => {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          counters.consume([spec('user:day', 4), spec(`campaign:${i % 2}`, 3)], T0),
        ),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(4);
      const [day, c0, c1] = await counters.get(['user:day', 'campaign:0', 'campaign:1'], T0);
      expect(day).toBe(4);
      expect(c0! + c1!).toBe(4);
      expect(c0).toBeLessThanOrEqual(3);
      expect(c1).toBeLessThanOrEqual(3);
    });

    describe('input, checked alike on every adapter (counter-input.ts)', () => {
      const invalidDate = new Date(Number.NaN);

      it('a bad spec refuses the whole consume, naming it by its place, and counts nothing', async () => {
        const cases: [CounterSpec, string][] = [
          [spec('day', -1), '[1].limit: must be an integer >= 0, received -1'],
          [spec('day', 2.5), '[1].limit: must be an integer >= 0, received 2.5'],
          [spec('day', Number.NaN), '[1].limit: must be an integer >= 0, received NaN'],
          [spec('', 3), '[1].key: must be a non-empty string, received a string ("")'],
          [spec('day', 3, invalidDate), '[1].expiresAt: must be a valid Date, received an invalid date'],
          [
            { key: 'day', limit: 3, expiresAt: '2026-01-02' as unknown as Date },
            '[1].expiresAt: must be a valid Date, received a string ("2026-01-02")',
          ],
          [
            { key: 'day', limit: '3' } as unknown as CounterSpec,
            '[1].limit: must be an integer >= 0, received a string ("3")',
          ],
        ];
        for (const [bad, message] of cases) {
          const error = await validationRefusal(counters.consume([spec('ok', 5), bad], T0));
          expect(error.message).toContain(message);
        }
        expect(await counters.get(['ok', 'day'], T0)).toEqual([0, 0]);
      });

      it('an invalid now is refused by every call', async () => {
        for (const call of [
          counters.consume([spec('ok', 5)], invalidDate),
          counters.release(['ok'], invalidDate),
          counters.get(['ok'], invalidDate),
          ...(counters.consumeEach ? [counters.consumeEach([[spec('ok', 5)]], invalidDate)] : []),
        ]) {
          expect((await validationRefusal(call)).message).toContain(
            'now: must be a valid Date, received an invalid date',
          );
        }
        expect(await counters.get(['ok'], T0)).toEqual([0]);
      });

      it('a bad spec in any request refuses the whole consumeEach, and no request counts', async () => {
        if (!counters.consumeEach) throw new Error(`${options.name} counters have no consumeEach`);
        const error = await validationRefusal(
          counters.consumeEach([[spec('ok', 5)], [spec('ok', 5), spec('day', -1)]], T0),
        );
        expect(error.message).toContain('[1][1].limit: must be an integer >= 0, received -1');
        expect(await counters.get(['ok', 'day'], T0)).toEqual([0, 0]);
      });
    });

    describe('consumeEach', () => {
      const each = (requests: CounterSpec[][], now = T0): Promise<ConsumeResult[]> => {
        if (!counters.consumeEach) throw new Error(`${options.name} counters have no consumeEach`);
        return counters.consumeEach(requests, now);
      };

      it('answers as consume would request by request: a blocked one changes nothing, later ones still run', async () => {
        expect(
          await each([
            [spec('a', 1)],
            [spec('a', 1), spec('b', 5)],
            [spec('b', 5)],
            [],
            [spec('c', 0)],
            [spec('b', 5), spec('b', 5)],
          ]),
        ).toEqual([
          { allowed: true, counts: [1] },
          { allowed: false, blockedBy: 'a' },
          { allowed: true, counts: [1] },
          { allowed: true, counts: [] },
          { allowed: false, blockedBy: 'c' },
          { allowed: true, counts: [2, 3] },
        ]);
        expect(await counters.get(['a', 'b', 'c'], T0)).toEqual([1, 3, 0]);
        expect(await each([])).toEqual([]);
      });

      it('matches the reference counters on a long mixed sequence, windows and expiry included', async () => {
        // A fixed pseudo-random sequence: shared keys, limits 0-4, a key twice in one request,
        // windows of an hour or a day, asked in three calls at three instants.
        let seed = 7;
        const next = (n: number) => {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          return seed % n;
        };
        // Windows end after the call's now, as the engine's always do; an hour's window started at
        // T0 has ended by the third call.
        const request = (now: Date): CounterSpec[] =>
          Array.from({ length: 1 + next(3) }, () =>
            spec(`k${next(5)}`, next(5), new Date(now.getTime() + (next(2) === 0 ? HOUR : DAY))),
          );
        const calls = [T0, at(30 * MINUTE), at(2 * HOUR)].map((now) => ({
          now,
          requests: Array.from({ length: 40 }, () => request(now)),
        }));
        const reference = memoryCounters();
        const keys = ['k0', 'k1', 'k2', 'k3', 'k4'];
        for (const { now, requests } of calls) {
          const expected = requests.map((specs) => reference.consume(specs, now));
          expect(await each(requests, now)).toEqual(await Promise.all(expected));
          expect(await counters.get(keys, now)).toEqual(await reference.get(keys, now));
        }
        expect(await counters.get(keys, at(DAY))).toEqual(await reference.get(keys, at(DAY)));
      });

      it('concurrent batches never overshoot a limit', async () => {
        const results = await Promise.all(
          Array.from({ length: 4 }, () =>
            each(Array.from({ length: 10 }, (_, i) => [spec(`user:${i}`, 3), spec('campaign', 25)])),
          ),
        );
        expect(results.flat().filter((r) => r.allowed)).toHaveLength(25);
        expect(await counters.get(['campaign'], T0)).toEqual([25]);
      });
    });
  });
}
