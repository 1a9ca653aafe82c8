import type { EventMatcher, UserEvent } from '../../model/index.js';
import { matchesCondition } from '../../segments/index.js';

/** An event matches when its name is the matcher's and every property condition holds (segment rules). */
export function matchesEvent(
  matcher: EventMatcher,
  event: Pick<UserEvent, 'name' | 'properties'>,
  now: Date,
): boolean {
  return (
    event.name === matcher.name &&
    matcher.where.every((condition) => matchesCondition(condition, event.properties, now))
  );
}
