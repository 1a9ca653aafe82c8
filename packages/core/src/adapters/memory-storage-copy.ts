/**
 * The private copy memoryStorage keeps of a row it is given: what `structuredClone` would store,
 * without its serializer round trip. Node 20's `structuredClone` serializes into a native buffer and
 * deserializes it back (about 3 µs for a recipient row), and a delivery writes three rows a message
 * (recipient, delivery, decision): copying plain data by hand costs a tenth of that.
 *
 * Only what rows are made of is copied by hand: primitives, Dates, arrays and plain objects, nested
 * at most `MAX_DEPTH` deep. Anything else (a Map, a class instance, a typed array, a function, a
 * sparse array, a cycle) sends the whole value through `structuredClone`, so what is stored, or the error thrown,
 * stays exactly what it was.
 */
export function privateCopy<Value>(value: Value): Value {
  const copy = plainCopy(value, 0);
  return copy === NOT_PLAIN ? structuredClone(value) : (copy as Value);
}

/** Deeper than any row: a value nested further (or a cycle) goes through `structuredClone`. */
const MAX_DEPTH = 32;
const NOT_PLAIN: unique symbol = Symbol('not plain data');

function plainCopy(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' ? NOT_PLAIN : value;
  }
  if (depth > MAX_DEPTH) return NOT_PLAIN;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index += 1) {
      // A hole stays a hole in structuredClone's copy: such an array is left to it.
      if (!(index in value)) return NOT_PLAIN;
      const item = plainCopy(value[index], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      copy[index] = item;
    }
    return copy;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return NOT_PLAIN;
  // structuredClone always gives an Object.prototype object, and only own enumerable string keys.
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = plainCopy((value as Record<string, unknown>)[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}
