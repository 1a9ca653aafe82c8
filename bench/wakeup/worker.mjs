// The idle worker of the wake-up benchmark: a process of its own running `herald.start()` on the
// shared stack, as a host's worker does. Plain ESM on the built packages (no TypeScript loader).
//   in (IPC): { pgUrl, redisUrl?, schema, prefix, vapid, origin, pollOnly }, later 'stop'
//   out (IPC): 'ready', then 'stopped'
import { migrate, postgresCounters, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import { redisCounters, redisQueue } from '@herald/adapter-redis';
import { createHerald, silentLogger, webPush } from '@herald/core';
import { Redis } from 'ioredis';
import pg from 'pg';

process.once('message', async ({ pgUrl, redisUrl, schema, prefix, vapid, origin, pollOnly }) => {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 6 });
  await migrate({ client: pool, schema });
  const redis = redisUrl ? new Redis(redisUrl) : null;
  const queue = redis ? redisQueue({ connection: redis, prefix }) : postgresQueue({ client: pool, schema });
  // The baseline: the same queue without its wake-up, so only the poll finds new jobs.
  const { onWake: _onWake, ...polledOnly } = queue;
  const herald = createHerald({
    storage: postgresStorage({ client: pool, schema }),
    queue: pollOnly ? polledOnly : queue,
    counters: redis
      ? redisCounters({ connection: redis, prefix })
      : postgresCounters({ client: pool, schema }),
    providers: { webpush: webPush({ vapid }) },
    allowEndpoint: [origin],
    logger: silentLogger,
    reportSecret: 'bench-wakeup-report-secret-of-enough-length',
  });
  herald.start();
  process.send('ready');
  process.once('message', async () => {
    await herald.stop();
    redis?.disconnect();
    await pool.end();
    process.send('stopped', () => process.exit(0));
  });
});
