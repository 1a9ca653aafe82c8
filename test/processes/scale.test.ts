import { appendFileSync } from 'node:fs';
import { createDevPushService, type DevPushService } from '@herald/core/dev';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Fleet,
  messageKey,
  openStack,
  type Receipt,
  Receipts,
  recipientStates,
  recordedOutcomes,
  requireBuild,
  requireEnv,
  type Stack,
  type StackKind,
  scheduleCampaignNow,
  seedAudience,
  sentDecisionsPerUser,
  tearDown,
  type WorkerConfig,
  waitFor,
  waitForCompletion,
} from './harness.js';

/**
 * Issue 15, tests 1 and 2, with real processes: three Herald worker processes (worker.mjs, the built
 * packages) share one campaign of 20,000 users; then, on a second campaign to the same users, one of
 * them is SIGKILLed after a third of the messages went out and a replacement is started. On both
 * deployments: Postgres alone (storage, queue, counters) and Postgres storage with Redis queue and
 * counters. `npm run test:scale` runs this file alone and prints the kill run's figures.
 */
vi.setConfig({ testTimeout: 600_000, hookTimeout: 120_000 });

const AUDIENCE = Number(process.env.HERALD_SCALE_AUDIENCE ?? 20_000);
/**
 * Herald's defaults but two: 25 sends at once per job instead of 100 (three processes share two cores
 * with the push service and the databases here), and a 250 ms poll so an idle worker's pick-up delay
 * is the lease, not the poll.
 */
const TUNING: WorkerConfig['tuning'] = {
  concurrency: 4,
  batchSize: 250,
  sendConcurrency: 25,
  pageSize: 1000,
  pollIntervalMs: 250,
};
const LEASE_MS = 15_000;
/**
 * After a lease lapses, how long until one of the live processes' slots frees and takes the job: a
 * delivery job of 250 users lasts seconds, and 12-16 slots are running them (generous for a loaded
 * CI machine).
 */
const SLOT_FREED_MS = 5_000;
const RUN_TIMEOUT_MS = 480_000;

const STACKS: StackKind[] = ['postgres', 'redis'];

describe.each(STACKS)('%s stack, three worker processes', (kind) => {
  let service: DevPushService;
  let stack: Stack;
  let receipts: Receipts;
  let fleet: Fleet;

  beforeAll(async () => {
    requireBuild();
    // HTTP/2 over TLS, as real push services serve: the senders keep long-lived sessions to it.
    service = createDevPushService({ tls: true });
    await service.start();
    stack = await openStack({
      kind,
      label: `scale_${kind}`,
      pgUrl: requireEnv('HERALD_TEST_PG_URL'),
      ...(kind === 'redis' ? { redisUrl: requireEnv('HERALD_TEST_REDIS_URL') } : {}),
      service,
    });
    await seedAudience(stack, service, AUDIENCE);
    receipts = new Receipts(service);
  });
  afterAll(async () => {
    await tearDown({ fleet, stack, service });
  });

  const receiptsOf = (campaignId: string): Receipt[] =>
    receipts.update().all.filter((receipt) => receipt.campaignId === campaignId);

  /** Every audience member got exactly one recipient row (delivered) and one `sent` decision; stats agree. */
  async function expectExactRecords(campaignId: string): Promise<void> {
    const states = await recipientStates(stack, [campaignId]);
    expect(Object.fromEntries(states)).toEqual({ delivered: AUDIENCE });
    const decisions = await sentDecisionsPerUser(stack, [campaignId]);
    expect(decisions.size).toBe(AUDIENCE);
    expect([...decisions.values()].filter((n) => n !== 1)).toEqual([]);
    const stats = await stack.herald.campaigns.stats(campaignId);
    expect(stats).toMatchObject({ recipients: AUDIENCE, pending: 0, sent: AUDIENCE, failed: 0, gone: 0 });
  }

  it(`scale-out: ${AUDIENCE} users, each message sent once, every process a share`, async () => {
    const began = Date.now();
    fleet = new Fleet();
    const names = ['w1', 'w2', 'w3'];
    for (const name of names) await fleet.start(stack.workerConfig(name, { tuning: TUNING }));
    const campaignId = await scheduleCampaignNow(stack, 'Scale-out');
    await waitForCompletion(stack, [campaignId], AUDIENCE, RUN_TIMEOUT_MS);

    const perMessage = new Map(
      [...receipts.perMessage()].filter(([, list]) => list[0]?.campaignId === campaignId),
    );
    expect(perMessage.size).toBe(AUDIENCE);
    expect([...perMessage.values()].filter((list) => list.length !== 1).length).toBe(0);
    await expectExactRecords(campaignId);

    const shares = new Map<string, number>();
    for (const receipt of receiptsOf(campaignId))
      shares.set(receipt.sender, (shares.get(receipt.sender) ?? 0) + 1);
    for (const name of names) expect(shares.get(name) ?? 0, `${name}'s share`).toBeGreaterThan(0);
    const { cpuMs } = await fleet.stopAll();
    const figures = {
      test: 'scale-out',
      stack: kind,
      audience: AUDIENCE,
      per_process: names.map((name) => shares.get(name) ?? 0),
      wall_ms: Date.now() - began,
      workers_cpu_ms: cpuMs,
    };
    console.log(`figures ${JSON.stringify(figures)}`);
  });

  const kill = {
    /** (campaign, occurrence, user) of messages the push service took from the killed process, outcome unrecorded. */
    inFlight: new Set<string>(),
    duplicates: 0,
    ran: false,
  };

  it(`kill -9: one of three processes killed after a third went out, a replacement started`, async () => {
    const began = Date.now();
    fleet = new Fleet();
    for (const name of ['w1', 'w2', 'w3']) await fleet.start(stack.workerConfig(name, { tuning: TUNING }));
    const campaignId = await scheduleCampaignNow(stack, 'Kill -9');
    await waitFor('a third of the messages', () => receiptsOf(campaignId).length >= AUDIENCE / 3, {
      timeoutMs: RUN_TIMEOUT_MS,
      intervalMs: 20,
    });
    // The victim is a process in the middle of work (w1 unless it happens to hold nothing right now).
    const victim = fleet.workers.find((worker) => worker.held.size > 0) ?? fleet.byName('w1');
    await victim.kill();
    const killedAt = Date.now();
    const heldAtKill = [...victim.held];

    // In flight at the kill: taken by the push service from the victim, outcome never recorded. Read
    // before its leases lapse (until then no other process can record those users), and after the push
    // service has handled every request the victim had fully sent (they are read and checked async).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const fromVictim = receiptsOf(campaignId).filter((receipt) => receipt.sender === victim.name);
    const recorded = await recordedOutcomes(stack, fromVictim);
    kill.inFlight = new Set(fromVictim.map(messageKey).filter((key) => !recorded.has(key)));

    const replacement = await fleet.start(stack.workerConfig('w4', { tuning: TUNING }));
    await waitForCompletion(stack, [campaignId], AUDIENCE, RUN_TIMEOUT_MS);

    // Nothing lost; a message seen twice was in flight in the killed process, and first sent by it.
    const perMessage = new Map(
      [...receipts.perMessage()].filter(([, list]) => list[0]?.campaignId === campaignId),
    );
    const lost = AUDIENCE - perMessage.size;
    expect(lost).toBe(0);
    const duplicated = [...perMessage].filter(([, list]) => list.length > 1);
    expect(duplicated.filter(([, list]) => list.length > 2)).toEqual([]);
    for (const [key, list] of duplicated) {
      expect(list[0]?.sender, `first send of duplicate ${key}`).toBe(victim.name);
      expect(kill.inFlight.has(key), `duplicate ${key} was in flight at the kill`).toBe(true);
    }
    kill.duplicates = duplicated.length;
    expect(kill.duplicates).toBeLessThanOrEqual(kill.inFlight.size);
    await expectExactRecords(campaignId);

    // The killed worker's jobs are claimable again once their lease lapses, at most 15 s after the kill
    // (the holder renewed it at most 15 s before), and are claimed before any younger job: the first
    // by the next slot that frees anywhere, the last once as many slots have freed.
    const pickUps = heldAtKill.map((id) => {
      const again = fleet.workers
        .filter((worker) => worker !== victim)
        .flatMap((worker) => worker.claims)
        .filter((claim) => claim.id === id && claim.at >= killedAt);
      return again.length > 0 ? Math.min(...again.map((claim) => claim.at)) - killedAt : null;
    });
    const delays = pickUps.filter((delay): delay is number => delay !== null).sort((a, b) => a - b);
    expect(delays.length, 'jobs the killed process held were claimed again').toBeGreaterThan(0);
    expect(delays[0]).toBeLessThanOrEqual(LEASE_MS + SLOT_FREED_MS);

    const perSender = new Map<string, number>();
    for (const receipt of receiptsOf(campaignId))
      perSender.set(receipt.sender, (perSender.get(receipt.sender) ?? 0) + 1);
    const order = ['w1', 'w2', 'w3', 'w4'];
    // The victim first, whichever it was, then the survivors, then the replacement.
    const perProcess = [victim.name, ...order.filter((name) => name !== victim.name)].map(
      (name) => perSender.get(name) ?? 0,
    );
    expect(perProcess.reduce((sum, n) => sum + n, 0)).toBe(AUDIENCE + kill.duplicates);
    expect(replacement.alive).toBe(true);
    const { cpuMs } = await fleet.stopAll();
    kill.ran = true;

    const report = {
      processes: 3,
      audience: AUDIENCE,
      sent_once: perMessage.size - kill.duplicates,
      duplicates: kill.duplicates,
      in_flight_at_kill: kill.inFlight.size,
      lost,
      per_process: perProcess,
      stack: kind,
      jobs_held_at_kill: heldAtKill.length,
      jobs_picked_up: delays.length,
      pick_up_ms: delays,
      wall_ms: Date.now() - began,
      // The survivors' and the replacement's CPU; the killed process could not report its own.
      workers_cpu_ms: cpuMs,
    };
    console.log(`figures ${JSON.stringify(report)}`);
    if (process.env.HERALD_SCALE_REPORT)
      appendFileSync(process.env.HERALD_SCALE_REPORT, `${JSON.stringify(report)}\n`);
  });

  // Outcomes are stored as they arrive (engine/deliver/record-outcomes.ts): a message keeps its send
  // slot until its outcome is stored, so a killed process can leave at most sendConcurrency answered
  // but unrecorded messages per running job (before, a whole batch's: 275 and 249 were measured).
  it('kill -9: in flight at the kill is bounded by the sends a process runs at once, not by its batches', () => {
    expect(kill.ran).toBe(true);
    const concurrency = TUNING?.concurrency ?? 4;
    const sendConcurrency = TUNING?.sendConcurrency ?? 100;
    expect(kill.inFlight.size).toBeLessThanOrEqual(concurrency * sendConcurrency);
  });
});
