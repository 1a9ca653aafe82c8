import { createHash } from 'node:crypto';
import type { UserEvent } from '../../model/index.js';

/**
 * Occurrence ids and queue dedupe keys of live campaigns, in one place.
 * A live occurrence is one trigger for one user, so the recipient row
 * (campaign, occurrence, user) makes every trigger send at most once.
 */
export function eventFingerprint(event: UserEvent): string {
  return createHash('sha256')
    .update(JSON.stringify([event.userId, event.name, event.time.toISOString(), event.properties]))
    .digest('base64url')
    .slice(0, 16);
}

/** onEvent: one occurrence per tracked event (the same event tracked twice is one occurrence). */
export const onEventOccurrence = (event: UserEvent): string =>
  `event:${event.time.toISOString()}:${eventFingerprint(event)}`;

/** inaction: one occurrence per window, named by the triggering event's time. */
export const inactionOccurrence = (event: UserEvent): string => `inaction:${event.time.toISOString()}`;

/** The one pending inaction timer of a user: while it waits, further triggers are ignored. */
export const inactionTimerKey = (campaignId: string, userId: string): string =>
  `${campaignId}|inaction|${userId}`;

/** eventDate: one occurrence per (thing, due instant); a re-booking with a new date is a new occurrence. */
export const reminderOccurrence = (key: string, dueAt: Date): string =>
  `reminder:${key}:${dueAt.toISOString()}`;

/** The one pending reminder per (user, thing): a new event for the same key replaces it. */
export const reminderTimerKey = (campaignId: string, userId: string, key: string): string =>
  `${campaignId}|reminder|${userId}|${key}`;

export const fireKey = (campaignId: string, userId: string, occurrence: string): string =>
  `${campaignId}|fire|${userId}|${occurrence}`;
