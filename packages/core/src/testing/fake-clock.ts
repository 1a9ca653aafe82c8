import type { Clock } from '../ports/clock.js';

/**
 * A Clock that only moves when a test moves it. Sleepers wake when fake time
 * reaches their deadline, in deadline order, so a loop that sleeps and works
 * runs once per period crossed by `advance`.
 */
export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`, stopping at each sleeper's deadline on the way
   * so that its continuation runs (and may sleep again) before time moves on.
   * Await it: the returned promise settles once woken sleepers have run.
   */
  advance(ms: number): Promise<void>;
  /** Jumps to `date` (forward or back), waking every sleeper whose deadline is reached. */
  set(date: Date | string): Promise<void>;
  /** How many sleeps are still waiting. */
  pendingSleeps(): number;
}

interface Sleeper {
  deadline: number;
  /** Tie-breaker: equal deadlines wake in the order they started sleeping. */
  seq: number;
  wake: () => void;
}

/** Lets woken sleepers' continuations (several promise hops deep) run before time moves again. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function fakeClock(start: Date | string): FakeClock {
  let now = toMillis(start);
  let seq = 0;
  const sleepers = new Set<Sleeper>();

  const nextDue = (limit: number): Sleeper | undefined => {
    let next: Sleeper | undefined;
    for (const sleeper of sleepers) {
      if (sleeper.deadline > limit) continue;
      if (
        !next ||
        sleeper.deadline < next.deadline ||
        (sleeper.deadline === next.deadline && sleeper.seq < next.seq)
      ) {
        next = sleeper;
      }
    }
    return next;
  };

  const runUntil = async (target: number): Promise<void> => {
    for (let sleeper = nextDue(target); sleeper; sleeper = nextDue(target)) {
      // Time never goes back while stepping: a sleeper already overdue wakes at the current time.
      now = Math.max(now, sleeper.deadline);
      sleeper.wake();
      await settle();
    }
    now = target;
    await settle();
  };

  return {
    now: () => new Date(now),
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.resolve();
      if (ms <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const sleeper: Sleeper = {
          deadline: now + ms,
          seq: seq++,
          wake: () => {
            sleepers.delete(sleeper);
            signal?.removeEventListener('abort', sleeper.wake);
            resolve();
          },
        };
        sleepers.add(sleeper);
        signal?.addEventListener('abort', sleeper.wake, { once: true });
      });
    },
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
      return runUntil(now + ms);
    },
    async set(date) {
      const target = toMillis(date);
      if (target < now) {
        // Going back wakes nobody; only deadlines at or before the new time are due.
        now = target;
      }
      await runUntil(target);
    },
    pendingSleeps: () => sleepers.size,
  };
}

function toMillis(date: Date | string): number {
  const millis = (typeof date === 'string' ? new Date(date) : date).getTime();
  if (Number.isNaN(millis)) throw new RangeError(`Not a valid date: ${String(date)}`);
  return millis;
}
