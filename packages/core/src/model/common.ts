import { DateTime } from 'luxon';
import { z } from 'zod';

/** A JSON value as stored in profile and event properties. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(JsonValue),
    z.record(z.string(), JsonValue),
  ]),
);

export const Properties = z.record(z.string().min(1).max(128), JsonValue);
export type Properties = z.infer<typeof Properties>;

/** An IANA time zone name that luxon knows ("Europe/Paris", "Pacific/Kiritimati"). */
export const TimeZone = z
  .string()
  .refine((zone) => DateTime.local().setZone(zone).isValid, { message: 'must be a valid IANA time zone' });

/** "HH:mm", 24-hour. */
export const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:mm');

/** Instants cross boundaries as ISO strings or Dates; inside Herald they are Dates. */
export const Instant = z.coerce.date();

export const HttpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//i.test(value), { message: 'must be an http(s) URL' });
