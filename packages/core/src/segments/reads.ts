import { assertNever } from '../errors/index.js';
import type { SegmentDefinition } from '../model/index.js';

/** What a definition reads besides the profile, so a store loads events and subscriptions only when needed. */
export interface SegmentReads {
  events: boolean;
  subscriptions: boolean;
}

export function segmentReads(def: SegmentDefinition): SegmentReads {
  switch (def.type) {
    case 'all':
    case 'property':
      return { events: false, subscriptions: false };
    case 'did':
    case 'didNot':
    case 'firstTime':
    case 'lastTime':
      return { events: true, subscriptions: false };
    case 'reachable':
      return { events: false, subscriptions: true };
    case 'and':
    case 'or':
      return def.of
        .map(segmentReads)
        .reduce(
          (a, b) => ({ events: a.events || b.events, subscriptions: a.subscriptions || b.subscriptions }),
          { events: false, subscriptions: false },
        );
    case 'not':
      return segmentReads(def.of);
    default:
      return assertNever(def, 'segment type');
  }
}
