/**
 * Waits with deadlines for the real-browser and end-to-end tests: when one
 * passes, it fails with the name of the step that hung, so a broken run says
 * where it broke instead of hitting vitest's generic timeout.
 */

/** Fails with `timed out after <ms> ms: <step>` when `promise` has not settled by then. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${step}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns something truthy; the last error thrown is kept for the message. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  step: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms: ${step}${last ? ` (last error: ${last})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
