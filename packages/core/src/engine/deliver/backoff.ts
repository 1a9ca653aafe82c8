/**
 * Exponential backoff with jitter for retryable deliveries: attempt 1 waits
 * about `baseMs`, each further attempt doubles it, capped at `maxMs`; jitter
 * spreads retries of one failing burst so they do not return as a burst.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 5, baseMs: 30_000, maxMs: 30 * 60_000 };

export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.8 + 0.4 * random()));
}
