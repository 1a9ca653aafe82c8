import { DateTime } from 'luxon';
import { z } from 'zod';
import { INSTANT_EXPECTED } from '../errors/zod-issues.js';
import { inputOnly } from './row-schema.js';
import { STORABLE_TEXT } from './text.js';

/** A JSON value as stored in profile and event properties. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union(
    [
      z.string().refine(STORABLE_TEXT.check, STORABLE_TEXT),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(JsonValue),
      z.record(z.string().refine(STORABLE_TEXT.check, STORABLE_TEXT), JsonValue),
    ],
    { error: 'expected a JSON value (a string, number, boolean, null, array or object)' },
  ),
);

/** Longest property name in profile and event properties and campaign metadata. */
export const MAX_PROPERTY_NAME_LENGTH = 128;

/** Free-form host data: any JSON under any name (no unknown keys to refuse here). */
export const Properties = z.record(
  z.string().min(1).max(MAX_PROPERTY_NAME_LENGTH).refine(STORABLE_TEXT.check, STORABLE_TEXT),
  JsonValue,
);
export type Properties = z.infer<typeof Properties>;

/**
 * Zone names already found valid. Asking luxon costs tens of µs (it formats a
 * date in the zone), paid for every profile and subscription row read or
 * imported; the answer never changes within a process. Only valid names are
 * kept, so the set is bounded by the zones that exist, whatever callers send.
 */
const knownZones = new Set<string>();

/** An IANA time zone name that luxon knows ("Europe/Paris", "Pacific/Kiritimati"). */
export const TimeZone = z.string().refine(
  (zone) => {
    if (knownZones.has(zone)) return true;
    const valid = DateTime.local().setZone(zone).isValid;
    if (valid) knownZones.add(zone);
    return valid;
  },
  { message: 'must be an IANA time zone such as Europe/Paris or UTC' },
);

/** "HH:mm", 24-hour. */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:mm');

/** An instant as rows and job payloads hold it: a Date, or the ISO string a JSON column gives back. */
export const Instant = z.coerce.date();

const IsoInstant = z.iso.datetime({ offset: true });
const IsoDate = z.iso.date();

/**
 * An instant in input: a Date, an ISO 8601 instant with its zone
 * (`2026-03-01T10:00:00Z`, `…+01:00`) or an ISO date (`2026-03-01`, midnight
 * UTC); inside Herald it is a Date. Other strings ("tomorrow 10am", or
 * "3/1/2026", which JavaScript reads in the server's own zone) and numbers
 * are refused. Rows read back keep the lenient `Instant`.
 */
export const InstantInput = inputOnly(
  z.preprocess(
    (value) =>
      typeof value === 'string' && (IsoInstant.safeParse(value).success || IsoDate.safeParse(value).success)
        ? new Date(value)
        : value,
    z.date({ error: INSTANT_EXPECTED }),
  ),
  Instant,
);

/** Longest URL accepted anywhere (deeplinks, images, icons, action URLs). */
export const MAX_URL_LENGTH = 2048;

const HTTP_URL_EXPECTED = 'must be an http(s) URL such as https://example.com/page';

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** A literal http(s) URL (icons, badges, action buttons). */
export const HttpUrl = z.string().max(MAX_URL_LENGTH).refine(isHttpUrl, { message: HTTP_URL_EXPECTED });

/** Where a Liquid template starts: the first `{{` or `{%`. */
const TEMPLATE_TAG = /\{[{%]/;

/**
 * A URL that may be a Liquid template (deeplinks, images). A literal one must
 * be http(s); a templated one must say so before its first tag
 * (`https://shop.example/p/{{ event.sku }}`), so no profile or event value can
 * make it `javascript:` or `data:`. Rendering checks the result again.
 */
export function templatedHttpUrl(options: { allowEmpty: boolean }) {
  const base = z
    .string()
    .min(options.allowEmpty ? 0 : 1)
    .max(MAX_URL_LENGTH);
  return inputOnly(
    base.superRefine((value, ctx) => {
      if (value === '' && options.allowEmpty) return;
      const tag = value.search(TEMPLATE_TAG);
      if (tag === -1) {
        if (!isHttpUrl(value)) ctx.addIssue({ code: 'custom', message: HTTP_URL_EXPECTED });
      } else if (!/^https?:\/\//i.test(value.slice(0, tag))) {
        ctx.addIssue({
          code: 'custom',
          message:
            'a templated URL must start with a static http:// or https:// before its first {{ }} tag, such as https://example.com/{{ path }}',
        });
      }
    }),
    base,
  );
}
