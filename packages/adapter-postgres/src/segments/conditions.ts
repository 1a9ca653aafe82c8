import { assertNever, type PropertyCondition } from '@herald/core';
import type { Params } from './params.js';
import { resolveBound } from './time.js';

/**
 * One property condition as a SQL boolean over a jsonb properties
 * expression (`p.properties` for a profile; an event's properties in
 * behaviour filters). It mirrors core's reference evaluator
 * (packages/core/src/segments/evaluate.ts) rule by rule; the rule numbers
 * below are that file's. Every branch yields true or false, never NULL, so
 * `NOT` composes exactly as it does in Node.
 */
export function compileCondition(
  cond: PropertyCondition,
  properties: string,
  params: Params,
  schema: string,
  now: Date,
): string {
  // Before valueAt, which binds the path: the containment test binds only its own object.
  if (cond.op === 'eq' && !cond.property.includes('.'))
    return topLevelEquals(properties, cond.property, cond.value, params);
  const value = valueAt(properties, cond.property, params);
  const type = `jsonb_typeof(${value})`;
  // Rule 2: absent and JSON null are both missing.
  const present = `coalesce(${type}, 'null') <> 'null'`;

  switch (cond.op) {
    case 'exists':
      return `(${present})`;
    case 'notExists':
      return `(NOT ${present})`;
    // Rules 3 and 4: jsonb equality is type-strict (the number 30 never equals the string "30"), and arrays or objects never equal a scalar.
    case 'eq':
      return `coalesce(${value} = ${json(cond.value, params)}, false)`;
    case 'neq':
      return `coalesce(${type} = ${params.add(typeof cond.value)} AND ${value} <> ${json(cond.value, params)}, false)`;
    case 'in':
      return `coalesce(${value} = ANY(${params.add(cond.values.map((v) => JSON.stringify(v)))}::text[]::jsonb[]), false)`;
    // Rule 5: substring on strings (strpos of '' is 1, as ''.includes is true); element on arrays (jsonb @> [x] is a top-level element match).
    case 'contains': {
      const needle = params.add(cond.value);
      return `(CASE ${type} WHEN 'string' THEN strpos(${value} #>> '{}', ${needle}::text) > 0 WHEN 'array' THEN ${value} @> jsonb_build_array(${needle}::text) ELSE false END)`;
    }
    case 'startsWith':
      return `(CASE WHEN ${type} = 'string' THEN starts_with(${value} #>> '{}', ${params.add(cond.value)}::text) ELSE false END)`;
    // Rule 6: numbers only; the CASE keeps the cast away from strings. float8 compares exactly as JavaScript numbers do.
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return `(CASE WHEN ${type} = 'number' THEN (${value})::float8 ${COMPARISON[cond.op]} ${params.add(cond.value)}::float8 ELSE false END)`;
    case 'between':
      return `(CASE WHEN ${type} = 'number' THEN (${value})::float8 BETWEEN ${params.add(cond.min)}::float8 AND ${params.add(cond.max)}::float8 ELSE false END)`;
    // Rule 7: the schema's epoch_ms() reads ISO strings and epoch numbers exactly as the evaluator does, NULL otherwise.
    case 'before':
    case 'after':
      return `coalesce(${schema}.epoch_ms(${value}) ${cond.op === 'before' ? '<' : '>'} ${params.add(resolveBound(cond.date, now))}::float8, false)`;
    default:
      return assertNever(cond, 'condition operator');
  }
}

const COMPARISON = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

const json = (value: string | number | boolean, params: Params): string =>
  `${params.add(JSON.stringify(value))}::text::jsonb`;

/**
 * The jsonb at a property path, or NULL (rule 1): a top-level key named
 * exactly `path` wins; otherwise a dotted path walks nested objects only —
 * `#>` alone would also step into arrays by index, so every intermediate
 * value must be an object.
 */
function valueAt(properties: string, path: string, params: Params): string {
  const key = params.add(path);
  if (!path.includes('.')) return `(${properties} -> ${key}::text)`;
  const keys = path.split('.');
  const intermediates = keys
    .slice(0, -1)
    .map((_, i) => `jsonb_typeof(${properties} #> ${params.add(keys.slice(0, i + 1))}::text[]) = 'object'`);
  return `(CASE WHEN ${properties} ? ${key}::text THEN ${properties} -> ${key}::text WHEN ${intermediates.join(' AND ')} THEN ${properties} #> ${params.add(keys)}::text[] END)`;
}

/**
 * `eq` on a top-level key as `properties @> {"key": value}` alone: the
 * jsonb_path_ops GIN index can answer it, and it is exactly rule 3. Below
 * the top level, containment of a scalar is equality: `{"k": ["v"]}` does
 * not contain `{"k": "v"}` (only a top-level array contains a bare scalar),
 * an object never contains a scalar, and numbers compare as numeric values,
 * as jsonb `=` does (`{"k": 1.0}` contains `{"k": 1}`). So the value at the
 * key equals `value` exactly when the containment holds, and no row passes
 * one test but not the other. A second, explicit `properties -> key = value`
 * test cost a third of a `plan = pro` count at 1,000,000 profiles.
 */
function topLevelEquals(
  properties: string,
  key: string,
  value: string | number | boolean,
  params: Params,
): string {
  return `(${properties} @> ${params.add(JSON.stringify({ [key]: value }))}::text::jsonb)`;
}
