/**
 * Wake-up benchmark: how long a live campaign's message takes from
 * `events.track` in a web process to the push service, with an idle worker
 * in another process. Prints one JSON line on stdout (progress on stderr).
 *
 *   npm run bench:wakeup            (starts throwaway Postgres and Redis)
 *   HERALD_TEST_PG_URL=… HERALD_TEST_REDIS_URL=… npx tsx bench/wakeup/run.ts
 *   BENCH_EVENTS=1000          events in each wake-up case
 *   BENCH_BASELINE_EVENTS=200  events in each poll-only case (each waits ~half a poll interval)
 *   BENCH_GAP_MS=50            the next event comes GAP_MS to 3 × GAP_MS (random) after a message arrived
 *
 * Events go one at a time: each is tracked once the previous message has
 * arrived (and a random pause), so every event finds the worker idle, which
 * is what the wake-up is for. A worker busy with a backlog claims the next
 * job as soon as a slot frees, wake-up or not.
 *
 * This process is the web process: it tracks one `Ping` event per user,
 * each matching an onEvent campaign, and runs the loopback push service
 * (@herald/core/dev) that timestamps each message's arrival. The worker is
 * a child process (worker.mjs) running `herald.start()` with the default
 * tuning (poll interval 1 s). Two stacks, postgres (storage, queue and
 * counters) and postgres + redis (redisQueue, redisCounters); on each, the
 * wake-up case and its baseline, the same worker with the queue's `onWake`
 * removed (poll only).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { migrate, postgresCounters, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import { redisCounters, redisQueue } from '@herald/adapter-redis';
import { createHerald, generateVapidKeys, type Herald, silentLogger, webPush } from '@herald/core';
import { createDevPushService } from '@herald/core/dev';
import { Redis } from 'ioredis';
import pg from 'pg';

const pgUrl = process.env.HERALD_BENCH_PG_URL ?? process.env.HERALD_TEST_PG_URL;
const redisUrl = process.env.HERALD_BENCH_REDIS_URL ?? process.env.HERALD_TEST_REDIS_URL;
if (!pgUrl || !redisUrl) throw new Error('Set HERALD_TEST_PG_URL and HERALD_TEST_REDIS_URL');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000);
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 50);
/** The poll-only baseline waits about half a poll interval per event: fewer events keep the run short. */
const BASELINE_EVENTS = Number(process.env.BENCH_BASELINE_EVENTS ?? 200);
/** Events before the timed ones: connections opened, statements planned, the campaign armed. */
const WARMUP = 20;

const log = (line: string) => process.stderr.write(`${line}\n`);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Latencies {
  p50: number;
  p99: number;
  max: number;
  received: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

const service = createDevPushService();
const { url: origin } = await service.start();
const vapid = { subject: 'mailto:bench@example.com', ...generateVapidKeys() };

async function runStack(stack: 'postgres' | 'postgres+redis') {
  const schema = `bench_wakeup_${randomBytes(4).toString('hex')}`;
  const prefix = `herald-bench:${schema}`;
  const pool = new pg.Pool({ connectionString: pgUrl, max: 6 });
  await migrate({ client: pool, schema });
  const redis = stack === 'postgres+redis' ? new Redis(redisUrl as string) : null;
  const web = createHerald({
    storage: postgresStorage({ client: pool, schema }),
    queue: redis ? redisQueue({ connection: redis, prefix }) : postgresQueue({ client: pool, schema }),
    counters: redis
      ? redisCounters({ connection: redis, prefix })
      : postgresCounters({ client: pool, schema }),
    providers: { webpush: webPush({ vapid }) },
    allowEndpoint: [origin],
    logger: silentLogger,
    reportSecret: 'bench-wakeup-report-secret-of-enough-length',
  });
  const users = EVENTS + BASELINE_EVENTS + 2 * WARMUP;
  const userOf = new Map<string, string>();
  log(`${stack}: ${users} users…`);
  await Promise.all(
    Array.from({ length: 6 }, async (_, lane) => {
      for (let n = lane; n < users; n += 6) {
        const subscription = service.createSubscription();
        userOf.set(subscription.endpoint, `u${n}`);
        await web.subscriptions.add({ userId: `u${n}`, subscription });
      }
    }),
  );
  const result: Record<string, Latencies> = {};
  // Each case its own campaign and its own users, so a case never meets the other's messages or caps.
  result.wakeup = await runCase({ stack, mode: 'wakeup', web, schema, prefix, userOf, from: 0 });
  result.poll = await runCase({ stack, mode: 'poll', web, schema, prefix, userOf, from: EVENTS + WARMUP });
  redis?.disconnect();
  await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
  await pool.end();
  return result;
}

async function runCase(options: {
  stack: string;
  mode: 'wakeup' | 'poll';
  web: Herald;
  schema: string;
  prefix: string;
  userOf: Map<string, string>;
  from: number;
}): Promise<Latencies> {
  const { stack, mode, web, schema, prefix, userOf, from } = options;
  const event = `Ping-${mode}`;
  const campaign = await web.campaigns.create({
    name: `Wake-up ${mode}`,
    when: { schedule: { type: 'onEvent', event: { name: event } } },
    who: { segment: { type: 'all' } },
    what: { title: 'Pong', deeplink: 'https://shop.example.com/' },
  });
  await web.campaigns.schedule(campaign.id);

  const worker = fork(fileURLToPath(new URL('./worker.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
  worker.send({
    pgUrl,
    redisUrl: stack === 'postgres+redis' ? redisUrl : undefined,
    schema,
    prefix,
    vapid,
    origin,
    pollOnly: mode === 'poll',
  });
  await ready;

  const trackedAt = new Map<string, number>();
  const arrived = () => service.received.length;
  /** Tracks user n's event and waits for its message: the worker is idle when each event comes. */
  const trackAndWait = async (n: number) => {
    const before = arrived();
    const userId = `u${from + n}`;
    trackedAt.set(userId, Date.now());
    await web.events.track({ userId, name: event });
    for (let waited = 0; arrived() === before && waited < 10_000; waited += 1) await pause(1);
    // Apart by GAP_MS to 3 × GAP_MS (random): the worker has finished its pass after the last job and sleeps.
    await pause(GAP_MS + Math.floor(Math.random() * 2 * GAP_MS));
  };
  for (let n = 0; n < WARMUP; n += 1) await trackAndWait(n);
  const warm = new Set(Array.from({ length: WARMUP }, (_, n) => `u${from + n}`));
  const events = mode === 'poll' ? BASELINE_EVENTS : EVENTS;
  log(`${stack}, ${mode}: ${events} events, one at a time…`);
  for (let n = WARMUP; n < WARMUP + events; n += 1) await trackAndWait(n);
  const arrivals = service.received.filter((message) =>
    trackedAt.has(userOf.get(message.subscriptionEndpoint) ?? ''),
  );

  const latencies: number[] = [];
  for (const message of arrivals) {
    const userId = userOf.get(message.subscriptionEndpoint) ?? '';
    if (warm.has(userId)) continue;
    latencies.push(message.receivedAt.getTime() - (trackedAt.get(userId) ?? Number.NaN));
  }
  latencies.sort((a, b) => a - b);
  const stopped = new Promise<void>((resolve) => worker.once('message', () => resolve()));
  worker.send('stop');
  await stopped;
  const figures = {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
    received: latencies.length,
  };
  log(`${stack}, ${mode}: p50 ${figures.p50} ms, p99 ${figures.p99} ms (${figures.received}/${events})`);
  return figures;
}

const postgres = await runStack('postgres');
const postgresRedis = await runStack('postgres+redis');
await service.stop();
process.stdout.write(
  `${JSON.stringify({
    bench: 'wakeup',
    events: EVENTS,
    baselineEvents: BASELINE_EVENTS,
    gapMs: GAP_MS,
    target: { p50: 50, p99: 250 },
    postgres,
    'postgres+redis': postgresRedis,
  })}\n`,
);
