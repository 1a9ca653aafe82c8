import { afterAll, beforeAll } from 'vitest';
import {
  type Counters,
  type CreateCampaignInput,
  createHerald,
  generateVapidKeys,
  type Herald,
  type HttpOptions,
  heraldHttp,
  type Logger,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import { createTestPushService, fakeClock, type TestPushService } from '../../src/testing/index.js';

/**
 * A loopback push service for the enclosing describe block: started before its cases, stopped after
 * them. `url` is set once it has started.
 */
export function loopbackPushService(): { readonly service: TestPushService; readonly url: string } {
  const service = createTestPushService();
  let url = '';
  beforeAll(async () => {
    url = (await service.start()).url;
  });
  afterAll(() => service.stop());
  return {
    service,
    get url() {
      return url;
    },
  };
}

export interface HttpEngineOptions {
  /** The public handler's options (who the user is, rate limits, client revenue, …). */
  http?: HttpOptions;
  /** The push service the engine may send to (the loopback service's url). */
  allowEndpoint?: string;
  reportSecret?: string;
  /** Counters the engine shares with others; its own memory counters when not given. */
  counters?: Counters;
  /** When the fake clock starts: 2026-04-01T08:00:00Z unless given. */
  now?: string;
  /** Silent unless given. */
  logger?: Logger;
}

/** An engine on the memory adapters with a fake clock and a fresh VAPID key, and its public HTTP handler. */
export function httpEngine(options: HttpEngineOptions = {}) {
  const clock = fakeClock(options.now ?? '2026-04-01T08:00:00Z');
  const storage = memoryStorage();
  const herald = createHerald({
    storage,
    queue: memoryQueue(),
    ...(options.counters ? { counters: options.counters } : {}),
    providers: {
      webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
    },
    clock,
    ...(options.allowEndpoint ? { allowEndpoint: [options.allowEndpoint] } : {}),
    ...(options.reportSecret ? { reportSecret: options.reportSecret } : {}),
    logger: options.logger ?? silentLogger,
  });
  const handle = heraldHttp(herald, options.http);
  return { clock, storage, herald, handle };
}

/**
 * Subscribes `ada` at the loopback service and sends her `campaign`, due now, in one tick: the
 * start of every case about what a browser posts back.
 */
export async function sentToAda(herald: Herald, service: TestPushService, campaign: CreateCampaignInput) {
  const subscription = service.createSubscription();
  await herald.subscriptions.add({ userId: 'ada', subscription });
  const created = await herald.campaigns.create(campaign);
  await herald.campaigns.schedule(created.id);
  await herald.tick();
  return { campaign: created, subscription };
}

/**
 * The statuses two engines answer, as two processes sharing one store's counters would, when the
 * same client address posts `request` to each in turn, `rounds` times, under `limit` a minute on
 * that endpoint. The engines share nothing else, so a limit held across them is held by the counters.
 */
export async function statusesAcrossTwoEngines(options: {
  counters: readonly [Counters, Counters];
  endpoint: 'events' | 'reports';
  limit: number;
  rounds: number;
  clientAddress: string;
  body: unknown;
}): Promise<number[]> {
  const post = options.counters.map((counters) => {
    const { handle } = httpEngine({
      counters,
      http: {
        trustClientUserId: true,
        rateLimits: { [options.endpoint]: { limit: options.limit, windowSeconds: 60 } },
      },
    });
    return async () =>
      (
        await handle({
          method: 'POST',
          path: `/${options.endpoint}`,
          headers: {},
          clientAddress: options.clientAddress,
          body: options.body,
        })
      ).status;
  });
  const statuses: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const call of post) statuses.push(await call());
  }
  return statuses;
}
