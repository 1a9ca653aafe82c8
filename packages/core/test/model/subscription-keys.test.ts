import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createHerald,
  generateVapidKeys,
  heraldHttp,
  isP256PublicKey,
  memoryQueue,
  memoryStorage,
  silentLogger,
  webPush,
} from '../../src/index.js';

/** A browser's subscription keys are checked when it subscribes, not found bad at the first send. */
describe('subscription keys', () => {
  const browserKey = () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    return ecdh.getPublicKey();
  };

  it('accepts uncompressed P-256 points and refuses anything else', () => {
    for (let n = 0; n < 20; n++) expect(isP256PublicKey(browserKey().toString('base64url'))).toBe(true);
    const key = browserKey();
    const offCurve = Buffer.from(key);
    offCurve[64] = (offCurve[64] as number) ^ 1;
    const compressed = createECDH('prime256v1');
    compressed.generateKeys();
    const wrongPrefix = Buffer.from(key);
    wrongPrefix[0] = 0x05;
    const xAtP = Buffer.concat([Buffer.from([4]), Buffer.alloc(32, 0xff), key.subarray(33)]);
    for (const bad of [
      offCurve,
      compressed.getPublicKey(undefined, 'compressed'),
      wrongPrefix,
      xAtP,
      Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]),
      key.subarray(0, 64),
    ]) {
      expect(isP256PublicKey(bad.toString('base64url'))).toBe(false);
    }
    expect(isP256PublicKey('not base64 at all!')).toBe(false);
  });

  it('refuses a bad p256dh or an auth secret that is not 16 bytes at subscribe, naming the field', async () => {
    const storage = memoryStorage();
    const herald = createHerald({
      storage,
      queue: memoryQueue(),
      providers: {
        webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
      },
      logger: silentLogger,
    });
    const handle = heraldHttp(herald);
    const subscribe = (keys: { p256dh: string; auth: string }) =>
      handle({
        method: 'POST',
        path: '/subscriptions',
        headers: {},
        body: { subscription: { endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys } },
      });
    const p256dh = browserKey().toString('base64url');
    const offCurve = Buffer.from(p256dh, 'base64url');
    offCurve[64] = (offCurve[64] as number) ^ 1;
    const cases = [
      {
        keys: { p256dh: offCurve.toString('base64url'), auth: randomBytes(16).toString('base64url') },
        path: 'subscription.keys.p256dh',
      },
      { keys: { p256dh, auth: randomBytes(15).toString('base64url') }, path: 'subscription.keys.auth' },
      { keys: { p256dh, auth: randomBytes(17).toString('base64url') }, path: 'subscription.keys.auth' },
      // Not base64url at all (found by the fuzz test: decoding it threw, a 500).
      { keys: { p256dh, auth: '\u0000' }, path: 'subscription.keys.auth' },
      {
        keys: { p256dh: `${p256dh.slice(0, -1)}\u0000`, auth: randomBytes(16).toString('base64url') },
        path: 'subscription.keys.p256dh',
      },
    ];
    for (const { keys, path } of cases) {
      const answer = await subscribe(keys);
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
      const issues = (answer.body as { error: { issues: Array<{ path: string }> } }).error.issues;
      expect(issues.length).toBeGreaterThan(0);
      expect(issues.map((issue) => issue.path)).toEqual(issues.map(() => path));
    }
    expect(await herald.subscriptions.list('anyone')).toEqual([]);
    expect((await subscribe({ p256dh, auth: randomBytes(16).toString('base64url') })).status).toBe(201);
  });
});
