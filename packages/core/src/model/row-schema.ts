import type { z } from 'zod';

/**
 * Inputs and stored rows share one model, but not one strictness. An input
 * with a key Herald does not know is refused (a typo would otherwise be
 * ignored in silence); a row read back from storage with such a key is read
 * without it, because it was written by Herald itself: by a newer version
 * during a rolling deploy, or before a field was retired. In the same way a
 * check added for new input (a deeplink's static http(s) prefix) must not
 * make a stored campaign unreadable, or it could not even be stopped.
 *
 * So the model is written once, strict, for input; `rowSchema` derives the
 * reading form: every strict object strips unknown keys instead, and every
 * schema registered with `inputOnly` is replaced by its row form.
 */

const rowForms = new WeakMap<z.ZodType, z.ZodType>();
const derived = new WeakMap<z.ZodType, z.ZodType>();

/** Marks `inputForm` as checks for new input only: rows read back use `rowForm`. */
export function inputOnly<S extends z.ZodType>(inputForm: S, rowForm: z.ZodType): S {
  rowForms.set(inputForm, rowForm);
  return inputForm;
}

/** The form of a model schema for rows read back from storage (same types; see above). */
export function rowSchema<S extends z.ZodType>(schema: S): S {
  return loosen(schema) as S;
}

type Def = Record<string, unknown> & { type: string };

function loosen(schema: z.ZodType): z.ZodType {
  const replacement = rowForms.get(schema);
  if (replacement) return loosen(replacement);
  const done = derived.get(schema);
  if (done) return done;
  const def = schema._zod.def as unknown as Def;
  const changes: Record<string, unknown> = {};
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, z.ZodType>;
      const loosened = Object.fromEntries(Object.entries(shape).map(([key, value]) => [key, loosen(value)]));
      if (Object.keys(shape).some((key) => loosened[key] !== shape[key])) changes.shape = loosened;
      const catchall = def.catchall as z.ZodType | undefined;
      if (catchall?._zod.def.type === 'never') changes.catchall = undefined;
      break;
    }
    case 'lazy': {
      const getter = def.getter as () => z.ZodType;
      // Lazy stays lazy: a recursive schema (segment definitions) refers to its own row form.
      changes.getter = () => loosen(getter());
      break;
    }
    case 'union':
      changes.options = (def.options as z.ZodType[]).map(loosen);
      break;
    case 'array':
      changes.element = loosen(def.element as z.ZodType);
      break;
    case 'record':
      changes.valueType = loosen(def.valueType as z.ZodType);
      break;
    case 'pipe':
      changes.in = loosen(def.in as z.ZodType);
      changes.out = loosen(def.out as z.ZodType);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      changes.innerType = loosen(def.innerType as z.ZodType);
      break;
    default:
      break;
  }
  const unchanged = Object.entries(changes).every(([key, value]) =>
    Array.isArray(value) && Array.isArray(def[key])
      ? value.every((item, index) => item === (def[key] as unknown[])[index])
      : def[key] === value,
  );
  // Copied with descriptors: a default's value is a getter that hands each parse its own copy.
  const next = unchanged
    ? schema
    : schema.clone(
        Object.defineProperties({} as z.ZodType['_zod']['def'], {
          ...Object.getOwnPropertyDescriptors(def),
          ...Object.fromEntries(
            Object.entries(changes).map(([key, value]) => [
              key,
              { value, enumerable: true, writable: true, configurable: true },
            ]),
          ),
        }),
      );
  derived.set(schema, next);
  return next;
}
