import { checkCounterRequests, checkCounterSpecs, counterInstant } from '../ports/counter-input.js';
import type { ConsumeResult, CounterSpec, Counters } from '../ports/counters.js';

interface Counter {
  value: number;
  expiresAt: Date;
}

/**
 * Counters in process memory. Rules (the Redis adapter keeps the same):
 * - A counter is live while now < expiresAt; an expired or missing counter reads 0.
 * - The window is fixed when a counter starts: a consume on a live counter
 *   keeps its expiresAt; one that starts it (missing or expired) takes the spec's.
 * - `consume` is all-or-nothing: the first spec (in the given order) whose
 *   counter is already at its limit is reported in `blockedBy`, and nothing moves.
 * - A key listed twice in one consume counts twice against its limit.
 * - `consumeEach` is `consume` per request, in order, with no other call in between.
 * - `release` decrements live counters, never below zero; it never revives an expired one.
 * - Input is checked as every adapter checks it (`counter-input.ts`): a bad spec or instant is a
 *   ValidationError and counts nothing.
 */
export function memoryCounters(): Counters {
  const counters = new Map<string, Counter>();

  const live = (key: string, now: Date): Counter | undefined => {
    const counter = counters.get(key);
    if (counter && counter.expiresAt > now) return counter;
    if (counter) counters.delete(key);
    return undefined;
  };

  const consumeNow = (specs: readonly CounterSpec[], now: Date): ConsumeResult => {
    // A key listed twice counts twice against its limit, as on Redis.
    const planned = new Map<string, number>();
    for (const spec of specs) {
      const next = (planned.get(spec.key) ?? live(spec.key, now)?.value ?? 0) + 1;
      if (next > spec.limit) return { allowed: false, blockedBy: spec.key };
      planned.set(spec.key, next);
    }
    const counts = specs.map((spec) => {
      const counter = live(spec.key, now) ?? { value: 0, expiresAt: new Date(spec.expiresAt) };
      counter.value += 1;
      counters.set(spec.key, counter);
      return counter.value;
    });
    return { allowed: true, counts };
  };

  return {
    async consume(specs: readonly CounterSpec[], now: Date): Promise<ConsumeResult> {
      counterInstant(now, 'now');
      checkCounterSpecs(specs);
      return consumeNow(specs, now);
    },

    // One synchronous pass, so no other caller's step falls between two requests.
    async consumeEach(requests: readonly (readonly CounterSpec[])[], now: Date): Promise<ConsumeResult[]> {
      counterInstant(now, 'now');
      checkCounterRequests(requests);
      return requests.map((specs) => consumeNow(specs, now));
    },

    async release(keys, now) {
      counterInstant(now, 'now');
      for (const key of keys) {
        const counter = live(key, now);
        if (counter) counter.value = Math.max(0, counter.value - 1);
      }
    },

    async get(keys, now) {
      counterInstant(now, 'now');
      return keys.map((key) => live(key, now)?.value ?? 0);
    },
  };
}
