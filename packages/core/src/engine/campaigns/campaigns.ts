import { ConflictError, NotFoundError, ValidationError } from '../../errors/index.js';
import {
  type Campaign,
  CampaignId as CampaignIdSchema,
  type CampaignSpec,
  type CampaignStats,
  type CampaignStatus,
  type Properties,
  UserId as UserIdSchema,
} from '../../model/index.js';
import type { EngineContext } from '../context.js';
import { resolveAudience } from '../fanout/index.js';
import {
  type CampaignForecast,
  type CampaignPreview,
  type CampaignRuns,
  campaignRuns,
  campaignStats,
  type Explanation,
  explain,
  forecastCampaign,
  previewCampaign,
  sendTest,
  type TestSendResult,
} from '../observe/index.js';
import { assertTransition, firstMoment, resumeTarget } from '../schedule/index.js';
import { newCampaignId } from './ids.js';
import { audienceIssues } from './segments-service.js';

/** campaigns.create / schedule / pause / resume / stop / get / list / stats / runs. */
export function createCampaignService(ctx: EngineContext, parseInput: (input: unknown) => CampaignSpec) {
  async function load(id: string): Promise<Campaign> {
    const parsedId = CampaignIdSchema.safeParse(id);
    const campaign = parsedId.success ? await ctx.storage.getCampaign(parsedId.data) : null;
    if (!campaign) throw new NotFoundError('campaign', id);
    return campaign;
  }

  async function save(campaign: Campaign, changes: Partial<Campaign>): Promise<Campaign> {
    const next: Campaign = {
      ...campaign,
      ...changes,
      updatedAt: ctx.clock.now(),
      version: campaign.version + 1,
    };
    if (!(await ctx.storage.updateCampaign(next, campaign.version))) {
      throw new ConflictError(`Campaign ${campaign.id} was changed concurrently; reload and try again`);
    }
    return next;
  }

  async function transition(
    id: string,
    to: CampaignStatus,
    changes: Partial<Campaign> = {},
  ): Promise<Campaign> {
    const campaign = await load(id);
    assertTransition(campaign.id, campaign.status, to);
    return save(campaign, { ...changes, status: to });
  }

  return {
    /** Validates and stores a campaign as a draft. Templates are checked now, not at send time. */
    async create(input: unknown): Promise<Campaign> {
      const spec = parseInput(input);
      const issues = [...ctx.renderer.check(spec.what), ...(await audienceIssues(ctx.storage, spec.who))];
      if (issues.length > 0) throw new ValidationError('campaign', issues);
      const now = ctx.clock.now();
      const campaign: Campaign = {
        ...spec,
        id: newCampaignId(),
        status: 'draft',
        createdAt: now,
        updatedAt: now,
        nextRunAt: null,
        version: 0,
      };
      await ctx.storage.insertCampaign(campaign);
      return campaign;
    },

    /** draft → scheduled: the scheduler runs it when its first moment comes. */
    async schedule(id: string): Promise<Campaign> {
      const campaign = await load(id);
      assertTransition(campaign.id, campaign.status, 'scheduled');
      // A saved segment deleted while the campaign was a draft: refuse (NotFoundError) rather than fail at run time.
      await resolveAudience(ctx.storage, campaign);
      // Live campaigns are armed at their start and disarmed at their end (engine/schedule/scheduler.ts).
      const firstRun = firstMoment(campaign, ctx.clock.now());
      if (!firstRun) {
        throw new ValidationError('campaign', [
          { path: 'when', message: 'the schedule has no moment between start and end' },
        ]);
      }
      return save(campaign, { status: 'scheduled', nextRunAt: firstRun });
    },

    pause: (id: string) => transition(id, 'paused'),

    /** paused → back to where it was: running if an occurrence had started, else scheduled. */
    async resume(id: string): Promise<Campaign> {
      const campaign = await load(id);
      if (campaign.status !== 'paused') {
        throw new ConflictError(
          `Campaign ${campaign.id} is ${campaign.status}; only a paused campaign can resume`,
        );
      }
      return save(campaign, resumeTarget(campaign, ctx.clock.now()));
    },

    /** Stops for good: nothing more is sent; messages not yet sent are skipped as stopped. */
    stop: (id: string) => transition(id, 'stopped', { nextRunAt: null }),

    get: load,

    /**
     * The notification exactly as this user would get it on each of their
     * subscriptions now (Safari's drops applied), with warnings. Nothing is sent.
     */
    preview: async (id: string, userId: string, options?: { event?: Properties }): Promise<CampaignPreview> =>
      previewCampaign(ctx, await load(id), userId, options),

    /** Sends the rendered content now to test profiles only; never counted in stats. */
    sendTest: async (
      id: string,
      options?: { userIds?: string[]; event?: Properties },
    ): Promise<TestSendResult[]> => sendTest(ctx, await load(id), options),

    /** How many users the next run would reach after control group, caps and DND. */
    forecast: async (id: string): Promise<CampaignForecast> => forecastCampaign(ctx, await load(id)),

    list: (filter: { status?: CampaignStatus[]; label?: string } = {}) => ctx.storage.listCampaigns(filter),

    /** Recipients, deliveries, skips by reason, reports and conversions (engine/observe/stats.ts). */
    stats: async (id: string): Promise<CampaignStats> => campaignStats(ctx, await load(id)),

    /**
     * Each run with its own figures, progress (queued, in progress, done,
     * settledAt) and rates, and their total; live campaigns by day in their
     * zone (engine/observe/runs.ts; definitions in docs/CAMPAIGNS.md, "Stats").
     */
    runs: async (id: string): Promise<CampaignRuns> => campaignRuns(ctx, await load(id)),

    /** Why this user did or did not get this campaign, occurrence by occurrence (engine/observe/explain.ts). */
    async explain(id: string, userId: string): Promise<Explanation> {
      const campaign = await load(id);
      const parsedUser = UserIdSchema.safeParse(userId);
      if (!parsedUser.success) throw ValidationError.fromZod('user id', parsedUser.error);
      return explain(ctx, campaign, parsedUser.data);
    },
  };
}
