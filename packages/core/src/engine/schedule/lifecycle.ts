import { ConflictError } from '../../errors/index.js';
import { type Campaign, type CampaignStatus, isLive } from '../../model/index.js';
import { actAtFor, nextDueAt } from './next-due.js';

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

/**
 * The first moment the scheduler acts on a campaign being scheduled at
 * `now`, or null when its schedule has none left. Scheduled campaigns: the
 * first occurrence (for delivery in the user's zone, when its wall-clock
 * time first comes anywhere). Live campaigns: their start (now when none),
 * when they are armed; null when their end has passed.
 */
export function firstMoment(campaign: Campaign, now: Date): Date | null {
  const when = campaign.when;
  if (isLive(when.schedule)) {
    if (when.end && when.end <= now) return null;
    return when.start && when.start > now ? when.start : now;
  }
  const first = nextDueAt(when, null, campaign.createdAt);
  return first ? actAtFor(when, first) : null;
}

/**
 * Where a paused campaign resumes. A scheduled campaign: running if an
 * occurrence had started and nothing is left to schedule, else scheduled.
 * A live campaign: armed again (running until its end) once its start has
 * come, else scheduled for its start.
 */
export function resumeTarget(campaign: Campaign, now: Date): Pick<Campaign, 'status' | 'nextRunAt'> {
  const when = campaign.when;
  if (isLive(when.schedule)) {
    if (when.start && when.start > now) return { status: 'scheduled', nextRunAt: when.start };
    return { status: 'running', nextRunAt: when.end ?? null };
  }
  return { status: campaign.nextRunAt === null ? 'running' : 'scheduled', nextRunAt: campaign.nextRunAt };
}
