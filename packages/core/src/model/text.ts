/**
 * Postgres `text` and `jsonb` cannot hold U+0000. A NUL that passed validation
 * would fail the statement of a whole batch (an import, a coalesced `track`)
 * with a driver error naming no field; refused at the boundary instead, with
 * the field's path, like any other bad value.
 */
export const NUL_FREE = {
  check: (value: string): boolean => !value.includes('\u0000'),
  message: 'must not contain a NUL character (U+0000)',
} as const;
