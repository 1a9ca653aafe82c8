export {
  evaluateSegment,
  matchesCondition,
  readPath,
  resolveBound,
  type SegmentSubject,
} from './evaluate.js';
