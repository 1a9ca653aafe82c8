import type { DeliveryOutcome } from './outcome.js';

/**
 * A circuit breaker per push-service origin. A service answering 5xx (or
 * nothing at all) to most requests is struggling; sending it the rest of a
 * million-message campaign only makes it worse and burns our own sockets.
 *
 * - closed: requests go through; the last `window` answers are remembered.
 *   Once at least `minRequests` are known and more than `failureRatio` of
 *   them failed, the breaker opens.
 * - open: requests do not touch the network; they come back as `retry` at
 *   the instant the breaker will try again (`openMs` after it opened,
 *   doubling on each failed probe up to `maxOpenMs`).
 * - half-open: once that instant has come, one request goes through as a
 *   probe while the others still get `retry`; a probe that is answered
 *   closes the breaker with a clean slate, a failed one opens it again.
 *
 * Time is the engine's (`now` handed to every call), so a fake clock drives
 * it deterministically.
 */
export interface CircuitBreakerOptions {
  /** Answers remembered per origin. Default 20. */
  window: number;
  /** Answers needed before the breaker may open. Default 10. */
  minRequests: number;
  /** Share of failures above which it opens. Default 0.5 ("most requests"). */
  failureRatio: number;
  /** How long it stays open before the first probe. Default 30 s. */
  openMs: number;
  /** Upper bound of the doubling open time after failed probes. Default 10 min. */
  maxOpenMs: number;
  /**
   * Told each time an origin's breaker opens (again, after a failed probe) or closes (an answered
   * probe), for the host's logs and metrics: the engine logs an open circuit once per campaign, and
   * nothing else sees it close.
   */
  onChange?: (change: CircuitChange) => void;
}

export interface CircuitChange {
  origin: string;
  state: 'open' | 'closed';
  at: Date;
  /** Open: why, and for how long before the next probe. Closed: the probe's answer was not a failure. */
  reason: string;
  openMs?: number;
}

/** What counts against a service: a 5xx or no answer at all. A 429 is the service working as meant. */
export function isServiceFailure(outcome: DeliveryOutcome): boolean {
  return outcome.kind === 'retry' && (outcome.statusCode === null || outcome.statusCode >= 500);
}

/** How long a message held while a probe is out waits: a push service's answer takes well under a second. */
const PROBE_WAIT_MS = 1_000;

export const defaultCircuitBreakerOptions: CircuitBreakerOptions = {
  window: 20,
  minRequests: 10,
  failureRatio: 0.5,
  openMs: 30_000,
  maxOpenMs: 10 * 60_000,
};

export type Admission = { allowed: true; probe: boolean } | { allowed: false; retryAt: Date; reason: string };

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakers {
  /** May a request to `origin` go out at `now`? */
  admit(origin: string, now: Date): Admission;
  /**
   * What the admitted request met: `failure` for 5xx and no answer, false for any other answer.
   * `lostConnection` names the connection a failed request was lost with (lost-connection.ts): the
   * failures of one lost connection count once, as the one failure they are.
   */
  record(origin: string, failure: boolean, now: Date, lostConnection?: string): void;
  state(origin: string, now: Date): BreakerState;
}

interface OriginState {
  /** true = failure; a ring of the last `window` answers. */
  recent: boolean[];
  next: number;
  failures: number;
  openUntil: number | null;
  openMs: number;
  probing: boolean;
  lastReason: string;
  /** Lost connections already counted, the latest `window` of them. */
  lostConnections: string[];
}

export function createCircuitBreakers(options: Partial<CircuitBreakerOptions> = {}): CircuitBreakers {
  const config = { ...defaultCircuitBreakerOptions, ...options };
  const origins = new Map<string, OriginState>();

  const stateOf = (origin: string): OriginState => {
    let state = origins.get(origin);
    if (!state) {
      state = fresh(config.openMs);
      origins.set(origin, state);
    }
    return state;
  };

  const open = (origin: string, state: OriginState, now: Date, openMs: number) => {
    state.openUntil = now.getTime() + openMs;
    state.openMs = openMs;
    state.probing = false;
    config.onChange?.({ origin, state: 'open', at: now, reason: state.lastReason, openMs });
  };

  return {
    admit(origin, now) {
      const state = origins.get(origin);
      if (!state || state.openUntil === null) return { allowed: true, probe: false };
      if (now.getTime() >= state.openUntil && !state.probing) {
        state.probing = true;
        return { allowed: true, probe: true };
      }
      // While a probe is out, the others come back a moment later, when its answer has most likely
      // closed or reopened the breaker: due at once, they spun through the queue, held again and
      // again, until it came (82,895 holds in the chaos test's run, against 19,413 messages).
      const retryAt = new Date(
        state.probing ? Math.max(state.openUntil, now.getTime() + PROBE_WAIT_MS) : state.openUntil,
      );
      return { allowed: false, retryAt, reason: `circuit open for ${origin}: ${state.lastReason}` };
    },
    record(origin, failure, now, lostConnection) {
      const state = stateOf(origin);
      if (failure && lostConnection !== undefined) {
        if (state.lostConnections.includes(lostConnection)) return;
        state.lostConnections.push(lostConnection);
        if (state.lostConnections.length > config.window) state.lostConnections.shift();
      }
      if (state.openUntil !== null) {
        if (!state.probing) return; // an answer to a request sent before it opened
        if (failure) {
          state.lastReason = 'the probe failed (5xx or no answer)';
          open(origin, state, now, Math.min(config.maxOpenMs, state.openMs * 2));
        } else {
          origins.set(origin, fresh(config.openMs));
          config.onChange?.({ origin, state: 'closed', at: now, reason: 'the probe was answered' });
        }
        return;
      }
      const evicted = state.recent.length === config.window ? state.recent[state.next] : undefined;
      if (state.recent.length < config.window) state.recent.push(failure);
      else state.recent[state.next] = failure;
      state.next = (state.next + 1) % config.window;
      state.failures += (failure ? 1 : 0) - (evicted ? 1 : 0);
      const seen = state.recent.length;
      if (seen >= config.minRequests && state.failures / seen > config.failureRatio) {
        state.lastReason = `${state.failures} of the last ${seen} requests failed (5xx or no answer)`;
        open(origin, state, now, config.openMs);
      }
    },
    state(origin, now) {
      const state = origins.get(origin);
      if (!state || state.openUntil === null) return 'closed';
      return state.probing || now.getTime() >= state.openUntil ? 'half-open' : 'open';
    },
  };
}

function fresh(openMs: number): OriginState {
  return {
    recent: [],
    next: 0,
    failures: 0,
    openUntil: null,
    openMs,
    probing: false,
    lastReason: '',
    lostConnections: [],
  };
}
