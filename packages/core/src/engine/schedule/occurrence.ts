/**
 * A scheduled occurrence is named by its nominal instant in ISO form (the
 * scheduler writes `nominal.toISOString()`); a live occurrence is named by
 * its trigger (`triggers/keys.ts`) and has no instant.
 */
export function occurrenceId(nominal: Date): string {
  return nominal.toISOString();
}

/** The instant a scheduled occurrence is named after, or null for a live occurrence. */
export function occurrenceInstant(occurrence: string): Date | null {
  const date = new Date(occurrence);
  return /^\d{4}-\d\d-\d\dT/.test(occurrence) && !Number.isNaN(date.getTime()) ? date : null;
}
