export {
  evaluateSegment,
  isLive,
  matchesCondition,
  readPath,
  resolveBound,
  type SegmentSubject,
  windowRange,
} from './evaluate.js';
