import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryQueue } from '../adapters/memory-queue.js';
import { generateVapidKeys, webPush } from '../delivery/index.js';
import type { CreateCampaignInput, Herald } from '../engine/api.js';
import { createHerald } from '../engine/create-herald.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/index.js';
import type { Counters } from '../ports/counters.js';
import type { Storage } from '../ports/storage.js';
import { type FakeClock, fakeClock } from './fake-clock.js';

export interface CampaignEditingSuiteOptions {
  name: string;
  /** A Storage over an empty store, with the counters that go with it (shared storage needs shared ones); called once before the suite. */
  create: () => Promise<{ storage: Storage; counters?: Counters }>;
  /** Empties the store between tests. */
  reset: () => Promise<void>;
  close?: () => Promise<void>;
}

const NOW = '2026-03-05T09:00:00Z';
const draftInput = (extra: Partial<CreateCampaignInput> = {}): CreateCampaignInput => ({
  name: 'Spring sale',
  labels: ['promo'],
  when: { schedule: { type: 'once', at: '2026-03-06T10:00:00Z' } },
  who: { segment: { type: 'all' } },
  what: {
    title: 'Hello {{ user.first_name | default: "there" }}',
    deeplink: 'https://shop.example.com/sale',
  },
  ...extra,
});
const daily: CreateCampaignInput['when'] = {
  schedule: { type: 'recurring', time: '10:00', every: { unit: 'day', interval: 1 } },
};

/** What a command threw, for asserting on its class and fields. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => null,
    (error: unknown) => error,
  );
}

/**
 * campaigns.update / duplicate / delete / archive / history through the
 * whole engine on one storage: the rules of docs/CAMPAIGNS.md "Editing,
 * duplicating, archiving", the same on every adapter.
 */
export function runCampaignEditingSuite(options: CampaignEditingSuiteOptions): void {
  describe(`${options.name}: editing, duplicating, archiving campaigns`, () => {
    let storage: Storage;
    let counters: Counters | undefined;
    let clock: FakeClock;
    let herald: Herald;
    const vapid = { subject: 'mailto:ops@example.com', ...generateVapidKeys() };

    beforeAll(async () => {
      ({ storage, counters } = await options.create());
    });
    beforeEach(async () => {
      await options.reset();
      clock = fakeClock(NOW);
      herald = createHerald({
        storage,
        ...(counters ? { counters } : {}),
        queue: memoryQueue(),
        providers: { webpush: webPush({ vapid }) },
        clock,
      });
    });
    afterAll(async () => {
      await options.close?.();
    });

    it('updates a draft: each section given replaces it whole, version bumped, history kept with the actor', async () => {
      const draft = await herald.campaigns.create(draftInput(), { actor: 'ana@example.com' });
      await clock.advance(60_000);
      const updated = await herald.campaigns.update(
        draft.id,
        {
          name: 'Spring sale (fixed)',
          what: { title: 'Hi there', deeplink: 'https://shop.example.com/sale' },
        },
        { actor: 'bo@example.com', expectedVersion: draft.version },
      );
      expect(updated).toMatchObject({
        name: 'Spring sale (fixed)',
        status: 'draft',
        version: draft.version + 1,
      });
      // `what` was replaced whole: the body it did not name is gone, not merged in.
      expect(updated.what.body ?? '').toBe('');
      expect(updated.labels).toEqual(['promo']);
      expect(await herald.campaigns.get(draft.id)).toEqual(updated);

      const history = await herald.campaigns.history(draft.id);
      expect(history.map((entry) => [entry.action, entry.actor, entry.version])).toEqual([
        ['created', 'ana@example.com', 0],
        ['updated', 'bo@example.com', 1],
      ]);
      expect(history[1]!.changes.map((change) => change.field)).toEqual(['name', 'what']);
      expect(history[1]!.changes[0]).toMatchObject({ before: 'Spring sale', after: 'Spring sale (fixed)' });
      expect(history[1]!.at).toEqual(clock.now());
    });

    it('refuses unknown keys and bad templates in a patch, changing nothing', async () => {
      const draft = await herald.campaigns.create(draftInput());
      // @ts-expect-error: a misspelt key, as a JavaScript caller could send it
      const unknown = await failure(herald.campaigns.update(draft.id, { nmae: 'typo' }));
      expect(unknown).toBeInstanceOf(ValidationError);
      const template = await failure(
        herald.campaigns.update(draft.id, {
          what: { title: 'Hi {{ user.name ', deeplink: 'https://x.example' },
        }),
      );
      expect(template).toBeInstanceOf(ValidationError);
      expect(await herald.campaigns.get(draft.id)).toEqual(draft);
      expect(await herald.campaigns.history(draft.id)).toHaveLength(1);
    });

    it('two editors on one version: the second is a ConflictError naming the current version', async () => {
      const draft = await herald.campaigns.create(draftInput());
      await herald.campaigns.update(draft.id, { name: 'First editor' }, { expectedVersion: draft.version });
      const second = await failure(
        herald.campaigns.update(draft.id, { name: 'Second editor' }, { expectedVersion: draft.version }),
      );
      expect(second).toBeInstanceOf(ConflictError);
      expect((second as ConflictError).detail.currentVersion).toBe(draft.version + 1);
      expect((await herald.campaigns.get(draft.id)).name).toBe('First editor');
    });

    it('moving a scheduled send recomputes its next due moment', async () => {
      const draft = await herald.campaigns.create(draftInput());
      const scheduled = await herald.campaigns.schedule(draft.id);
      expect(scheduled.nextRunAt).toEqual(new Date('2026-03-06T10:00:00Z'));
      const moved = await herald.campaigns.update(draft.id, {
        when: { schedule: { type: 'once', at: '2026-03-08T18:30:00Z' } },
      });
      expect(moved.status).toBe('scheduled');
      expect(moved.nextRunAt).toEqual(new Date('2026-03-08T18:30:00Z'));
      const last = (await herald.campaigns.history(draft.id)).at(-1)!;
      expect(last.changes.map((change) => change.field)).toEqual(['when', 'nextRunAt']);
    });

    it('a running campaign: content may change; its schedule type, schedule and audience may not', async () => {
      const draft = await herald.campaigns.create(draftInput({ when: daily }));
      await herald.campaigns.schedule(draft.id);
      await clock.advance(60 * 60_000);
      await herald.tick();
      const running = await herald.campaigns.get(draft.id);
      expect(running.status).toBe('running');

      const edited = await herald.campaigns.update(draft.id, {
        what: { title: 'New copy', deeplink: 'https://shop.example.com/new' },
        labels: ['promo', 'edited'],
      });
      expect(edited).toMatchObject({ status: 'running', labels: ['promo', 'edited'] });
      expect(edited.nextRunAt).toEqual(running.nextRunAt);

      const typeChange = await failure(
        herald.campaigns.update(draft.id, {
          when: { schedule: { type: 'once', at: '2026-03-09T10:00:00Z' } },
        }),
      );
      expect(typeChange).toBeInstanceOf(ConflictError);
      expect((typeChange as ConflictError).detail.field).toBe('when.schedule.type');
      const audience = await failure(
        herald.campaigns.update(draft.id, {
          who: { segment: { type: 'property', condition: { op: 'exists', property: 'plan' } } },
        }),
      );
      expect((audience as ConflictError).detail.field).toBe('who');

      // Paused, the audience and the time may change; the schedule type still may not.
      await herald.campaigns.pause(draft.id);
      const paused = await herald.campaigns.update(draft.id, {
        when: { schedule: { type: 'recurring', time: '18:00', every: { unit: 'day', interval: 1 } } },
      });
      expect(paused.nextRunAt).toEqual(new Date('2026-03-05T18:00:00Z'));
    });

    it('a live campaign: armed, only content changes; paused, its trigger and audience may change', async () => {
      const draft = await herald.campaigns.create(
        draftInput({ when: { schedule: { type: 'onEvent', event: { name: 'signup' } } } }),
      );
      await herald.campaigns.schedule(draft.id);
      await herald.tick();
      expect((await herald.campaigns.get(draft.id)).status).toBe('running');
      const trigger = await failure(
        herald.campaigns.update(draft.id, {
          when: { schedule: { type: 'onEvent', event: { name: 'purchase' } } },
        }),
      );
      expect((trigger as ConflictError).detail.field).toBe('when');
      const content = await herald.campaigns.update(draft.id, { name: 'Welcome (v2)' });
      expect(content.name).toBe('Welcome (v2)');

      await herald.campaigns.pause(draft.id);
      const paused = await herald.campaigns.update(draft.id, {
        when: { schedule: { type: 'onEvent', event: { name: 'purchase' } } },
        who: { segment: { type: 'property', condition: { op: 'exists', property: 'plan' } } },
      });
      expect(paused.when.schedule).toMatchObject({ type: 'onEvent', event: { name: 'purchase' } });
      const retyped = await failure(
        herald.campaigns.update(draft.id, {
          when: { schedule: { type: 'once', at: '2026-03-09T10:00:00Z' } },
        }),
      );
      expect((retyped as ConflictError).detail.field).toBe('when.schedule.type');
      expect((await herald.campaigns.resume(draft.id)).status).toBe('running');
    });

    it('duplicates into a draft, recorded in both histories', async () => {
      const original = await herald.campaigns.create(draftInput());
      await herald.campaigns.schedule(original.id);
      const copy = await herald.campaigns.duplicate(original.id, undefined, { actor: 'ana@example.com' });
      expect(copy).toMatchObject({
        name: 'Copy of Spring sale',
        status: 'draft',
        version: 0,
        nextRunAt: null,
      });
      expect(copy.id).not.toBe(original.id);
      expect(copy.what).toEqual(original.what);
      const named = await herald.campaigns.duplicate(original.id, { name: 'April sale' });
      expect(named.name).toBe('April sale');

      expect((await herald.campaigns.history(copy.id)).map((e) => [e.action, e.relatedCampaignId])).toEqual([
        ['created', original.id],
      ]);
      const originalHistory = await herald.campaigns.history(original.id);
      expect(originalHistory.map((e) => [e.action, e.actor, e.relatedCampaignId])).toEqual([
        ['created', 'library', null],
        ['scheduled', 'library', null],
        ['duplicated', 'ana@example.com', copy.id],
        ['duplicated', 'library', named.id],
      ]);
      expect((await herald.campaigns.get(original.id)).version).toBe(1);
    });

    it('deletes a draft only: anything else is to be stopped, so its stats survive', async () => {
      const draft = await herald.campaigns.create(draftInput());
      await herald.campaigns.delete(draft.id);
      expect(await failure(herald.campaigns.get(draft.id))).toBeInstanceOf(NotFoundError);
      expect(await failure(herald.campaigns.history(draft.id))).toBeInstanceOf(NotFoundError);

      const scheduled = await herald.campaigns.create(draftInput());
      await herald.campaigns.schedule(scheduled.id);
      const refused = await failure(herald.campaigns.delete(scheduled.id));
      expect(refused).toBeInstanceOf(ConflictError);
      expect((refused as Error).message).toContain('stop it instead');
      expect((await herald.campaigns.get(scheduled.id)).status).toBe('scheduled');
    });

    it('archives stopped and completed campaigns, hidden from list unless asked', async () => {
      const kept = await herald.campaigns.create(draftInput({ name: 'Kept' }));
      const old = await herald.campaigns.create(draftInput({ name: 'Old' }));
      await herald.campaigns.schedule(old.id);
      expect(await failure(herald.campaigns.archive(old.id))).toBeInstanceOf(ConflictError);
      await herald.campaigns.stop(old.id, { actor: 'ops' });
      const archived = await herald.campaigns.archive(old.id, { actor: 'ops' });
      expect(archived).toMatchObject({ status: 'stopped', archivedAt: clock.now() });
      expect(await failure(herald.campaigns.archive(old.id))).toBeInstanceOf(ConflictError);
      expect(await failure(herald.campaigns.update(old.id, { name: 'x' }))).toBeInstanceOf(ConflictError);

      expect((await herald.campaigns.list()).map((c) => c.id)).toEqual([kept.id]);
      expect((await herald.campaigns.list({ status: ['stopped'] })).map((c) => c.id)).toEqual([]);
      expect((await herald.campaigns.list({ includeArchived: true })).map((c) => c.id).sort()).toEqual(
        [kept.id, old.id].sort(),
      );
      expect((await herald.campaigns.history(old.id)).map((e) => [e.action, e.actor])).toEqual([
        ['created', 'library'],
        ['scheduled', 'library'],
        ['stopped', 'ops'],
        ['archived', 'ops'],
      ]);
    });
  });
}
