import { ConflictError } from '../errors/index.js';
import type { CampaignStatus } from '../model/index.js';

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
