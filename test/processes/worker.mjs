// One Herald worker process, as a host runs it: plain ESM on the BUILT packages (no TypeScript loader,
// whose tsconfig paths would swap in the sources), `createHerald` + `herald.start()` on a shared
// Postgres and, on the Redis stack, a shared Redis. Forked by harness.ts; configured by one JSON
// object in HERALD_WORKER (see WorkerConfig in harness.ts). It tells its parent over IPC:
//   { type: 'ready' }                              started, scheduler and workers running
//   { type: 'claimed', ids, at }                   jobs this process claimed (at: its wall time, ms)
//   { type: 'released', id }                       a job it completed, retried or failed
//   { type: 'event', event }                       onEvent, but for sent deliveries (counted, in 'stopped')
//   { type: 'log', level, message, fields }        what it logged at warn or error
//   { type: 'stopped', sent, cpuMs }               after { type: 'stop' }: herald.stop() returned
// Each process signs with its own VAPID subject (mailto:worker-<name>@example.com), so the push service
// knows which process sent each message without any help from Herald.
import { readFileSync } from 'node:fs';
import { postgresCounters, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import { redisCounters, redisQueue } from '@herald/adapter-redis';
import { createHerald, pooledHttpTransport, webPush } from '@herald/core';
import { Redis } from 'ioredis';
import pg from 'pg';

const config = JSON.parse(process.env.HERALD_WORKER ?? '{}');
const tell = (message) => {
  if (process.connected) process.send(message);
};

/**
 * The test's shared fake clock: the instant in `file`, which the test rewrites to move time for every
 * process at once. `sleep` waits real time (capped), so a process looks at the file again soon after
 * the test moves it; the test only moves time while no job is running, so no lease lapses in between.
 */
function fileClock(file) {
  return {
    now: () => new Date(readFileSync(file, 'utf8').trim()),
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const timer = setTimeout(done, Math.min(ms, 200));
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

/** The host's own queue, seen through a thin wrapper that tells the test which jobs this process holds. */
function reportingQueue(queue) {
  const released = (id) => (settled) => {
    tell({ type: 'released', id });
    return settled;
  };
  return {
    ...queue,
    async claim(options) {
      const jobs = await queue.claim(options);
      if (jobs.length > 0) tell({ type: 'claimed', ids: jobs.map((job) => job.id), at: Date.now() });
      return jobs;
    },
    complete: (id, token) => queue.complete(id, token).then(released(id)),
    retry: (id, token, runAt, error) => queue.retry(id, token, runAt, error).then(released(id)),
    fail: (id, token, error) => queue.fail(id, token, error).then(released(id)),
  };
}

/**
 * Warnings and errors go to the test (which asserts that faults were logged) and to stderr; with
 * HERALD_WORKER_DEBUG set, info lines go to stderr too (which process started which occurrence, when).
 */
const logger = {
  debug() {},
  info(message, fields) {
    if (!process.env.HERALD_WORKER_DEBUG) return;
    process.stderr.write(
      `[${config.name}] ${new Date().toISOString()} info: ${message} ${JSON.stringify(fields ?? {})}\n`,
    );
  },
  warn: (message, fields) => log('warn', message, fields),
  error: (message, fields) => log('error', message, fields),
};
function log(level, message, fields) {
  tell({ type: 'log', level, message, fields });
  process.stderr.write(`[${config.name}] ${level}: ${message} ${fields ? JSON.stringify(fields) : ''}\n`);
}

const pool = new pg.Pool({ connectionString: config.pgUrl, max: config.poolSize ?? 8 });
// An idle connection cut by a server restart must not crash the process: the next query reconnects.
pool.on('error', (error) => log('warn', 'postgres connection lost', { message: error.message }));
let redis = null;
if (config.redisUrl) {
  // ioredis's defaults, as a host most likely keeps them: commands wait (offline queue) while it
  // reconnects, and fail after 20 attempts; the adapter makes a resent command take effect once.
  redis = new Redis(config.redisUrl);
  redis.on('error', (error) => log('warn', 'redis connection error', { message: error.message }));
}

// The schema is migrated by the test before any worker starts, as a deploy runs herald-migrate first.
const { schema } = config;
const queue = redis
  ? redisQueue({ connection: redis, prefix: config.redisPrefix })
  : postgresQueue({ client: pool, schema });
const counters = redis
  ? redisCounters({ connection: redis, prefix: config.redisPrefix })
  : postgresCounters({ client: pool, schema });

let sent = 0;
const herald = createHerald({
  storage: postgresStorage({ client: pool, schema }),
  queue: reportingQueue(queue),
  counters,
  providers: {
    webpush: webPush({
      vapid: { subject: `mailto:worker-${config.name}@example.com`, ...config.vapid },
      // HTTP/2 sessions over TLS to the push service, as to the real ones; its certificate is self-signed.
      transport: pooledHttpTransport({ ca: config.pushServiceCa }),
      // Several processes share two cores here: no delivery threads on top of them.
      encryptionWorkers: 0,
      // The breaker's changes as log lines: the engine logs an open circuit once per campaign, and
      // nothing tells when it closes (test/processes/chaos.test.ts reads both).
      circuitBreaker: {
        onChange: (change) =>
          log('warn', `circuit ${change.state === 'open' ? 'opened' : 'closed'} for ${change.origin}`, {
            state: change.state,
            at: change.at.getTime(),
            reason: change.reason,
            ...(change.openMs ? { openMs: change.openMs } : {}),
          }),
      },
    }),
  },
  allowEndpoint: [config.pushServiceUrl],
  reportSecret: config.reportSecret,
  logger,
  ...(config.clockFile ? { clock: fileClock(config.clockFile) } : {}),
  ...(config.limits ? { limits: config.limits } : {}),
  ...(config.retryBaseMs ? { retry: { baseMs: config.retryBaseMs, ...config.retry } } : {}),
  ...(config.retry && !config.retryBaseMs ? { retry: config.retry } : {}),
  tuning: config.tuning ?? {},
  onEvent(event) {
    if (event.type === 'delivery' && event.outcome === 'sent') sent++;
    if (event.type !== 'delivery' || event.outcome !== 'sent') tell({ type: 'event', event });
  },
});

process.on('message', async (message) => {
  if (message?.type !== 'stop') return;
  await herald.stop();
  const cpu = process.cpuUsage();
  tell({ type: 'stopped', sent, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
  await pool.end();
  redis?.disconnect();
  process.disconnect();
});
// The test process gone (crashed or killed): a worker must not outlive it.
process.on('disconnect', () => process.exit(0));

herald.start();
tell({ type: 'ready' });
