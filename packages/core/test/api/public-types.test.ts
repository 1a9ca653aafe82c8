/**
 * The public API's types, checked by `tsc -p tsconfig.json` (the root
 * tsconfig includes packages/*\/test): every `@ts-expect-error` below must
 * meet an error, so a signature loosened back to `unknown` fails the
 * typecheck. The runtime assertions check the same calls are refused for
 * JavaScript callers.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Campaign,
  type CreateCampaignInput,
  createHerald,
  generateVapidKeys,
  type Herald,
  type HeraldEvent,
  memoryQueue,
  memoryStorage,
  silentLogger,
  ValidationError,
  webPush,
} from '../../src/index.js';

function engine(): Herald {
  return createHerald({
    storage: memoryStorage(),
    queue: memoryQueue(),
    providers: { webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }) },
    logger: silentLogger,
    reportSecret: 'a-secret-that-is-long-enough-for-hmac',
  });
}

const valid: CreateCampaignInput = {
  name: 'Welcome',
  when: { schedule: { type: 'once', at: '2026-03-02T11:00:00Z' } },
  who: { segment: { type: 'all' } },
  what: { title: 'Hello', deeplink: 'https://shop.example.test/' },
};

describe('the public API types', () => {
  it('types campaigns.create by the schema input and refuses misspelt keys and non-objects at compile time', async () => {
    const herald = engine();
    expectTypeOf(herald.campaigns.create).parameter(0).toEqualTypeOf<CreateCampaignInput>();
    expectTypeOf(herald.campaigns.create).returns.resolves.toEqualTypeOf<Campaign>();

    // @ts-expect-error: `nmae` is not a key of a campaign (and `name` is missing)
    const misspelt = herald.campaigns.create({ nmae: 'x', what: { titel: 42 } });
    await expect(misspelt).rejects.toBeInstanceOf(ValidationError);
    // @ts-expect-error: a campaign is an object
    const notAnObject = herald.campaigns.create('not even an object');
    await expect(notAnObject).rejects.toBeInstanceOf(ValidationError);
    // @ts-expect-error: `titel` is not a key of `what`
    const wrongContent = herald.campaigns.create({ ...valid, what: { titel: 'Hi' } });
    await expect(wrongContent).rejects.toBeInstanceOf(ValidationError);

    expect((await herald.campaigns.create(valid)).status).toBe('draft');
  });

  it('types profiles, subscriptions, events and segments by their schemas', async () => {
    const herald = engine();
    // @ts-expect-error: properties is a record, not a string
    await expect(herald.profiles.upsert({ userId: 'ann', properties: 'pro' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    // @ts-expect-error: an event needs a name
    await expect(herald.events.track({ userId: 'ann' })).rejects.toBeInstanceOf(ValidationError);
    const withoutKeys = {
      userId: 'ann',
      subscription: { endpoint: 'https://fcm.googleapis.com/fcm/send/x' },
    };
    // @ts-expect-error: a web push subscription needs its keys
    await expect(herald.subscriptions.add(withoutKeys)).rejects.toBeInstanceOf(ValidationError);
    // @ts-expect-error: `defintion` is misspelt
    await expect(herald.segments.create({ name: 'All', defintion: { type: 'all' } })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const profile = await herald.profiles.upsert({ userId: 'ann', properties: { plan: 'pro' } });
    expect(profile.userId).toBe('ann');
  });

  it('exposes no engine internals on Herald', () => {
    const herald = engine();
    expectTypeOf<Herald>().not.toHaveProperty('context');
    expect(Object.keys(herald)).not.toContain('context');
  });

  it('types every event a host can receive through onEvent', () => {
    expectTypeOf<HeraldEvent['type']>().toEqualTypeOf<
      'delivery' | 'occurrence-started' | 'occurrence-finished' | 'campaign-status' | 'circuit-open'
    >();
    expectTypeOf<Extract<HeraldEvent, { type: 'delivery' }>['outcome']>().toEqualTypeOf<
      'sent' | 'gone' | 'failed' | 'retry'
    >();
  });
});
