import {
  createHerald,
  type DeliveryOutcome,
  type HeraldOptions,
  memoryQueue,
  memoryStorage,
  type OutboundMessage,
  type PushProvider,
  type Target,
} from '../../../src/index.js';
import { fakeClock, fixtures } from '../../../src/testing/index.js';

export interface Recorded {
  target: Target;
  subscriptionId: string;
  payload: unknown;
  bytes: number;
}

/** A provider that records what it would have sent (the network is what it replaces) and answers `answer`. */
export function recordingProvider(
  target: Target,
  sent: Recorded[],
  answer: (message: OutboundMessage) => DeliveryOutcome = () => ({ kind: 'sent', statusCode: 201 }),
): PushProvider {
  return {
    target,
    async send(message) {
      sent.push({
        target,
        subscriptionId: message.subscription.id,
        payload: JSON.parse(message.payload),
        bytes: Buffer.byteLength(message.payload),
      });
      return answer(message);
    },
    async close() {},
  };
}

export const P256 = fixtures.P256DH;
export const AUTH = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A Herald on the memory adapters at a fake clock, with recording providers for both targets. */
export function audienceHerald(options: Partial<HeraldOptions> = {}, start = '2026-03-02T10:00:00Z') {
  const clock = fakeClock(start);
  const storage = memoryStorage();
  const sent: Recorded[] = [];
  const herald = createHerald({
    storage,
    queue: memoryQueue(),
    providers: { webpush: recordingProvider('webpush', sent), safari: recordingProvider('safari', sent) },
    clock,
    allowEndpoint: [/^https:\/\/push\.example\.test\//],
    random: () => 0.5,
    ...options,
  });
  let n = 0;
  /** A profile with a web push subscription (and a Safari one when asked). */
  async function user(userId: string, properties: Record<string, unknown> = {}, extra: object = {}) {
    await herald.profiles.upsert({ userId, properties, ...extra });
    n += 1;
    await herald.subscriptions.add({
      userId,
      subscription: {
        endpoint: `https://push.example.test/s/${userId}-${n}`,
        keys: { p256dh: P256, auth: AUTH },
      },
    });
  }
  async function safari(userId: string) {
    n += 1;
    await herald.subscriptions.add({
      target: 'safari',
      userId,
      deviceToken: n.toString(16).padStart(64, 'a'),
    });
  }
  return { clock, storage, sent, herald, user, safari };
}
