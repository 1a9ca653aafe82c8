import type { StoredOccurrenceTallies } from './storage.js';

/**
 * An occurrence's tallies before anything is counted: where the memory storage starts each
 * occurrence's count and the engine starts a campaign's total. Kept in core only (ports/index.ts
 * re-exports types alone), so it is not public API.
 */
export function emptyOccurrenceTallies(occurrence: string): StoredOccurrenceTallies {
  return {
    occurrence,
    recipients: { pending: 0, delivered: 0, undeliverable: 0, skipped: 0, control: 0 },
    skipped: {},
    deliveries: { sent: 0, failed: 0, gone: 0 },
    interactions: { viewed: 0, clicked: 0, closed: 0, clickedByAction: {} },
    interactionUsers: { viewed: 0, clicked: 0, closed: 0 },
    conversions: { recipients: { conversions: 0, revenue: 0 }, control: { conversions: 0, revenue: 0 } },
    paged: 0,
    pagedAll: false,
    lastSettledAt: null,
  };
}
