import { describe, expect, it } from 'vitest';
import type { CreateCampaignInput, CreateSegmentInput } from '../../../src/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/index.js';
import { audienceHerald } from './harness.js';

const proSegment = {
  name: 'Pro users',
  definition: { type: 'property', condition: { op: 'eq', property: 'plan', value: 'pro' } },
} satisfies CreateSegmentInput;

const campaignUsing = (who: CreateCampaignInput['who']): CreateCampaignInput => ({
  name: 'Pro deals',
  when: { schedule: { type: 'once', at: '2026-03-02T11:00:00Z' } },
  who,
  what: { title: 'Hi {{ user.first_name | default: "there" }}', deeplink: 'https://shop.example.test/deals' },
});

describe('saved segments', () => {
  it('creates, reads, lists, updates and deletes a segment', async () => {
    const { herald, clock } = audienceHerald();
    const created = await herald.segments.create({ ...proSegment, description: 'Paying' });
    expect(created).toMatchObject({
      name: 'Pro users',
      description: 'Paying',
      definition: proSegment.definition,
    });
    expect(created.id).toMatch(/^seg_/);
    expect(await herald.segments.get(created.id)).toEqual(created);

    await clock.advance(60_000);
    const updated = await herald.segments.update(created.id, { name: 'Pro and team' });
    expect(updated).toMatchObject({ name: 'Pro and team', definition: proSegment.definition });
    expect(updated.updatedAt.getTime()).toBe(created.updatedAt.getTime() + 60_000);
    expect((await herald.segments.list()).map((s) => s.name)).toEqual(['Pro and team']);

    await herald.segments.delete(created.id);
    expect(await herald.segments.list()).toEqual([]);
    await expect(herald.segments.get(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(herald.segments.delete(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('validates input with paths, definitions included', async () => {
    const { herald } = audienceHerald();
    const error = await herald.segments
      .create({
        name: '',
        definition: { type: 'did', event: { name: 'Charged' }, count: { op: 'atLeast', value: -1 } },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['name', 'definition.count.value']),
    );
    const created = await herald.segments.create(proSegment);
    await expect(
      herald.segments.update(created.id, {
        // @ts-expect-error: a JavaScript caller's typo is refused at run time too
        definition: { type: 'nope' },
      }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('a campaign targets a saved segment by id and reads its definition when it runs', async () => {
    const { herald, clock, sent, user } = audienceHerald();
    await user('ann', { plan: 'pro' });
    await user('bob', { plan: 'free' });
    await user('cyd', { plan: 'team' });
    const segment = await herald.segments.create(proSegment);
    const campaign = await herald.campaigns.create(campaignUsing({ segmentId: segment.id }));
    await herald.campaigns.schedule(campaign.id);
    // Edited after scheduling: the run reads the new definition.
    await herald.segments.update(segment.id, {
      definition: { type: 'property', condition: { op: 'in', property: 'plan', values: ['pro', 'team'] } },
    });
    await clock.advance(3_600_000);
    await herald.tick();
    expect(sent.map((s) => (s.payload as { herald: { userId: string } }).herald.userId).sort()).toEqual([
      'ann',
      'cyd',
    ]);
  });

  it('refuses a campaign naming an unknown segment, pointing at who.segmentId', async () => {
    const { herald } = audienceHerald();
    const error = await herald.campaigns
      .create(campaignUsing({ segmentId: 'seg_missing' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      { path: 'who.segmentId', message: 'no saved segment seg_missing' },
    ]);
  });

  it('refuses to delete a segment a scheduled, running or paused campaign uses, naming the campaigns', async () => {
    const { herald } = audienceHerald();
    const segment = await herald.segments.create(proSegment);
    const draft = await herald.campaigns.create(campaignUsing({ segmentId: segment.id }));
    const scheduled = await herald.campaigns.create({
      ...campaignUsing({ segmentId: segment.id }),
      name: 'Weekly',
    });
    await herald.campaigns.schedule(scheduled.id);
    const paused = await herald.campaigns.create({
      ...campaignUsing({ segmentId: segment.id }),
      name: 'Paused one',
    });
    await herald.campaigns.schedule(paused.id);
    await herald.campaigns.pause(paused.id);

    const error = await herald.segments.delete(segment.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain(scheduled.id);
    expect((error as Error).message).toContain('"Weekly", scheduled');
    expect((error as Error).message).toContain('"Paused one", paused');
    expect((error as Error).message).not.toContain(draft.id);
    expect((await herald.segments.usedBy(segment.id)).map((c) => c.id).sort()).toEqual(
      [paused.id, scheduled.id].sort(),
    );

    await herald.campaigns.stop(scheduled.id);
    await herald.campaigns.stop(paused.id);
    await herald.segments.delete(segment.id);
    // The draft can no longer be scheduled: its segment is gone.
    await expect(herald.campaigns.schedule(draft.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('estimates reach for a definition or a saved segment, sending nothing', async () => {
    const { herald, sent, user, safari, clock } = audienceHerald();
    await user('ann', { plan: 'pro' });
    await safari('ann');
    await user('bob', { plan: 'pro' });
    await herald.profiles.upsert({ userId: 'cyd', properties: { plan: 'pro' } });
    await safari('dee');
    await herald.profiles.upsert({ userId: 'dee', properties: { plan: 'pro' } });
    await herald.events.track({ userId: 'bob', name: 'Charged', time: clock.now() });

    expect(await herald.segments.estimateReach(proSegment.definition)).toEqual({
      qualified: 4,
      reachable: { total: 3, webpush: 2, safari: 2 },
    });
    expect(
      await herald.segments.estimateReach({
        type: 'and',
        of: [
          proSegment.definition,
          { type: 'did', event: { name: 'Charged' }, window: { inLast: { amount: 1, unit: 'days' } } },
        ],
      }),
    ).toEqual({ qualified: 1, reachable: { total: 1, webpush: 1, safari: 0 } });
    const saved = await herald.segments.create(proSegment);
    expect((await herald.segments.estimateReach({ segmentId: saved.id })).qualified).toBe(4);
    await expect(
      herald.segments.estimateReach({
        // @ts-expect-error: a JavaScript caller's typo is refused at run time too
        type: 'bogus',
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(sent).toEqual([]);
  });
});
