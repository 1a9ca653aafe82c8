import { z } from 'zod';
import { Instant, Properties, TimeZone } from './common.js';
import { UserId } from './ids.js';

export const ProfileInput = z.object({
  userId: UserId,
  properties: Properties.default({}),
  /** IANA zone used for "deliver in the user's time zone", DND and per-day caps. */
  timezone: TimeZone.optional(),
  /** Test profiles receive test sends; they are never counted in a campaign's stats. */
  test: z.boolean().default(false),
});
export type ProfileInput = z.input<typeof ProfileInput>;

/**
 * What `profiles.update` changes in a stored profile: only the fields given.
 * Properties merge shallowly (a key given replaces that key's whole value).
 * Strict, so a misspelt field is an error rather than a silent no-op.
 */
export const ProfileUpdate = z
  .object({
    properties: Properties.optional(),
    timezone: TimeZone.optional(),
    test: z.boolean().optional(),
  })
  .strict();
export type ProfileUpdate = z.input<typeof ProfileUpdate>;

export const Profile = ProfileInput.extend({
  createdAt: Instant,
  updatedAt: Instant,
});
export type Profile = z.infer<typeof Profile>;
