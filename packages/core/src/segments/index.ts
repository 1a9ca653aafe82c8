export {
  evaluateSegment,
  isLiveSubscription,
  matchesCondition,
  readPath,
  resolveBound,
  type SegmentSubject,
  windowRange,
} from './evaluate.js';
export { type SegmentReads, segmentReads } from './reads.js';
