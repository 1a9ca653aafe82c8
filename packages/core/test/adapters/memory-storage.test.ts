import { beforeEach, describe, expect, it } from 'vitest';
import { memoryStorage } from '../../src/adapters/memory-storage.js';
import { CorruptRecordError } from '../../src/errors/index.js';
import type {
  Campaign,
  Decision,
  Profile,
  SegmentDefinition,
  UserEvent,
  UserId,
} from '../../src/model/index.js';
import type { Storage } from '../../src/ports/storage.js';
import { evaluateSegment } from '../../src/segments/evaluate.js';
import {
  at,
  campaign,
  cid,
  DAY,
  delivery,
  HOUR,
  profile,
  recipient,
  safariSubscription,
  shuffled,
  T0,
  uid,
  webPushSubscription,
} from '../../src/testing/fixtures.js';
import { type MemoryStorageInspector, memoryStorageInspector } from '../../src/testing/memory-inspector.js';

/**
 * What the memory storage adds over the shared conformance suite: its
 * indexes stay right across every write, pages are read in keyset order,
 * rows are never shared with callers, and a malformed row fails its reads.
 */

let storage: Storage;
let inspect: MemoryStorageInspector;

beforeEach(() => {
  storage = memoryStorage();
  inspect = memoryStorageInspector(storage);
});

const now = at(DAY);
const all: SegmentDefinition = { type: 'all' };

/** Every page of a segment, `size` ids at a time, from `after`. */
async function pages(
  segment: SegmentDefinition,
  size: number,
  after: UserId | null = null,
): Promise<string[][]> {
  const out: string[][] = [];
  let cursor = after;
  for (;;) {
    const page = await storage.selectAudience(segment, { after: cursor, limit: size, now });
    if (page.length === 0) return out;
    out.push(page);
    cursor = page[page.length - 1] as UserId;
  }
}

/** Code-unit order, as PostgreSQL's COLLATE "C" gives for ASCII ids. */
const codeUnitSorted = (ids: readonly string[]): string[] =>
  [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('memory storage: audience paging in keyset order', () => {
  // Upper case before lower case, digits by character not value, surrogate pairs after BMP letters.
  const ids = ['b', 'B', 'a10', 'a9', 'Z', '_x', 'é', '😀', 'ﬀ', 'a', 'aa', 'A-1', '0', '10', '9'];

  it('pages every user exactly once, in code-unit order, whatever the write order', async () => {
    for (const id of shuffled(ids)) await storage.upsertProfile(profile(id));
    const got = await pages(all, 4);
    expect(got.map((page) => page.length)).toEqual([4, 4, 4, 3]);
    expect(got.flat()).toEqual(codeUnitSorted(ids));
  });

  it('starts strictly after a cursor, stored or not, and returns nothing past the last id', async () => {
    for (const id of ids) await storage.upsertProfile(profile(id));
    const sorted = codeUnitSorted(ids);
    expect((await pages(all, 5, uid('a'))).flat()).toEqual(sorted.filter((id) => id > 'a'));
    expect((await pages(all, 5, uid('a5'))).flat()).toEqual(sorted.filter((id) => id > 'a5'));
    expect(await storage.selectAudience(all, { after: uid('\uffff\uffff'), limit: 5, now })).toEqual([]);
    expect(await storage.selectAudience(all, { after: null, limit: 0, now })).toEqual([]);
  });

  it('sees profiles added between pages: those after the cursor come in order, those before it do not', async () => {
    for (const id of ['u02', 'u04', 'u06', 'u08']) await storage.upsertProfile(profile(id));
    const first = await storage.selectAudience(all, { after: null, limit: 2, now });
    expect(first).toEqual(['u02', 'u04']);
    for (const id of ['u01', 'u05', 'u09', 'u03']) await storage.upsertProfile(profile(id));
    // Re-writing a known profile is not a new id: it must not appear twice.
    await storage.upsertProfile(profile('u06', { plan: 'pro' }));
    const rest = (await pages(all, 2, uid('u04'))).flat();
    expect(rest).toEqual(['u05', 'u06', 'u08', 'u09']);
    expect(await storage.countAudience(all, now)).toBe(8);
  });

  it('fills each page with matches only, skipping non-matching users between them', async () => {
    const users = Array.from({ length: 60 }, (_, i) => profile(`u${String(i).padStart(2, '0')}`, { n: i }));
    for (const p of shuffled(users)) await storage.upsertProfile(p);
    const everyFifth: SegmentDefinition = {
      type: 'property',
      condition: { op: 'in', property: 'n', values: [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55] },
    };
    const got = await pages(everyFifth, 5);
    expect(got.map((page) => page.length)).toEqual([5, 5, 2]);
    expect(got.flat()).toEqual(users.filter((_, i) => i % 5 === 0).map((p) => p.userId));
  });

  it('evaluates behaviour and reachability per page from the user indexes, as the reference does', async () => {
    const users = Array.from({ length: 30 }, (_, i) => profile(`u${String(i).padStart(2, '0')}`));
    const events: UserEvent[] = [];
    for (const [i, p] of users.entries()) {
      await storage.upsertProfile(p);
      if (i % 2 === 0) await storage.upsertSubscription(webPushSubscription(p.userId));
      if (i % 3 === 0) await storage.upsertSubscription(safariSubscription(p.userId));
      for (let k = 0; k < i % 4; k += 1) events.push(event(p.userId, 'Purchased', at(-k * HOUR)));
      if (i % 5 === 0) events.push(event(p.userId, 'Viewed', at(-2 * DAY)));
    }
    await storage.appendEvents(shuffled(events));
    const segments: SegmentDefinition[] = [
      { type: 'reachable' },
      { type: 'reachable', target: 'safari' },
      { type: 'did', event: { name: 'Purchased', where: [] }, count: { op: 'atLeast', value: 2 } },
      {
        type: 'didNot',
        event: { name: 'Viewed', where: [] },
        window: { inLast: { amount: 3, unit: 'days' } },
      },
      {
        type: 'and',
        of: [
          { type: 'reachable', target: 'webpush' },
          { type: 'did', event: { name: 'Purchased', where: [] } },
        ],
      },
    ];
    const subscriptions = await storage.listSubscriptions(users.map((p) => p.userId));
    for (const segment of segments) {
      const expected = users
        .filter((p) =>
          evaluateSegment(
            segment,
            {
              profile: p,
              events: events.filter((e) => e.userId === p.userId),
              subscriptions: subscriptions.filter((s) => s.userId === p.userId),
            },
            now,
          ),
        )
        .map((p) => p.userId);
      expect((await pages(segment, 4)).flat(), JSON.stringify(segment)).toEqual(expected);
      expect(await storage.countAudience(segment, now)).toBe(expected.length);
    }
  });

  it('lists test profiles in id order from the same index, at most the limit', async () => {
    for (const id of shuffled(['t3', 'x1', 't1', 'x2', 't2'])) {
      await storage.upsertProfile(profile(id, {}, { test: id.startsWith('t') }));
    }
    expect((await storage.listTestProfiles(2)).map((p) => p.userId)).toEqual(['t1', 't2']);
    expect((await storage.listTestProfiles(10)).map((p) => p.userId)).toEqual(['t1', 't2', 't3']);
    expect(await storage.listTestProfiles(0)).toEqual([]);
  });
});

describe('memory storage: indexes stay right across writes', () => {
  it('moves a subscription to its new user on upsert, everywhere it is looked up', async () => {
    await storage.upsertProfile(profile('ann'));
    await storage.upsertProfile(profile('bob'));
    const shared = webPushSubscription('ann', 1);
    await storage.upsertSubscription(shared);
    await storage.upsertSubscription(webPushSubscription('ann', 2));
    await storage.upsertSubscription({ ...shared, userId: uid('bob') });

    expect((await storage.listSubscriptions([uid('ann')])).map((s) => s.id)).toEqual(['wp_ann_2']);
    expect((await storage.listSubscriptions([uid('bob')])).map((s) => s.id)).toEqual(['wp_ann_1']);
    expect(await storage.listSubscriptions([uid('ann'), uid('bob'), uid('ann')])).toHaveLength(2);
    expect((await pages({ type: 'reachable' }, 10)).flat()).toEqual(['ann', 'bob']);

    await storage.removeSubscription(webPushSubscription('ann', 2).id);
    expect(await storage.listSubscriptions([uid('ann')])).toEqual([]);
    expect((await pages({ type: 'reachable' }, 10)).flat()).toEqual(['bob']);
    expect(await storage.estimateReach({ type: 'all' }, now)).toEqual({
      qualified: 2,
      reachable: { total: 1, webpush: 1, safari: 0 },
    });
  });

  it('keeps the index when a conditional remove finds a refreshed endpoint', async () => {
    const s = webPushSubscription('ann');
    await storage.upsertSubscription(s);
    expect(await storage.removeSubscription(s.id, { ifEndpoint: 'https://push.example.test/old' })).toBe(
      false,
    );
    expect(await storage.listSubscriptions([uid('ann')])).toEqual([s]);
    expect(
      await storage.removeSubscription(s.id, { ifEndpoint: s.target === 'webpush' ? s.endpoint : '' }),
    ).toBe(true);
    expect(await storage.listSubscriptions([uid('ann')])).toEqual([]);
  });

  it('keeps a user’s subscriptions in first-stored order when one is refreshed', async () => {
    await storage.upsertSubscription(webPushSubscription('ann', 1));
    await storage.upsertSubscription(webPushSubscription('ann', 2));
    await storage.upsertSubscription(webPushSubscription('ann', 1, { updatedAt: at(HOUR) }));
    const listed = await storage.listSubscriptions([uid('ann')]);
    expect(listed.map((s) => s.id)).toEqual(['wp_ann_1', 'wp_ann_2']);
    expect(listed[0]?.updatedAt).toEqual(at(HOUR));
  });

  it('lists deliveries by (campaign, occurrence, user) and tallies by campaign', async () => {
    await storage.recordDeliveries([
      delivery('c1', 'o1', 'ann', 'wp_ann_1', 'sent'),
      delivery('c1', 'o1', 'ann', 'wp_ann_2', 'gone'),
      delivery('c1', 'o2', 'ann', 'wp_ann_1', 'failed'),
      delivery('c2', 'o1', 'ann', 'wp_ann_1', 'sent'),
      delivery('c1', 'o1', 'bob', 'wp_bob_1', 'sent'),
    ]);
    const listed = await storage.listDeliveries(cid('c1'), 'o1', [uid('ann'), uid('ann')]);
    expect(listed.map((d) => d.subscriptionId)).toEqual(['wp_ann_1', 'wp_ann_2']);
    expect(await storage.listDeliveries(cid('c1'), 'o2', [uid('bob')])).toEqual([]);
    expect((await storage.campaignTallies(cid('c1'))).deliveries).toEqual({ sent: 2, failed: 1, gone: 1 });
    expect((await storage.campaignTallies(cid('c2'))).deliveries).toEqual({ sent: 1, failed: 0, gone: 0 });
  });

  it('tallies a campaign’s recipients as they are now, after updates, and no other campaign’s', async () => {
    await storage.insertRecipients([
      recipient('c1', 'o1', 'ann'),
      recipient('c1', 'o1', 'bob'),
      recipient('c1', 'o2', 'ann'),
      recipient('c2', 'o1', 'ann'),
    ]);
    await storage.updateRecipients(
      [
        { campaignId: cid('c1'), occurrence: 'o1', userId: uid('ann'), state: 'delivered', reason: null },
        { campaignId: cid('c1'), occurrence: 'o2', userId: uid('ann'), state: 'skipped', reason: 'capped' },
      ],
      at(HOUR),
    );
    const tallies = await storage.campaignTallies(cid('c1'));
    expect(tallies.recipients).toEqual({
      pending: 1,
      delivered: 1,
      undeliverable: 0,
      skipped: 1,
      control: 0,
    });
    expect(tallies.skipped).toEqual({ capped: 1 });
    expect((await storage.campaignTallies(cid('c2'))).recipients.pending).toBe(1);
  });

  it('finds a user’s events and decisions by user, in append order for equal times', async () => {
    await storage.appendEvents([
      event('ann', 'Opened', at(HOUR)),
      event('bob', 'Opened', T0),
      event('ann', 'Viewed', T0),
      event('ann', 'Clicked', at(HOUR)),
    ]);
    expect((await storage.listEvents({ userId: uid('ann') })).map((e) => e.name)).toEqual([
      'Viewed',
      'Opened',
      'Clicked',
    ]);
    expect(await storage.listEvents({ userId: uid('carl') })).toEqual([]);

    await storage.appendDecisions([
      decision('ann', 'c1', 'sent', at(HOUR)),
      decision('bob', 'c1', 'sent', T0),
      decision('ann', 'c2', 'skipped', T0),
      decision('ann', 'c1', 'delayed', T0),
    ]);
    expect((await storage.listDecisions({ userId: uid('ann') })).map((d) => d.outcome)).toEqual([
      'skipped',
      'delayed',
      'sent',
    ]);
    expect(
      (await storage.listDecisions({ userId: uid('ann'), campaignId: cid('c1') })).map((d) => d.outcome),
    ).toEqual(['delayed', 'sent']);
  });

  it('starts from nothing after clear: no stale subscription, event, delivery or page', async () => {
    for (const id of ['a', 'b', 'c']) {
      await storage.upsertProfile(profile(id));
      await storage.upsertSubscription(webPushSubscription(id));
    }
    await storage.appendEvents([event('a', 'Opened', T0)]);
    await storage.appendDecisions([decision('a', 'c1', 'sent', T0)]);
    await storage.insertRecipients([recipient('c1', 'o1', 'a')]);
    await storage.recordDeliveries([delivery('c1', 'o1', 'a', 'wp_a_1')]);
    expect((await pages(all, 2)).flat()).toEqual(['a', 'b', 'c']);

    await inspect.clear();
    expect(await storage.listSubscriptions([uid('a'), uid('b')])).toEqual([]);
    expect(await storage.listEvents({ userId: uid('a') })).toEqual([]);
    expect(await storage.listDecisions({ userId: uid('a') })).toEqual([]);
    expect(await storage.listDeliveries(cid('c1'), 'o1', [uid('a')])).toEqual([]);
    expect((await storage.campaignTallies(cid('c1'))).recipients.pending).toBe(0);
    expect(await pages(all, 2)).toEqual([]);

    // New writes after the clear are indexed afresh, including an id seen before it.
    await storage.upsertProfile(profile('b'));
    await storage.upsertProfile(profile('d'));
    await storage.appendEvents([event('b', 'Opened', T0)]);
    expect((await pages(all, 1)).flat()).toEqual(['b', 'd']);
    expect(await storage.listEvents({ userId: uid('b') })).toHaveLength(1);
    expect(await storage.listEvents({ userId: uid('a') })).toEqual([]);
  });
});

describe('memory storage: rows never shared with callers', () => {
  it('gives each read a tree of its own: changing what was read changes nothing stored', async () => {
    await storage.upsertProfile(profile('ann', { tags: ['vip'], address: { city: 'Lyon' } }));
    const read = (await storage.getProfile(uid('ann'))) as Profile;
    (read.properties.tags as string[]).push('x');
    (read.properties.address as { city: string }).city = 'Oslo';
    (read as { test: boolean }).test = true;
    read.updatedAt.setTime(0);
    expect(await storage.getProfile(uid('ann'))).toEqual(
      profile('ann', { tags: ['vip'], address: { city: 'Lyon' } }),
    );

    await storage.insertCampaign(campaign('c1', { labels: ['spring'] }));
    const c = (await storage.getCampaign(cid('c1'))) as Campaign;
    c.labels.push('changed');
    if (c.when.schedule.type === 'once') c.when.schedule.at.setTime(0);
    expect(await storage.getCampaign(cid('c1'))).toEqual(campaign('c1', { labels: ['spring'] }));

    await storage.appendDecisions([decision('ann', 'c1', 'sent', T0)]);
    const [d] = await storage.listDecisions({ userId: uid('ann') });
    (d as Decision).facts.zone = 'changed';
    expect((await storage.listDecisions({ userId: uid('ann') }))[0]?.facts).toEqual({ zone: 'Europe/Paris' });
  });

  it('keeps its own copy of what a caller wrote: later changes to the caller’s object are not stored', async () => {
    const p = profile('ann', { address: { city: 'Lyon' } });
    await storage.upsertProfile(p);
    (p.properties.address as { city: string }).city = 'Oslo';
    p.updatedAt.setTime(0);
    const stored = await storage.getProfile(uid('ann'));
    expect(stored?.properties).toEqual({ address: { city: 'Lyon' } });
    expect(stored?.updatedAt).toEqual(T0);

    const s = webPushSubscription('ann');
    await storage.upsertSubscription(s);
    if (s.target === 'webpush') s.keys.auth = 'changed-by-the-caller';
    expect(await storage.getSubscription(s.id)).toEqual(webPushSubscription('ann'));

    const d = decision('ann', 'c1', 'sent', T0);
    await storage.appendDecisions([d]);
    d.facts.zone = 'changed';
    expect((await storage.listDecisions({ userId: uid('ann') }))[0]?.facts).toEqual({ zone: 'Europe/Paris' });
  });

  it('replaces a recipient row on update; a row read before the update still says what it said', async () => {
    await storage.insertRecipients([recipient('c1', 'o1', 'ann')]);
    const [before] = await storage.getRecipients(cid('c1'), 'o1', [uid('ann')]);
    const when = at(HOUR);
    await storage.updateRecipients(
      [{ campaignId: cid('c1'), occurrence: 'o1', userId: uid('ann'), state: 'delivered', reason: null }],
      when,
    );
    when.setTime(0);
    const [after] = await storage.getRecipients(cid('c1'), 'o1', [uid('ann')]);
    expect(before?.state).toBe('pending');
    expect(after?.state).toBe('delivered');
    expect(after?.updatedAt).toEqual(at(HOUR));
    expect(after?.createdAt).toEqual(T0);
  });
});

describe('memory storage: rows parsed at every read', () => {
  it('reads back what the schema makes of a written value: defaults applied, instants coerced, every time', async () => {
    const bare = {
      userId: uid('ann'),
      createdAt: T0.toISOString(),
      updatedAt: T0.getTime(),
    } as unknown as Profile;
    await storage.upsertProfile(bare);
    const expected = { userId: 'ann', properties: {}, test: false, createdAt: T0, updatedAt: T0 };
    expect(await storage.getProfile(uid('ann'))).toEqual(expected);
    expect(await storage.getProfile(uid('ann'))).toEqual(expected);
    expect((await pages(all, 10)).flat()).toEqual(['ann']);
  });

  it('copies nested data and Dates at the write: a campaign’s schedule changed by the caller later is not stored', async () => {
    const c = campaign('c1', { labels: ['spring'] });
    await storage.insertCampaign(c);
    c.labels.push('changed');
    if (c.when.schedule.type === 'once') c.when.schedule.at.setTime(0);
    const stored = await storage.getCampaign(cid('c1'));
    expect(stored).toEqual(campaign('c1', { labels: ['spring'] }));
  });
});

describe('memory storage: malformed rows still fail their reads', () => {
  const corruptError = async (read: Promise<unknown>): Promise<CorruptRecordError> => {
    const error = await read.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptRecordError);
    return error as CorruptRecordError;
  };

  it('refuses a campaign the inspector corrupted, on every read, naming table and id', async () => {
    await storage.insertCampaign(campaign('c1'));
    await storage.getCampaign(cid('c1'));
    await inspect.corruptCampaign?.('c1');
    for (let i = 0; i < 2; i += 1) {
      const error = await corruptError(storage.getCampaign(cid('c1')));
      expect([error.table, error.id]).toEqual(['campaigns', 'c1']);
      expect(error.issues.map((issue) => issue.path)).toContain('status');
    }
    await corruptError(storage.listCampaigns());
  });

  it('stores a malformed value without complaint and fails when it is read: profiles, also in a page', async () => {
    await storage.upsertProfile(profile('ann'));
    await storage.upsertProfile({ ...profile('bob'), createdAt: 'not a date' } as unknown as Profile);
    expect(await storage.getProfile(uid('ann'))).toEqual(profile('ann'));
    const error = await corruptError(storage.getProfile(uid('bob')));
    expect([error.table, error.id]).toEqual(['profiles', 'bob']);
    // The page reaching bob fails; one ending before him does not.
    expect(await storage.selectAudience(all, { after: null, limit: 1, now })).toEqual(['ann']);
    await corruptError(storage.selectAudience(all, { after: null, limit: 2, now }));
  });

  it('fails a recipient whose update stored an unknown state, and its campaign’s tallies', async () => {
    await storage.insertRecipients([recipient('c1', 'o1', 'ann')]);
    await storage.updateRecipients(
      [
        {
          campaignId: cid('c1'),
          occurrence: 'o1',
          userId: uid('ann'),
          state: 'exploded' as 'delivered',
          reason: null,
        },
      ],
      at(HOUR),
    );
    const error = await corruptError(storage.getRecipients(cid('c1'), 'o1', [uid('ann')]));
    expect(error.table).toBe('recipients');
    await corruptError(storage.campaignTallies(cid('c1')));
    // Another campaign's tallies do not read that row.
    expect((await storage.campaignTallies(cid('c2'))).recipients.pending).toBe(0);
  });

  it('fails only the malformed user’s events, not every user’s', async () => {
    await storage.appendEvents([event('ann', 'Opened', T0), { ...event('bob', 'Opened', T0), name: '' }]);
    expect(await storage.listEvents({ userId: uid('ann') })).toHaveLength(1);
    const error = await corruptError(storage.listEvents({ userId: uid('bob') }));
    expect([error.table, error.id]).toEqual(['events', '1']);
  });
});

describe('memory storage: recipients, deliveries and decisions', () => {
  it('reads back exactly what was written, statuses, codes, reasons and instants included', async () => {
    const rows = [
      delivery('c1', 'o1', 'ann', 'wp_ann_1', 'sent', { statusCode: 201, at: at(HOUR) }),
      delivery('c1', 'o1', 'ann', 'wp_ann_2', 'failed', { statusCode: 400, reason: 'bad', attempts: 3 }),
      delivery('c1', 'o1', 'bob', 'wp_bob_1', 'gone', { statusCode: null }),
    ];
    await storage.recordDeliveries(rows);
    expect(await storage.listDeliveries(cid('c1'), 'o1', [uid('ann'), uid('bob')])).toEqual(rows);
    await storage.insertRecipients([recipient('c1', 'o1', 'ann', 'skipped', 'capped')]);
    await storage.updateRecipients(
      [{ campaignId: cid('c1'), occurrence: 'o1', userId: uid('ann'), state: 'delivered', reason: null }],
      at(DAY),
    );
    expect(await storage.getRecipients(cid('c1'), 'o1', [uid('ann')])).toEqual([
      { ...recipient('c1', 'o1', 'ann'), state: 'delivered', updatedAt: at(DAY) },
    ]);
  });

  it('stores a malformed delivery, and fails its read as a database would', async () => {
    await storage.recordDeliveries([
      delivery('c1', 'o1', 'ann', 'wp_ann_1'),
      { ...delivery('c1', 'o1', 'ann', 'wp_ann_2'), status: 'exploded' as 'sent' },
    ]);
    expect(await inspect.countRows('deliveries')).toBe(2);
    const error = await storage.listDeliveries(cid('c1'), 'o1', [uid('ann')]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as CorruptRecordError).table).toBe('deliveries');
  });

  it('stores a decision whose facts are not JSON, and fails its read naming its position in the log', async () => {
    await storage.appendDecisions([
      decision('ann', 'c1', 'sent', at(HOUR)),
      decision('bob', 'c1', 'sent', at(HOUR)),
      { ...decision('cid', 'c1', 'sent', at(HOUR)), facts: { when: at(HOUR) as never } },
    ]);
    expect(await storage.listDecisions({ userId: uid('ann') })).toEqual([
      decision('ann', 'c1', 'sent', at(HOUR)),
    ]);
    expect(await inspect.countRows('decisions')).toBe(3);
    const error = await storage.listDecisions({ userId: uid('cid') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect([(error as CorruptRecordError).table, (error as CorruptRecordError).id]).toEqual([
      'decisions',
      '2',
    ]);
  });
});

function event(userId: string, name: string, time: Date): UserEvent {
  return { userId: uid(userId), name, properties: {}, time };
}

function decision(userId: string, campaignId: string, outcome: Decision['outcome'], when: Date): Decision {
  return {
    campaignId: cid(campaignId),
    occurrence: 'o1',
    userId: uid(userId),
    at: when,
    outcome,
    reason: null,
    facts: { zone: 'Europe/Paris' },
  };
}
