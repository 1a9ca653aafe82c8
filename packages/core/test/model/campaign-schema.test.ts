import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors/index.js';
import { CampaignInput, ProfileInput, SegmentDefinition, SubscriptionInput } from '../../src/model/index.js';
import { fixtures } from '../../src/testing/index.js';

const what = { title: 'Hi {{ user.first_name }}', body: 'News', deeplink: 'https://example.com/n' };
const who = { segment: { type: 'all' } };

function issuesOf(input: unknown) {
  const result = CampaignInput.safeParse(input);
  expect(result.success).toBe(false);
  if (result.success) return [];
  return ValidationError.fromZod('campaign', result.error).issues;
}

describe('campaign schema: every campaign type parses', () => {
  const schedules = {
    once: { type: 'once', at: '2026-12-01T09:00:00Z' },
    dates: { type: 'dates', at: ['2026-12-01T09:00:00Z', '2026-12-08T09:00:00Z'] },
    recurringDaily: { type: 'recurring', time: '09:00', every: { unit: 'day', interval: 2 } },
    recurringWeekly: { type: 'recurring', time: '18:30', every: { unit: 'week', weekdays: [1, 3, 5] } },
    recurringMonthly: { type: 'recurring', time: '07:15', every: { unit: 'month', dayOfMonth: 7 } },
    onEvent: {
      type: 'onEvent',
      event: { name: 'Charged', where: [{ op: 'gt', property: 'amount', value: 100 }] },
    },
    inaction: {
      type: 'inaction',
      event: { name: 'Added To Cart' },
      notFollowedBy: { name: 'Charged' },
      within: { amount: 10, unit: 'minutes' },
    },
    eventDate: {
      type: 'eventDate',
      event: { name: 'Booked Flight' },
      property: 'departure',
      offset: { amount: -2, unit: 'days' },
      keyProperty: 'booking_id',
    },
  } as const;

  for (const [name, schedule] of Object.entries(schedules)) {
    it(name, () => {
      const parsed = CampaignInput.parse({ name, when: { schedule, timezone: 'Europe/Paris' }, who, what });
      expect(parsed.when.schedule.type).toBe(schedule.type);
      expect(parsed.setup).toEqual({
        controlGroupPercent: 0,
        ignoreGlobalLimits: false,
        onMissingValue: 'empty',
      });
      expect(parsed.what.ttlSeconds).toBe(86_400);
      expect(parsed.what.urgency).toBe('normal');
    });
  }

  it('coerces instants to Dates', () => {
    const parsed = CampaignInput.parse({ name: 'x', when: { schedule: schedules.once }, who, what });
    expect(parsed.when.schedule).toEqual({ type: 'once', at: new Date('2026-12-01T09:00:00Z') });
  });

  it('accepts a full when/setup shape', () => {
    const parsed = CampaignInput.parse({
      name: 'full',
      labels: ['promo'],
      when: {
        schedule: schedules.recurringWeekly,
        timezone: 'America/New_York',
        start: '2026-12-01T00:00:00Z',
        end: '2027-01-01T00:00:00Z',
        userTimezone: { ifPassed: 'skip' },
        cutoff: '2026-12-31T00:00:00Z',
        dnd: { start: '21:00', end: '09:00', action: 'discard' },
        throttlePerMinute: 500,
      },
      who,
      what: {
        ...what,
        actions: [{ id: 'buy', title: 'Buy', url: 'https://example.com/buy' }],
        topic: 'promo-1',
      },
      setup: {
        controlGroupPercent: 10,
        ignoreGlobalLimits: true,
        conversion: { event: { name: 'Charged' }, windowHours: 24, revenueProperty: 'amount' },
      },
    });
    expect(parsed.setup.conversion?.after).toBe('send');
    expect(parsed.when.dnd?.action).toBe('discard');
  });
});

describe('campaign schema: rejected inputs name every bad field by path', () => {
  it('lists several problems at once', () => {
    const issues = issuesOf({
      name: '',
      when: { schedule: { type: 'once', at: 'not a date' }, timezone: 'Mars/Olympus' },
      who,
      what: { ...what, actions: [{ id: 'a b', title: 'x' }], ttlSeconds: -1 },
    });
    const paths = issues.map((issue) => issue.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'name',
        'when.schedule.at',
        'when.timezone',
        'what.actions[0].id',
        'what.ttlSeconds',
      ]),
    );
  });

  it('rejects an unknown schedule type', () => {
    expect(
      issuesOf({ name: 'x', when: { schedule: { type: 'hourly' } }, who, what }).map((i) => i.path),
    ).toEqual(['when.schedule.type']);
  });

  it('rejects end before start', () => {
    const issues = issuesOf({
      name: 'x',
      when: {
        schedule: { type: 'once', at: '2026-12-01T09:00:00Z' },
        start: '2026-12-02T00:00:00Z',
        end: '2026-12-01T00:00:00Z',
      },
      who,
      what,
    });
    expect(issues).toEqual([{ path: 'when.end', message: 'must be after start' }]);
  });

  it('rejects a bad time of day, weekday and day of month', () => {
    const paths = (every: unknown, time = '09:00') =>
      issuesOf({ name: 'x', when: { schedule: { type: 'recurring', time, every } }, who, what }).map(
        (i) => i.path,
      );
    expect(paths({ unit: 'day', interval: 1 }, '24:00')).toEqual(['when.schedule.time']);
    expect(paths({ unit: 'week', weekdays: [0] })).toEqual(['when.schedule.every.weekdays[0]']);
    expect(paths({ unit: 'month', dayOfMonth: 32 })).toEqual(['when.schedule.every.dayOfMonth']);
  });

  it('rejects duplicate dates and an empty list', () => {
    const at = '2026-12-01T09:00:00Z';
    expect(
      issuesOf({ name: 'x', when: { schedule: { type: 'dates', at: [at, at] } }, who, what })[0]?.path,
    ).toBe('when.schedule.at');
    expect(issuesOf({ name: 'x', when: { schedule: { type: 'dates', at: [] } }, who, what })[0]?.path).toBe(
      'when.schedule.at',
    );
  });

  it('rejects user-time-zone delivery on a live campaign', () => {
    const issues = issuesOf({
      name: 'x',
      when: { schedule: { type: 'onEvent', event: { name: 'Charged' } }, userTimezone: {} },
      who,
      what,
    });
    expect(issues.map((i) => i.path)).toEqual(['when.userTimezone']);
  });

  it('rejects more than two actions, a bad topic, a non-http icon and a control group over 90%', () => {
    const action = { id: 'a', title: 'A' };
    const issues = issuesOf({
      name: 'x',
      when: { schedule: { type: 'once', at: '2026-12-01T09:00:00Z' } },
      who,
      what: {
        ...what,
        actions: [action, { ...action, id: 'b' }, { ...action, id: 'c' }],
        topic: 'has space',
        icon: 'javascript:alert(1)',
      },
      setup: { controlGroupPercent: 95 },
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'setup.controlGroupPercent',
      'what.actions',
      'what.icon',
      'what.topic',
    ]);
  });

  it('rejects a segment with an unknown operator', () => {
    const result = SegmentDefinition.safeParse({
      type: 'property',
      condition: { op: 'like', property: 'x', value: 1 },
    });
    expect(result.success).toBe(false);
  });
});

describe('profile and subscription schemas', () => {
  it('defaults a profile', () => {
    expect(ProfileInput.parse({ userId: 'u1' })).toEqual({ userId: 'u1', properties: {}, test: false });
  });

  it('rejects a bad time zone by path', () => {
    const result = ProfileInput.safeParse({ userId: 'u1', timezone: 'Nowhere/Land' });
    expect(result.success || ValidationError.fromZod('profile', result.error).issues[0]?.path).toBe(
      'timezone',
    );
  });

  it('defaults the subscription target to webpush and checks keys', () => {
    const keys = { p256dh: fixtures.P256DH, auth: 'A'.repeat(22) };
    const parsed = SubscriptionInput.parse({
      userId: 'u',
      subscription: { endpoint: 'https://fcm.googleapis.com/x', keys },
    });
    expect(parsed.target).toBe('webpush');
    const bad = SubscriptionInput.safeParse({
      userId: 'u',
      subscription: { endpoint: 'https://x', keys: { p256dh: '!', auth: '' } },
    });
    expect(bad.success).toBe(false);
    if (!bad.success) {
      expect(ValidationError.fromZod('s', bad.error).issues.map((i) => i.path)).toEqual(
        expect.arrayContaining(['subscription.keys.p256dh', 'subscription.keys.auth']),
      );
    }
  });
});
