import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Campaign,
  CampaignInput,
  closestKey,
  createHerald,
  type FieldIssue,
  generateVapidKeys,
  HeraldError,
  heraldHttp,
  memoryQueue,
  memoryStorage,
  NotFoundError,
  ValidationError,
  webPush,
} from '../../src/index.js';
import { fakeClock, fixtures } from '../../src/testing/index.js';

/**
 * Strict validation at every entry point: unknown keys are refused with a
 * suggestion, URLs are checked at create, nested mistakes keep their path,
 * messages say what was expected, and no value a JavaScript caller can pass
 * gets anything but a ValidationError or a NotFoundError.
 */

const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
const endpoint = 'https://fcm.googleapis.com/fcm/send/abc';
const keys = { p256dh: fixtures.P256DH, auth: 'A'.repeat(22) };

/**
 * Herald as a JavaScript caller sees it: every argument unchecked at compile time, so these tests
 * can pass what TypeScript would refuse and see what the runtime says.
 */
type AsJavaScript<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R
    ? (...args: { [I in keyof A]: unknown }) => R
    : T[K] extends object
      ? AsJavaScript<T[K]>
      : T[K];
};

function setup() {
  const typed = createHerald({
    storage: memoryStorage(),
    queue: memoryQueue(),
    providers: { webpush: webPush({ vapid }) },
    clock: fakeClock('2026-02-01T08:00:00Z'),
    reportSecret: 'a-secret-that-is-long-enough-for-hmac',
  });
  const herald = typed as unknown as AsJavaScript<typeof typed>;
  return { herald, handle: heraldHttp(typed, { trustClientUserId: true }) };
}

const campaign = {
  name: 'Spring sale',
  when: { schedule: { type: 'once', at: '2026-03-01T10:00:00Z' } },
  who: { segment: { type: 'all' } },
  what: { title: 'Hi', deeplink: 'https://shop.example.com/sale' },
};
const withWhen = (when: object) => ({ ...campaign, when: { ...campaign.when, ...when } });
const withWhat = (what: object) => ({ ...campaign, what: { ...campaign.what, ...what } });

async function issuesOf(attempt: Promise<unknown>): Promise<FieldIssue[]> {
  const error = await attempt.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).issues;
}

describe('campaigns.create refuses what it used to ignore, naming the field', () => {
  const { herald } = setup();
  const cases: Array<[string, object, FieldIssue[]]> = [
    [
      'when.timeZone',
      withWhen({ timeZone: 'Europe/Paris' }),
      [{ path: 'when.timeZone', message: 'unknown key; did you mean "timezone"?' }],
    ],
    [
      'what.ttl',
      withWhat({ ttl: 3600 }),
      [{ path: 'what.ttl', message: 'unknown key; did you mean "ttlSeconds"?' }],
    ],
    [
      "an action's deeplink",
      withWhat({
        actions: [
          { id: 'a', title: 'Open' },
          { id: 'b', title: 'Shop', deeplink: 'https://x.com' },
        ],
      }),
      [{ path: 'what.actions[1].deeplink', message: 'unknown key; did you mean "url"?' }],
    ],
    [
      'a javascript: deeplink',
      withWhat({ deeplink: 'javascript:alert(1)' }),
      [{ path: 'what.deeplink', message: 'must be an http(s) URL such as https://example.com/page' }],
    ],
    [
      'a data: image',
      withWhat({ image: 'data:image/png;base64,AAAA' }),
      [{ path: 'what.image', message: 'must be an http(s) URL such as https://example.com/page' }],
    ],
    [
      'a templated deeplink without a static prefix',
      withWhat({ deeplink: '{{ user.home }}/sale' }),
      [
        {
          path: 'what.deeplink',
          message:
            'a templated URL must start with a static http:// or https:// before its first {{ }} tag, such as https://example.com/{{ path }}',
        },
      ],
    ],
    [
      'an action URL that is not http(s)',
      withWhat({ actions: [{ id: 'a', title: 'Open', url: 'ftp://x.com/file' }] }),
      [{ path: 'what.actions[0].url', message: 'must be an http(s) URL such as https://example.com/page' }],
    ],
    [
      'a segment mistake inside who',
      { ...campaign, who: { segment: { type: 'property', condition: { op: 'equals', property: 'plan' } } } },
      [
        {
          path: 'who.segment.condition.op',
          message:
            'one of eq, neq, in, contains, startsWith, exists, notExists, gt, gte, lt, lte, between, before, after',
        },
      ],
    ],
    [
      'a nested segment mistake inside who',
      {
        ...campaign,
        who: {
          segment: { type: 'and', of: [{ type: 'all' }, { type: 'did', event: { name: 'x', when: 1 } }] },
        },
      },
      [{ path: 'who.segment.of[1].event.when', message: 'unknown key' }],
    ],
    [
      "'tomorrow 10am'",
      withWhen({ schedule: { type: 'once', at: 'tomorrow 10am' } }),
      [{ path: 'when.schedule.at', message: 'expected an ISO 8601 instant such as 2026-03-01T10:00:00Z' }],
    ],
    [
      'an unknown schedule type',
      withWhen({ schedule: { type: 'weekly' } }),
      [
        {
          path: 'when.schedule.type',
          message: 'one of once, dates, recurring, onEvent, inaction, eventDate',
        },
      ],
    ],
    [
      'a name and a title too long, an urgency not in the list',
      { ...withWhat({ title: 'x'.repeat(257), urgency: 'urgent' }), name: 'n'.repeat(201) },
      [
        { path: 'name', message: 'at most 200 characters' },
        { path: 'what.title', message: 'at most 256 characters' },
        { path: 'what.urgency', message: 'one of very-low, low, normal, high' },
      ],
    ],
    [
      'a number where a string belongs',
      { ...campaign, name: 42 },
      [{ path: 'name', message: 'expected a string, received a number' }],
    ],
    [
      'neither an inline nor a saved segment',
      { ...campaign, who: {} },
      [{ path: 'who', message: 'expected { segment: <definition> } or { segmentId: "<saved segment id>" }' }],
    ],
    [
      'a misspelt segmentId, which both forms of who refuse',
      { ...campaign, who: { segmentID: 'seg_1' } },
      [{ path: 'who.segmentID', message: 'unknown key; did you mean "segmentId"?' }],
    ],
    [
      'a misspelt key deep inside an inline segment',
      {
        ...campaign,
        who: { segment: { type: 'property', condition: { op: 'eq', prop: 'plan', value: 'pro' } } },
      },
      [
        { path: 'who.segment.condition.property', message: 'required' },
        { path: 'who.segment.condition.prop', message: 'unknown key; did you mean "property"?' },
      ],
    ],
  ];
  it.each(cases)('%s', async (_label, input, expected) => {
    expect(await issuesOf(herald.campaigns.create(input))).toEqual(expected);
  });

  it('accepts a templated deeplink and image with a static http(s) prefix', async () => {
    const created = await herald.campaigns.create(
      withWhat({
        deeplink: 'https://shop.example.com/p/{{ event.sku }}',
        image: 'http://cdn.example.com/{{ event.sku }}.png',
      }),
    );
    expect(created.what.deeplink).toBe('https://shop.example.com/p/{{ event.sku }}');
  });

  it('names the same segment field through segments.create', async () => {
    const definition = { type: 'property', condition: { op: 'equals', property: 'plan' } };
    expect(await issuesOf(herald.segments.create({ name: 'n', definition }))).toEqual([
      {
        path: 'definition.condition.op',
        message:
          'one of eq, neq, in, contains, startsWith, exists, notExists, gt, gte, lt, lte, between, before, after',
      },
    ]);
  });

  it('refuses unknown keys in profiles, subscriptions and events too', async () => {
    expect(await issuesOf(herald.profiles.upsert({ userId: 'u', timeZone: 'UTC' }))).toEqual([
      { path: 'timeZone', message: 'unknown key; did you mean "timezone"?' },
    ]);
    expect(
      await issuesOf(
        herald.subscriptions.add({ userId: 'u', subscription: { endpoint, keys }, platform: 'x' }),
      ),
    ).toEqual([{ path: 'platform', message: 'unknown key' }]);
    // userAgent is known, and checked: printable ASCII, at most 512 characters.
    expect(
      await issuesOf(
        herald.subscriptions.add({
          userId: 'u',
          subscription: { endpoint, keys },
          userAgent: 'x'.repeat(513),
        }),
      ),
    ).toEqual([{ path: 'userAgent', message: expect.stringContaining('512') }]);
    expect(await issuesOf(herald.events.track({ userId: 'u', name: 'Charged', props: {} }))).toEqual([
      { path: 'props', message: 'unknown key; did you mean "properties"?' },
    ]);
  });

  it('keeps free-form records free: properties, event properties and metadata take any names', async () => {
    const props = { anyName: 1, nested: { deep: ['x'] } };
    await expect(herald.profiles.upsert({ userId: 'u', properties: props })).resolves.toBeTruthy();
    await expect(herald.events.track({ userId: 'u', name: 'x', properties: props })).resolves.toBeTruthy();
    await expect(herald.campaigns.create({ ...campaign, metadata: props })).resolves.toBeTruthy();
  });
});

describe('HTTP bodies are parsed as strictly', () => {
  it('refuses a subscription body with an unknown key, with its path and a suggestion', async () => {
    const { handle } = setup();
    const response = await handle({
      method: 'POST',
      path: '/subscriptions',
      headers: {},
      body: { subscription: { endpoint, keys }, timeZone: 'Europe/Paris' },
    });
    expect(response).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'validation_failed',
          issues: [{ path: 'timeZone', message: 'unknown key; did you mean "timezone"?' }],
        },
      },
    });
  });

  it('accepts the bodies the browser SDK and service worker send', async () => {
    const { handle, herald } = setup();
    // packages/browser-sdk/src/client.ts subscribe(): subscription, userId, timezone, oldEndpoint.
    const subscribed = await handle({
      method: 'POST',
      path: '/subscriptions',
      headers: {},
      body: {
        subscription: { endpoint, expirationTime: null, keys },
        userId: 'u1',
        timezone: 'Europe/Paris',
        oldEndpoint: 'https://fcm.googleapis.com/fcm/send/old',
      },
    });
    expect(subscribed.status).toBe(201);
    // track(): userId, endpoint, name, properties.
    const tracked = await handle({
      method: 'POST',
      path: '/events',
      headers: {},
      body: { userId: 'u1', endpoint, name: 'Viewed', properties: { page: '/' } },
    });
    expect(tracked.status).toBe(202);
    expect(await herald.subscriptions.list('u1')).toHaveLength(1);
  });

  it('refuses an event body with an unknown key', async () => {
    const { handle } = setup();
    const response = await handle({
      method: 'POST',
      path: '/events',
      headers: {},
      body: { userId: 'u1', event: 'Viewed' },
    });
    expect(response.status).toBe(400);
    expect((response.body as { error: { issues: FieldIssue[] } }).error.issues).toEqual([
      { path: 'name', message: 'required' },
      { path: 'event', message: 'unknown key' },
    ]);
  });
});

describe('stored rows stay readable', () => {
  it('a stored campaign with a key this version does not know and a javascript: deeplink still reads', () => {
    const stored = {
      ...CampaignInput.parse(campaign),
      what: { ...CampaignInput.parse(campaign).what, deeplink: 'javascript:alert(1)', addedLater: true },
      id: 'cmp_1',
      status: 'draft',
      createdAt: '2026-02-01T08:00:00.000Z',
      updatedAt: '2026-02-01T08:00:00.000Z',
      nextRunAt: null,
      version: 0,
      addedLater: 1,
    };
    const read = Campaign.parse(stored);
    expect(read.what.deeplink).toBe('javascript:alert(1)');
    expect('addedLater' in read || 'addedLater' in read.what).toBe(false);
    expect(CampaignInput.safeParse(campaign).success).toBe(true);
  });
});

describe('suggestions', () => {
  it('prefers the same letters in another case, then a key it abbreviates, then a near typo', () => {
    expect(closestKey('timeZone', ['timezone', 'start'])).toBe('timezone');
    expect(closestKey('ttl', ['title', 'ttlSeconds'])).toBe('ttlSeconds');
    expect(closestKey('nmae', ['name', 'labels'])).toBe('name');
    expect(closestKey('titel', ['title', 'body'])).toBe('title');
    expect(closestKey('zzz', ['title', 'body'])).toBeUndefined();
  });
});

describe('JavaScript callers with wrong values get a ValidationError or a NotFoundError', () => {
  const { herald } = setup();
  const wrongValues: unknown[] = [
    'not an object',
    null,
    undefined,
    42,
    true,
    [],
    [1, 2],
    { nope: 1 },
    () => 1,
  ];
  const entryPoints: Array<[string, (value: unknown) => Promise<unknown>]> = [
    ['campaigns.create', (value) => herald.campaigns.create(value as never)],
    ['campaigns.get', (value) => herald.campaigns.get(value as never)],
    ['campaigns.schedule', (value) => herald.campaigns.schedule(value as never)],
    ['campaigns.pause', (value) => herald.campaigns.pause(value as never)],
    ['campaigns.resume', (value) => herald.campaigns.resume(value as never)],
    ['campaigns.stop', (value) => herald.campaigns.stop(value as never)],
    ['campaigns.stats', (value) => herald.campaigns.stats(value as never)],
    ['campaigns.forecast', (value) => herald.campaigns.forecast(value as never)],
    ['campaigns.preview', (value) => herald.campaigns.preview(value as never, value as never)],
    ['campaigns.sendTest', (value) => herald.campaigns.sendTest(value as never, value as never)],
    ['campaigns.explain', (value) => herald.campaigns.explain(value as never, value as never)],
    ['segments.create', (value) => herald.segments.create(value as never)],
    ['segments.update', (value) => herald.segments.update(value as never, value as never)],
    ['segments.get', (value) => herald.segments.get(value as never)],
    ['segments.usedBy', (value) => herald.segments.usedBy(value as never)],
    ['segments.delete', (value) => herald.segments.delete(value as never)],
    ['segments.estimateReach', (value) => herald.segments.estimateReach(value as never)],
    ['profiles.upsert', (value) => herald.profiles.upsert(value as never)],
    ['profiles.get', (value) => herald.profiles.get(value as never)],
    ['subscriptions.add', (value) => herald.subscriptions.add(value as never)],
    ['subscriptions.list', (value) => herald.subscriptions.list(value as never)],
    ['subscriptions.remove', (value) => herald.subscriptions.remove(value as never)],
    ['subscriptions.removeByEndpoint', (value) => herald.subscriptions.removeByEndpoint(value as never)],
    ['events.track', (value) => herald.events.track(value as never)],
    ['campaigns.list', (value) => herald.campaigns.list(value as never)],
    ['subscriptions.idForEndpoint', async (value) => herald.subscriptions.idForEndpoint(value as never)],
  ];

  async function outcome(call: () => Promise<unknown>): Promise<string> {
    try {
      await call();
      return 'ok';
    } catch (error) {
      if (error instanceof ValidationError) return 'validation';
      if (error instanceof NotFoundError) return 'not-found';
      return `${error instanceof HeraldError ? error.code : (error as Error).name}: ${(error as Error).message}`;
    }
  }

  it.each(entryPoints)('%s', async (_name, call) => {
    for (const value of wrongValues) {
      expect(['validation', 'not-found', 'ok'], `${String(value)}`).toContain(
        await outcome(() => call(value)),
      );
    }
    // Objects that are not what each entry point takes are refused, never stored.
    expect(await outcome(() => call({ nope: 1 }))).not.toBe('ok');
  });

  it('verifyReportToken answers null for anything that is not a valid token', () => {
    for (const value of wrongValues) expect(herald.verifyReportToken(value as never)).toBeNull();
  });

  it('campaigns.create, profiles.upsert, subscriptions.add and events.track refuse non-objects with a clear message', async () => {
    expect(await issuesOf(herald.campaigns.create('not an object' as never))).toEqual([
      { path: '', message: 'expected an object, received a string ("not an object")' },
    ]);
    expect(await issuesOf(herald.campaigns.create(null as never))).toEqual([
      { path: '', message: 'expected an object, received null' },
    ]);
    expect(await issuesOf(herald.profiles.upsert(42 as never))).toEqual([
      { path: '', message: 'expected an object, received a number' },
    ]);
    expect(await issuesOf(herald.events.track(undefined as never))).toEqual([
      { path: '', message: 'required' },
    ]);
    expect(await issuesOf(herald.subscriptions.add([] as never))).toEqual([
      { path: '', message: 'expected an object, received an array' },
    ]);
  });

  it('random JSON values never produce anything but ValidationError or NotFoundError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...entryPoints),
        fc.oneof(
          fc.jsonValue(),
          fc.record({ userId: fc.jsonValue(), name: fc.jsonValue(), properties: fc.jsonValue() }),
          fc.record({
            name: fc.jsonValue(),
            when: fc.jsonValue(),
            who: fc.jsonValue(),
            what: fc.jsonValue(),
          }),
        ),
        async ([, call], value) => {
          expect(['validation', 'not-found', 'ok']).toContain(await outcome(() => call(value)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
