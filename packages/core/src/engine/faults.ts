import type { DeliveryOutcome } from '../delivery/outcome.js';
import { PayloadTooLargeError } from '../errors/index.js';
import type { Subscription } from '../model/index.js';
import type { Logger } from '../ports/index.js';
import type { HeraldEvent, PushServiceName } from './api.js';

/**
 * Faults of the host's configuration (a VAPID key the push service refuses,
 * an APNs token refused, a payload over the limit, a push service failing
 * most requests) meet every message of a campaign alike. Logged per message
 * they would bury the log, not logged they leave only `stats.failed`: this
 * logs each once per campaign and push service, at error level, with what
 * to fix.
 */
export interface FaultLog {
  /** Looks at one send's outcome (or the error it threw) and logs it if it is a configuration fault not yet reported. */
  observe(input: {
    campaignId: string;
    subscription: Subscription;
    outcome: DeliveryOutcome;
    error?: unknown;
  }): void;
}

/** The push service a subscription's messages go to, as events and logs name it. */
export function pushServiceOf(subscription: Subscription): PushServiceName {
  if (subscription.target === 'safari') return 'api.push.apple.com';
  try {
    return new URL(subscription.endpoint).host;
  } catch {
    return subscription.endpoint;
  }
}

type FaultKind = 'credentials' | 'payload-too-large' | 'circuit-open';

export function createFaultLog(logger: Logger, emit: (event: HeraldEvent) => void): FaultLog {
  // Keys are campaign × push service × kind: a handful per campaign, so the set stays small.
  const reported = new Set<string>();
  return {
    observe({ campaignId, subscription, outcome, error }) {
      const kind = faultKind(outcome, error);
      if (!kind) return;
      const pushService = pushServiceOf(subscription);
      const key = `${campaignId}|${pushService}|${kind}`;
      if (reported.has(key)) return;
      reported.add(key);
      const reason = outcome.kind === 'sent' || outcome.kind === 'gone' ? '' : outcome.reason;
      const status = outcome.kind === 'sent' || outcome.kind === 'gone' ? null : outcome.statusCode;
      const fields = { campaignId, pushService, status, reason };
      switch (kind) {
        case 'credentials':
          logger.error(credentialsAdvice(subscription, pushService, status), fields);
          return;
        case 'payload-too-large':
          logger.error(
            `campaign ${campaignId}: the payload is over the push service's limit, so no message of it can be sent: shorten title and body, drop actions or image, or shorten templated values (${reason})`,
            fields,
          );
          return;
        case 'circuit-open':
          logger.error(
            `push service ${pushService} failed most recent requests: Herald holds back sends to it (circuit open) and retries after a probe succeeds; check the service's status and your network (${reason})`,
            fields,
          );
          emit({ type: 'circuit-open', pushService, campaignId, reason });
          return;
      }
    },
  };
}

function faultKind(outcome: DeliveryOutcome, error: unknown): FaultKind | null {
  if (error instanceof PayloadTooLargeError) return 'payload-too-large';
  if (outcome.kind === 'retry' && outcome.circuitOpen) return 'circuit-open';
  if (outcome.kind !== 'failed') return null;
  if (outcome.configFault || outcome.statusCode === 401 || outcome.statusCode === 403) return 'credentials';
  if (outcome.statusCode === 413) return 'payload-too-large';
  return null;
}

function credentialsAdvice(subscription: Subscription, pushService: string, status: number | null): string {
  if (subscription.target === 'safari') {
    return `APNs (${pushService}) refused Herald's token (${status}): check the team id, key id and .p8 signing key given to safariApns(), and that the website push id matches the one the device subscribed with`;
  }
  return `push service ${pushService} refused VAPID (${status}): the VAPID key pair does not match the one the subscription was created with, or its subject is refused; pass webPush({ vapid }) the same publicKey the browser subscribed with (applicationServerKey) and a mailto: or https: subject`;
}
