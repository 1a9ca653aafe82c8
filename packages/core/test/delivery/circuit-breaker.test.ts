import { describe, expect, it } from 'vitest';
import {
  type CircuitBreakers,
  createCircuitBreakers,
  isServiceFailure,
  MAX_WAIT_MS,
  MAX_WAITING,
} from '../../src/delivery/circuit-breaker.js';
import { generateVapidKeys } from '../../src/delivery/vapid.js';
import { webPush } from '../../src/delivery/webpush-provider.js';
import type { PushSubscriptionJson, WebPushSubscription } from '../../src/model/index.js';
import { loopbackPushService } from './support/push-service.js';
import { storedWebPush } from './support/stored-subscription.js';

const origin = 'https://fcm.googleapis.com';
const t0 = new Date('2031-03-01T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

/** A request admitted and answered at once (`failure`: 5xx or none); returns its admission. */
function answer(breakers: CircuitBreakers, failure: boolean, now: Date, lostConnection?: string) {
  const admission = breakers.admit(origin, now);
  if (!admission.allowed) throw new Error(`expected the breaker to admit: ${admission.reason}`);
  breakers.record(origin, admission.ticket, { failure, lostConnection }, now);
  return admission;
}

/** `n` requests admitted now, answered later by the caller; their tickets in send order. */
function admitted(breakers: CircuitBreakers, n: number, now: Date): number[] {
  return Array.from({ length: n }, () => {
    const admission = breakers.admit(origin, now);
    if (!admission.allowed) throw new Error(`expected the breaker to admit: ${admission.reason}`);
    return admission.ticket;
  });
}

describe('circuit breaker (pure, engine time)', () => {
  it('stays closed while at most half of the recent answers fail', () => {
    const breakers = createCircuitBreakers({ window: 10, minRequests: 10 });
    for (let i = 0; i < 20; i++) answer(breakers, i % 2 === 0, t0);
    expect(breakers.state(origin, t0)).toBe('closed');
    expect(breakers.admit(origin, t0)).toEqual({ allowed: true, probe: false, ticket: 20 });
  });

  it('does not open before minRequests answers are known', () => {
    const breakers = createCircuitBreakers({ minRequests: 5 });
    for (let i = 0; i < 4; i++) answer(breakers, true, t0);
    expect(breakers.state(origin, t0)).toBe('closed');
    answer(breakers, true, t0);
    expect(breakers.state(origin, t0)).toBe('open');
  });

  it('opens on mostly failures, refuses until openMs has passed, then lets exactly one probe through', () => {
    const breakers = createCircuitBreakers({ window: 10, minRequests: 10, openMs: 30_000 });
    for (let i = 0; i < 10; i++) answer(breakers, i < 6, at(i));
    expect(breakers.state(origin, at(9))).toBe('open');
    const refused = breakers.admit(origin, at(1_000));
    expect(refused).toMatchObject({ allowed: false, retryAt: at(9 + 30_000) });
    expect(refused.allowed === false && refused.reason).toContain('6 of the last 10 requests failed');

    expect(breakers.admit(origin, at(30_008)).allowed).toBe(false);
    expect(breakers.admit(origin, at(30_009))).toMatchObject({ allowed: true, probe: true });
    expect(breakers.state(origin, at(30_009))).toBe('half-open');
    // Others still wait while the probe is out, and come back a second later: its answer is in by then.
    expect(breakers.admit(origin, at(30_010))).toMatchObject({ allowed: false, retryAt: at(31_010) });
  });

  it('closes with a clean slate when the probe is answered', () => {
    const breakers = createCircuitBreakers({ window: 4, minRequests: 4, openMs: 1_000 });
    for (let i = 0; i < 4; i++) answer(breakers, true, t0);
    expect(answer(breakers, false, at(1_000))).toMatchObject({ allowed: true, probe: true });
    expect(breakers.state(origin, at(1_000))).toBe('closed');
    // Three new failures are not "most of four" yet: the old ones were forgotten.
    for (let i = 0; i < 3; i++) answer(breakers, true, at(1_100));
    expect(breakers.state(origin, at(1_100))).toBe('closed');
  });

  it('reopens for twice as long when the probe fails, capped at maxOpenMs', () => {
    const breakers = createCircuitBreakers({ window: 2, minRequests: 2, openMs: 1_000, maxOpenMs: 3_000 });
    answer(breakers, true, t0);
    answer(breakers, true, t0);
    let now = t0.getTime();
    const waits: number[] = [];
    for (let round = 0; round < 4; round++) {
      const refused = breakers.admit(origin, new Date(now));
      if (refused.allowed) throw new Error('expected the breaker open');
      waits.push(refused.retryAt.getTime() - now);
      now = refused.retryAt.getTime();
      expect(answer(breakers, true, new Date(now))).toMatchObject({ allowed: true, probe: true });
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
    answer(breakers, true, at(0));
    answer(breakers, true, at(10));
    expect(answer(breakers, true, at(1_010))).toMatchObject({ allowed: true, probe: true });
    expect(answer(breakers, false, at(3_010))).toMatchObject({ allowed: true, probe: true });
    expect(changes).toEqual([
      { state: 'open', at: 10, openMs: 1_000 },
      { state: 'open', at: 1_010, openMs: 2_000 },
      { state: 'closed', at: 3_010 },
    ]);
  });

  it('keeps origins apart and ignores answers to requests sent before it opened, probe or not', () => {
    const breakers = createCircuitBreakers({ window: 2, minRequests: 2, openMs: 1_000 });
    const [first = -1, second = -1, late = -1] = admitted(breakers, 3, t0);
    breakers.record(origin, first, { failure: true }, t0);
    breakers.record(origin, second, { failure: true }, t0);
    expect(breakers.state(origin, t0)).toBe('open');
    breakers.record(origin, late, { failure: false }, t0); // a late success from before: not a probe
    expect(breakers.state(origin, t0)).toBe('open');
    expect(breakers.state('https://updates.push.services.mozilla.com', t0)).toBe('closed');
    // Nor is it taken for the probe's answer while a probe is out.
    expect(breakers.admit(origin, at(1_000))).toMatchObject({ allowed: true, probe: true });
    breakers.record(origin, late, { failure: false }, at(1_001));
    expect(breakers.state(origin, at(1_001))).toBe('half-open');
  });

  it('judges answers in the order their requests went out: fast refusals ahead of slower successes do not open it', () => {
    // 400 in flight, one in ten refused at once (a 503 costs the service nothing), the others
    // accepted a moment later: judged as they came back, the first 20 answers were all refusals.
    const breakers = createCircuitBreakers();
    const tickets = admitted(breakers, 400, t0);
    const refused = tickets.filter((_, i) => i % 10 === 3);
    for (const ticket of refused) breakers.record(origin, ticket, { failure: true }, at(5));
    expect(breakers.state(origin, at(5))).toBe('closed');
    for (const ticket of tickets.filter((_, i) => i % 10 !== 3))
      breakers.record(origin, ticket, { failure: false }, at(50));
    expect(breakers.state(origin, at(50))).toBe('closed');
    expect(breakers.admit(origin, at(50))).toMatchObject({ allowed: true, probe: false, ticket: 400 });
  });

  it('still opens on a service failing most requests, whatever order the answers come back in', () => {
    const breakers = createCircuitBreakers();
    const tickets = admitted(breakers, 400, t0);
    // Six in ten refused, answered in reverse: judged once the earliest answers are in.
    for (const ticket of [...tickets].reverse())
      breakers.record(origin, ticket, { failure: ticket % 10 < 6 }, at(5));
    expect(breakers.state(origin, at(5))).toBe('open');
  });

  it('holds answers back behind an unanswered request sent at most MAX_WAIT_MS before theirs', () => {
    // A request the service holds for seconds (or until it times out) must not delay the verdict on
    // an outage that began meanwhile.
    const breakers = createCircuitBreakers();
    const [slow = -1] = admitted(breakers, 1, t0);
    for (let i = 0; i < 15; i++) answer(breakers, true, at(MAX_WAIT_MS));
    expect(breakers.state(origin, at(MAX_WAIT_MS))).toBe('closed'); // fifteen failures held behind it
    answer(breakers, true, at(MAX_WAIT_MS + 1));
    expect(breakers.state(origin, at(MAX_WAIT_MS + 1))).toBe('open'); // judged now: ten of ten opened it
    breakers.record(origin, slow, { failure: false }, t0); // too late to count
    expect(breakers.state(origin, at(MAX_WAIT_MS + 1))).toBe('open');
  });

  it('gives up on a request that never answers once MAX_WAITING later answers wait behind it', () => {
    const breakers = createCircuitBreakers();
    const [hanging = -1, ...rest] = admitted(breakers, MAX_WAITING + 20, t0);
    for (const ticket of rest.slice(0, MAX_WAITING))
      breakers.record(origin, ticket, { failure: true }, at(1));
    expect(breakers.state(origin, at(1))).toBe('closed'); // all held behind the first
    breakers.record(origin, rest[MAX_WAITING] ?? -1, { failure: true }, at(2));
    expect(breakers.state(origin, at(2))).toBe('open');
    breakers.record(origin, hanging, { failure: false }, at(3)); // too late to count
    expect(breakers.state(origin, at(3))).toBe('open');
  });

  it('takes a request that never reached the service as no answer, and hands a probe that did not go out to the next request', () => {
    const breakers = createCircuitBreakers({ window: 4, minRequests: 4, openMs: 1_000 });
    const [unsent = -1] = admitted(breakers, 1, t0);
    for (let i = 0; i < 3; i++) answer(breakers, true, t0);
    expect(breakers.state(origin, t0)).toBe('closed'); // three answers behind the unsent request
    breakers.record(origin, unsent, 'not-sent', t0);
    expect(breakers.state(origin, t0)).toBe('closed'); // three failures of three: below minRequests
    answer(breakers, true, t0);
    expect(breakers.state(origin, t0)).toBe('open');

    const probe = breakers.admit(origin, at(1_000));
    if (!probe.allowed || !probe.probe) throw new Error('expected a probe');
    expect(breakers.admit(origin, at(1_000)).allowed).toBe(false);
    breakers.record(origin, probe.ticket, 'not-sent', at(1_000));
    expect(answer(breakers, false, at(1_001))).toMatchObject({ allowed: true, probe: true });
    expect(breakers.state(origin, at(1_001))).toBe('closed');
  });

  it("counts a lost connection's failures once, and each lost connection as one", () => {
    const breakers = createCircuitBreakers({ window: 20, minRequests: 10 });
    // One connection lost with 100 streams in flight: one failure.
    for (let i = 0; i < 100; i++) answer(breakers, true, t0, '1:7');
    for (let i = 0; i < 9; i++) answer(breakers, false, t0);
    expect(breakers.state(origin, t0)).toBe('closed');
    // A service that loses every connection is failing: nine more lost connections open it (10 of 19).
    let lost = 0;
    while (breakers.state(origin, t0) === 'closed') answer(breakers, true, t0, `1:${8 + lost++}`);
    expect(lost).toBe(9);
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
