/**
 * Atomic counters with expiry, for per-user frequency caps and throttles.
 * `consume` checks and increments several counters as one step, so two
 * workers cannot both take a user's last allowed message.
 */
export interface CounterSpec {
  key: string;
  /** The most the counter may reach. */
  limit: number;
  /** When the counter's window ends and it resets to zero. */
  expiresAt: Date;
}

export type ConsumeResult = { allowed: true; counts: number[] } | { allowed: false; blockedBy: string };

export interface Counters {
  /** All-or-nothing: increments every counter by one only if none would exceed its limit. */
  consume(specs: readonly CounterSpec[], now: Date): Promise<ConsumeResult>;
  /**
   * Many consumes in one round trip: the same results as calling `consume`
   * for each request in turn, in order (each all-or-nothing; a blocked one
   * changes nothing and the next ones still run), with nothing another caller
   * does in between. Optional: a delivery batch under caps asks it once
   * instead of once per user, and falls back to `consume` per user without it.
   */
  consumeEach?(requests: readonly (readonly CounterSpec[])[], now: Date): Promise<ConsumeResult[]>;
  /** Gives back one unit (a message that was counted but not sent). Never goes below zero. */
  release(keys: readonly string[], now: Date): Promise<void>;
  /** Current values (0 for missing or expired counters). */
  get(keys: readonly string[], now: Date): Promise<number[]>;
}
