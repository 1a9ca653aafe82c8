import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDevPushService, type DevPushService } from '@herald/core/dev';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Fleet,
  openStack,
  Receipts,
  recipientStates,
  requireBuild,
  type Stack,
  type StackKind,
  scheduleCampaignNow,
  seedAudience,
  sentDecisionsPerUser,
  type WorkerConfig,
  waitFor,
  waitForCompletion,
} from './harness.js';

/**
 * Issue 15, test 4: Postgres restarted (`pg_ctl restart -m fast`) in the middle of one campaign, Redis
 * restarted in the middle of another, three worker processes each time: the workers log the fault,
 * keep going once the server is back, and the campaign completes with the guarantees of the kill -9
 * test. The servers restarted are private ones this file starts (scripts/services/*.sh on their own
 * state dirs and ports) and stops: the suite's shared servers are never restarted.
 */
vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const AUDIENCE = 5_000;
const TUNING: WorkerConfig['tuning'] = {
  concurrency: 4,
  batchSize: 100,
  sendConcurrency: 25,
  pageSize: 500,
  pollIntervalMs: 250,
};
/** A job that failed while the server was away is retried after about a second, not Herald's 30 s. */
const RETRY_BASE_MS = 1000;

type Service = 'postgres' | 'redis';
/**
 * Ports below Linux's ephemeral range (32768–60999 by default): these instances start and restart
 * while the suite holds hundreds of client connections, and a port the kernel had given one of
 * them as its local end cannot be bound (a run failed so: "could not bind IPv4 address
 * 127.0.0.1: Address already in use" on 59532, which nothing was listening on).
 */
const PRIVATE_ENV: Record<Service, Record<string, string>> = {
  postgres: { HERALD_PG_STATE: '/tmp/herald-procs-restart-pg', HERALD_PG_PORT: '31532' },
  redis: { HERALD_REDIS_STATE: '/tmp/herald-procs-restart-redis', HERALD_REDIS_PORT: '31479' },
};

/** Runs scripts/services/<service>.sh on the private instance; `start` answers with its URL. */
async function privateServer(service: Service, command: 'start' | 'stop' | 'restart'): Promise<string> {
  const { stdout } = await run('bash', [`scripts/services/${service}.sh`, command], {
    cwd: root,
    env: { ...process.env, ...PRIVATE_ENV[service] },
  });
  return /export HERALD_TEST_\w+_URL=(\S+)/.exec(stdout)?.[1] ?? '';
}

describe('server restarts in the middle of a campaign, three worker processes', () => {
  let service: DevPushService;
  let pgUrl: string;
  let redisUrl: string;
  const stacks: Stack[] = [];
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    requireBuild();
    pgUrl = await privateServer('postgres', 'start');
    redisUrl = await privateServer('redis', 'start');
    service = createDevPushService({ tls: true });
    await service.start();
  });
  afterAll(async () => {
    await Promise.all(fleets.map((fleet) => fleet.killAll()));
    for (const stack of stacks) await stack.close().catch(() => undefined);
    await service?.stop();
    await privateServer('redis', 'stop').catch(() => undefined);
    await privateServer('postgres', 'stop').catch(() => undefined);
  });

  async function campaignThroughRestart(kind: StackKind, restarted: Service): Promise<void> {
    const began = Date.now();
    const stack = await openStack({
      kind,
      label: `restart_${restarted}`,
      pgUrl,
      ...(kind === 'redis' ? { redisUrl } : {}),
      service,
    });
    stacks.push(stack);
    await seedAudience(stack, service, AUDIENCE);
    const fleet = new Fleet();
    fleets.push(fleet);
    for (const name of ['w1', 'w2', 'w3'])
      await fleet.start(stack.workerConfig(name, { tuning: TUNING, retryBaseMs: RETRY_BASE_MS }));
    const receipts = new Receipts(service);
    const campaignId = await scheduleCampaignNow(stack, `Through a ${restarted} restart`);
    const ofCampaign = () => receipts.update().all.filter((receipt) => receipt.campaignId === campaignId);
    await waitFor('a third of the messages', () => ofCampaign().length >= AUDIENCE / 3, {
      timeoutMs: 180_000,
      intervalMs: 20,
    });

    const down = Date.now();
    await privateServer(restarted, 'restart');
    const back = Date.now();
    await waitForCompletion(stack, [campaignId], AUDIENCE, 240_000);

    // The workers noticed, said so, and are still running.
    const faults = fleet.workers.flatMap((worker) => worker.logs.filter((line) => line.at >= down));
    expect(faults.length, 'warnings or errors logged after the restart began').toBeGreaterThan(0);
    for (const worker of fleet.workers) expect(worker.alive, `${worker.name} alive`).toBe(true);

    // Nothing lost; a message sent twice was first sent before the server was back, by a job whose
    // outcome could not be recorded, and there are no more of those than the jobs running at the
    // restart could hold (every process's slots × users per job).
    const perMessage = new Map<string, number[]>();
    for (const receipt of ofCampaign()) {
      const times = perMessage.get(receipt.userId) ?? [];
      times.push(receipt.at);
      perMessage.set(receipt.userId, times);
    }
    expect(perMessage.size).toBe(AUDIENCE);
    const duplicated = [...perMessage].filter(([, times]) => times.length > 1);
    expect(duplicated.filter(([, times]) => times.length > 2)).toEqual([]);
    for (const [userId, times] of duplicated)
      expect(Math.min(...times), `first send to ${userId} before the server was back`).toBeLessThanOrEqual(
        back,
      );
    const concurrency = TUNING?.concurrency ?? 4;
    const batchSize = TUNING?.batchSize ?? 250;
    expect(duplicated.length).toBeLessThanOrEqual(fleet.workers.length * concurrency * batchSize);

    const states = await recipientStates(stack, [campaignId]);
    expect(Object.fromEntries(states)).toEqual({ delivered: AUDIENCE });
    const decisions = await sentDecisionsPerUser(stack, [campaignId]);
    expect(decisions.size).toBe(AUDIENCE);
    expect([...decisions].filter(([, n]) => n !== 1)).toEqual([]);
    const stats = await stack.herald.campaigns.stats(campaignId);
    expect(stats).toMatchObject({ recipients: AUDIENCE, pending: 0, sent: AUDIENCE });

    const { cpuMs } = await fleet.stopAll();
    const figures = {
      test: 'restart',
      restarted,
      stack: kind,
      audience: AUDIENCE,
      sent_before_restart: ofCampaign().filter((receipt) => receipt.at < down).length,
      server_down_ms: back - down,
      duplicates: duplicated.length,
      faults_logged: faults.length,
      first_faults: [...new Set(faults.map((line) => line.message))].slice(0, 4),
      wall_ms: Date.now() - began,
      workers_cpu_ms: cpuMs,
    };
    console.log(`figures ${JSON.stringify(figures)}`);
  }

  it('Postgres restarted (pg_ctl restart -m fast) mid-campaign on postgres storage, queue and counters', () =>
    campaignThroughRestart('postgres', 'postgres'));

  it('Redis restarted mid-campaign on postgres storage with redis queue and counters', () =>
    campaignThroughRestart('redis', 'redis'));
});
