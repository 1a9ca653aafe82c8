import type { Clock } from '../ports/clock.js';

/**
 * The real clock: wall time from the system, sleeps on real timers.
 * This is the one place outside tests where Herald touches Date and setTimeout;
 * everything else receives a Clock.
 */
export function systemClock(): Clock {
  return {
    now: () => new Date(),
    sleep: (ms, signal) => sleepFor(ms, signal),
  };
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  // An abort ends the sleep early but is not an error: the caller checks its
  // own signal to decide whether to go on.
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
