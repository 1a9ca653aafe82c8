import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ConflictError, ValidationError } from '../../errors/index.js';
import {
  type Campaign,
  type CampaignFieldChange,
  CampaignInput,
  type CampaignSpec,
  type CampaignStatus,
  isLive,
} from '../../model/index.js';

/** The top-level sections of a campaign a patch may replace. */
export const EDITABLE_FIELDS = ['name', 'labels', 'what', 'who', 'when', 'setup', 'metadata'] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

/**
 * A patch: any of the create input's top-level sections, each replacing that
 * section whole (no deep merge: send the whole `when` to move a date).
 * Unknown keys are refused.
 */
export const CampaignPatch = z.strictObject(CampaignInput.shape).partial();
export type CampaignPatch = z.input<typeof CampaignPatch>;

/** The sections a patch names (present keys, even when a section equals the stored one). */
export function parsePatch(patch: unknown): { given: EditableField[]; values: Partial<CampaignSpec> } {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new ValidationError('campaign patch', [{ path: '', message: 'expected an object' }]);
  }
  const parsed = CampaignPatch.safeParse(patch);
  if (!parsed.success) throw ValidationError.fromZod('campaign patch', parsed.error);
  const given = EDITABLE_FIELDS.filter((field) => Object.hasOwn(patch, field));
  // Only the sections given: a default the partial schema filled in for an absent one is not a change.
  const values = Object.fromEntries(
    given.map((field) => [field, parsed.data[field]]),
  ) as Partial<CampaignSpec>;
  return { given, values };
}

/** Statuses whose campaign can be edited; the others are finished (or archived). */
const EDITABLE_STATUSES: readonly CampaignStatus[] = ['draft', 'scheduled', 'running', 'paused'];

/**
 * What may change, by status (docs/CAMPAIGNS.md "Editing, duplicating,
 * archiving"): a draft, anything; scheduled and paused, anything but the
 * type of schedule (and, paused, the control group); running, content only
 * (name, labels, what, metadata, and setup except the control group): pause
 * it to change its audience or schedule. Throws ConflictError naming the
 * first field refused.
 */
export function assertEditable(
  campaign: Campaign,
  next: CampaignSpec,
  changed: readonly EditableField[],
): void {
  if (campaign.archivedAt !== undefined || !EDITABLE_STATUSES.includes(campaign.status)) {
    throw new ConflictError(
      `Campaign ${campaign.id} is ${campaign.archivedAt ? 'archived' : campaign.status}; only draft, scheduled, running and paused campaigns can be edited (duplicate it instead)`,
    );
  }
  if (campaign.status === 'draft') return;
  const refuse = (field: string, why: string): never => {
    throw new ConflictError(
      `Campaign ${campaign.id} is ${campaign.status}: ${field} cannot change (${why})`,
      {
        field,
      },
    );
  };
  if (changed.includes('when') && next.when.schedule.type !== campaign.when.schedule.type) {
    refuse('when.schedule.type', 'stop it and create, or duplicate, a campaign of the other type');
  }
  if (campaign.status === 'running') {
    if (changed.includes('when')) refuse('when', 'an occurrence or its triggers are live: pause it first');
    if (changed.includes('who')) refuse('who', 'an occurrence is being sent: pause it first');
  }
  if (
    (campaign.status === 'running' || campaign.status === 'paused') &&
    changed.includes('setup') &&
    next.setup.controlGroupPercent !== campaign.setup.controlGroupPercent
  ) {
    refuse('setup.controlGroupPercent', 'lift is measured against the group held out so far');
  }
}

/** The top-level fields that differ, with before and after (only the fields the patch named). */
export function changedFields(
  campaign: Campaign,
  next: CampaignSpec,
  given: readonly EditableField[],
): CampaignFieldChange[] {
  return given
    .filter((field) => !isDeepStrictEqual(campaign[field], next[field]))
    .map((field) => ({ field, before: campaign[field], after: next[field] }));
}

/**
 * Whether a new `when` moves this campaign's next due moment: a scheduled
 * campaign (past-behaviour, or live not yet armed), or a paused
 * past-behaviour one with a moment still to come. A paused campaign with
 * nothing left to schedule keeps none; a paused live one takes its moment
 * from `when` when it resumes.
 */
export function dueMomentFollowsWhen(campaign: Campaign): boolean {
  if (campaign.status === 'scheduled') return true;
  return campaign.status === 'paused' && !isLive(campaign.when.schedule) && campaign.nextRunAt !== null;
}

/** The campaign's own spec (create input), for a copy or a merge. */
export function specOf(campaign: Campaign): CampaignSpec {
  const { name, labels, when, who, what, setup, metadata } = campaign;
  return structuredClone({ name, labels, when, who, what, setup, metadata });
}

/** Who asked, and (optionally) the version they last read: a change on any other version is refused. */
export interface CampaignCommandOptions {
  /** Recorded in the campaign's history; the admin API passes its authorised principal. Default 'library'. */
  actor?: string;
  /** The version the caller last read; another stored version is a ConflictError with `detail.currentVersion`. */
  expectedVersion?: number;
}
