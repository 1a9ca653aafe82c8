import { z } from 'zod';
import { Instant, Properties } from './common.js';
import { UserId } from './ids.js';

export const EventName = z.string().min(1).max(128);

export const EventInput = z.object({
  userId: UserId,
  name: EventName,
  properties: Properties.default({}),
  /** When it happened; defaults to the engine clock's now. */
  time: Instant.optional(),
});
export type EventInput = z.input<typeof EventInput>;

export const UserEvent = z.object({
  userId: UserId,
  name: EventName,
  properties: Properties,
  time: Instant,
});
export type UserEvent = z.infer<typeof UserEvent>;
