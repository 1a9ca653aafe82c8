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

export const Profile = ProfileInput.extend({
  createdAt: Instant,
  updatedAt: Instant,
});
export type Profile = z.infer<typeof Profile>;
