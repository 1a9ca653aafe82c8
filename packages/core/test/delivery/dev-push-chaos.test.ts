import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../src/delivery/outcome.js';
import { pooledHttpTransport } from '../../src/delivery/pooled-http-transport.js';
import { generateVapidKeys } from '../../src/delivery/vapid.js';
import { webPush } from '../../src/delivery/webpush-provider.js';
import { Chaos, type ChaosAnswer } from '../../src/dev/chaos.js';
import { createDevPushService, type DevPushService } from '../../src/dev/push-service.js';
import { ValidationError } from '../../src/errors/index.js';
import { storedWebPush } from './support/stored-subscription.js';

const ISSUE_RATES = { unavailable: 0.1, tooManyRequests: 0.05, reset: 0.02, slow: 0.01, gone: 0.03 };

describe('chaos decisions (no network)', () => {
  it('draws each answer at its rate, within three standard deviations over 40,000 requests', () => {
    const chaos = new Chaos({ ...ISSUE_RATES, seed: 7 });
    const requests = 40_000;
    for (let i = 0; i < requests; i++) {
      const endpoint = `https://push.example/${i}`;
      chaos.created(endpoint);
      chaos.decide(endpoint, i);
    }
    const counts = chaos.counts();
    const expected: Array<[ChaosAnswer, number]> = [
      ['gone', 0.03],
      // The per-request rates apply to the subscriptions that are not gone.
      ['unavailable', 0.1 * 0.97],
      ['tooManyRequests', 0.05 * 0.97],
      ['reset', 0.02 * 0.97],
      ['slow', 0.01 * 0.97],
    ];
    for (const [answer, rate] of expected) {
      const tolerance = 3 * Math.sqrt(requests * rate * (1 - rate));
      expect(Math.abs(counts[answer] - requests * rate), answer).toBeLessThan(tolerance);
    }
    expect(Object.values(counts).reduce((sum, n) => sum + n, 0)).toBe(requests);
  });

  it('is the same run for the same seed, another for another seed', () => {
    const run = (seed: number) => {
      const chaos = new Chaos({ ...ISSUE_RATES, seed });
      return Array.from({ length: 500 }, (_, i) => {
        chaos.created(`https://push.example/${i}`);
        return chaos.decide(`https://push.example/${i}`, i).answer;
      });
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('keeps a gone subscription gone for every later request', () => {
    const chaos = new Chaos({ gone: 0.5, unavailable: 0.5, seed: 11 });
    const endpoints = Array.from({ length: 200 }, (_, i) => `https://push.example/${i}`);
    for (const endpoint of endpoints) chaos.created(endpoint);
    expect(chaos.goneEndpoints.size).toBeGreaterThan(60);
    expect(chaos.goneEndpoints.size).toBeLessThan(140);
    for (let round = 0; round < 5; round++) {
      for (const endpoint of endpoints) {
        const { answer } = chaos.decide(endpoint, round);
        expect(answer === 'gone').toBe(chaos.goneEndpoints.has(endpoint));
      }
    }
  });

  it('asks for GOAWAY after every N requests', () => {
    const chaos = new Chaos({ goAwayEvery: 4 });
    const after = Array.from({ length: 12 }, (_, i) => chaos.decide('https://push.example/a', i).goAway);
    expect(after.flatMap((goAway, i) => (goAway ? [i + 1] : []))).toEqual([4, 8, 12]);
    expect(chaos.goAways).toBe(3);
  });

  it('answers every request 503 during an outage that starts after N requests and lasts its duration', () => {
    const chaos = new Chaos({ outage: { afterRequests: 3, durationMs: 1_000 } });
    const answers = [0, 1, 2, 100, 500, 1_099, 1_100, 2_000].map(
      (at) => chaos.decide('https://push.example/a', at).answer,
    );
    expect(answers).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'outage',
      'outage',
      'outage',
      'accepted',
      'accepted',
    ]);
  });

  it('refuses bad options with a ValidationError naming the field', () => {
    expect(() => new Chaos({ unavailable: 1.5 })).toThrow(ValidationError);
    expect(() => new Chaos({ unavailable: 0.6, reset: 0.6 })).toThrow(/must not exceed 1/);
    expect(() => new Chaos({ goAwayEvery: 0 })).toThrow(/goAwayEvery/);
    expect(() => new Chaos({ unknown: 1 } as never)).toThrow(ValidationError);
    expect(() => createDevPushService({ chaos: { slowMs: -1 } })).toThrow(/slowMs/);
  });
});

describe('chaos mode over the wire (HTTP/2, webPush provider)', () => {
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };
  let service: DevPushService | null = null;
  afterEach(async () => {
    await service?.stop();
    service = null;
  });

  async function started(chaos: NonNullable<Parameters<typeof createDevPushService>[0]>['chaos']) {
    service = createDevPushService({ tls: true, chaos });
    await service.start();
    const running = service;
    const provider = webPush({
      vapid,
      transport: pooledHttpTransport({ ca: running.ca }),
      encryptionWorkers: 0,
      circuitBreaker: false,
    });
    const send = (n: number, at?: Date): Promise<DeliveryOutcome> => {
      const subscription = storedWebPush(running.createSubscription(), new Date(), n);
      const message = {
        subscription,
        payload: JSON.stringify({ n }),
        ttlSeconds: 60,
        urgency: 'normal' as const,
      };
      return provider.send(message, at ?? new Date());
    };
    return { service: running, provider, send };
  }

  it('answers 429 with its Retry-After, which the provider turns into the retry instant', async () => {
    const { provider, send } = await started({ tooManyRequests: 1, retryAfterSeconds: 7 });
    try {
      const outcome = await send(1);
      const answered = Date.now();
      expect(outcome).toMatchObject({ kind: 'retry', statusCode: 429 });
      // Counted from the answer, which came after the service's decision and before `answered`.
      const decidedAt = service?.chaos?.answers[0]?.at ?? Number.POSITIVE_INFINITY;
      const retryAt = outcome.kind === 'retry' ? outcome.retryAt.getTime() : 0;
      // Both instants are whole milliseconds, read by different code: 1 ms either way is the clock's grain.
      expect(retryAt).toBeGreaterThanOrEqual(decidedAt + 7_000 - 1);
      expect(retryAt).toBeLessThanOrEqual(answered + 7_000 + 1);
      expect(service?.chaos?.answers).toMatchObject([{ answer: 'tooManyRequests', retryAfterSeconds: 7 }]);
    } finally {
      await provider.close();
    }
  });

  it('takes a message and then resets the stream: the sender sees no answer, the service kept it', async () => {
    const { service: running, provider, send } = await started({ reset: 1 });
    try {
      expect(await send(1)).toMatchObject({ kind: 'retry', statusCode: null });
      expect(running.received).toHaveLength(1);
      expect(running.received[0]).toMatchObject({ plaintext: '{"n":1}', chaos: 'reset' });
    } finally {
      await provider.close();
    }
  });

  it('answers slow messages 201 after slowMs', async () => {
    const { service: running, provider, send } = await started({ slow: 1, slowMs: 300 });
    try {
      const began = Date.now();
      expect(await send(1)).toEqual({ kind: 'sent', statusCode: 201 });
      expect(Date.now() - began).toBeGreaterThanOrEqual(290);
      expect(running.received[0]?.chaos).toBe('slow');
    } finally {
      await provider.close();
    }
  });

  it('answers 410 forever to a gone subscription', async () => {
    const { service: running, provider } = await started({ gone: 1 });
    try {
      const subscription = storedWebPush(running.createSubscription(), new Date());
      const message = { subscription, payload: 'x', ttlSeconds: 60, urgency: 'normal' as const };
      for (let i = 0; i < 3; i++)
        expect(await provider.send(message, new Date())).toMatchObject({ kind: 'gone', statusCode: 410 });
      expect(running.chaos?.counts().gone).toBe(3);
      expect(running.received).toHaveLength(0);
    } finally {
      await provider.close();
    }
  });

  it('sends GOAWAY after every N requests; the sender reconnects and nothing is lost or doubled', async () => {
    const { service: running, provider, send } = await started({ goAwayEvery: 5 });
    try {
      const outcomes = await Promise.all(Array.from({ length: 23 }, (_, n) => send(n)));
      expect(outcomes.every((outcome) => outcome.kind === 'sent')).toBe(true);
      expect(running.chaos?.goAways).toBe(4);
      const bodies = running.received.map((message) => message.plaintext).sort();
      expect(new Set(bodies).size).toBe(23);
      expect(bodies).toHaveLength(23);
    } finally {
      await provider.close();
    }
  });
});
