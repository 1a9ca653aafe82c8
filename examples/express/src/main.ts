import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { migrate, postgresQueue, postgresStorage } from '@herald/adapter-postgres';
import { consoleLogger, createHerald, memoryQueue, memoryStorage, webPush } from '@herald/core';
import { createDevPushService } from '@herald/core/dev';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { runDemoCampaign } from './demo.js';

const config = loadConfig();
const logger = consoleLogger('warn');
const publicDir = fileURLToPath(new URL('../public', import.meta.url));

// Demo mode has no browser and no internet: a loopback push service stands
// in for FCM/Mozilla/Apple, decrypting and checking every message it gets.
const pushService = config.demo ? createDevPushService() : null;
const pushServiceUrl = pushService ? (await pushService.start()).url : null;

/**
 * The embedded default: PGlite (Postgres in WebAssembly) persisted under the
 * data dir, so a restarted demo keeps its subscribers, campaigns, stats and
 * pending timers. The same adapter runs on a real Postgres pool.
 */
async function openStores() {
  if (config.storage === 'memory')
    return { storage: memoryStorage(), queue: memoryQueue(), close: async () => {} };
  const db = new PGlite(join(config.dataDir, 'pg'));
  await migrate({ client: db });
  return {
    storage: postgresStorage({ client: db }),
    queue: postgresQueue({ client: db }),
    close: () => db.close(),
  };
}
const stores = await openStores();

const herald = createHerald({
  storage: stores.storage,
  queue: stores.queue,
  iconBaseUrl: `${config.publicUrl}/icons`,
  providers: { webpush: webPush({ vapid: config.vapid }) },
  logger,
  // Reports go to the service worker's own origin (apiBase + /reports); no absolute URL needed.
  reportSecret: config.reportSecret,
  allowEndpoint: [...config.allowEndpoints, ...(pushServiceUrl ? [pushServiceUrl] : [])],
});

const app = createApp({
  herald,
  adminToken: config.adminToken,
  vapidPublicKey: config.vapid.publicKey,
  publicDir,
  http: { trustClientUserId: true },
});
const server = app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const origin = `http://${config.host}:${port}`;
  console.log(`Herald example on ${origin}`);
  if (config.adminTokenGenerated)
    console.log(`admin token (set HERALD_ADMIN_TOKEN to choose one): ${config.adminToken}`);
  console.log(`dashboard: ${origin}/admin/ (user admin, the admin token as password)`);
  console.log(`admin API: ${origin}/admin/api (OpenAPI: ${origin}/admin/api/openapi.json), e.g.`);
  console.log(`  curl -H "Authorization: Bearer <admin token>" ${origin}/admin/api/campaigns`);
});

if (pushService) {
  const result = await runDemoCampaign(herald, pushService, config.demoSubscribers);
  console.log(`demo campaign ${result.campaignId}: delivered ${result.delivered}/${result.subscribers}`);
}
herald.start();

/**
 * A deploy's SIGTERM (or Ctrl-C): stop accepting HTTP, then stop Herald, which finishes the jobs this
 * process holds within its shutdown timeout (10 s) and gives the rest back to the queue so another
 * process takes them at once instead of waiting out a lease; then close the pools and exit 0. Requests
 * already in progress are answered; a second signal ends the process at once (the default action).
 */
async function shutdown(signal: NodeJS.Signals) {
  console.log(`${signal}: shutting down`);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Idle keep-alive connections go now (Node >= 19 does it in close() too); busy ones after their answer.
  server.closeIdleConnections();
  try {
    await herald.stop();
    await closed;
    await pushService?.stop();
    await stores.close();
  } catch (error) {
    console.error('shutdown failed:', error);
    process.exit(1);
  }
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
