/**
 * The two programs the pack test runs in a fresh project against the installed tarballs: the same
 * steps once as ESM (`import`) and once as CommonJS (`require`). Each prints one JSON line.
 */
const steps = `
// The dashboard serves its page and its prebuilt front end (dist/app) from the installed package.
async function dashboardAnswers(herald) {
  const password = 'packed-dashboard-password';
  const dashboard = heraldDashboard(herald, { authorize: basicAuth({ username: 'ops', password }), basePath: '/admin' });
  const server = createServer((request, response) => dashboard(request, response));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = 'http://127.0.0.1:' + server.address().port + '/admin';
  const authorization = 'Basic ' + Buffer.from('ops:' + password).toString('base64');
  try {
    const page = await fetch(base + '/', { headers: { authorization } });
    const script = await fetch(base + '/assets/app.js');
    return [page.status, script.status, (await script.text()).length > 10000];
  } finally {
    server.close();
  }
}
const pushService = createDevPushService();
const { url } = await pushService.start();
const herald = createHerald({
  storage: memoryStorage(),
  queue: memoryQueue(),
  providers: { webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }) },
  allowEndpoint: [url],
});
try {
  await herald.profiles.upsert({ userId: 'ada', properties: { first_name: 'Ada' }, timezone: 'Europe/London' });
  // A real P-256 key pair and auth secret, as a browser's PushSubscription.toJSON() gives them.
  await herald.subscriptions.add({ userId: 'ada', subscription: pushService.createSubscription() });
  const campaign = await herald.campaigns.create({
    name: 'Packed',
    when: { schedule: { type: 'once', at: new Date() } },
    who: { segment: { type: 'property', condition: { op: 'exists', property: 'first_name' } } },
    what: { title: 'Hello {{ user.first_name }}', deeplink: 'https://example.com/welcome' },
  });
  await herald.campaigns.schedule(campaign.id);
  await herald.tick();
  const stats = await herald.campaigns.stats(campaign.id);
  const [message] = pushService.received;
  // Each adapter throws core's own error classes: one copy of core, so instanceof holds.
  const adapterErrors = [
    () => postgresStorage({ client: { query: async () => ({ rows: [] }) }, schema: 'Not A Schema' }),
    () => redisQueue({ connection: { options: {}, evalsha() {} }, prefix: '' }),
  ].map((make) => {
    try {
      make();
      return 'no error';
    } catch (error) {
      return error instanceof HeraldError ? error.name : 'foreign ' + String(error);
    }
  });
  console.log(JSON.stringify({
    sent: stats.sent,
    received: pushService.received.length,
    title: message ? JSON.parse(message.plaintext).notification.title : null,
    vapidAudience: message?.vapid.aud,
    adapterErrors,
    browserPackages: [typeof createHeraldClient, typeof installHerald],
    dashboard: await dashboardAnswers(herald),
  }));
} finally {
  await herald.stop();
  await pushService.stop();
}
`;

export const ESM_PROGRAM = `
import { createHerald, generateVapidKeys, HeraldError, memoryQueue, memoryStorage, webPush } from '@herald/core';
import { createDevPushService } from '@herald/core/dev';
import { postgresStorage } from '@herald/adapter-postgres';
import { redisQueue } from '@herald/adapter-redis';
import { createHeraldClient } from '@herald/browser-sdk';
import { installHerald } from '@herald/service-worker';
import { basicAuth, heraldDashboard } from '@herald/dashboard';
import { createServer } from 'node:http';
${steps}
`;

export const CJS_PROGRAM = `
const { createHerald, generateVapidKeys, HeraldError, memoryQueue, memoryStorage, webPush } = require('@herald/core');
const { createDevPushService } = require('@herald/core/dev');
const { postgresStorage } = require('@herald/adapter-postgres');
const { redisQueue } = require('@herald/adapter-redis');
const { createHeraldClient } = require('@herald/browser-sdk');
const { installHerald } = require('@herald/service-worker');
const { basicAuth, heraldDashboard } = require('@herald/dashboard');
const { createServer } = require('node:http');
(async () => {
${steps}
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/**
 * A host's test setup without fast-check: the testing entry's tools load and work, and the fuzz entry
 * fails as Node fails for a package that is not installed, naming fast-check. ESM only: vitest
 * refuses to be require()d.
 */
export const TESTING_PROGRAM = `
import { createTestPushService, fakeClock, listenForWakes, runStorageSuite } from '@herald/core/testing';
import * as testing from '@herald/core/testing';
const clock = fakeClock('2026-01-01T00:00:00Z');
await clock.advance(60_000);
const fuzz = await import('@herald/core/testing/fuzz').then(
  () => 'loaded',
  (error) => ({ code: error.code, message: error.message }),
);
console.log(JSON.stringify({
  now: clock.now().toISOString(),
  suites: [typeof runStorageSuite, typeof listenForWakes, typeof createTestPushService, typeof testing.memoryStorageInspector],
  movedAway: 'runSegmentEquivalenceSuite' in testing || 'segmentArbitraries' in testing,
  fuzz,
}));
`;

/** The same host once it has installed fast-check: the fuzz entry loads and its generators draw. */
export const FUZZ_PROGRAM = `
import fc from 'fast-check';
import { boundSegments, runSegmentEquivalenceSuite, segmentArbitraries } from '@herald/core/testing/fuzz';
const drawn = fc.sample(segmentArbitraries.segmentDefinition, { seed: 1, numRuns: 5 });
console.log(JSON.stringify({
  suite: typeof runSegmentEquivalenceSuite,
  boundSegments: boundSegments.length > 0,
  drawn: drawn.filter((definition) => typeof definition.type === 'string').length,
}));
`;
