import { createHerald, memoryCounters, memoryQueue } from '@herald/core';
import { fakeClock, fixtures } from '@herald/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, postgresStorage } from '../src/index.js';
import { testPool, uniqueSchema } from './helpers.js';

/** profiles.upsert and profiles.update through the engine on real Postgres: what is stored is read back. */
describe('profiles on Postgres keep what an upsert does not mention, and merge on update', () => {
  const schema = uniqueSchema('profiles');
  const pool = testPool(3);
  beforeAll(async () => {
    await migrate({ client: pool, schema });
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  function engine() {
    return createHerald({
      storage: postgresStorage({ client: pool, schema }),
      queue: memoryQueue(),
      // One engine in this test: per-process counters are enough.
      counters: memoryCounters(),
      clock: fakeClock('2026-05-01T00:00:00Z'),
      providers: {
        webpush: {
          target: 'webpush',
          send: async () => ({ kind: 'sent', statusCode: 201 }),
          close: async () => {},
        },
      },
      allowEndpoint: [/^https:\/\/push\.example\.test\//],
      reportSecret: 'x'.repeat(32),
    });
  }

  it('an upsert without timezone keeps the subscribe zone; update merges properties shallowly', async () => {
    const herald = engine();
    await herald.subscriptions.add({
      userId: 'kolkata',
      subscription: {
        endpoint: 'https://push.example.test/send/kolkata',
        keys: { p256dh: fixtures.P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
      },
      timezone: 'Asia/Kolkata',
    });
    await herald.profiles.upsert({
      userId: 'kolkata',
      properties: { plan: 'free', city: 'Pune' },
      test: true,
    });
    expect(await herald.profiles.get('kolkata')).toMatchObject({
      timezone: 'Asia/Kolkata',
      test: true,
      properties: { plan: 'free', city: 'Pune' },
    });
    await herald.profiles.update('kolkata', { properties: { plan: 'pro' } });
    expect(await herald.profiles.get('kolkata')).toMatchObject({
      timezone: 'Asia/Kolkata',
      test: true,
      properties: { plan: 'pro', city: 'Pune' },
    });
    await herald.profiles.update('newcomer', { properties: { plan: 'trial' } });
    expect(await herald.profiles.get('newcomer')).toMatchObject({
      test: false,
      properties: { plan: 'trial' },
    });
  });
});
