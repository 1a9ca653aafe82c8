import type { Subscription, Urgency } from '../model/index.js';
import type { DeliveryOutcome } from './outcome.js';

export type { DeliveryOutcome } from './outcome.js';

/** One message for one subscription, rendered and ready to encrypt. */
export interface OutboundMessage {
  subscription: Subscription;
  /** The notification payload as JSON text; encrypted by the provider. */
  payload: string;
  /** How long the push service keeps the message for an offline device (RFC 8030 TTL). */
  ttlSeconds: number;
  urgency: Urgency;
  /** Replaces an undelivered earlier message with the same topic (RFC 8030 §5.4). */
  topic?: string;
  /** Names the campaign in errors (a payload too large); the provider does not need it otherwise. */
  campaignId?: string;
}

/**
 * A push service adapter: Web Push (RFC 8030/8291/8292) or Safari's legacy
 * APNs. Expected answers come back as a DeliveryOutcome; `send` throws only
 * for faults that no retry can fix (a payload over the limit, a subscription
 * of the wrong target).
 */
export interface PushProvider {
  readonly target: 'webpush' | 'safari';
  /**
   * Sends one message. `now` is the engine's time: outcomes that carry a time
   * (`retry.retryAt`) are computed from it, so a fake clock drives them.
   */
  send(message: OutboundMessage, now: Date): Promise<DeliveryOutcome>;
  /** Closes pooled connections; the provider is not used afterwards. */
  close(): Promise<void>;
}
