import type { Queue } from '../ports/queue.js';

/** A test's ear on one queue handle's `onWake`: the wake-ups it heard, and a way to wait for the next. */
export interface WakeListener {
  /** Stops listening: the queue's own unsubscribe. */
  stop(): void;
  /** Resolves true at the next wake-up, or false if none comes within `withinMs`. */
  wake(withinMs: number): Promise<boolean>;
  /** How many wake-ups it heard so far. */
  calls(): number;
}

/** Listens to `queue.onWake`; throws if the queue has no wake-ups to offer. */
export function listenForWakes(queue: Queue): WakeListener {
  if (queue.onWake === undefined) throw new TypeError('this queue has no onWake to listen to');
  let calls = 0;
  let next: (() => void) | null = null;
  const stop = queue.onWake(() => {
    calls += 1;
    next?.();
  });
  const wake = (withinMs: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), withinMs);
      next = () => {
        clearTimeout(timer);
        next = null;
        resolve(true);
      };
    });
  return { stop, wake, calls: () => calls };
}

/**
 * Enqueues (with `enqueue`, on any handle of the same queue) until the listener hears one: `onWake`
 * returns before its LISTEN or SUBSCRIBE has reached the server, and a wake-up sent before that is lost.
 */
export async function untilListening(listener: WakeListener, enqueue: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const heard = listener.wake(200);
    await enqueue();
    if (await heard) return;
  }
  throw new Error('the listener never heard an enqueue');
}
