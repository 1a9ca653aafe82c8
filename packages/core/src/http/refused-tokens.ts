import type { Clock, Logger } from '../ports/index.js';

/** At most one line per this long: a flood of forged tokens must not flood the log. */
export const REFUSED_TOKENS_LOG_MS = 10 * 60_000;

/**
 * Says that report tokens were refused, at most once per `REFUSED_TOKENS_LOG_MS`, with how many
 * since the last line. A refusal answers the service worker 403, which it drops for good; with no
 * line here, a process given another `reportSecret` than the one that signed (a misconfigured
 * deploy) would lose every view and click without a trace on either side.
 */
export function refusedTokensLog(logger: Logger, clock: Clock): () => void {
  let saidAt = Number.NEGATIVE_INFINITY;
  let unsaid = 0;
  return () => {
    unsaid += 1;
    const now = clock.now().getTime();
    if (now - saidAt < REFUSED_TOKENS_LOG_MS) return;
    logger.warn(
      'report tokens refused: forged, expired, or signed with another reportSecret (every process must be given the same one); their views and clicks are not counted',
      { refused: unsaid },
    );
    saidAt = now;
    unsaid = 0;
  };
}
