import { z } from 'zod';
import { parseInput } from '../errors/index.js';

/**
 * Chaos for the loopback push service: a real push service misbehaves at scale (503s, 429s with
 * Retry-After, dropped connections, answers that take seconds, GOAWAY on a restart, subscriptions
 * that are gone), and Herald must deliver through it. Rates are fractions of requests (0.10: one
 * request in ten), drawn from a PRNG seeded by `seed`, so a run's mix is reproducible; `gone` is
 * drawn once per subscription when it is created, and such a subscription answers 410 forever.
 */
const Rate = z.number().min(0).max(1);

export const DevPushChaosOptions = z
  .object({
    /** Share of requests answered 503 Service Unavailable. */
    unavailable: Rate.default(0),
    /** Share of requests answered 429 Too Many Requests, with Retry-After. */
    tooManyRequests: Rate.default(0),
    /** The Retry-After (seconds) of those 429s. */
    retryAfterSeconds: z.number().int().min(0).default(5),
    /**
     * Share of requests taken (decrypted and kept, as the service would deliver them) and then
     * reset instead of answered: RST_STREAM INTERNAL_ERROR over HTTP/2, the socket destroyed over
     * HTTP/1.1. The sender cannot know the message went through: this is where duplicates come from.
     */
    reset: Rate.default(0),
    /** Share of requests taken and answered 201 only after `slowMs`. */
    slow: Rate.default(0),
    slowMs: z.number().int().min(0).default(10_000),
    /** GOAWAY on the carrying HTTP/2 session after every this many requests (none by default). */
    goAwayEvery: z.number().int().positive().optional(),
    /** Share of subscriptions, drawn at creation, that answer 410 Gone to every request. */
    gone: Rate.default(0),
    /**
     * A short outage: from the `afterRequests`-th request on, every request is answered 503 for
     * `durationMs` — what makes a sender's circuit breaker open (random 503s at 10 % never do).
     */
    outage: z
      .object({ afterRequests: z.number().int().min(0), durationMs: z.number().int().positive() })
      .strict()
      .optional(),
    seed: z.number().int().default(1),
  })
  .strict()
  .refine((chaos) => chaos.unavailable + chaos.tooManyRequests + chaos.reset + chaos.slow <= 1, {
    message: 'unavailable + tooManyRequests + reset + slow must not exceed 1',
  });
export type DevPushChaosOptions = z.input<typeof DevPushChaosOptions>;
type ChaosConfig = z.output<typeof DevPushChaosOptions>;

/** What the chaos mode did to one request. `accepted`, `reset` and `slow` requests were taken (kept in `received`). */
export type ChaosAnswer =
  | 'accepted'
  | 'unavailable'
  | 'tooManyRequests'
  | 'reset'
  | 'slow'
  | 'gone'
  | 'outage';

export interface ChaosRecord {
  endpoint: string;
  /** When the service decided (ms, the service's clock). */
  at: number;
  answer: ChaosAnswer;
  /** Set on 429s. */
  retryAfterSeconds?: number;
}

export interface DevPushChaosReport {
  /** Requests that reached the chaos decision (valid ones), in arrival order. */
  readonly answers: readonly ChaosRecord[];
  /** Count of each answer. */
  counts(): Record<ChaosAnswer, number>;
  /** Subscriptions drawn as gone (they answer 410 to every request). */
  readonly goneEndpoints: ReadonlySet<string>;
  /** GOAWAY frames sent because of `goAwayEvery`. */
  readonly goAways: number;
}

/** The decisions, kept apart from the HTTP handling so they can be reasoned about (and tested) alone. */
export class Chaos implements DevPushChaosReport {
  readonly answers: ChaosRecord[] = [];
  readonly goneEndpoints = new Set<string>();
  goAways = 0;
  private readonly config: ChaosConfig;
  private readonly perRequest: () => number;
  private readonly perSubscription: () => number;
  private requests = 0;
  private outageEndsAt: number | null = null;

  constructor(options: DevPushChaosOptions) {
    this.config = parseInput(DevPushChaosOptions, options, 'dev push service chaos options');
    // Two streams: which subscriptions are gone must not depend on how requests interleave.
    this.perRequest = mulberry32(this.config.seed);
    this.perSubscription = mulberry32(this.config.seed ^ 0x5bd1e995);
  }

  get retryAfterSeconds(): number {
    return this.config.retryAfterSeconds;
  }

  get slowMs(): number {
    return this.config.slowMs;
  }

  /** A new subscription: is it one of the gone? */
  created(endpoint: string): void {
    if (this.perSubscription() < this.config.gone) this.goneEndpoints.add(endpoint);
  }

  /** Decides one valid request's fate and records it; `goAway` says whether to send GOAWAY after it. */
  decide(endpoint: string, at: number): { answer: ChaosAnswer; goAway: boolean } {
    this.requests += 1;
    const { config } = this;
    const goAway = config.goAwayEvery !== undefined && this.requests % config.goAwayEvery === 0;
    if (goAway) this.goAways += 1;
    const answer = this.answerFor(endpoint, at);
    this.answers.push({
      endpoint,
      at,
      answer,
      ...(answer === 'tooManyRequests' ? { retryAfterSeconds: config.retryAfterSeconds } : {}),
    });
    return { answer, goAway };
  }

  private answerFor(endpoint: string, at: number): ChaosAnswer {
    const { config } = this;
    if (this.goneEndpoints.has(endpoint)) return 'gone';
    if (config.outage && this.outageEndsAt === null && this.requests > config.outage.afterRequests)
      this.outageEndsAt = at + config.outage.durationMs;
    if (this.outageEndsAt !== null && at < this.outageEndsAt) return 'outage';
    let draw = this.perRequest();
    for (const answer of ['unavailable', 'tooManyRequests', 'reset', 'slow'] as const) {
      if (draw < config[answer]) return answer;
      draw -= config[answer];
    }
    return 'accepted';
  }

  counts(): Record<ChaosAnswer, number> {
    const counts: Record<ChaosAnswer, number> = {
      accepted: 0,
      unavailable: 0,
      tooManyRequests: 0,
      reset: 0,
      slow: 0,
      gone: 0,
      outage: 0,
    };
    for (const record of this.answers) counts[record.answer] += 1;
    return counts;
  }
}

/** A small, well-known 32-bit PRNG: uniform enough for rates, and the same sequence for the same seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
