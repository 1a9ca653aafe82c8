import type { z } from 'zod';
import { unstorableText } from '../model/text.js';
import { formatPath, type ParseOutcome, parseWithIssues } from './zod-issues.js';

/**
 * `parseWithIssues` for input on its way to storage: a value the schema takes
 * is also refused for any string or key Postgres cannot hold, wherever it is.
 * Rows read back skip this walk: storage held them, so they hold no such text.
 */
export function parseStorableInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
): ParseOutcome<z.output<S>> {
  const result = parseWithIssues(schema, input);
  if (!result.success) return result;
  const unstorable = unstorableText(result.data);
  if (unstorable.length === 0) return result;
  return {
    success: false,
    issues: unstorable.map(({ path, message }) => ({ path: formatPath(path), message })),
  };
}
