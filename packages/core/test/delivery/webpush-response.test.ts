import { describe, expect, it } from 'vitest';
import type { TransportResponse } from '../../src/delivery/http-transport.js';
import {
  DEFAULT_RATE_LIMIT_RETRY_MS,
  outcomeOfNetworkError,
  outcomeOfResponse,
  parseRetryAfter,
} from '../../src/delivery/webpush-response.js';

const now = new Date('2026-05-01T08:00:00Z');
const fcm = new URL('https://fcm.googleapis.com/fcm/send/abc');
const apple = new URL('https://web.push.apple.com/QGuQ');

function answer(
  statusCode: number,
  body = '',
  headers: TransportResponse['headers'] = {},
): TransportResponse {
  return { statusCode, body, headers };
}

describe('push service answers → outcomes', () => {
  it.each([200, 201, 202])('%i is sent', (status) => {
    expect(outcomeOfResponse(answer(status), fcm, now)).toEqual({ kind: 'sent', statusCode: status });
  });

  it.each([404, 410])('%i means the subscription is gone', (status) => {
    expect(
      outcomeOfResponse(answer(status, 'push subscription has unsubscribed or expired.'), fcm, now),
    ).toEqual({
      kind: 'gone',
      statusCode: status,
    });
  });

  it('429 retries at Retry-After seconds', () => {
    expect(outcomeOfResponse(answer(429, 'slow down', { 'retry-after': '120' }), fcm, now)).toEqual({
      kind: 'retry',
      retryAt: new Date('2026-05-01T08:02:00Z'),
      statusCode: 429,
      reason: '429 Too Many Requests: slow down',
    });
  });

  it('429 retries at a Retry-After HTTP-date', () => {
    const outcome = outcomeOfResponse(
      answer(429, '', { 'retry-after': 'Fri, 01 May 2026 09:30:00 GMT' }),
      fcm,
      now,
    );
    expect(outcome).toMatchObject({ kind: 'retry', retryAt: new Date('2026-05-01T09:30:00Z') });
  });

  it('429 without a usable Retry-After waits the default minute', () => {
    for (const headers of [{}, { 'retry-after': 'soon' }]) {
      expect(outcomeOfResponse(answer(429, '', headers), fcm, now)).toMatchObject({
        kind: 'retry',
        retryAt: new Date(now.getTime() + DEFAULT_RATE_LIMIT_RETRY_MS),
      });
    }
    expect(DEFAULT_RATE_LIMIT_RETRY_MS).toBe(60_000);
  });

  it.each([500, 502, 503, 504, 408])(
    '%i retries: at Retry-After when given, else at once (the engine backs off)',
    (status) => {
      expect(outcomeOfResponse(answer(status), fcm, now)).toMatchObject({
        kind: 'retry',
        retryAt: now,
        statusCode: status,
      });
      expect(outcomeOfResponse(answer(status, '', { 'retry-after': '30' }), fcm, now)).toMatchObject({
        kind: 'retry',
        retryAt: new Date('2026-05-01T08:00:30Z'),
      });
    },
  );

  it.each([
    [400, 'UnauthorizedRegistration', '400 Bad Request: UnauthorizedRegistration'],
    [413, 'Payload too large', '413 Payload Too Large: Payload too large'],
    [
      403,
      'the key in the authorization header does not correspond to the sender ID',
      '403 Forbidden: the key',
    ],
    [400, '', '400 Bad Request'],
    [501, 'no', '501 Not Implemented: no'],
  ])('%i fails with the service’s reason (%s)', (status, body, reason) => {
    const outcome = outcomeOfResponse(answer(status, body), fcm, now);
    expect(outcome).toMatchObject({ kind: 'failed', statusCode: status });
    expect(outcome.kind === 'failed' && outcome.reason.startsWith(reason)).toBe(true);
    expect(outcome).not.toHaveProperty('configFault');
  });

  it('truncates a long reason to 500 characters of the body', () => {
    const outcome = outcomeOfResponse(answer(400, `<html>${'x'.repeat(2000)}</html>`), fcm, now);
    if (outcome.kind !== 'failed') throw new Error('expected failed');
    expect(outcome.reason).toBe(`400 Bad Request: <html>${'x'.repeat(494)}…`);
  });

  it('a 403 from Apple is a configuration fault (BadJwtToken), never retried', () => {
    expect(outcomeOfResponse(answer(403, '{"reason":"BadJwtToken"}'), apple, now)).toEqual({
      kind: 'failed',
      statusCode: 403,
      reason: '403 Forbidden: {"reason":"BadJwtToken"}',
      configFault: true,
    });
  });

  it('a 401 blames our VAPID credentials: a configuration fault', () => {
    expect(outcomeOfResponse(answer(401), fcm, now)).toMatchObject({ kind: 'failed', configFault: true });
  });

  it('no answer at all retries at once with no status', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(outcomeOfNetworkError(error, now)).toEqual({
      kind: 'retry',
      retryAt: now,
      statusCode: null,
      reason: 'connect ECONNREFUSED 127.0.0.1:9',
    });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(outcomeOfNetworkError(reset, now)).toMatchObject({ reason: 'ECONNRESET: socket hang up' });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates, clamps a past date to now, ignores nonsense', () => {
    expect(parseRetryAfter('0', now)).toEqual(now);
    expect(parseRetryAfter(' 5 ', now)).toEqual(new Date('2026-05-01T08:00:05Z'));
    expect(parseRetryAfter('Fri, 01 May 2026 07:00:00 GMT', now)).toEqual(now);
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('later', now)).toBeNull();
  });
});
