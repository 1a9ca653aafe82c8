import { createHerald, generateVapidKeys, type Storage, TransientStorageError, webPush } from '@herald/core';
import { createTestPushService, fakeClock, type TestPushService } from '@herald/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { migrate, postgresCounters, postgresQueue, postgresStorage } from '../src/index.js';
import { terminateWhileBlocked, testPool, uniqueSchema } from './helpers.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const AUDIENCE = 300;
const OTHERS = 40;

/**
 * The whole engine on real Postgres (storage and queue), with every
 * connection of its pool killed while a campaign is being sent. The run
 * fails as a retryable fault, and further passes finish the campaign: every
 * member of the audience gets the message once, nobody else gets it.
 */
// Retried: once, in a clean-clone run beside the multi-process tests, the first case hung after its
// backend was terminated (not reproduced in later runs, here or locally); a hang now fails within
// SETTLE_TIMEOUT_MS (helpers.ts) and releases its lock, and the retry starts from truncated tables.
describe('a campaign interrupted by connection loss resumes where it stopped', { retry: 2 }, () => {
  let service: TestPushService;
  let serviceUrl: string;
  const schema = uniqueSchema('resume');
  const pool = testPool(6);
  const admin = testPool(2);

  beforeAll(async () => {
    service = createTestPushService();
    serviceUrl = (await service.start()).url;
    await migrate({ client: pool, schema });
  });
  beforeEach(async () => {
    const { rows } = await admin.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [schema]);
    const tables = rows
      .map((row) => `"${schema}".${row.tablename}`)
      .filter((table) => !table.endsWith('schema_migrations'));
    await admin.query(`TRUNCATE ${tables.join(', ')}`);
  });
  afterAll(async () => {
    await service.stop();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await Promise.all([pool.end(), admin.end()]);
  });

  /** Blocks `call` on a lock on `table`, terminates its backend, and returns what the call settled with. */
  const terminateDuring = (table: string, call: () => Promise<unknown>): Promise<unknown> =>
    terminateWhileBlocked({
      admin,
      table: `"${schema}".${table}`,
      blockedQueryLike: `%INSERT INTO "${schema}".${table}%`,
      call,
    });

  it.each([
    {
      write: 'insertRecipients' as const,
      table: 'recipients',
      what: 'before anything is sent for the batch: every member gets the message exactly once',
    },
    {
      write: 'recordDeliveries' as const,
      table: 'deliveries',
      what: 'after the batch was sent: nobody is lost; only the batch whose outcomes were lost is sent again',
    },
  ])('connection lost in $write, $what', async ({ write, table }) => {
    const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
    service.expectVapidPublicKey(vapid.publicKey);
    const clock = fakeClock('2026-03-01T09:00:00Z');
    const faults = { injected: 0, calls: 0, lostDeliveries: [] as string[] };
    let fault: Promise<void> = Promise.resolve();
    const real = postgresStorage({ client: pool, schema });
    // On the third call of `write`, the connection running it dies mid-statement.
    const storage: Storage = {
      ...real,
      [write]: async (rows: never[]) => {
        faults.calls += 1;
        const call = faults.calls;
        const run = () => (real[write] as (rows: never[]) => Promise<unknown>)(rows);
        // Later writes wait until the fault is over, so the one blocked statement is this call's.
        if (call > 3) await fault;
        if (call !== 3) return run();
        faults.injected += 1;
        if (write === 'recordDeliveries') {
          faults.lostDeliveries = (rows as Array<{ subscriptionId: string }>).map((d) => d.subscriptionId);
        }
        const attempt = terminateDuring(table, run);
        fault = attempt.then(() => undefined);
        const outcome = await attempt;
        expect(outcome).toBeInstanceOf(TransientStorageError);
        throw outcome;
      },
    };
    const herald = createHerald({
      storage,
      queue: postgresQueue({ client: pool, schema }),
      counters: postgresCounters({ client: pool, schema }),
      providers: { webpush: webPush({ vapid }) },
      clock,
      allowEndpoint: [serviceUrl],
      random: () => 0.5,
      tuning: { pageSize: 50, batchSize: 20 },
    });

    const members = new Set<string>();
    const subscriptionOf = new Map<string, string>();
    for (let i = 0; i < AUDIENCE + OTHERS; i++) {
      const userId = `user-${String(i).padStart(4, '0')}`;
      await herald.profiles.upsert({ userId, properties: { plan: i < AUDIENCE ? 'pro' : 'free' } });
      const subscription = service.createSubscription();
      if (i < AUDIENCE) members.add(subscription.endpoint);
      const added = await herald.subscriptions.add({ userId, subscription });
      subscriptionOf.set(subscription.endpoint, added.id);
    }
    const campaign = await herald.campaigns.create({
      name: 'Resume',
      when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } },
      who: { segment: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } } },
      what: { title: 'Hello', deeplink: 'https://shop.example.com/' },
    });
    await herald.campaigns.schedule(campaign.id);

    const before = service.received.length;
    await clock.set('2026-03-01T10:00:00Z');
    const failure = await herald.tick().then(
      () => null,
      (error: unknown) => error,
    );
    expect(faults.injected).toBe(1);
    // The engine saw the loss as a transient storage fault, or absorbed it by retrying the job later.
    if (failure !== null) expect((failure as { code?: string }).code).toBe('storage_unavailable');

    // Later passes, with time moving on past leases and backoffs, finish the campaign.
    for (let pass = 0; pass < 40; pass++) {
      await clock.advance(5 * 60_000);
      await herald.tick();
      if ((await herald.campaigns.get(campaign.id)).status === 'completed') break;
    }
    expect((await herald.campaigns.get(campaign.id)).status).toBe('completed');

    const endpoints = service.received.slice(before).map((message) => message.subscriptionEndpoint);
    expect(endpoints.filter((endpoint) => !members.has(endpoint))).toEqual([]);
    expect(new Set(endpoints).size).toBe(AUDIENCE);
    // A push the service accepted but whose outcome write was lost is indistinguishable from one never
    // sent, so it is sent again: at least once, and again only for the lost write's subscriptions.
    const seen = new Map<string, number>();
    for (const endpoint of endpoints) seen.set(endpoint, (seen.get(endpoint) ?? 0) + 1);
    const repeated = [...seen].filter(([, n]) => n > 1).map(([endpoint]) => subscriptionOf.get(endpoint));
    if (write === 'recordDeliveries') {
      expect(faults.lostDeliveries.length).toBeGreaterThan(0);
      expect(repeated.every((id) => faults.lostDeliveries.includes(id as string))).toBe(true);
    } else {
      expect(repeated).toEqual([]);
    }
    expect(await herald.campaigns.stats(campaign.id)).toMatchObject({
      recipients: AUDIENCE,
      sent: AUDIENCE,
      pending: 0,
    });
    await herald.stop();
  });
});
