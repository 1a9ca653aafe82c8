import { z } from 'zod';
import { keyAliases } from '../errors/zod-issues.js';
import { Instant, Properties, TimeZone } from './common.js';
import { UserId } from './ids.js';
import { rowSchema } from './row-schema.js';

export const ProfileInput = z
  .strictObject({
    userId: UserId,
    properties: Properties.default({}),
    /** IANA zone used for "deliver in the user's time zone", DND and per-day caps. */
    timezone: TimeZone.optional(),
    /** Test profiles receive test sends; they are never counted in a campaign's stats. */
    test: z.boolean().default(false),
  })
  .register(keyAliases, {
    id: 'userId',
    user: 'userId',
    props: 'properties',
    attributes: 'properties',
    tz: 'timezone',
  });
export type ProfileInput = z.input<typeof ProfileInput>;

/**
 * What `profiles.update` changes in a stored profile: only the fields given.
 * Properties merge shallowly (a key given replaces that key's whole value).
 * Strict, so a misspelt field is an error rather than a silent no-op.
 */
export const ProfileUpdate = z
  .strictObject({
    properties: Properties.optional(),
    timezone: TimeZone.optional(),
    test: z.boolean().optional(),
  })
  .register(keyAliases, { props: 'properties', attributes: 'properties', tz: 'timezone' });
export type ProfileUpdate = z.input<typeof ProfileUpdate>;

/** A stored profile (the reading form of the model: see row-schema.ts). */
export const Profile = rowSchema(ProfileInput).extend({
  createdAt: Instant,
  updatedAt: Instant,
});
export type Profile = z.infer<typeof Profile>;
