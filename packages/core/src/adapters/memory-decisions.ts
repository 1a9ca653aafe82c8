import {
  type CampaignId,
  type Decision,
  DecisionOutcome,
  type JsonValue,
  type UserId,
} from '../model/index.js';
import { deepFreeze } from './deep-freeze.js';
import { instantOf, NumberColumn, type StringPool, TextColumn } from './memory-columns.js';
import { isUserId } from './memory-occurrence-rows.js';

/**
 * The decision log in columns (see memory-columns.ts), in append order:
 * a position per decision. Campaign ids, occurrences and reasons are
 * numbers in the storage's string pool; `facts` are shared: decisions with
 * equal facts (every user of a zone in one batch: zone, local time, cap
 * counters) hold one frozen object.
 *
 * A decision that does not fit — a value its schema would refuse — is
 * kept whole in `odd` by position (as a string, the id a CorruptRecordError
 * gives), for the storage's frozen rows to parse and report at its read.
 */
export class DecisionRows {
  /** Rows kept whole, by position. */
  readonly odd = new Map<string, unknown>();
  #length = 0;
  readonly #userId = new TextColumn();
  readonly #campaign = new NumberColumn(Int32Array);
  readonly #occurrence = new NumberColumn(Int32Array);
  readonly #at = new NumberColumn(Float64Array);
  readonly #outcome = new NumberColumn(Uint8Array);
  readonly #reason = new NumberColumn(Int32Array);
  readonly #facts: Array<Readonly<Record<string, JsonValue>>> = [];
  readonly #sharedFacts = new SharedFacts();

  constructor(private readonly strings: StringPool) {}

  get length(): number {
    return this.#length;
  }

  /** Appends a decision filed under `userId` (its own, or '' when it has none); returns its position. */
  append(value: Decision, userId: string, keepWhole: (value: unknown) => unknown): number {
    const position = this.#length++;
    if (!this.#write(position, value, userId)) this.odd.set(String(position), keepWhole(value));
    return position;
  }

  /** The decision at `position` as the model's Decision, or undefined when it was kept whole. */
  get(position: number): Decision | undefined {
    if (position >= this.#length || this.odd.has(String(position))) return undefined;
    return {
      campaignId: this.strings.valueOf(this.#campaign.get(position)) as CampaignId,
      occurrence: this.strings.valueOf(this.#occurrence.get(position)) as string,
      userId: this.#userId.get(position) as UserId,
      at: new Date(this.#at.get(position)),
      outcome: OUTCOMES[this.#outcome.get(position)] as DecisionOutcome,
      reason: this.strings.valueOf(this.#reason.get(position)),
      facts: this.#facts[position] as Record<string, JsonValue>,
    };
  }

  #write(position: number, value: Decision, userId: string): boolean {
    const outcome = OUTCOMES.indexOf(value.outcome);
    const at = instantOf(value.at);
    const { campaignId, occurrence, reason } = value;
    const fits =
      value.userId === userId &&
      isUserId(userId) &&
      typeof campaignId === 'string' &&
      campaignId.length >= 1 &&
      campaignId.length <= 64 &&
      typeof occurrence === 'string' &&
      occurrence.length >= 1 &&
      (reason === null || typeof reason === 'string') &&
      outcome >= 0 &&
      at !== null;
    const facts = fits ? this.#sharedFacts.of(value.facts) : null;
    if (facts === null) return false;
    this.#userId.set(position, userId);
    this.#campaign.set(position, this.strings.numberOf(campaignId));
    this.#occurrence.set(position, this.strings.numberOf(occurrence));
    this.#at.set(position, at as number);
    this.#outcome.set(position, outcome);
    this.#reason.set(position, this.strings.numberOf(reason));
    this.#facts[position] = facts;
    return true;
  }
}

/**
 * One frozen copy of each distinct facts record, found by its JSON. Only
 * plain JSON data qualifies (what the schema's JsonValue accepts: finite
 * numbers, strings, booleans, null, arrays, plain objects), so equal JSON
 * means equal facts. The cache is bounded: past its size it starts over,
 * which costs a copy, never a wrong answer.
 */
class SharedFacts {
  #byJson = new Map<string, Readonly<Record<string, JsonValue>>>();

  /** The shared frozen copy of `facts`, or null when they are not a plain JSON record. */
  of(facts: unknown): Readonly<Record<string, JsonValue>> | null {
    if (!isPlainObject(facts) || !isJson(facts)) return null;
    const json = JSON.stringify(facts);
    let shared = this.#byJson.get(json);
    if (shared === undefined) {
      if (this.#byJson.size >= MAX_SHARED_FACTS) this.#byJson = new Map();
      shared = deepFreeze(JSON.parse(json) as Record<string, JsonValue>);
      this.#byJson.set(json, shared);
    }
    return shared;
  }
}

const MAX_SHARED_FACTS = 10_000;
const OUTCOMES: readonly string[] = DecisionOutcome.options;

function isJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(isJson);
      return isPlainObject(value) && Object.values(value).every(isJson);
    default:
      return false;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
