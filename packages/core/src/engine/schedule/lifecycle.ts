import { ConflictError } from '../../errors/index.js';
import { type Campaign, type CampaignStatus, isLive } from '../../model/index.js';
import { actAtFor, firstDueFrom } from './next-due.js';

/** The campaign lifecycle: which status may follow which, and through which command. */
const transitions: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ['scheduled', 'stopped'],
  scheduled: ['running', 'paused', 'stopped', 'completed'],
  running: ['paused', 'stopped', 'completed'],
  paused: ['scheduled', 'running', 'stopped'],
  completed: [],
  stopped: [],
};

export function canTransition(from: CampaignStatus, to: CampaignStatus): boolean {
  return transitions[from].includes(to);
}

export function assertTransition(campaignId: string, from: CampaignStatus, to: CampaignStatus): void {
  if (!canTransition(from, to)) {
    throw new ConflictError(`Campaign ${campaignId} is ${from}; it cannot become ${to}`);
  }
}

/** The instant a campaign's runs count from (`runsFrom`; campaigns scheduled before it existed: when created). */
export function seriesAnchor(campaign: Campaign): Date {
  return campaign.runsFrom ?? campaign.createdAt;
}

/**
 * The first moment the scheduler acts on a campaign being scheduled at
 * `now`, or null when its schedule has none left. Scheduled campaigns: the
 * first occurrence on or after `now` (and start), counted from `now`; for
 * delivery in the user's zone, the first whose wall-clock time has not yet
 * come anywhere (`firstDueFrom`). Live campaigns: their start (now when
 * none), when they are armed; null when their end has passed.
 */
export function firstMoment(campaign: Campaign, now: Date): Date | null {
  return firstRun(campaign, now)?.actAt ?? null;
}

/** `firstMoment`, with the first occurrence's nominal instant (`runsFrom`) for a scheduled campaign. */
export function firstRun(campaign: Campaign, now: Date): { actAt: Date; runsFrom?: Date } | null {
  const when = campaign.when;
  if (isLive(when.schedule)) {
    if (when.end && when.end <= now) return null;
    return { actAt: when.start && when.start > now ? when.start : now };
  }
  const first = firstDueFrom(when, now, now);
  return first ? { actAt: actAtFor(when, first), runsFrom: first } : null;
}

/**
 * Where a paused campaign resumes. A live campaign: armed again (running
 * until its end) once its start has come, else scheduled for its start.
 *
 * A scheduled campaign goes on with its next occurrence on or after `now`:
 * runs whose moment came while it was paused are skipped, not sent in a
 * burst on resume (a daily campaign paused for two weeks sends one message
 * the next day, not fourteen now) and leave no recipient rows; `missedFrom`
 * says from which run on, for the log. A one-time campaign is never
 * skipped: paused past its moment, it runs on resume. Running if an
 * occurrence had started and nothing is left to schedule, else scheduled.
 */
export function resumeTarget(
  campaign: Campaign,
  now: Date,
): Pick<Campaign, 'status' | 'nextRunAt' | 'runsFrom'> & { missedFrom: Date | null } {
  const when = campaign.when;
  if (isLive(when.schedule)) {
    if (when.start && when.start > now)
      return { status: 'scheduled', nextRunAt: when.start, missedFrom: null };
    return { status: 'running', nextRunAt: when.end ?? null, missedFrom: null };
  }
  const stored = campaign.nextRunAt;
  if (stored === null || stored >= now || when.schedule.type === 'once') {
    return { status: stored === null ? 'running' : 'scheduled', nextRunAt: stored, missedFrom: null };
  }
  const next = firstDueFrom(when, seriesAnchor(campaign), now);
  if (next === null) return { status: 'running', nextRunAt: null, missedFrom: stored };
  // The series now counts from the run after the pause, so explain does not list the skipped runs as started.
  return { status: 'scheduled', nextRunAt: actAtFor(when, next), runsFrom: next, missedFrom: stored };
}
