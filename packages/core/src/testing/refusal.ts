import { expect } from 'vitest';
import type { FieldIssue } from '../errors/index.js';

/**
 * The ValidationError `call` rejects with, recognised by its code rather than its class: a
 * conformance suite may load its own copy of core, where `instanceof` would not hold. Fails the
 * test when the call resolves, or rejects with anything else.
 */
export async function validationRefusal(
  call: Promise<unknown>,
): Promise<{ message: string; issues: FieldIssue[] }> {
  const error: unknown = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toMatchObject({ code: 'validation_failed' });
  return error as { message: string; issues: FieldIssue[] };
}
