import { createECDH, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateVapidKeys, webPush } from '../delivery/index.js';
import type { Herald } from '../engine/api.js';
import { createHerald } from '../engine/create-herald.js';
import { silentLogger } from '../engine/logger.js';
import type { Counters } from '../ports/counters.js';
import type { Queue } from '../ports/queue.js';
import type { Storage } from '../ports/storage.js';

export interface ShutdownSuiteOptions {
  name: string;
  /**
   * The storage over an empty store (with the counters that go with it), and
   * how to open a queue adapter on the one shared queue: each engine gets
   * its own, as two processes would. Called once.
   */
  create: () => Promise<{ storage: Storage; openQueue: () => Queue; counters?: Counters }>;
  /** Empties the store and the queue between tests. */
  reset: () => Promise<void>;
  close?: () => Promise<void>;
}

const SHUTDOWN_TIMEOUT_MS = 400;
/** A lease long enough that a job not given back would stay out of reach for the whole test. */
const LEASE_MS = 60_000;

/**
 * A push service that takes requests and, until told to answer, never does:
 * a stalled FCM or Mozilla, as a deploy's SIGTERM may find it.
 */
function stallingPushService() {
  const stalled: http.ServerResponse[] = [];
  let answering = false;
  let requests = 0;
  const server = http.createServer((request, response) => {
    requests += 1;
    request.resume();
    if (answering) {
      request.on('end', () => response.writeHead(201).end());
      return;
    }
    stalled.push(response);
  });
  return {
    async start(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    requests: () => requests,
    answer(): void {
      answering = true;
    },
    reset(): void {
      answering = false;
      requests = 0;
      for (const response of stalled.splice(0)) response.destroy();
    },
    async stop(): Promise<void> {
      for (const response of stalled.splice(0)) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `herald.stop()` with a job stuck on a push service that never answers, on
 * the wall clock as a deploy sees it: stop returns within the shutdown
 * timeout, and the job is given back to the queue so another engine sends
 * it at once instead of waiting out the lease.
 */
export function runShutdownSuite(options: ShutdownSuiteOptions): void {
  describe(`${options.name}: graceful shutdown`, () => {
    let storage: Storage;
    let openQueue: () => Queue;
    let counters: Counters | undefined;
    const service = stallingPushService();
    let serviceUrl: string;
    const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
    const engines: Herald[] = [];

    const engine = (): Herald => {
      const herald = createHerald({
        storage,
        queue: openQueue(),
        ...(counters ? { counters } : {}),
        providers: { webpush: webPush({ vapid, encryptionWorkers: 0 }) },
        allowEndpoint: [serviceUrl],
        logger: silentLogger,
        reportSecret: 'shutdown-suite-secret',
        tuning: { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS, leaseMs: LEASE_MS, pollIntervalMs: 50 },
      });
      engines.push(herald);
      return herald;
    };

    beforeAll(async () => {
      ({ storage, openQueue, counters } = await options.create());
      serviceUrl = await service.start();
    });
    beforeEach(async () => {
      await options.reset();
      service.reset();
    });
    afterAll(async () => {
      await Promise.all(engines.map((herald) => herald.stop()));
      await service.stop();
      await options.close?.();
    });

    it('stop() returns within the shutdown timeout and another engine sends the stuck job at once', async () => {
      const first = engine();
      // Real keys, so the message encrypts; the stalling service never decrypts it.
      const subscription = {
        endpoint: `${serviceUrl}/push/ann`,
        keys: {
          p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
          auth: randomBytes(16).toString('base64url'),
        },
      };
      await first.profiles.upsert({ userId: 'ann' });
      await first.subscriptions.add({ userId: 'ann', subscription });
      const campaign = await first.campaigns.create({
        name: 'Deploy day',
        who: { segment: { type: 'all' } },
        what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
        when: { schedule: { type: 'once', at: new Date().toISOString() } },
      });
      await first.campaigns.schedule(campaign.id);
      first.start();
      await until('the push service holds the request', () => service.requests() === 1);

      const stopping = Date.now();
      await first.stop();
      const stoppedIn = Date.now() - stopping;
      expect(stoppedIn).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 50);
      expect(stoppedIn).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);

      // Given back, due now: nothing active holds it for the lease's minute.
      const queue = openQueue();
      const counts = await queue.counts();
      expect(counts.active).toBe(0);
      expect(counts.waiting).toBeGreaterThanOrEqual(1);

      service.answer();
      const second = engine();
      await second.tick();
      expect(service.requests()).toBe(2);
      const stats = await second.campaigns.stats(campaign.id);
      expect(stats).toMatchObject({ recipients: 1, sent: 1, pending: 0 });
    });
  });
}
