import { NotFoundError } from '../../errors/index.js';
import type { Campaign, SegmentDefinition } from '../../model/index.js';
import type { Storage } from '../../ports/index.js';

/**
 * The definition a campaign targets: its inline segment, or the saved
 * segment it names, read now (so an edit to a saved segment applies to the
 * campaign's next audience read).
 */
export async function resolveAudience(storage: Storage, campaign: Campaign): Promise<SegmentDefinition> {
  if ('segment' in campaign.who) return campaign.who.segment;
  const saved = await storage.getSegment(campaign.who.segmentId);
  if (!saved) throw new NotFoundError('segment', campaign.who.segmentId);
  return saved.definition;
}
