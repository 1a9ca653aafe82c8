import { createHash } from 'node:crypto';

/**
 * Deterministic control-group draw: the same user is in or out of a
 * campaign's control group on every run and every machine, so delivery,
 * explain, forecast and preview agree without storing the draw.
 */
export function inControlGroup(campaignId: string, userId: string, percent: number): boolean {
  if (percent <= 0) return false;
  const bucket = createHash('sha256').update(`${campaignId}:${userId}`).digest().readUInt32BE(0);
  return (bucket / 0x1_0000_0000) * 100 < percent;
}
