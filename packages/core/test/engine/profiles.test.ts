import { describe, expect, it } from 'vitest';
import { createHerald, memoryQueue, memoryStorage, ValidationError } from '../../src/index.js';
import { fakeClock, fixtures } from '../../src/testing/index.js';
import { campaignRun } from './campaign-runs/harness.js';

const subscription = {
  endpoint: 'https://push.example.test/send/kolkata',
  keys: { p256dh: fixtures.P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
};

function engine() {
  return createHerald({
    storage: memoryStorage(),
    queue: memoryQueue(),
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

describe('profiles.upsert keeps what the input does not mention', () => {
  it('an upsert without timezone keeps the zone the browser gave at subscribe, and the test flag', async () => {
    const herald = engine();
    await herald.subscriptions.add({ userId: 'u1', subscription, timezone: 'Asia/Kolkata' });
    await herald.profiles.upsert({ userId: 'u1', properties: { plan: 'free' }, test: true });
    const updated = await herald.profiles.upsert({ userId: 'u1', properties: { plan: 'pro' } });
    expect(updated).toMatchObject({ timezone: 'Asia/Kolkata', test: true, properties: { plan: 'pro' } });
    expect(await herald.profiles.get('u1')).toMatchObject({ timezone: 'Asia/Kolkata', test: true });
  });

  it('properties given replace the stored ones whole; left out, they stay', async () => {
    const herald = engine();
    await herald.profiles.upsert({ userId: 'u1', properties: { plan: 'free', city: 'Pune' } });
    await herald.profiles.upsert({ userId: 'u1', properties: { plan: 'pro' } });
    expect((await herald.profiles.get('u1'))?.properties).toEqual({ plan: 'pro' });
    await herald.profiles.upsert({ userId: 'u1', timezone: 'Asia/Kolkata' });
    expect(await herald.profiles.get('u1')).toMatchObject({
      properties: { plan: 'pro' },
      timezone: 'Asia/Kolkata',
    });
  });

  it('a Kolkata user whose properties the backend updates still gets a DND-delayed message at 09:00 in Kolkata', async () => {
    const b = campaignRun({
      start: '2026-05-01T00:00:00Z',
      dnd: { start: '21:00', end: '09:00', action: 'delay' },
    });
    await b.herald.subscriptions.add({ userId: 'k', subscription, timezone: 'Asia/Kolkata' });
    await b.herald.profiles.upsert({ userId: 'k', properties: { plan: 'pro' } });
    // 17:00Z is 22:30 in Kolkata (inside DND) and 17:00 in the campaign's zone, UTC (outside).
    await b.launch({ when: { schedule: { type: 'once', at: '2026-05-01T17:00:00Z' } } });
    await b.runUntil('2026-05-02T06:00:00Z');
    expect(b.sent.map((m) => m.at.toISOString())).toEqual(['2026-05-02T03:30:00.000Z']);
  });
});

describe('profiles.update merges', () => {
  it('merges properties shallowly and sets only the fields given', async () => {
    const herald = engine();
    await herald.profiles.upsert({
      userId: 'u1',
      properties: { plan: 'free', address: { city: 'Pune', zip: '411001' } },
      timezone: 'Asia/Kolkata',
      test: true,
    });
    const updated = await herald.profiles.update('u1', {
      properties: { plan: 'pro', address: { city: 'Goa' } },
    });
    expect(updated).toMatchObject({
      userId: 'u1',
      timezone: 'Asia/Kolkata',
      test: true,
      // Shallow: a key given replaces that key's whole value.
      properties: { plan: 'pro', address: { city: 'Goa' } },
    });
    await herald.profiles.update('u1', { timezone: 'Europe/Paris', test: false });
    expect(await herald.profiles.get('u1')).toMatchObject({
      timezone: 'Europe/Paris',
      test: false,
      properties: { plan: 'pro', address: { city: 'Goa' } },
    });
  });

  it('creates the profile of a user who has none, and refuses a misspelt field', async () => {
    const herald = engine();
    expect(await herald.profiles.update('new', { properties: { plan: 'pro' } })).toMatchObject({
      userId: 'new',
      test: false,
      properties: { plan: 'pro' },
    });
    await expect(herald.profiles.update('new', { propertes: { plan: 'x' } } as never)).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(herald.profiles.update('new', { timezone: 'Mars/Olympus' })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
