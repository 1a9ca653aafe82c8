import type { DeliveryOutcome } from './outcome.js';

/**
 * A circuit breaker per push-service origin. A service answering 5xx (or
 * nothing at all) to most requests is struggling; sending it the rest of a
 * million-message campaign only makes it worse and burns our own sockets.
 *
 * - closed: requests go through; the answers to the last `window` of them
 *   are remembered, in the order the requests went out (below). Once at least
 *   `minRequests` are known and more than `failureRatio` of them failed, the
 *   breaker opens.
 * - open: requests do not touch the network; they come back as `retry` at
 *   the instant the breaker will try again (`openMs` after it opened,
 *   doubling on each failed probe up to `maxOpenMs`).
 * - half-open: once that instant has come, one request goes through as a
 *   probe while the others still get `retry`; a probe that is answered
 *   closes the breaker with a clean slate, a failed one opens it again.
 *
 * Answers are judged in the order their requests were admitted, not the order
 * they come back in: each admitted request gets a ticket, and an answer waits
 * until every earlier ticket's answer is in. With hundreds of requests in
 * flight, a service that refuses some of them at once (a 503 costs it
 * nothing) and accepts the others after decrypting them sends the refusals
 * back together; judged on arrival, they filled most of the window and
 * opened the breaker for 30 s on a service failing one request in ten (the
 * chaos test, docs/DELIVERY.md). An unanswered request holds back the
 * answers to requests sent at most `MAX_WAIT_MS` after it, and at most
 * `MAX_WAITING` of them.
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

/** What a provider's attempt at a request met, for `sendThroughBreaker`. */
export interface Attempted {
  /** What the request met. */
  outcome: DeliveryOutcome;
  /** The connection a failed request was lost with (lost-connection.ts). */
  lostConnection?: string | undefined;
}

/**
 * A provider's request to `origin` through its breakers (none: straight through): held as a `retry`
 * marked `circuitOpen` while the breaker is open, else `attempt` runs and what it met is recorded.
 * An attempt that throws never reached the service (a payload that cannot be encrypted, a key that
 * cannot sign), so it is recorded as not sent, and a probe's turn passes to the next request.
 */
export async function sendThroughBreaker(
  breakers: CircuitBreakers | null,
  origin: string,
  now: Date,
  attempt: () => Promise<Attempted>,
): Promise<DeliveryOutcome> {
  if (!breakers) return (await attempt()).outcome;
  const admission = breakers.admit(origin, now);
  if (!admission.allowed) {
    const { retryAt, reason } = admission;
    return { kind: 'retry', retryAt, statusCode: null, reason, circuitOpen: true };
  }
  let attempted: Attempted;
  try {
    attempted = await attempt();
  } catch (error) {
    breakers.record(origin, admission.ticket, 'not-sent', now);
    throw error;
  }
  const { outcome, lostConnection } = attempted;
  breakers.record(origin, admission.ticket, { failure: isServiceFailure(outcome), lostConnection }, now);
  return outcome;
}

/** How long a message held while a probe is out waits: a push service's answer takes well under a second. */
const PROBE_WAIT_MS = 1_000;

/**
 * How long an unanswered request holds back the answers to requests sent after it: past that, its
 * answer (if it ever comes) is not counted. A burst's refusals and acceptances are sent within a
 * moment of each other and answered within a second; a request the service holds for seconds (or
 * until it times out) must not delay the verdict on an outage that began meanwhile.
 */
export const MAX_WAIT_MS = 2_000;

/**
 * The same bound in answers, for a clock that does not move (a test's): above what is in flight to
 * one origin from one process (the engine's jobs times their sends, 400 by default).
 */
export const MAX_WAITING = 2_000;

export const defaultCircuitBreakerOptions: CircuitBreakerOptions = {
  window: 20,
  minRequests: 10,
  failureRatio: 0.5,
  openMs: 30_000,
  maxOpenMs: 10 * 60_000,
};

/** An admitted request carries its `ticket` to `record`. */
export type Admission =
  | { allowed: true; probe: boolean; ticket: number }
  | { allowed: false; retryAt: Date; reason: string };

/**
 * What became of an admitted request: the service's answer (`failure` for a 5xx or none at all), or
 * `not-sent` when it never reached the service (its payload could not be encrypted, its token not
 * signed), which says nothing about the service.
 */
export type BreakerAnswer = { failure: boolean; lostConnection?: string | undefined } | 'not-sent';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakers {
  /** May a request to `origin` go out at `now`? Every admitted request must be recorded once. */
  admit(origin: string, now: Date): Admission;
  /**
   * What the request admitted with `ticket` met. `lostConnection` names the connection a failed
   * request was lost with (lost-connection.ts): the failures of one lost connection count once, as
   * the one failure they are.
   */
  record(origin: string, ticket: number, answer: BreakerAnswer, now: Date): void;
  state(origin: string, now: Date): BreakerState;
}

interface OriginState {
  /** true = failure; a ring of the last `window` judged answers. */
  recent: boolean[];
  next: number;
  failures: number;
  openUntil: number | null;
  openMs: number;
  /** The probe's ticket while one is out. */
  probe: number | null;
  lastReason: string;
  /** Lost connections already counted, the latest `window` of them. */
  lostConnections: string[];
  /** The ticket the next admitted request gets. */
  nextTicket: number;
  /** Tickets below it are judged, or forgotten (sent before the breaker last opened or closed). */
  judgedBelow: number;
  /** Answers to later tickets waiting for an earlier one's: ticket → failure (null: not counted). */
  waiting: Map<number, boolean | null>;
  /** When each admitted request not yet answered was sent (engine time, ms), by ticket. */
  sentAt: Map<number, number>;
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
    state.probe = null;
    forgetInFlight(state);
    config.onChange?.({ origin, state: 'open', at: now, reason: state.lastReason, openMs });
  };

  /**
   * Judges the answers in send order, up to an unanswered request (unless it was sent long before
   * the request just answered, or too many answers wait behind it) or until the breaker opens.
   */
  const judge = (origin: string, state: OriginState, now: Date) => {
    const sentBy = now.getTime() - MAX_WAIT_MS;
    while (state.waiting.size > 0) {
      const ticket = state.judgedBelow;
      const failure = state.waiting.get(ticket);
      if (failure === undefined) {
        const sentAt = state.sentAt.get(ticket) ?? Number.NEGATIVE_INFINITY;
        if (sentAt >= sentBy && state.waiting.size <= MAX_WAITING) return;
        state.sentAt.delete(ticket); // given up on: its answer will not be counted
      } else {
        state.waiting.delete(ticket);
      }
      state.judgedBelow = ticket + 1;
      if (typeof failure === 'boolean' && remember(state, failure)) {
        state.lastReason = `${state.failures} of the last ${state.recent.length} requests failed (5xx or no answer)`;
        open(origin, state, now, config.openMs);
        return;
      }
    }
  };

  /** Adds an answer to the window; true when the window now says most requests fail. */
  const remember = (state: OriginState, failure: boolean): boolean => {
    const evicted = state.recent.length === config.window ? state.recent[state.next] : undefined;
    if (state.recent.length < config.window) state.recent.push(failure);
    else state.recent[state.next] = failure;
    state.next = (state.next + 1) % config.window;
    state.failures += (failure ? 1 : 0) - (evicted ? 1 : 0);
    const seen = state.recent.length;
    return seen >= config.minRequests && state.failures / seen > config.failureRatio;
  };

  return {
    admit(origin, now) {
      const state = stateOf(origin);
      if (state.openUntil === null) {
        state.sentAt.set(state.nextTicket, now.getTime());
        return { allowed: true, probe: false, ticket: state.nextTicket++ };
      }
      if (now.getTime() >= state.openUntil && state.probe === null) {
        state.probe = state.nextTicket++;
        return { allowed: true, probe: true, ticket: state.probe };
      }
      // While a probe is out, the others come back a moment later, when its answer has most likely
      // closed or reopened the breaker: due at once, they spun through the queue, held again and
      // again, until it came (82,895 holds in the chaos test's run, against 19,413 messages).
      const retryAt = new Date(
        state.probe !== null ? Math.max(state.openUntil, now.getTime() + PROBE_WAIT_MS) : state.openUntil,
      );
      return { allowed: false, retryAt, reason: `circuit open for ${origin}: ${state.lastReason}` };
    },
    record(origin, ticket, answer, now) {
      const state = stateOf(origin);
      state.sentAt.delete(ticket);
      if (state.openUntil !== null) {
        if (ticket !== state.probe) return; // an answer to a request sent before it opened
        if (answer === 'not-sent') {
          state.probe = null; // it told nothing: the next request probes instead
        } else if (answer.failure) {
          state.lastReason = 'the probe failed (5xx or no answer)';
          open(origin, state, now, Math.min(config.maxOpenMs, state.openMs * 2));
        } else {
          close(state, config.openMs);
          config.onChange?.({ origin, state: 'closed', at: now, reason: 'the probe was answered' });
        }
        return;
      }
      if (ticket < state.judgedBelow) return; // sent before it last closed, or given up on
      state.waiting.set(ticket, answer === 'not-sent' ? null : counted(state, answer));
      judge(origin, state, now);
    },
    state(origin, now) {
      const state = origins.get(origin);
      if (!state || state.openUntil === null) return 'closed';
      return state.probe !== null || now.getTime() >= state.openUntil ? 'half-open' : 'open';
    },
  };

  /** The failure an answer counts as: null for a further failure of a lost connection already counted. */
  function counted(state: OriginState, { failure, lostConnection }: Exclude<BreakerAnswer, 'not-sent'>) {
    if (!failure || lostConnection === undefined) return failure;
    if (state.lostConnections.includes(lostConnection)) return null;
    state.lostConnections.push(lostConnection);
    if (state.lostConnections.length > config.window) state.lostConnections.shift();
    return true;
  }
}

function fresh(openMs: number): OriginState {
  return {
    recent: [],
    next: 0,
    failures: 0,
    openUntil: null,
    openMs,
    probe: null,
    lastReason: '',
    lostConnections: [],
    nextTicket: 0,
    judgedBelow: 0,
    waiting: new Map(),
    sentAt: new Map(),
  };
}

/** A clean slate after an answered probe; tickets keep counting, so earlier requests' answers are ignored. */
function close(state: OriginState, openMs: number): void {
  const { nextTicket, waiting, sentAt } = state;
  Object.assign(state, fresh(openMs), { nextTicket, waiting, sentAt });
  forgetInFlight(state);
}

/** Requests out now are no longer judged: their answers tell of the service before the change. */
function forgetInFlight(state: OriginState): void {
  state.judgedBelow = state.nextTicket;
  state.waiting.clear();
  state.sentAt.clear();
}
