import { describe, expect, it } from 'vitest';
import { SegmentDefinition, type Subscription, type UserEvent, type UserId } from '../../src/model/index.js';
import { evaluateSegment, type SegmentSubject } from '../../src/segments/index.js';
import { profile, safariSubscription, webPushSubscription } from '../../src/testing/fixtures.js';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

const ev = (name: string, offsetMs: number, properties: UserEvent['properties'] = {}): UserEvent => ({
  userId: 'u1' as UserId,
  name,
  properties,
  time: new Date(NOW.getTime() + offsetMs),
});

const subject = (events: UserEvent[] = [], subscriptions: Subscription[] = []): SegmentSubject => ({
  profile: profile('u1'),
  events,
  subscriptions,
});

/** Parses the definition first, as the engine does: dates become Dates, `where` defaults to []. */
const is = (definition: object, s: SegmentSubject, now = NOW): boolean =>
  evaluateSegment(SegmentDefinition.parse(definition), s, now);

describe('did: counting matching events', () => {
  const three = [ev('Charged', -DAY), ev('Charged', -2 * DAY), ev('Charged', -3 * DAY), ev('Viewed', -DAY)];

  it('defaults to at least once, any time', () => {
    expect(is({ type: 'did', event: { name: 'Charged' } }, subject(three))).toBe(true);
    expect(is({ type: 'did', event: { name: 'Searched' } }, subject(three))).toBe(false);
    expect(is({ type: 'did', event: { name: 'Charged' } }, subject())).toBe(false);
  });

  it('treats a subject without an events list as having done nothing', () => {
    expect(is({ type: 'did', event: { name: 'Charged' } }, { profile: profile('u1') })).toBe(false);
    expect(is({ type: 'didNot', event: { name: 'Charged' } }, { profile: profile('u1') })).toBe(true);
  });

  it('matches event names exactly, case-sensitively', () => {
    expect(is({ type: 'did', event: { name: 'charged' } }, subject(three))).toBe(false);
    expect(is({ type: 'did', event: { name: 'Charge' } }, subject(three))).toBe(false);
  });

  it('atLeast / atMost / exactly at the boundary count', () => {
    const s = subject(three);
    const did = (op: string, value: number) =>
      is({ type: 'did', event: { name: 'Charged' }, count: { op, value } }, s);
    expect([did('atLeast', 2), did('atLeast', 3), did('atLeast', 4)]).toEqual([true, true, false]);
    expect([did('atMost', 2), did('atMost', 3), did('atMost', 4)]).toEqual([false, true, true]);
    expect([did('exactly', 2), did('exactly', 3), did('exactly', 4)]).toEqual([false, true, false]);
  });

  it('atMost and exactly 0 include users who never did it; atLeast 0 is everyone', () => {
    const none = subject([ev('Viewed', -DAY)]);
    expect(is({ type: 'did', event: { name: 'Charged' }, count: { op: 'atMost', value: 2 } }, none)).toBe(
      true,
    );
    expect(is({ type: 'did', event: { name: 'Charged' }, count: { op: 'exactly', value: 0 } }, none)).toBe(
      true,
    );
    expect(is({ type: 'did', event: { name: 'Charged' }, count: { op: 'atLeast', value: 0 } }, none)).toBe(
      true,
    );
  });

  it('rejects negative and fractional counts at parse time', () => {
    const bad = (value: number) =>
      SegmentDefinition.safeParse({ type: 'did', event: { name: 'E' }, count: { op: 'atLeast', value } })
        .success;
    expect(bad(-1)).toBe(false);
    expect(bad(1.5)).toBe(false);
  });
});

describe('event-property filters', () => {
  const events = [
    ev('Charged', -DAY, { amount: 120, currency: 'EUR', item: { category: 'shoes' } }),
    ev('Charged', -DAY, { amount: 80, currency: 'EUR' }),
    ev('Charged', -DAY, { amount: '500', currency: 'USD' }),
    ev('Charged', -DAY, { currency: null }),
  ];
  const count = (where: object[]) =>
    [0, 1, 2, 3, 4, 5].find(
      (n) =>
        !is(
          { type: 'did', event: { name: 'Charged', where }, count: { op: 'atLeast', value: n + 1 } },
          subject(events),
        ),
    );

  it('every where condition must hold on the same event', () => {
    expect(count([{ op: 'gt', property: 'amount', value: 100 }])).toBe(1);
    expect(count([{ op: 'eq', property: 'currency', value: 'EUR' }])).toBe(2);
    expect(
      count([
        { op: 'eq', property: 'currency', value: 'EUR' },
        { op: 'lt', property: 'amount', value: 100 },
      ]),
    ).toBe(1);
  });

  it('follows the property rules: no coercion, missing and null are missing, dotted paths', () => {
    // "500" is a string: not > 100.
    expect(count([{ op: 'gte', property: 'amount', value: 0 }])).toBe(2);
    expect(count([{ op: 'exists', property: 'currency' }])).toBe(3);
    expect(count([{ op: 'notExists', property: 'currency' }])).toBe(1);
    expect(count([{ op: 'neq', property: 'currency', value: 'EUR' }])).toBe(1);
    expect(count([{ op: 'eq', property: 'item.category', value: 'shoes' }])).toBe(1);
  });

  it('the filter narrows the count and firstTime / lastTime alike', () => {
    const s = subject([ev('Charged', -5 * DAY, { amount: 10 }), ev('Charged', -DAY, { amount: 200 })]);
    const big = { name: 'Charged', where: [{ op: 'gt', property: 'amount', value: 100 }] };
    expect(
      is({ type: 'firstTime', event: big, op: 'after', date: { ago: { amount: 2, unit: 'days' } } }, s),
    ).toBe(true);
    expect(
      is(
        {
          type: 'firstTime',
          event: { name: 'Charged' },
          op: 'after',
          date: { ago: { amount: 2, unit: 'days' } },
        },
        s,
      ),
    ).toBe(false);
  });
});

describe('windows', () => {
  const inLast7 = { inLast: { amount: 7, unit: 'days' } };

  it('inLast is closed at both ends: exactly D ago and exactly now count', () => {
    const did = (offset: number) =>
      is({ type: 'did', event: { name: 'E' }, window: inLast7 }, subject([ev('E', offset)]));
    expect(did(-7 * DAY)).toBe(true);
    expect(did(-7 * DAY - 1)).toBe(false);
    expect(did(0)).toBe(true);
    expect(did(-7 * DAY + 1)).toBe(true);
  });

  it('inLast excludes future-dated events; no window includes them', () => {
    const future = subject([ev('E', 1)]);
    expect(is({ type: 'did', event: { name: 'E' }, window: inLast7 }, future)).toBe(false);
    expect(is({ type: 'did', event: { name: 'E' } }, future)).toBe(true);
  });

  it('inLast supports minutes, hours and weeks as fixed durations', () => {
    const s = subject([ev('E', -90 * MINUTE)]);
    const within = (amount: number, unit: string) =>
      is({ type: 'did', event: { name: 'E' }, window: { inLast: { amount, unit } } }, s);
    expect(within(89, 'minutes')).toBe(false);
    expect(within(90, 'minutes')).toBe(true);
    expect(within(1, 'hours')).toBe(false);
    expect(within(2, 'hours')).toBe(true);
    expect(within(1, 'weeks')).toBe(true);
  });

  it('between is half-open [from, to): from counts, to does not', () => {
    const between = { between: { from: { at: '2025-02-01T00:00:00Z' }, to: { at: '2025-03-01T00:00:00Z' } } };
    const at = (iso: string) =>
      is(
        { type: 'did', event: { name: 'E' }, window: between },
        subject([{ ...ev('E', 0), time: new Date(iso) }]),
      );
    expect(at('2025-02-01T00:00:00.000Z')).toBe(true);
    expect(at('2025-01-31T23:59:59.999Z')).toBe(false);
    expect(at('2025-02-28T23:59:59.999Z')).toBe(true);
    expect(at('2025-03-01T00:00:00.000Z')).toBe(false);
  });

  it('between accepts relative bounds ("between 30 and 7 days ago")', () => {
    const window = {
      between: { from: { ago: { amount: 30, unit: 'days' } }, to: { ago: { amount: 7, unit: 'days' } } },
    };
    const did = (offset: number) =>
      is({ type: 'did', event: { name: 'E' }, window }, subject([ev('E', offset)]));
    expect(did(-30 * DAY)).toBe(true);
    expect(did(-7 * DAY)).toBe(false);
    expect(did(-7 * DAY - 1)).toBe(true);
    expect(did(-31 * DAY)).toBe(false);
  });

  it('an inverted between window is empty', () => {
    const window = { between: { from: { at: '2025-03-01' }, to: { at: '2025-02-01' } } };
    const s = subject([{ ...ev('E', 0), time: new Date('2025-02-15') }]);
    expect(is({ type: 'did', event: { name: 'E' }, window }, s)).toBe(false);
    expect(is({ type: 'didNot', event: { name: 'E' }, window }, s)).toBe(true);
  });

  it('the window applies to the count: 2 in the window, 3 in all', () => {
    const s = subject([ev('E', -1 * DAY), ev('E', -6 * DAY), ev('E', -8 * DAY)]);
    const exactly = (value: number, window?: object) =>
      is(
        { type: 'did', event: { name: 'E' }, count: { op: 'exactly', value }, ...(window ? { window } : {}) },
        s,
      );
    expect(exactly(2, inLast7)).toBe(true);
    expect(exactly(3)).toBe(true);
  });
});

describe('didNot', () => {
  it('is true when no matching event falls in the window', () => {
    const s = subject([ev('Added', -10 * DAY), ev('Charged', -DAY, { amount: 5 })]);
    const inLast7 = { inLast: { amount: 7, unit: 'days' } };
    expect(is({ type: 'didNot', event: { name: 'Added' }, window: inLast7 }, s)).toBe(true);
    expect(is({ type: 'didNot', event: { name: 'Added' } }, s)).toBe(false);
    expect(is({ type: 'didNot', event: { name: 'Charged' }, window: inLast7 }, s)).toBe(false);
    expect(
      is(
        {
          type: 'didNot',
          event: { name: 'Charged', where: [{ op: 'gt', property: 'amount', value: 10 }] },
          window: inLast7,
        },
        s,
      ),
    ).toBe(true);
  });

  it('equals not(did)', () => {
    const s = subject([ev('E', -DAY)]);
    for (const window of [
      undefined,
      { inLast: { amount: 1, unit: 'hours' } },
      { inLast: { amount: 2, unit: 'days' } },
    ]) {
      const w = window ? { window } : {};
      expect(is({ type: 'didNot', event: { name: 'E' }, ...w }, s)).toBe(
        !is({ type: 'did', event: { name: 'E' }, ...w }, s),
      );
    }
  });
});

describe('firstTime / lastTime', () => {
  const s = subject([ev('E', -10 * DAY), ev('E', -3 * DAY), ev('E', -5 * DAY), ev('Other', -30 * DAY)]);
  const check = (type: string, op: string, offset: number, who = s) =>
    is({ type, event: { name: 'E' }, op, date: { at: new Date(NOW.getTime() + offset).toISOString() } }, who);

  it('firstTime compares the earliest matching event, strictly', () => {
    expect(check('firstTime', 'before', -10 * DAY + 1)).toBe(true);
    expect(check('firstTime', 'before', -10 * DAY)).toBe(false);
    expect(check('firstTime', 'after', -10 * DAY - 1)).toBe(true);
    expect(check('firstTime', 'after', -10 * DAY)).toBe(false);
  });

  it('lastTime compares the latest matching event, strictly', () => {
    expect(check('lastTime', 'after', -3 * DAY - 1)).toBe(true);
    expect(check('lastTime', 'after', -3 * DAY)).toBe(false);
    expect(check('lastTime', 'before', -3 * DAY + 1)).toBe(true);
    expect(check('lastTime', 'before', -3 * DAY)).toBe(false);
  });

  it('is false both ways for a user who never did it', () => {
    for (const type of ['firstTime', 'lastTime'])
      for (const op of ['before', 'after'])
        expect(check(type, op, 0, subject([ev('Other', -DAY)]))).toBe(false);
  });

  it('accepts relative bounds ("last purchase more than 30 days ago")', () => {
    const lapsed = (offset: number) =>
      is(
        { type: 'lastTime', event: { name: 'E' }, op: 'before', date: { ago: { amount: 30, unit: 'days' } } },
        subject([ev('E', offset)]),
      );
    expect(lapsed(-31 * DAY)).toBe(true);
    expect(lapsed(-30 * DAY)).toBe(false);
    expect(lapsed(-29 * DAY)).toBe(false);
  });
});

describe('reachable', () => {
  const wp = webPushSubscription('u1');
  const sf = safariSubscription('u1');
  const expired = webPushSubscription('u1', 2, { expirationTime: NOW.getTime() });
  const expiresLater = webPushSubscription('u1', 3, { expirationTime: NOW.getTime() + 1 });

  it('needs at least one subscription, optionally on a target', () => {
    expect(is({ type: 'reachable' }, subject([], [wp]))).toBe(true);
    expect(is({ type: 'reachable' }, subject([], []))).toBe(false);
    expect(is({ type: 'reachable' }, { profile: profile('u1') })).toBe(false);
    expect(is({ type: 'reachable', target: 'webpush' }, subject([], [sf]))).toBe(false);
    expect(is({ type: 'reachable', target: 'safari' }, subject([], [sf]))).toBe(true);
    expect(is({ type: 'reachable', target: 'safari' }, subject([], [wp]))).toBe(false);
  });

  it('ignores web push subscriptions whose expirationTime has come (≤ now)', () => {
    expect(is({ type: 'reachable' }, subject([], [expired]))).toBe(false);
    expect(is({ type: 'reachable' }, subject([], [expiresLater]))).toBe(true);
    expect(is({ type: 'reachable', target: 'webpush' }, subject([], [expired, sf]))).toBe(false);
    expect(is({ type: 'reachable' }, subject([], [expired, sf]))).toBe(true);
  });

  it('rejects an unknown target at parse time', () => {
    expect(SegmentDefinition.safeParse({ type: 'reachable', target: 'sms' }).success).toBe(false);
  });
});

describe('composition with behaviour', () => {
  it('"added to cart in the last day and did not buy since" (abandoned cart)', () => {
    const def = {
      type: 'and',
      of: [
        { type: 'did', event: { name: 'Added' }, window: { inLast: { amount: 1, unit: 'days' } } },
        { type: 'didNot', event: { name: 'Charged' }, window: { inLast: { amount: 1, unit: 'days' } } },
        { type: 'reachable' },
      ],
    };
    const wp = webPushSubscription('u1');
    expect(is(def, subject([ev('Added', -60 * MINUTE)], [wp]))).toBe(true);
    expect(is(def, subject([ev('Added', -60 * MINUTE), ev('Charged', -30 * MINUTE)], [wp]))).toBe(false);
    expect(is(def, subject([ev('Added', -60 * MINUTE)], []))).toBe(false);
    expect(is({ type: 'not', of: def }, subject([ev('Added', -60 * MINUTE)], []))).toBe(true);
  });
});
