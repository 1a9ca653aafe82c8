import { describe, expect, it } from 'vitest';
import { createCircuitBreakers, isServiceFailure } from '../../src/delivery/circuit-breaker.js';
import { generateVapidKeys } from '../../src/delivery/vapid.js';
import { webPush } from '../../src/delivery/webpush-provider.js';
import type { PushSubscriptionJson, WebPushSubscription } from '../../src/model/index.js';
import { loopbackPushService } from './support/push-service.js';
import { storedWebPush } from './support/stored-subscription.js';

const origin = 'https://fcm.googleapis.com';
const t0 = new Date('2031-03-01T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('circuit breaker (pure, engine time)', () => {
  it('stays closed while at most half of the recent answers fail', () => {
    const breakers = createCircuitBreakers({ window: 10, minRequests: 10 });
    for (let i = 0; i < 20; i++) breakers.record(origin, i % 2 === 0, t0);
    expect(breakers.state(origin, t0)).toBe('closed');
    expect(breakers.admit(origin, t0)).toEqual({ allowed: true, probe: false });
  });

  it('does not open before minRequests answers are known', () => {
    const breakers = createCircuitBreakers({ minRequests: 5 });
    for (let i = 0; i < 4; i++) breakers.record(origin, true, t0);
    expect(breakers.state(origin, t0)).toBe('closed');
    breakers.record(origin, true, t0);
    expect(breakers.state(origin, t0)).toBe('open');
  });

  it('opens on mostly failures, refuses until openMs has passed, then lets exactly one probe through', () => {
    const breakers = createCircuitBreakers({ window: 10, minRequests: 10, openMs: 30_000 });
    for (let i = 0; i < 10; i++) breakers.record(origin, i < 6, at(i));
    expect(breakers.state(origin, at(9))).toBe('open');
    const refused = breakers.admit(origin, at(1_000));
    expect(refused).toMatchObject({ allowed: false, retryAt: at(9 + 30_000) });
    expect(refused.allowed === false && refused.reason).toContain('6 of the last 10 requests failed');

    expect(breakers.admit(origin, at(30_008)).allowed).toBe(false);
    expect(breakers.admit(origin, at(30_009))).toEqual({ allowed: true, probe: true });
    expect(breakers.state(origin, at(30_009))).toBe('half-open');
    // Others still wait while the probe is out, and come back a second later: its answer is in by then.
    expect(breakers.admit(origin, at(30_010))).toMatchObject({ allowed: false, retryAt: at(31_010) });
  });

  it('closes with a clean slate when the probe is answered', () => {
    const breakers = createCircuitBreakers({ window: 4, minRequests: 4, openMs: 1_000 });
    for (let i = 0; i < 4; i++) breakers.record(origin, true, t0);
    expect(breakers.admit(origin, at(1_000))).toEqual({ allowed: true, probe: true });
    breakers.record(origin, false, at(1_050));
    expect(breakers.state(origin, at(1_050))).toBe('closed');
    // Three new failures are not "most of four" yet: the old ones were forgotten.
    for (let i = 0; i < 3; i++) breakers.record(origin, true, at(1_100));
    expect(breakers.state(origin, at(1_100))).toBe('closed');
  });

  it('reopens for twice as long when the probe fails, capped at maxOpenMs', () => {
    const breakers = createCircuitBreakers({ window: 2, minRequests: 2, openMs: 1_000, maxOpenMs: 3_000 });
    breakers.record(origin, true, t0);
    breakers.record(origin, true, t0);
    let now = t0.getTime();
    const waits: number[] = [];
    for (let round = 0; round < 4; round++) {
      const refused = breakers.admit(origin, new Date(now));
      if (refused.allowed) throw new Error('expected the breaker open');
      waits.push(refused.retryAt.getTime() - now);
      now = refused.retryAt.getTime();
      expect(breakers.admit(origin, new Date(now))).toEqual({ allowed: true, probe: true });
      breakers.record(origin, true, new Date(now));
    }
    expect(waits).toEqual([1_000, 2_000, 3_000, 3_000]);
  });

  it('tells onChange when it opens, reopens after a failed probe and closes', () => {
    const changes: Array<{ state: string; at: number; openMs?: number }> = [];
    const breakers = createCircuitBreakers({
      window: 2,
      minRequests: 2,
      openMs: 1_000,
      onChange: (change) =>
        changes.push({
          state: change.state,
          at: change.at.getTime() - t0.getTime(),
          ...(change.openMs ? { openMs: change.openMs } : {}),
        }),
    });
    breakers.record(origin, true, at(0));
    breakers.record(origin, true, at(10));
    expect(breakers.admit(origin, at(1_010))).toEqual({ allowed: true, probe: true });
    breakers.record(origin, true, at(1_020));
    expect(breakers.admit(origin, at(3_020))).toEqual({ allowed: true, probe: true });
    breakers.record(origin, false, at(3_030));
    expect(changes).toEqual([
      { state: 'open', at: 10, openMs: 1_000 },
      { state: 'open', at: 1_020, openMs: 2_000 },
      { state: 'closed', at: 3_030 },
    ]);
  });

  it('keeps origins apart and ignores answers to requests sent before it opened', () => {
    const breakers = createCircuitBreakers({ window: 2, minRequests: 2 });
    breakers.record(origin, true, t0);
    breakers.record(origin, true, t0);
    breakers.record(origin, false, t0); // a late success from before: not a probe
    expect(breakers.state(origin, t0)).toBe('open');
    expect(breakers.state('https://updates.push.services.mozilla.com', t0)).toBe('closed');
  });

  it("counts a lost connection's failures once, and each lost connection as one", () => {
    const breakers = createCircuitBreakers({ window: 20, minRequests: 10 });
    // One connection lost with 100 streams in flight: one failure.
    for (let i = 0; i < 100; i++) breakers.record(origin, true, t0, '1:7');
    for (let i = 0; i < 9; i++) breakers.record(origin, false, t0);
    expect(breakers.state(origin, t0)).toBe('closed');
    // A service that loses every connection is failing: eleven more lost connections open it.
    for (let connection = 8; connection < 19; connection++)
      breakers.record(origin, true, t0, `1:${connection}`);
    expect(breakers.state(origin, t0)).toBe('open');
  });

  it('counts 5xx and no answer against a service, not 429 or 4xx', () => {
    const retryAt = t0;
    expect(isServiceFailure({ kind: 'retry', retryAt, statusCode: 503, reason: '' })).toBe(true);
    expect(isServiceFailure({ kind: 'retry', retryAt, statusCode: null, reason: 'timeout' })).toBe(true);
    expect(isServiceFailure({ kind: 'retry', retryAt, statusCode: 429, reason: '' })).toBe(false);
    expect(isServiceFailure({ kind: 'failed', statusCode: 400, reason: '' })).toBe(false);
    expect(isServiceFailure({ kind: 'sent', statusCode: 201 })).toBe(false);
  });
});

describe('webPush provider with the breaker, against the loopback push service', () => {
  const service = loopbackPushService();
  const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

  const subscription = (json: PushSubscriptionJson): WebPushSubscription => storedWebPush(json, t0);

  it('stops touching the network while open and resumes after a successful probe', async () => {
    const provider = webPush({ vapid, circuitBreaker: { window: 10, minRequests: 10, openMs: 60_000 } });
    try {
      const failing = service.createSubscription();
      service.respondWith(failing.endpoint, { status: 503, body: 'overloaded', times: 10 });
      const send = (now: Date) =>
        provider.send(
          { subscription: subscription(failing), payload: 'x', ttlSeconds: 60, urgency: 'normal' },
          now,
        );
      for (let i = 0; i < 10; i++) expect(await send(t0)).toMatchObject({ kind: 'retry', statusCode: 503 });

      service.clear();
      const blocked = await send(at(1_000));
      expect(blocked).toMatchObject({ kind: 'retry', statusCode: null, retryAt: at(60_000) });
      expect(blocked.kind === 'retry' && blocked.reason).toMatch(/circuit open for http:\/\/127\.0\.0\.1/);
      expect(service.received).toHaveLength(0);

      // The service has recovered (its rule ran out); the probe at the breaker's time goes through.
      expect(await send(at(60_000))).toEqual({ kind: 'sent', statusCode: 201 });
      expect(await send(at(60_001))).toEqual({ kind: 'sent', statusCode: 201 });
      expect(service.received).toHaveLength(2);
    } finally {
      await provider.close();
    }
  });
});
