import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, parseInput as parse } from '../../errors/index.js';
import {
  type Campaign,
  type CampaignStatus,
  type ReachEstimate,
  type SavedSegment,
  SegmentDefinition,
  SegmentId,
  SegmentInput,
} from '../../model/index.js';
import type { Storage } from '../../ports/index.js';
import type { CreateSegmentInput, SegmentService, UpdateSegmentInput } from '../api.js';
import type { EngineContext } from '../context.js';

/** Campaigns in these states still read their segment: deleting it is refused. */
export const SEGMENT_IN_USE_STATUSES: readonly CampaignStatus[] = ['scheduled', 'running', 'paused'];

const SegmentUpdate = SegmentInput.partial();

export function newSegmentId(): SegmentId {
  return SegmentId.parse(`seg_${randomUUID().replace(/-/g, '')}`);
}

/** `herald.segments`: saved segments and reach estimates. */
export function createSegmentService(ctx: EngineContext): SegmentService {
  async function load(id: string): Promise<SavedSegment> {
    const parsed = SegmentId.safeParse(id);
    const segment = parsed.success ? await ctx.storage.getSegment(parsed.data) : null;
    if (!segment) throw new NotFoundError('segment', id);
    return segment;
  }

  /** Campaigns that would still read this segment, oldest first. */
  async function usedBy(id: SegmentId): Promise<Campaign[]> {
    const campaigns = await ctx.storage.listCampaigns({ status: SEGMENT_IN_USE_STATUSES });
    return campaigns.filter((c) => 'segmentId' in c.who && c.who.segmentId === id);
  }

  return {
    /** Saves a named definition for campaigns to use by id (`who: { segmentId }`). */
    async create(input: CreateSegmentInput): Promise<SavedSegment> {
      const parsed = parse(SegmentInput, input, 'segment');
      const now = ctx.clock.now();
      const segment: SavedSegment = {
        id: newSegmentId(),
        name: parsed.name,
        ...(parsed.description !== undefined ? { description: parsed.description } : {}),
        definition: parsed.definition,
        createdAt: now,
        updatedAt: now,
      };
      await ctx.storage.insertSegment(segment);
      return segment;
    },

    /**
     * Changes name, description or definition. Campaigns using the segment
     * read the new definition from their next audience page on.
     */
    async update(id: string, input: UpdateSegmentInput): Promise<SavedSegment> {
      const changes = parse(SegmentUpdate, input, 'segment');
      const current = await load(id);
      const next: SavedSegment = { ...current, ...stripUndefined(changes), updatedAt: ctx.clock.now() };
      if (!(await ctx.storage.updateSegment(next))) throw new NotFoundError('segment', id);
      return next;
    },

    get: load,

    list: (): Promise<SavedSegment[]> => ctx.storage.listSegments(),

    /** Campaigns (scheduled, running or paused) that use this segment. */
    async usedBy(id: string): Promise<Campaign[]> {
      return usedBy((await load(id)).id);
    },

    /**
     * Deletes a saved segment. Refused with a ConflictError naming them while
     * a scheduled, running or paused campaign uses it; drafts and finished
     * campaigns do not hold it (a draft using a deleted segment cannot be scheduled).
     */
    async delete(id: string): Promise<void> {
      const segment = await load(id);
      const users = await usedBy(segment.id);
      if (users.length > 0) {
        throw new ConflictError(
          `Segment ${segment.id} ("${segment.name}") is used by ${users
            .map((c) => `campaign ${c.id} ("${c.name}", ${c.status})`)
            .join(', ')}; stop those campaigns or point them elsewhere first`,
        );
      }
      if (!(await ctx.storage.deleteSegment(segment.id))) throw new NotFoundError('segment', id);
    },

    /**
     * How many users match a definition now, and how many of them web push
     * can reach (by target), without sending anything. Takes a definition,
     * or `{ segmentId }` for a saved one.
     */
    async estimateReach(input: Parameters<SegmentService['estimateReach']>[0]): Promise<ReachEstimate> {
      const definition =
        input !== null && typeof input === 'object' && 'segmentId' in input
          ? (await load(String((input as { segmentId: unknown }).segmentId))).definition
          : parse(SegmentDefinition, input, 'segment definition');
      return ctx.storage.estimateReach(definition, ctx.clock.now());
    },
  };
}

export type { SegmentService };

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A campaign naming a saved segment that does not exist: a ValidationError issue at `who.segmentId`. */
export async function audienceIssues(
  storage: Storage,
  who: Campaign['who'],
): Promise<Array<{ path: string; message: string }>> {
  if (!('segmentId' in who) || (await storage.getSegment(who.segmentId))) return [];
  return [{ path: 'who.segmentId', message: `no saved segment ${who.segmentId}` }];
}
