import {
  ConflictError,
  NotFoundError,
  parseInput as parseAgainst,
  ValidationError,
} from '../../errors/index.js';
import {
  type Campaign,
  type CampaignFieldChange,
  type CampaignHistoryAction,
  type CampaignHistoryEntry,
  CampaignId as CampaignIdSchema,
  CampaignListFilter as CampaignListFilterSchema,
  type CampaignSpec,
  type CampaignStats,
  type CampaignStatus,
  MAX_CAMPAIGN_NAME_LENGTH,
  type Properties,
  UserId as UserIdSchema,
} from '../../model/index.js';
import { truncateText } from '../../model/text.js';
import type { CampaignListFilter, CampaignService, CreateCampaignInput } from '../api.js';
import type { EngineContext } from '../context.js';
import { resolveAudience } from '../fanout/index.js';
import {
  type CampaignBrowsers,
  type CampaignForecast,
  type CampaignPreview,
  type CampaignRuns,
  type CampaignTimeline,
  campaignBrowsers,
  campaignRuns,
  campaignStats,
  campaignTimeline,
  type Explanation,
  explain,
  forecastCampaign,
  previewCampaign,
  sendTest,
  type TestSendResult,
} from '../observe/index.js';
import { assertTransition, firstRun, resumeTarget } from '../schedule/index.js';
import {
  assertEditable,
  type CampaignCommandOptions,
  changedFields,
  dueMomentFollowsWhen,
  parsePatch,
  specOf,
} from './editing.js';
import { newCampaignId } from './ids.js';
import { audienceIssues } from './segments-service.js';

/** campaigns.create / update / duplicate / delete / archive / history / schedule / pause / resume / stop / get / list / stats / runs. */
export function createCampaignService(
  ctx: EngineContext,
  parseInput: (input: unknown) => CampaignSpec,
): CampaignService {
  async function load(id: string): Promise<Campaign> {
    const parsedId = CampaignIdSchema.safeParse(id);
    const campaign = parsedId.success ? await ctx.storage.getCampaign(parsedId.data) : null;
    if (!campaign) throw new NotFoundError('campaign', id);
    return campaign;
  }

  async function versionConflict(id: Campaign['id'], expected: number): Promise<ConflictError> {
    const current = await ctx.storage.getCampaign(id);
    const version = current?.version;
    return new ConflictError(
      `Campaign ${id} is at version ${version ?? '(deleted)'}, not ${expected}; reload it and decide again`,
      version === undefined ? {} : { currentVersion: version },
    );
  }

  /** Loads a campaign, refusing when the caller expected another version. */
  async function loadAt(id: string, options: CampaignCommandOptions): Promise<Campaign> {
    const campaign = await load(id);
    if (options.expectedVersion !== undefined && campaign.version !== options.expectedVersion) {
      throw await versionConflict(campaign.id, options.expectedVersion);
    }
    return campaign;
  }

  /** Writes the change at the version read (atomic in storage: a concurrent change makes this a ConflictError). */
  async function save(campaign: Campaign, changes: Partial<Campaign>): Promise<Campaign> {
    const next: Campaign = {
      ...campaign,
      ...changes,
      updatedAt: ctx.clock.now(),
      version: campaign.version + 1,
    };
    if (!(await ctx.storage.updateCampaign(next, campaign.version))) {
      throw await versionConflict(campaign.id, campaign.version);
    }
    if (next.status !== campaign.status)
      ctx.emit({ type: 'campaign-status', campaignId: campaign.id, from: campaign.status, to: next.status });
    return next;
  }

  /** Appends the history entry of a command, after its change was saved. */
  async function record(
    campaign: Campaign,
    action: CampaignHistoryAction,
    options: CampaignCommandOptions,
    extra: { changes?: CampaignFieldChange[]; relatedCampaignId?: Campaign['id'] } = {},
  ): Promise<void> {
    const entry: CampaignHistoryEntry = {
      campaignId: campaign.id,
      version: campaign.version,
      at: ctx.clock.now(),
      actor: options.actor ?? 'library',
      action,
      changes: extra.changes ?? [],
      relatedCampaignId: extra.relatedCampaignId ?? null,
    };
    await ctx.storage.appendCampaignHistory(entry);
  }

  /** The status (and next due moment) a command changed, as history changes. */
  function statusChanges(before: Campaign, after: Campaign): CampaignFieldChange[] {
    const changes: CampaignFieldChange[] = [{ field: 'status', before: before.status, after: after.status }];
    if (before.nextRunAt?.getTime() !== after.nextRunAt?.getTime()) {
      changes.push({ field: 'nextRunAt', before: before.nextRunAt, after: after.nextRunAt });
    }
    return changes;
  }

  async function transition(
    id: string,
    to: CampaignStatus,
    action: CampaignHistoryAction,
    options: CampaignCommandOptions,
    changes: Partial<Campaign> = {},
  ): Promise<Campaign> {
    const campaign = await loadAt(id, options);
    assertTransition(campaign.id, campaign.status, to);
    const saved = await save(campaign, { ...changes, status: to });
    await record(saved, action, options, { changes: statusChanges(campaign, saved) });
    return saved;
  }

  /**
   * The first due moment of a campaign scheduled, or rescheduled by an
   * edit, at `now`: the one place a command asks the schedule for it.
   */
  /** The first run on or after `now` (and `start`): where a schedule, or a moved send, begins. */
  function firstDue(campaign: Campaign, now: Date): Pick<Campaign, 'nextRunAt' | 'runsFrom'> {
    const first = firstRun(campaign, now);
    if (!first) {
      throw new ValidationError('campaign', [
        { path: 'when', message: 'the schedule has no moment between start and end' },
      ]);
    }
    return { nextRunAt: first.actAt, ...(first.runsFrom ? { runsFrom: first.runsFrom } : {}) };
  }

  async function insertDraft(spec: CampaignSpec): Promise<Campaign> {
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
  }

  return {
    /** Validates and stores a campaign as a draft. Templates are checked now, not at send time. */
    async create(
      input: CreateCampaignInput,
      options: Pick<CampaignCommandOptions, 'actor'> = {},
    ): Promise<Campaign> {
      const campaign = await insertDraft(parseInput(input));
      await record(campaign, 'created', options);
      return campaign;
    },

    /**
     * Replaces the sections the patch names (name, labels, what, who, when,
     * setup, metadata; each whole), validated as at create. What may change
     * depends on the status (editing.ts `assertEditable`); a new `when`
     * recomputes the next due moment of a scheduled or paused campaign.
     */
    async update(id: string, patch: unknown, options: CampaignCommandOptions = {}): Promise<Campaign> {
      const { given, values } = parsePatch(patch);
      const campaign = await loadAt(id, options);
      const next = parseInput({ ...specOf(campaign), ...values });
      assertEditable(campaign, next, given);
      const changes = changedFields(campaign, next, given);
      if (changes.length === 0) return campaign;
      const touched = new Set(changes.map((change) => change.field));
      const issues = [
        ...(touched.has('what') ? ctx.renderer.check(next.what) : []),
        ...(touched.has('who') ? await audienceIssues(ctx.storage, next.who) : []),
      ];
      if (issues.length > 0) throw new ValidationError('campaign', issues);
      const edited: Campaign = { ...campaign, ...next };
      if (touched.has('who') && campaign.status !== 'draft') await resolveAudience(ctx.storage, edited);
      const due =
        touched.has('when') && dueMomentFollowsWhen(campaign) ? firstDue(edited, ctx.clock.now()) : {};
      const saved = await save(campaign, { ...next, ...due });
      if ('nextRunAt' in due && campaign.nextRunAt?.getTime() !== saved.nextRunAt?.getTime()) {
        changes.push({ field: 'nextRunAt', before: campaign.nextRunAt, after: saved.nextRunAt });
      }
      await record(saved, 'updated', options, { changes });
      return saved;
    },

    /**
     * A draft copy (new id, version 0, no next due moment), named "Copy of …"
     * unless `overrides` (a patch) names it; recorded in both histories.
     */
    async duplicate(
      id: string,
      overrides: unknown = {},
      options: Pick<CampaignCommandOptions, 'actor'> = {},
    ): Promise<Campaign> {
      const { values } = parsePatch(overrides);
      const original = await load(id);
      const spec = specOf(original);
      const copy = await insertDraft(
        parseInput({
          ...spec,
          name: truncateText(`Copy of ${spec.name}`, MAX_CAMPAIGN_NAME_LENGTH),
          ...values,
        }),
      );
      await record(copy, 'created', options, { relatedCampaignId: original.id });
      // The original does not change: its entry carries its current version.
      await record(original, 'duplicated', options, { relatedCampaignId: copy.id });
      return copy;
    },

    /** Removes a draft and its history; any other status is a ConflictError (stop it: stats survive). */
    async delete(id: string, options: Pick<CampaignCommandOptions, 'expectedVersion'> = {}): Promise<void> {
      const campaign = await loadAt(id, options);
      if (campaign.status !== 'draft') {
        throw new ConflictError(
          `Campaign ${campaign.id} is ${campaign.status}; only a draft can be deleted: stop it instead; stopped campaigns keep their stats`,
        );
      }
      if (!(await ctx.storage.deleteCampaign(campaign.id, campaign.version))) {
        throw await versionConflict(campaign.id, campaign.version);
      }
    },

    /** Hides a stopped or completed campaign from `list` (its stats and history stay readable). */
    async archive(id: string, options: CampaignCommandOptions = {}): Promise<Campaign> {
      const campaign = await loadAt(id, options);
      if (campaign.archivedAt !== undefined) {
        throw new ConflictError(`Campaign ${campaign.id} is already archived`);
      }
      if (campaign.status !== 'stopped' && campaign.status !== 'completed') {
        throw new ConflictError(
          `Campaign ${campaign.id} is ${campaign.status}; only stopped and completed campaigns can be archived`,
        );
      }
      const saved = await save(campaign, { archivedAt: ctx.clock.now() });
      await record(saved, 'archived', options, {
        changes: [{ field: 'archivedAt', before: null, after: saved.archivedAt }],
      });
      return saved;
    },

    /** Who changed what, when: the campaign's history, oldest first. */
    async history(id: string): Promise<CampaignHistoryEntry[]> {
      const campaign = await load(id);
      return ctx.storage.listCampaignHistory(campaign.id);
    },

    /** draft → scheduled: the scheduler runs it when its first moment comes. */
    async schedule(id: string, options: CampaignCommandOptions = {}): Promise<Campaign> {
      const campaign = await loadAt(id, options);
      assertTransition(campaign.id, campaign.status, 'scheduled');
      // A saved segment deleted while the campaign was a draft: refuse (NotFoundError) rather than fail at run time.
      await resolveAudience(ctx.storage, campaign);
      // Live campaigns are armed at their start and disarmed at their end (engine/schedule/scheduler.ts).
      const saved = await save(campaign, {
        status: 'scheduled',
        ...firstDue(campaign, ctx.clock.now()),
      });
      await record(saved, 'scheduled', options, { changes: statusChanges(campaign, saved) });
      return saved;
    },

    pause: (id: string, options: CampaignCommandOptions = {}) => transition(id, 'paused', 'paused', options),

    /**
     * paused → back to where it was: running if an occurrence had started, else
     * scheduled. Runs due while paused are skipped (`resumeTarget`).
     */
    async resume(id: string, options: CampaignCommandOptions = {}): Promise<Campaign> {
      const campaign = await loadAt(id, options);
      if (campaign.status !== 'paused') {
        throw new ConflictError(
          `Campaign ${campaign.id} is ${campaign.status}; only a paused campaign can resume`,
        );
      }
      const { missedFrom, ...target } = resumeTarget(campaign, ctx.clock.now());
      if (missedFrom) {
        ctx.logger.info('campaign resumed: runs due while it was paused are skipped', {
          campaignId: campaign.id,
          missedFrom: missedFrom.toISOString(),
          nextRunAt: target.nextRunAt?.toISOString() ?? null,
        });
      }
      const saved = await save(campaign, target);
      await record(saved, 'resumed', options, { changes: statusChanges(campaign, saved) });
      return saved;
    },

    /** Stops for good: nothing more is sent; messages not yet sent are skipped as stopped. */
    stop: (id: string, options: CampaignCommandOptions = {}) =>
      transition(id, 'stopped', 'stopped', options, { nextRunAt: null }),

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

    /** Archived campaigns are left out unless `includeArchived`. */
    async list(filter: CampaignListFilter = {}): Promise<Campaign[]> {
      const { includeArchived, ...stored } = parseAgainst(
        CampaignListFilterSchema,
        filter,
        'campaign filter',
      );
      const campaigns = await ctx.storage.listCampaigns(stored);
      return includeArchived ? campaigns : campaigns.filter((campaign) => campaign.archivedAt === undefined);
    },

    /** Recipients, deliveries, skips by reason, reports and conversions (engine/observe/stats.ts). */
    stats: async (id: string): Promise<CampaignStats> => campaignStats(ctx, await load(id)),

    /**
     * Each run with its own figures, progress (queued, in progress, done,
     * settledAt) and rates, and their total; live campaigns by day in their
     * zone (engine/observe/runs.ts; definitions in docs/CAMPAIGNS.md, "Stats").
     */
    runs: async (id: string): Promise<CampaignRuns> => campaignRuns(ctx, await load(id)),

    /** Figures over time, hour then day buckets in the campaign's zone (engine/observe/timeline.ts). */
    timeline: async (id: string): Promise<CampaignTimeline> => campaignTimeline(ctx, await load(id)),

    /** Messages, reports and conversions by browser and target (engine/observe/browsers.ts). */
    browsers: async (id: string): Promise<CampaignBrowsers> => campaignBrowsers(ctx, await load(id)),

    /** Why this user did or did not get this campaign, occurrence by occurrence (engine/observe/explain.ts). */
    async explain(id: string, userId: string): Promise<Explanation> {
      const campaign = await load(id);
      const parsedUser = UserIdSchema.safeParse(userId);
      if (!parsedUser.success) throw ValidationError.fromZod('user id', parsedUser.error);
      return explain(ctx, campaign, parsedUser.data);
    },
  };
}
