// One Herald process of the delivery benchmark (forked by bench.ts), so that
// its peak RSS and CPU are Herald's alone. Plain ESM on the built packages,
// as a host runs them (no TypeScript loader in this process either).
//
// Stacks: `memory` (memoryStorage + memoryQueue, one process),
// `postgres` (postgresStorage + postgresQueue + postgresCounters) and
// `postgres+redis` (postgresStorage + redisQueue + redisCounters), the last
// two in a schema / key prefix of their own, on servers the parent names.
//
// Messages over IPC, parent → child:
//   { type: 'setup', stack, role: 'leader' | 'follower', subscriptionsFile?, origin, ca, vapid,
//     concurrency, encryptionWorkers?, pgUrl?, redisUrl?, schema?, prefix? }
//   { type: 'go', campaignId }   start the engine (herald.start(), as a host does)
//   { type: 'finish' }           every message has its outcome: stop and report
// child → parent:
//   { type: 'progress', line }   a log line
//   { type: 'ready', campaignId?, rssBeforeMb }   set up (the leader stored the subscriptions and scheduled the campaign)
//   { type: 'outcomes', count }  final delivery outcomes so far in this process (sent, gone, failed)
//   { type: 'done', result }     after finish: { sent?, gone?, peakRssMb, cpuUs, mainThreadBusy, memory }
import { createReadStream } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import v8 from 'node:v8';
import { createHerald, memoryQueue, memoryStorage, pooledHttpTransport, webPush } from '@herald/core';

const AT = new Date('2030-01-01T09:00:00Z');
/**
 * The campaign's instant, held still: the run sends one occurrence that is due at once. With
 * `--unavailable` it moves on from there with the real time, so the retries' backoff elapses.
 */
let clockMoves = false;
const clock = {
  now: () => (clockMoves ? new Date(AT.getTime() + performance.now()) : new Date(AT)),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    }),
};
/** Rows per `subscriptions.import` call while loading: what a host importing its users would pass. */
const IMPORT_CHUNK = 5000;

const send = (message) => process.send(message);

/** The storage, queue and counters of one stack, and how to release them. */
async function openStack({ stack, role, pgUrl, redisUrl, schema, prefix }) {
  if (stack === 'memory') return { storage: memoryStorage(), queue: memoryQueue(), close: async () => {} };
  const { default: pg } = await import('pg');
  const { migrate, postgresCounters, postgresQueue, postgresStorage } = await import(
    '@herald/adapter-postgres'
  );
  const pool = new pg.Pool({ connectionString: pgUrl, max: 10 });
  pool.on('error', () => undefined);
  if (role === 'leader') await migrate({ client: pool, schema });
  // BENCH_SCHEMA_SQL: statements run on the migrated schema (`$S` names it), to measure a layout change before writing it.
  if (role === 'leader' && process.env.BENCH_SCHEMA_SQL) {
    for (const statement of JSON.parse(process.env.BENCH_SCHEMA_SQL))
      await pool.query(statement.replaceAll('$S', schema));
  }
  // BENCH_PREPARED=0: the storage's statements unprepared, to measure what preparing them saves.
  const storage = postgresStorage({
    client: pool,
    schema,
    preparedStatements: process.env.BENCH_PREPARED !== '0',
  });
  if (stack === 'postgres') {
    return {
      storage,
      queue: postgresQueue({ client: pool, schema }),
      counters: postgresCounters({ client: pool, schema }),
      close: () => pool.end(),
    };
  }
  const { Redis } = await import('ioredis');
  const { redisCounters, redisQueue } = await import('@herald/adapter-redis');
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  return {
    storage,
    queue: redisQueue({ connection, prefix }),
    counters: redisCounters({ connection, prefix }),
    close: async () => {
      connection.disconnect();
      await pool.end();
    },
  };
}

async function setup(request) {
  clockMoves = request.unavailable === true;
  const { origin, ca, vapid, concurrency, encryptionWorkers } = request;
  const backend = await openStack(request);
  let outcomes = 0;
  let reported = 0;
  const provider = webPush({
    vapid,
    // BENCH_TRANSPORT: JSON of more `pooledHttpTransport` options (e.g. {"maxInFlightPerOrigin":400}).
    transport: pooledHttpTransport({
      ca,
      ...(process.env.BENCH_TRANSPORT ? JSON.parse(process.env.BENCH_TRANSPORT) : {}),
    }),
    ...(encryptionWorkers !== undefined ? { encryptionWorkers } : {}),
    ...(process.env.BENCH_WORKER_LIMITS
      ? { workerResourceLimits: JSON.parse(process.env.BENCH_WORKER_LIMITS) }
      : {}),
  });
  const herald = createHerald({
    storage: backend.storage,
    queue: backend.queue,
    ...(backend.counters ? { counters: backend.counters } : {}),
    providers: { webpush: provider },
    clock,
    allowEndpoint: [origin],
    // BENCH_TUNING: JSON of more `tuning` fields (e.g. {"concurrency":2}), to measure a default before changing it.
    tuning: {
      sendConcurrency: concurrency,
      ...(process.env.BENCH_TUNING ? JSON.parse(process.env.BENCH_TUNING) : {}),
    },
    reportSecret: 'bench-report-secret-of-32-bytes!',
    // --unavailable: retries after 100 ms rather than 30 s (the default base), so a run does not wait.
    ...(request.unavailable ? { retry: { baseMs: 100 } } : {}),
    // --caps: global per-user caps, as most deployments set them (a counter step per user).
    ...(request.caps ? { limits: { perUser: { perDay: 3, perWeek: 10 } } } : {}),
    // Final outcomes only (a retry is followed by another delivery event): the parent ends the run at N.
    onEvent: (event) => {
      if (event.type === 'delivery' && event.outcome !== 'retry') outcomes += 1;
    },
  });
  const reporter = setInterval(() => {
    if (outcomes !== reported) {
      reported = outcomes;
      send({ type: 'outcomes', count: outcomes });
    }
  }, 10);

  let campaignId;
  if (request.role === 'leader') {
    // Subscriptions reach a host as a stream: read one line at a time, imported in chunks.
    let n = 0;
    let chunk = [];
    const flush = async () => {
      const { imported, rejected } = await herald.subscriptions.import(chunk);
      if (rejected.length > 0) throw new Error(`import rejected ${JSON.stringify(rejected.slice(0, 3))}`);
      n += imported;
      chunk = [];
    };
    const lines = createInterface({
      input: createReadStream(request.subscriptionsFile),
      crlfDelay: Infinity,
    });
    for await (const line of lines) {
      const [index, p256dh, auth] = JSON.parse(line);
      chunk.push({
        userId: `u${index}`,
        subscription: { endpoint: `${origin}/push/${request.phase}/${index}`, keys: { p256dh, auth } },
      });
      if (chunk.length === IMPORT_CHUNK) await flush();
    }
    if (chunk.length > 0) await flush();
    const campaign = await herald.campaigns.create({
      name: 'Benchmark',
      when: { schedule: { type: 'once', at: AT.toISOString() } },
      who: { segment: { type: 'all' } },
      what: {
        title: 'Spring sale',
        body: 'Thirty percent off every pair of shoes until Sunday, in store and online.',
        deeplink: 'https://shop.example.com/sale/shoes',
        ttlSeconds: 3600,
      },
    });
    await herald.campaigns.schedule(campaign.id);
    campaignId = campaign.id;
    send({ type: 'progress', line: `    ${n} subscriptions stored (${request.stack}); sending` });
  }
  const rssBeforeMb = Math.round(process.memoryUsage.rss() / 1024 / 1024);
  send({ type: 'ready', campaignId, rssBeforeMb });

  let measure;
  process.on('message', async (message) => {
    try {
      if (message.type === 'go') {
        measure = startMeasuring();
        herald.start();
      } else if (message.type === 'finish') {
        await herald.stop();
        const figures = measure.stop();
        clearInterval(reporter);
        const stats = request.role === 'leader' ? await herald.campaigns.stats(message.campaignId) : null;
        await backend.close();
        const counted = stats ? { sent: stats.sent, gone: stats.gone } : {};
        // Exiting by itself (not killed) lets --cpu-prof write its profile.
        process.send({ type: 'done', result: { ...figures, ...counted, outcomes } }, () => process.exit(0));
      }
    } catch (error) {
      send({ type: 'error', message: String(error?.stack ?? error) });
    }
  });
}

/** CPU (all threads), event-loop use and RSS from `go` to `stop`. */
function startMeasuring() {
  let peak = process.memoryUsage.rss();
  const memory = memorySampler();
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    peak = Math.max(peak, rss);
    memory.sample(rss);
  }, 20);
  const cpuBefore = process.cpuUsage();
  const eluBefore = performance.eventLoopUtilization();
  return {
    stop() {
      clearInterval(sampler);
      const cpu = process.cpuUsage(cpuBefore);
      const mainThreadBusy = performance.eventLoopUtilization(eluBefore).utilization;
      peak = Math.max(peak, process.memoryUsage.rss());
      return {
        peakRssMb: Math.round(peak / 1024 / 1024),
        cpuUs: cpu.user + cpu.system,
        mainThreadBusy: Math.round(mainThreadBusy * 100) / 100,
        memory: memory.report(),
      };
    },
  };
}

/**
 * Where the peak RSS went: the main thread's V8 heap (committed, and in use)
 * when the RSS peaked, and the rest of the process then (delivery workers'
 * heaps, native buffers, code). Also the main heap's largest committed size.
 */
function memorySampler() {
  const mb = (bytes) => Math.round(bytes / 1024 / 1024);
  let peakRss = 0;
  let atPeak = { total_heap_size: 0, used_heap_size: 0 };
  let heapPeak = 0;
  return {
    sample(rss) {
      const heap = v8.getHeapStatistics();
      heapPeak = Math.max(heapPeak, heap.total_heap_size);
      if (rss > peakRss) {
        peakRss = rss;
        atPeak = heap;
      }
    },
    report: () => ({
      mainHeapAtPeakMb: mb(atPeak.total_heap_size),
      mainHeapUsedAtPeakMb: mb(atPeak.used_heap_size),
      restAtPeakMb: mb(peakRss - atPeak.total_heap_size),
      mainHeapPeakMb: mb(heapPeak),
    }),
  };
}

process.once('message', (request) => {
  setup(request).catch((error) => send({ type: 'error', message: String(error?.stack ?? error) }));
});
