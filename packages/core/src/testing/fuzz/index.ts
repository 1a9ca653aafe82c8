// `@herald/core/testing/fuzz`: the property-based suites, which import fast-check. They live in an
// entry of their own because fast-check is an optional peer dependency: `@herald/core/testing`
// (fake clock, conformance suites, stand-in push services) must load in a host that never
// installed it. Nothing outside this folder may import fast-check.
export * as segmentArbitraries from './segment-arbitraries.js';
export {
  boundSegments,
  runSegmentEquivalenceSuite,
  type SegmentEquivalenceOptions,
} from './segment-equivalence.js';
