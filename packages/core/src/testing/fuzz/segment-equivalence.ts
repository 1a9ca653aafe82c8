import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReachEstimate, SegmentDefinition, UserId } from '../../model/index.js';
import { SegmentDefinition as SegmentDefinitionSchema } from '../../model/index.js';
import type { Storage } from '../../ports/storage.js';
import { evaluateSegment, isLiveSubscription, type SegmentSubject } from '../../segments/evaluate.js';
import {
  EQUIVALENCE_NOW,
  type SegmentWorld,
  segmentDefinition,
  segmentWorld,
} from './segment-arbitraries.js';

export interface SegmentEquivalenceOptions {
  name: string;
  /** A Storage over an empty store; called once before the suite. */
  create: () => Promise<Storage>;
  /** Empties the store; called before each world is loaded. */
  reset: () => Promise<void>;
  close?: () => Promise<void>;
  /** Generated worlds; each is loaded once and checked against many definitions. Default 3. */
  worlds?: number;
  /** Users per world. Default 40. */
  users?: number;
  /** Generated definitions per world. Default 150. */
  definitionsPerWorld?: number;
  /** fast-check seed, so a failure replays. Default 4242. */
  seed?: number;
  /** Page size used to read audiences, small so keyset paging is exercised. Default 7. */
  pageSize?: number;
}

/**
 * The segment equivalence suite: the reference evaluator defines what a
 * segment means, and a store that evaluates natively (SQL) must select
 * exactly the same users. It generates worlds (users, events,
 * subscriptions), loads them through the Storage API, and checks generated
 * definitions (fast-check, shrunk on failure) plus a fixed list aimed at the
 * window bounds: `selectAudience` read page by page, `countAudience` and
 * `estimateReach` must equal the reference on every one.
 */
export function runSegmentEquivalenceSuite(options: SegmentEquivalenceOptions): void {
  const worlds = options.worlds ?? 3;
  const seed = options.seed ?? 4242;
  const pageSize = options.pageSize ?? 7;
  const now = EQUIVALENCE_NOW;

  describe(`${options.name} segment equivalence with the reference evaluator`, () => {
    let storage: Storage;
    beforeAll(async () => {
      storage = await options.create();
    });
    afterAll(async () => {
      await options.close?.();
    });

    async function load(world: SegmentWorld): Promise<void> {
      await options.reset();
      for (const p of world.profiles) await storage.upsertProfile(p);
      await storage.appendEvents(world.events);
      for (const s of world.subscriptions) await storage.upsertSubscription(s);
    }

    async function check(world: SegmentWorld, segment: SegmentDefinition): Promise<void> {
      const expected = reference(world, segment);
      const ids: UserId[] = [];
      let after: UserId | null = null;
      for (;;) {
        const page: UserId[] = await storage.selectAudience(segment, { after, limit: pageSize, now });
        ids.push(...page);
        if (page.length < pageSize) break;
        after = page[page.length - 1] ?? null;
      }
      const context = JSON.stringify(segment);
      expect(ids, context).toEqual(expected.ids);
      expect(await storage.countAudience(segment, now), context).toBe(expected.ids.length);
      expect(await storage.estimateReach(segment, now), context).toEqual(expected.reach);
    }

    for (let w = 0; w < worlds; w++) {
      it(`world ${w + 1}: generated definitions select exactly the reference’s members`, async () => {
        const [world] = fc.sample(segmentWorld(options.users ?? 40), { seed: seed + w, numRuns: 1 });
        if (!world) throw new Error('no world generated');
        await load(world);
        await fc.assert(
          fc.asyncProperty(segmentDefinition, (segment) => check(world, segment)),
          { seed: seed + w, numRuns: options.definitionsPerWorld ?? 150 },
        );
      }, 120_000);
    }

    it('definitions on the window bounds select exactly the reference’s members', async () => {
      const [world] = fc.sample(segmentWorld(options.users ?? 40), { seed, numRuns: 1 });
      if (!world) throw new Error('no world generated');
      await load(world);
      for (const segment of boundSegments) await check(world, segment);
    }, 120_000);
  });
}

/** What the reference evaluator selects from a world, and its reach. */
export function reference(world: SegmentWorld, segment: SegmentDefinition, now = EQUIVALENCE_NOW) {
  const ids: UserId[] = [];
  const reach: ReachEstimate = { qualified: 0, reachable: { total: 0, webpush: 0, safari: 0 } };
  const subjects: SegmentSubject[] = world.profiles.map((profile) => ({
    profile,
    events: world.events.filter((e) => e.userId === profile.userId),
    subscriptions: world.subscriptions.filter((s) => s.userId === profile.userId),
  }));
  for (const subject of subjects) {
    if (!evaluateSegment(segment, subject, now)) continue;
    ids.push(subject.profile.userId);
    reach.qualified += 1;
    const live = (subject.subscriptions ?? []).filter((s) => isLiveSubscription(s, now));
    if (live.length > 0) reach.reachable.total += 1;
    if (live.some((s) => s.target === 'webpush')) reach.reachable.webpush += 1;
    if (live.some((s) => s.target === 'safari')) reach.reachable.safari += 1;
  }
  ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { ids, reach };
}

const parse = (input: unknown): SegmentDefinition => SegmentDefinitionSchema.parse(input);
const atDaysAgo = (days: number, nudgeMs = 0) => ({
  at: new Date(EQUIVALENCE_NOW.getTime() - days * 86_400_000 + nudgeMs).toISOString(),
});

/** Fixed definitions whose bounds coincide with the generated event times (exactly N days before now, ±1 ms). */
export const boundSegments: SegmentDefinition[] = [
  ...[1, 2, 7, 30].map((amount) =>
    parse({ type: 'did', event: { name: 'Charged' }, window: { inLast: { amount, unit: 'days' } } }),
  ),
  parse({ type: 'didNot', event: { name: 'Added' }, window: { inLast: { amount: 7, unit: 'days' } } }),
  parse({
    type: 'did',
    event: { name: 'Viewed' },
    count: { op: 'exactly', value: 1 },
    window: { between: { from: atDaysAgo(7), to: atDaysAgo(1) } },
  }),
  parse({
    type: 'did',
    event: { name: 'Viewed' },
    window: { between: { from: atDaysAgo(30, 1), to: atDaysAgo(0) } },
  }),
  parse({
    type: 'did',
    event: { name: 'Added' },
    count: { op: 'atMost', value: 1 },
    window: {
      between: { from: { ago: { amount: 30, unit: 'days' } }, to: { ago: { amount: 2, unit: 'days' } } },
    },
  }),
  parse({
    type: 'did',
    event: { name: 'Charged', where: [{ op: 'gte', property: 'amount', value: 100 }] },
    count: { op: 'atLeast', value: 2 },
  }),
  ...(['firstTime', 'lastTime'] as const).flatMap((type) =>
    (['before', 'after'] as const).flatMap((op) =>
      [atDaysAgo(2), atDaysAgo(7, -1), { ago: { amount: 1, unit: 'days' } }].map((date) =>
        parse({ type, event: { name: 'Added' }, op, date }),
      ),
    ),
  ),
  parse({ type: 'reachable' }),
  parse({ type: 'reachable', target: 'webpush' }),
  parse({ type: 'reachable', target: 'safari' }),
  parse({ type: 'not', of: { type: 'reachable' } }),
  parse({
    type: 'and',
    of: [
      { type: 'did', event: { name: 'Added' }, window: { inLast: { amount: 2, unit: 'days' } } },
      { type: 'didNot', event: { name: 'Charged' }, window: { inLast: { amount: 2, unit: 'days' } } },
      { type: 'reachable', target: 'webpush' },
    ],
  }),
];
