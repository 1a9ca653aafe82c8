import { appendFileSync } from 'node:fs';
import type { HeraldEvent } from '@herald/core';
import { createDevPushService, type DevPushChaosOptions, type DevPushService } from '@herald/core/dev';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Fleet,
  type LogLine,
  openStack,
  recipientStates,
  requireBuild,
  requireEnv,
  type Stack,
  seedAudience,
  tearDown,
  type WorkerConfig,
  waitForCompletion,
} from './harness.js';

/**
 * Issue 18, "a push service that misbehaves, at scale": a campaign of 20,000 on the Postgres stack
 * (storage, queue and counters), two worker processes (worker.mjs on the built packages), and the
 * loopback push service in chaos mode at the rates. `npm run test:chaos` runs this file alone
 * and prints the run's figures as its last stdout line.
 */
vi.setConfig({ testTimeout: 900_000, hookTimeout: 120_000 });

const AUDIENCE = Number(process.env.HERALD_CHAOS_AUDIENCE ?? 20_000);

/**
 * The rates. Random 503s at 10 % never open a circuit breaker (it wants most of the last 20
 * answers to fail), so a 3-second outage a third of the way in does: every request answered 503.
 */
const CHAOS: DevPushChaosOptions = {
  unavailable: 0.1,
  tooManyRequests: 0.05,
  retryAfterSeconds: 5,
  reset: 0.02,
  slow: 0.01,
  slowMs: 10_000,
  goAwayEvery: 2000,
  gone: 0.03,
  outage: { afterRequests: Math.round(AUDIENCE / 3), durationMs: 3_000 },
  seed: 2026,
};

/**
 * A slow answer holds its send slot (and its job) for 10 s and every job of 250 meets two or three
 * of them, so jobs spend most of their time waiting: 8 at once per process instead of 4.
 */
const TUNING: WorkerConfig['tuning'] = {
  concurrency: 8,
  batchSize: 250,
  sendConcurrency: 25,
  pageSize: 1000,
  pollIntervalMs: 250,
};

/**
 * Retries 1 s apart, doubling, capped at 8 s, so the run drains in minutes rather than Herald's
 * 30 s-to-30 min production backoff. Twelve attempts, not the default five: a message fails a try
 * here with odds of about 0.18, so five failures in a row — "gave up" at the default — would meet
 * about 0.18^5 ≈ 0.2 % of 20,000, some 38 messages; twelve leave odds of about 10^-9.
 */
const RETRY = { baseMs: 1_000, maxMs: 8_000, maxAttempts: 12 };
const CIRCUIT_OPEN_MS = 30_000; // defaultCircuitBreakerOptions.openMs, which the workers keep
const RUN_TIMEOUT_MS = 780_000;

/** HH:MM (UTC) `hours` from now: a DND window that cannot cover the run. */
function utcTimeOfDay(hours: number): string {
  const at = new Date(Date.now() + hours * 3_600_000);
  return `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
}

describe('postgres stack, two worker processes, a push service in chaos mode', () => {
  let service: DevPushService;
  let stack: Stack;
  let fleet: Fleet;
  let users: string[];

  beforeAll(async () => {
    requireBuild();
    service = createDevPushService({ tls: true, chaos: CHAOS });
    await service.start();
    stack = await openStack({
      kind: 'postgres',
      label: 'chaos',
      pgUrl: requireEnv('HERALD_TEST_PG_URL'),
      service,
    });
    users = await seedAudience(stack, service, AUDIENCE);
  });
  afterAll(async () => {
    await tearDown({ fleet, stack, service });
  });

  it(`${AUDIENCE} users: every deliverable message delivered, 410s removed, Retry-After kept, the breaker opens and closes`, async () => {
    const chaos = service.chaos;
    if (!chaos) throw new Error('the push service runs without chaos');
    fleet = new Fleet();
    for (const name of ['w1', 'w2'])
      await fleet.start(stack.workerConfig(name, { tuning: TUNING, retry: RETRY }));

    const dnd = { start: utcTimeOfDay(6), end: utcTimeOfDay(7), action: 'delay' as const };
    const began = Date.now();
    const campaign = await stack.herald.campaigns.create({
      name: 'Chaos',
      when: { schedule: { type: 'once', at: new Date().toISOString() }, dnd },
      who: { segment: { type: 'all' } },
      what: {
        title: 'Chaos',
        body: 'Thirty percent off until Sunday.',
        deeplink: 'https://shop.example.com/sale',
      },
    });
    await stack.herald.campaigns.schedule(campaign.id);
    await waitForCompletion(stack, [campaign.id], AUDIENCE, RUN_TIMEOUT_MS);
    const drainMs = Date.now() - began;

    // Who could be delivered to: everyone whose subscription the service did not draw as gone.
    const endpoints = await subscriptionEndpoints(stack);
    const endpointOf = new Map(
      service.received.map((message) => [userOf(message.plaintext), message.subscriptionEndpoint]),
    );
    const goneTotal = chaos.goneEndpoints.size;
    const deliverable = AUDIENCE - goneTotal;

    // Receipts per (campaign, occurrence, user), with what chaos did to each.
    const perMessage = new Map<string, Array<'reset' | 'slow' | undefined>>();
    for (const message of service.received) {
      const key = messageKeyOf(message.plaintext);
      if (!key.startsWith(`${campaign.id}|`)) continue;
      const list = perMessage.get(key) ?? [];
      list.push(message.chaos);
      perMessage.set(key, list);
    }
    const delivered = perMessage.size;
    expect(delivered, 'every deliverable message delivered').toBe(deliverable);
    for (const message of service.received)
      expect(chaos.goneEndpoints.has(message.subscriptionEndpoint)).toBe(false);
    expect(endpointOf.size).toBe(deliverable);

    // Exactly once, but for the window a push service cannot close: it took the message, and the
    // sender saw the stream reset (or, for a slow answer, could have timed out) and sent it again.
    const inFlightWindow = [...perMessage.values()].flat().filter((flag) => flag !== undefined).length;
    let duplicates = 0;
    for (const [key, list] of perMessage) {
      if (list.length === 1) continue;
      duplicates += list.length - 1;
      // Every receipt but the last was one whose answer the sender may not have seen.
      expect(
        list.slice(0, -1).every((flag) => flag !== undefined),
        `duplicate ${key}: ${JSON.stringify(list)}`,
      ).toBe(true);
    }
    expect(duplicates).toBeLessThanOrEqual(inFlightWindow);

    // Every 410 subscription removed, and nothing sent to one after its 410.
    const answers = chaos.answers;
    const goneAnswered = new Set(
      answers.filter((record) => record.answer === 'gone').map((record) => record.endpoint),
    );
    expect(goneAnswered.size).toBe(goneTotal);
    const goneRemoved = [...chaos.goneEndpoints].filter((endpoint) => !endpoints.has(endpoint)).length;
    expect(goneRemoved).toBe(goneTotal);
    expect(endpoints.size).toBe(deliverable);
    const firstGoneAt = new Map<string, number>();
    let sentAfterGone = 0;
    for (const record of answers) {
      const goneAt = firstGoneAt.get(record.endpoint);
      if (goneAt !== undefined && record.at >= goneAt) sentAfterGone++;
      if (record.answer === 'gone' && goneAt === undefined) firstGoneAt.set(record.endpoint, record.at);
    }
    expect(sentAfterGone).toBe(0);

    // Retry-After: no request for a subscription earlier than the Retry-After of the 429 before it.
    const lastAnswer = new Map<string, { at: number; retryAfterSeconds?: number }>();
    let checked429 = 0;
    const tooEarly: string[] = [];
    for (const record of answers) {
      const previous = lastAnswer.get(record.endpoint);
      if (previous?.retryAfterSeconds !== undefined) {
        checked429++;
        // Whole milliseconds on both sides (the service's decision, the worker's answer time): 1 ms is the grain.
        if (record.at < previous.at + previous.retryAfterSeconds * 1000 - 1)
          tooEarly.push(`${record.endpoint} after ${record.at - previous.at} ms`);
      }
      lastAnswer.set(record.endpoint, record);
    }
    expect(tooEarly).toEqual([]);
    expect(checked429).toBeGreaterThan(0);

    // The breaker: opened by the outage in at least one process, closed by an answered probe no
    // sooner than openMs later; the engine's own error line for an open circuit came too.
    const logs = fleet.workers.flatMap((worker) =>
      worker.logs.map((line) => ({ worker: worker.name, line })),
    );
    const circuit = (state: 'open' | 'closed') =>
      logs.filter(({ line }) => line.fields?.state === state && line.message.startsWith('circuit '));
    const opened = circuit('open');
    const closed = circuit('closed');
    expect(opened.length, 'circuit opened').toBeGreaterThan(0);
    expect(closed.length, 'circuit closed').toBeGreaterThan(0);
    for (const worker of fleet.workers) {
      const changes = worker.logs.filter((line) => line.message.startsWith('circuit ')).map(circuitChange);
      // Alternating open (one or more, each failed probe reopening it) and closed; each close at least
      // openMs after the first opening of its run.
      let openedAt: number | null = null;
      for (const change of changes) {
        if (change.state === 'open') openedAt ??= change.at;
        else {
          expect(openedAt, `${worker.name} closed a circuit that was not open`).not.toBeNull();
          expect(change.at - (openedAt as number)).toBeGreaterThanOrEqual(CIRCUIT_OPEN_MS);
          openedAt = null;
        }
      }
      expect(openedAt, `${worker.name} left the circuit open`).toBeNull();
    }
    expect(logs.some(({ line }) => line.level === 'error' && line.message.includes('(circuit open)'))).toBe(
      true,
    );

    // DND: the campaign's window is hours away, so nothing may have waited for it, and no receipt is in it.
    const decisions = await stack.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${stack.schema}.decisions WHERE campaign_id = $1 AND reason LIKE 'dnd%'`,
      [campaign.id],
    );
    expect(Number(decisions.rows[0]?.n)).toBe(0);

    // The records agree: delivered and undeliverable recipients, one final delivery row each, none failed.
    const states = await recipientStates(stack, [campaign.id]);
    expect(Object.fromEntries(states)).toEqual({ delivered: deliverable, undeliverable: goneTotal });
    const stats = await stack.herald.campaigns.stats(campaign.id);
    expect(stats).toMatchObject({
      recipients: AUDIENCE,
      pending: 0,
      sent: deliverable,
      failed: 0,
      gone: goneTotal,
    });
    const attempts = await stack.pool.query<{ attempts: number; n: string }>(
      `SELECT attempts, count(*) AS n FROM ${stack.schema}.deliveries WHERE campaign_id = $1 GROUP BY attempts ORDER BY attempts`,
      [campaign.id],
    );

    const events = fleet.workers.flatMap((worker) => worker.events);
    const { cpuMs } = await fleet.stopAll();
    const counts = chaos.counts();
    const figures = {
      audience: AUDIENCE,
      drain_ms: drainMs,
      requests: answers.length,
      answers: counts,
      go_aways: chaos.goAways,
      retries: retriesByCause(events),
      attempts: Object.fromEntries(attempts.rows.map((row) => [row.attempts, Number(row.n)])),
      circuit_opened: opened.length,
      circuit_closed: closed.length,
      checked_429_retries: checked429,
      workers_cpu_ms: cpuMs,
    };
    console.log(`figures ${JSON.stringify(figures)}`);
    const report = {
      deliverable,
      delivered,
      duplicates,
      in_flight_window: inFlightWindow,
      gone_total: goneTotal,
      gone_removed: goneRemoved,
      sent_after_gone: sentAfterGone,
      drain_s: Math.round(drainMs / 100) / 10,
    };
    console.log(`chaos ${JSON.stringify(report)}`);
    if (process.env.HERALD_CHAOS_REPORT) {
      appendFileSync(process.env.HERALD_CHAOS_REPORT, `${JSON.stringify(figures)}\n`);
      appendFileSync(process.env.HERALD_CHAOS_REPORT, `${JSON.stringify(report)}\n`);
    }
    expect(users).toHaveLength(AUDIENCE);
  });
});

interface HeraldPayload {
  herald: { campaignId: string; occurrence: string; userId: string };
}

function messageKeyOf(plaintext: string): string {
  const { herald } = JSON.parse(plaintext) as HeraldPayload;
  return `${herald.campaignId}|${herald.occurrence}|${herald.userId}`;
}

function userOf(plaintext: string): string {
  return (JSON.parse(plaintext) as HeraldPayload).herald.userId;
}

async function subscriptionEndpoints(stack: Stack): Promise<Set<string>> {
  const { rows } = await stack.pool.query<{ endpoint: string }>(
    `SELECT endpoint FROM ${stack.schema}.subscriptions`,
  );
  return new Set(rows.map((row) => row.endpoint));
}

function circuitChange(line: LogLine): { state: 'open' | 'closed'; at: number } {
  return { state: line.fields?.state as 'open' | 'closed', at: line.fields?.at as number };
}

/** Retry outcomes the workers reported, by what caused them. */
function retriesByCause(events: HeraldEvent[]): Record<string, number> {
  const causes: Record<string, number> = {};
  for (const event of events) {
    if (event.type !== 'delivery' || event.outcome !== 'retry') continue;
    const cause =
      event.status !== undefined
        ? String(event.status)
        : event.reason?.startsWith('circuit open')
          ? 'circuit-open'
          : 'no-answer';
    causes[cause] = (causes[cause] ?? 0) + 1;
  }
  return causes;
}
