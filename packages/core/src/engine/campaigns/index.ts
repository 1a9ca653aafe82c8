/**
 * campaigns/ — the host's commands (flow step 1, create, and every command
 * after it): `herald.campaigns` (campaigns.ts: create, schedule, pause,
 * resume, stop, get, list, and the views observe/ computes) and
 * `herald.segments` (segments-service.ts), with the ids Herald mints
 * (ids.ts).
 *
 * This is the top floor of the flow: it may import observe/, fanout/ (to
 * check a campaign's audience resolves), schedule/ (the lifecycle) and the
 * engine's shared top. No floor imports it; only create-herald.ts does.
 */
export { createCampaignService } from './campaigns.js';
export {
  type CampaignCommandOptions,
  CampaignPatch,
  EDITABLE_FIELDS,
  type EditableField,
} from './editing.js';
export { newCampaignId, subscriptionIdFor } from './ids.js';
export {
  createSegmentService,
  newSegmentId,
  SEGMENT_IN_USE_STATUSES,
  type SegmentService,
} from './segments-service.js';
