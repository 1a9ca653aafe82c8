import { describe, expect, it } from 'vitest';
import {
  bearerToken,
  ConfigError,
  createHerald,
  generateVapidKeys,
  type HeraldOptions,
  heraldAdminHttp,
  heraldHttp,
  type Logger,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';
import { fixtures } from '../../src/testing/index.js';
import { httpEngine } from '../http/support.js';

const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
const providers = { webpush: webPush({ vapid, encryptionWorkers: 0 }) };
const base = (): HeraldOptions => ({
  storage: memoryStorage(),
  queue: memoryQueue(),
  providers,
  logger: silentLogger,
  reportSecret: 'a-report-secret-of-32-characters',
});

/** What createHerald throws for these options: its message, or 'accepted'. */
function refusal(options: Record<string, unknown>): string {
  try {
    createHerald({ ...base(), ...options } as HeraldOptions);
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
}

/**
 * Options built in a variable or written in JavaScript escape TypeScript's excess-property check, so
 * a misspelt key was dropped without a word: `limit` for `limits` sent with no caps, `DND` for `dnd`
 * sent in quiet hours. Every options object is now strict, each bad key named with the one it was
 * meant to be.
 */
describe('createHerald options', () => {
  it.each([
    [
      { limit: { perUser: { perDay: 1 } } },
      'createHerald options: limit: unknown key; did you mean "limits"?',
    ],
    [
      { DND: { start: '21:00', end: '09:00' } },
      'createHerald options: DND: unknown key; did you mean "dnd"?',
    ],
    [
      { allowEndpoints: [] },
      'createHerald options: allowEndpoints: unknown key; did you mean "allowEndpoint"?',
    ],
    [{ onevent: () => {} }, 'createHerald options: onevent: unknown key; did you mean "onEvent"?'],
    [
      { tuning: { concurency: 8 } },
      'createHerald options: tuning.concurency: unknown key; did you mean "concurrency"?',
    ],
    [{ tuning: { pageSize: 0 } }, 'createHerald options: tuning.pageSize: at least 1'],
    [{ retry: { basems: 1000 } }, 'createHerald options: retry.basems: unknown key; did you mean "baseMs"?'],
    [{ onEvent: 'metrics' }, 'createHerald options: onEvent: must be a function'],
  ])('refuses %j', (options, message) => {
    expect(refusal(options)).toBe(message);
  });

  it('refuses a reportUrl the service worker could not post to, which would hide every notification', () => {
    expect(refusal({ reportUrl: 'example.com/herald/reports' })).toBe(
      'createHerald options: reportUrl: must be an absolute http(s) URL, such as https://example.com/herald/reports',
    );
    expect(refusal({ reportUrl: '/herald/reports' })).toMatch(/reportUrl: must be an absolute http\(s\) URL/);
    expect(refusal({ reportUrl: 'https://shop.example.com/herald/reports' })).toBe('accepted');
  });

  it('accepts every documented option', () => {
    expect(
      refusal({
        counters: undefined,
        clock: { now: () => new Date(), sleep: async () => {} },
        onEvent: () => {},
        allowEndpoint: ['http://127.0.0.1:9000', /^https:\/\/push\.example\//, () => false],
        resolveHost: async () => ['93.184.216.34'],
        reportSecret: ['a-report-secret-of-32-characters', new Uint8Array(32)],
        iconBaseUrl: 'https://shop.example.com/icons',
        renderTimeoutMs: 50,
        retry: { maxAttempts: 3, baseMs: 1000, maxMs: 60_000 },
        tuning: {
          pageSize: 500,
          batchSize: 100,
          sendConcurrency: 50,
          pollIntervalMs: 500,
          reportTokenTtlMs: 86_400_000,
          campaignRefreshMs: 1000,
          concurrency: 2,
          leaseMs: 15_000,
          maxJobAttempts: 5,
          shutdownTimeoutMs: 5000,
        },
        random: Math.random,
        limits: { perUser: { perDay: 3 } },
        defaultTimezone: 'Europe/Paris',
        dnd: { start: '21:00', end: '09:00', action: 'delay' },
      }),
    ).toBe('accepted');
  });

  it('warns of a report secret short enough to guess, and not of a long one', () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
    createHerald({ ...base(), logger, reportSecret: 'abc' });
    expect(warnings).toEqual([expect.stringMatching(/^reportSecret is shorter than 16 characters/)]);
    createHerald({ ...base(), logger, reportSecret: ['a-report-secret-of-32-characters', 'old'] });
    expect(warnings).toHaveLength(2);
    createHerald({ ...base(), logger });
    expect(warnings).toHaveLength(2);
  });
});

describe('heraldHttp options', () => {
  const herald = createHerald(base());
  it.each([
    [
      { resolveuser: () => 'ada' },
      'heraldHttp options: resolveuser: unknown key; did you mean "resolveUser"?',
    ],
    [
      { trustClientUserID: true },
      'heraldHttp options: trustClientUserID: unknown key; did you mean "trustClientUserId"?',
    ],
    [{ resolveUser: 'user.id' }, 'heraldHttp options: resolveUser: must be a function'],
  ])('refuses %j, which would leave every subscriber anonymous', (options, message) => {
    expect(() => heraldHttp(herald, options as never)).toThrow(new ConfigError(message));
  });

  it('answers 500 and logs when resolveUser returns no string: the host’s mistake, not the browser’s', async () => {
    const errors: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      error: (_message, fields) => errors.push(String(fields?.message)),
    };
    const { handle } = httpEngine({ logger, http: { resolveUser: () => 42 as never } });
    const subscription = {
      endpoint: 'https://fcm.googleapis.com/fcm/send/strict-options',
      keys: { p256dh: fixtures.P256DH, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
    };
    const answer = await handle({
      method: 'POST',
      path: '/subscriptions',
      headers: {},
      body: { subscription },
    });
    expect(answer).toEqual({
      status: 500,
      body: { error: { code: 'config_invalid', message: 'internal error' } },
    });
    expect(errors).toEqual([
      "heraldHttp resolveUser returned a number: it must return the user's id as a string, or null for an anonymous visitor",
    ]);
  });

  it('accepts its documented options', () => {
    expect(() =>
      heraldHttp(herald, {
        resolveUser: () => null,
        trustClientUserId: false,
        clientAddress: () => null,
        rateLimits: { subscribe: false },
        trustedProxies: 1,
        maxBodyBytes: 1024,
        clientRevenue: { max: 100 },
      }),
    ).not.toThrow();
  });
});

describe('heraldAdminHttp options', () => {
  const herald = createHerald(base());
  const authorize = bearerToken('an-admin-token-long-enough-0123456789');
  it('refuses a misspelt key, which would leave the spec public or CORS off without a word', () => {
    expect(() => heraldAdminHttp(herald, { authorize, openAPI: 'protected' } as never)).toThrow(
      new ConfigError('heraldAdminHttp options: openAPI: unknown key; did you mean "openapi"?'),
    );
    expect(() =>
      heraldAdminHttp(herald, { authorize, cors: { origin: ['https://a.example'] } } as never),
    ).toThrow(
      /^heraldAdminHttp options: cors\.origins: .*; cors\.origin: unknown key; did you mean "origins"\?$/,
    );
  });

  it('accepts its documented options', () => {
    expect(() =>
      heraldAdminHttp(herald, {
        authorize,
        mountPath: '/admin/api',
        maxBodyBytes: 1024,
        cors: { origins: ['https://a.example'], maxAgeSeconds: 600 },
        openapi: 'protected',
        idempotency: { ttlMs: 60_000, maxEntries: 100 },
        audit: () => {},
        logger: silentLogger,
      }),
    ).not.toThrow();
  });
});

describe('an authorize that answers something else than a decision', () => {
  it.each([
    [true, 'true'],
    [{ allowed: true }, 'an object with keys { allowed }'],
    [{ allow: true }, 'an object with keys { allow }'],
    [{ allow: false, reason: 'nope' }, 'an object with keys { allow, reason }'],
  ])('answers 500 and logs its shape, not its values, once, for %j', async (answer, shape) => {
    const errors: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      error: (_message, fields) => errors.push(`${fields?.method} ${fields?.path}: ${fields?.message}`),
    };
    const herald = createHerald(base());
    const handle = heraldAdminHttp(herald, { authorize: () => answer as never, logger });
    const response = await handle({ method: 'GET', path: '/campaigns', headers: {}, body: undefined });
    expect(response.status).toBe(500);
    expect(errors).toEqual([
      `GET /campaigns: authorize returned ${shape}: it must return { allow: true, principal } or { allow: false, reason: 'unauthenticated' | 'forbidden' }`,
    ]);
  });
});

describe('webPush options', () => {
  it.each([
    [
      { encryptionWorkers: 'two' },
      "webPush options: encryptionWorkers: must be 'auto' or a whole number of worker threads (0: none)",
    ],
    [{ encryptionWorkers: -1 }, 'webPush options: encryptionWorkers: at least 0'],
    [
      { encryptionWorker: 2 },
      'webPush options: encryptionWorker: unknown key; did you mean "encryptionWorkers"?',
    ],
    [{ timeoutMS: 5000 }, 'webPush options: timeoutMS: unknown key; did you mean "timeoutMs"?'],
  ])('refuses %j', (options, message) => {
    expect(() => webPush({ vapid, ...options } as never)).toThrow(new ConfigError(message));
  });

  it('names a missing vapid instead of failing on one of its fields', () => {
    expect(() => webPush({ Vapid: vapid } as never)).toThrow(
      new ConfigError(
        'webPush options: vapid: must be { subject, publicKey, privateKey }; Vapid: unknown key; did you mean "vapid"?',
      ),
    );
  });
});
