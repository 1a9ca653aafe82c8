import { createDevPushService, type DevPushService } from '@herald/core/dev';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Fleet,
  openStack,
  Receipts,
  recipientStates,
  requireBuild,
  requireEnv,
  type Stack,
  type StackKind,
  scheduleCampaignNow,
  seedAudience,
  tearDown,
  type WorkerConfig,
  waitForCompletion,
} from './harness.js';

/**
 * Issue 15, test 3: `limits.perUser.perDay: 1`, two campaigns due at the same moment to the same
 * 5,000 users, run by three worker processes: no user gets two messages that day. The counters are
 * the shared ones (postgresCounters on the Postgres-only deployment, redisCounters beside Redis);
 * createHerald refuses shared storage without them.
 */
vi.setConfig({ testTimeout: 240_000, hookTimeout: 120_000 });

const AUDIENCE = 5_000;
/** Small batches and one page per 500 users: both campaigns' jobs interleave across the processes. */
const TUNING: WorkerConfig['tuning'] = {
  concurrency: 4,
  batchSize: 100,
  sendConcurrency: 25,
  pageSize: 500,
  pollIntervalMs: 250,
};

describe.each<StackKind>(['postgres', 'redis'])('caps across processes, %s counters', (kind) => {
  let service: DevPushService;
  let stack: Stack;
  const fleet = new Fleet();

  beforeAll(async () => {
    requireBuild();
    service = createDevPushService({ tls: true });
    await service.start();
    stack = await openStack({
      kind,
      label: `caps_${kind}`,
      pgUrl: requireEnv('HERALD_TEST_PG_URL'),
      ...(kind === 'redis' ? { redisUrl: requireEnv('HERALD_TEST_REDIS_URL') } : {}),
      service,
    });
    await seedAudience(stack, service, AUDIENCE);
  });
  afterAll(async () => {
    await tearDown({ fleet, stack, service });
  });

  it(`perDay 1: two campaigns due at once to ${AUDIENCE} users, three processes, one message each`, async () => {
    const began = Date.now();
    const limits = { perUser: { perDay: 1 } };
    for (const name of ['w1', 'w2', 'w3'])
      await fleet.start(stack.workerConfig(name, { tuning: TUNING, limits }));
    // Both due now: the first scheduler pass in any process starts both.
    const campaignIds = [
      await scheduleCampaignNow(stack, 'Morning offer'),
      await scheduleCampaignNow(stack, 'Flash sale'),
    ];
    await waitForCompletion(stack, campaignIds, 2 * AUDIENCE, 180_000);

    const receipts = new Receipts(service);
    const perUser = receipts.perUser();
    expect(perUser.size).toBe(AUDIENCE);
    expect([...perUser].filter(([, n]) => n !== 1)).toEqual([]);
    const states = await recipientStates(stack, campaignIds);
    expect(Object.fromEntries(states)).toEqual({ delivered: AUDIENCE, skipped: AUDIENCE });
    const stats = await Promise.all(campaignIds.map((id) => stack.herald.campaigns.stats(id)));
    expect(stats.reduce((sum, s) => sum + s.sent, 0)).toBe(AUDIENCE);
    expect(stats.reduce((sum, s) => sum + (s.skipped.capped ?? 0), 0)).toBe(AUDIENCE);

    const perSender = receipts.perSender();
    const { cpuMs } = await fleet.stopAll();
    const figures = {
      test: 'caps',
      counters: kind,
      audience: AUDIENCE,
      sent_per_campaign: stats.map((s) => s.sent),
      per_process: ['w1', 'w2', 'w3'].map((name) => perSender.get(name) ?? 0),
      wall_ms: Date.now() - began,
      workers_cpu_ms: cpuMs,
    };
    console.log(`figures ${JSON.stringify(figures)}`);
  });
});
