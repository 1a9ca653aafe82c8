import type { PushSubscriptionJson, WebPushSubscription } from '../../../src/model/index.js';

/**
 * The stored form of a browser's push subscription (as a test push service
 * hands it out), created and last updated at `at`; `n` tells several apart.
 */
export function storedWebPush(
  json: PushSubscriptionJson,
  at: Date,
  n: number | string = 0,
): WebPushSubscription {
  return {
    id: `sub-${n}` as WebPushSubscription['id'],
    userId: `user-${n}` as WebPushSubscription['userId'],
    target: 'webpush',
    endpoint: json.endpoint,
    keys: json.keys,
    createdAt: at,
    updatedAt: at,
  };
}
