import { z } from 'zod';
import { keyAliases } from '../errors/zod-issues.js';
import { Instant, InstantInput, Properties } from './common.js';
import { UserId } from './ids.js';
import { STORABLE_TEXT } from './text.js';

export const MAX_EVENT_NAME_LENGTH = 128;
export const EventName = z
  .string()
  .min(1)
  .max(MAX_EVENT_NAME_LENGTH)
  .refine(STORABLE_TEXT.check, STORABLE_TEXT);

export const EventInput = z
  .strictObject({
    userId: UserId,
    name: EventName,
    properties: Properties.default({}),
    /** When it happened; defaults to the engine clock's now. */
    time: InstantInput.optional(),
  })
  .register(keyAliases, { event: 'name', props: 'properties', timestamp: 'time', at: 'time' });
export type EventInput = z.input<typeof EventInput>;

/** A stored event (rows: see row-schema.ts). */
export const UserEvent = z.object({
  userId: UserId,
  name: EventName,
  properties: Properties,
  time: Instant,
});
export type UserEvent = z.infer<typeof UserEvent>;
