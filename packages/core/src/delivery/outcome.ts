/**
 * What became of one message, as data the engine branches on. Only faults
 * (a payload too large, a broken configuration) are thrown; everything a push
 * service can answer is one of these.
 */
export type DeliveryOutcome =
  /** The push service accepted the message (201/202). */
  | { kind: 'sent'; statusCode: number }
  /**
   * Try again, not before `retryAt`: the earliest instant the push service
   * allows (its Retry-After). Backoff and attempt limits are the engine's;
   * the engine waits until the later of `retryAt` and its own backoff.
   * `statusCode` is null when no answer came (network error, timeout).
   * `circuitOpen` marks a message held back without a request because the
   * service failed most recent requests (delivery/circuit-breaker.ts).
   */
  | { kind: 'retry'; retryAt: Date; statusCode: number | null; reason: string; circuitOpen?: boolean }
  /** The subscription no longer exists (404/410): remove it, never send to it again. */
  | { kind: 'gone'; statusCode: number }
  /**
   * A permanent refusal of this message. `configFault` marks answers that
   * blame Herald's own configuration (a VAPID key or subject the service
   * refuses), which every other message will meet too: worth an alarm, never
   * a retry loop.
   */
  | { kind: 'failed'; statusCode: number | null; reason: string; configFault?: boolean };

export type DeliveryOutcomeKind = DeliveryOutcome['kind'];
