/**
 * Freezes a fresh tree (a JSON or zod parse, a structured clone) and everything it holds, in
 * place, and returns it. A frozen node is taken as frozen all the way down, which is what lets
 * trees that share frozen parts skip them.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  // A Date's state is internal: freezing it stops nothing but added properties, and it has no children.
  if (value instanceof Date) return value;
  for (const inner of Object.values(value)) deepFreeze(inner);
  return value;
}
