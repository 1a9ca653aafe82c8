import {
  type CampaignId,
  type Delivery,
  DeliveryStatus,
  type Recipient,
  RecipientState,
  SkipReason,
  type SubscriptionId,
  type UserId,
} from '../model/index.js';
import { instantOf, KeyedRows, NumberColumn, type StringPool, TextColumn } from './memory-columns.js';
import { MultiMap } from './memory-indexes.js';

/**
 * The recipients and deliveries of one (campaign, occurrence), in columns
 * (see memory-columns.ts): campaign and occurrence are the group's, each
 * row a slot under its key (the user id, the subscription id) and a few
 * bytes in each column; a value that does not fit is kept whole (KeyedRows).
 */
abstract class OccurrenceRows extends KeyedRows {
  constructor(
    readonly campaignId: string,
    readonly occurrence: string,
  ) {
    super();
  }

  /** Whether rows of this group can go in columns at all: its campaign id and occurrence pass their schemas. */
  protected get columnar(): boolean {
    return (
      typeof this.campaignId === 'string' &&
      this.campaignId.length >= 1 &&
      this.campaignId.length <= 64 &&
      typeof this.occurrence === 'string' &&
      this.occurrence.length >= 1
    );
  }
}

/** Recipients by user id: state and reason a byte each, two instants. */
export class RecipientRows extends OccurrenceRows {
  readonly #state = new NumberColumn(Uint8Array);
  readonly #reason = new NumberColumn(Uint8Array);
  readonly #createdAt = new NumberColumn(Float64Array);
  readonly #updatedAt = new NumberColumn(Float64Array);

  /**
   * Stores `value` under its user id (`userId`), replacing what was there:
   * in the columns when it fits, else whole, as `keepWhole` keeps it.
   */
  set(userId: string, value: Recipient, keepWhole: (value: unknown) => unknown): void {
    this.put(
      userId,
      (slot) => this.#write(slot, userId, value),
      () => keepWhole(value),
    );
  }

  /** The compact row of `userId` as the model's Recipient, or undefined when it is not in the columns. */
  get(userId: string): Recipient | undefined {
    const slot = this.slots.numberOf(userId);
    if (slot === undefined) return undefined;
    return {
      campaignId: this.campaignId as CampaignId,
      occurrence: this.occurrence,
      userId: userId as UserId,
      state: RECIPIENT_STATES[this.#state.get(slot)] as RecipientState,
      reason: this.#reason.get(slot) === 0 ? null : (SKIP_REASONS[this.#reason.get(slot) - 1] as SkipReason),
      createdAt: new Date(this.#createdAt.get(slot)),
      updatedAt: new Date(this.#updatedAt.get(slot)),
    };
  }

  /** Writes `value` at `slot`; false, writing nothing, when it does not fit. */
  #write(slot: number, userId: string, value: Recipient): boolean {
    const state = RECIPIENT_STATES.indexOf(value.state);
    const reason = value.reason === null ? 0 : SKIP_REASONS.indexOf(value.reason) + 1;
    const createdAt = instantOf(value.createdAt);
    const updatedAt = instantOf(value.updatedAt);
    const fits =
      this.columnar &&
      value.campaignId === this.campaignId &&
      value.occurrence === this.occurrence &&
      value.userId === userId &&
      isUserId(userId) &&
      state >= 0 &&
      reason >= 0 &&
      createdAt !== null &&
      updatedAt !== null;
    if (!fits) return false;
    this.#state.set(slot, state);
    this.#reason.set(slot, reason);
    this.#createdAt.set(slot, createdAt);
    this.#updatedAt.set(slot, updatedAt);
    return true;
  }
}

/**
 * Deliveries by subscription id, with the subscription ids of each user
 * (`listDeliveries` reads by user). User ids are text outside the heap
 * (TextColumn); reasons are numbers in the storage's string pool.
 */
export class DeliveryRows extends OccurrenceRows {
  /** Subscription ids by user id, compact and whole rows alike, in write order. */
  readonly byUser = MultiMap.ofText();
  readonly #userId = new TextColumn();
  readonly #status = new NumberColumn(Uint8Array);
  readonly #statusCode = new NumberColumn(Int32Array);
  readonly #reason = new NumberColumn(Int32Array);
  readonly #attempts = new NumberColumn(Int32Array);
  readonly #at = new NumberColumn(Float64Array);

  constructor(
    campaignId: string,
    occurrence: string,
    private readonly strings: StringPool,
  ) {
    super(campaignId, occurrence);
  }

  /** Stores a new delivery (the caller checked its subscription id is new here). */
  insert(value: Delivery, userId: string, keepWhole: (value: unknown) => unknown): void {
    const subscriptionId = value.subscriptionId;
    this.put(
      subscriptionId,
      (slot) => this.#write(slot, value, userId),
      () => keepWhole(value),
    );
    this.byUser.add(userId, subscriptionId);
  }

  get(subscriptionId: string): Delivery | undefined {
    const slot = this.slots.numberOf(subscriptionId);
    if (slot === undefined) return undefined;
    const statusCode = this.#statusCode.get(slot);
    return {
      campaignId: this.campaignId as CampaignId,
      occurrence: this.occurrence,
      userId: this.#userId.get(slot) as UserId,
      subscriptionId: subscriptionId as SubscriptionId,
      status: DELIVERY_STATUSES[this.#status.get(slot)] as DeliveryStatus,
      statusCode: statusCode === NO_STATUS_CODE ? null : statusCode,
      reason: this.strings.valueOf(this.#reason.get(slot)),
      attempts: this.#attempts.get(slot),
      at: new Date(this.#at.get(slot)),
    };
  }

  /** Writes `value` at `slot`, `userId` (which must equal its own) in its column. */
  #write(slot: number, value: Delivery, userId: string): boolean {
    const status = DELIVERY_STATUSES.indexOf(value.status);
    const at = instantOf(value.at);
    const { statusCode, attempts, reason, subscriptionId } = value;
    const fits =
      this.columnar &&
      value.campaignId === this.campaignId &&
      value.occurrence === this.occurrence &&
      value.userId === userId &&
      isUserId(userId) &&
      typeof subscriptionId === 'string' &&
      subscriptionId.length >= 1 &&
      subscriptionId.length <= 128 &&
      status >= 0 &&
      (statusCode === null || (isInt32(statusCode) && statusCode !== NO_STATUS_CODE)) &&
      (reason === null || typeof reason === 'string') &&
      isInt32(attempts) &&
      attempts >= 1 &&
      at !== null;
    if (!fits) return false;
    this.#userId.set(slot, userId);
    this.#status.set(slot, status);
    this.#statusCode.set(slot, statusCode ?? NO_STATUS_CODE);
    this.#reason.set(slot, this.strings.numberOf(reason));
    this.#attempts.set(slot, attempts);
    this.#at.set(slot, at);
    return true;
  }
}

const RECIPIENT_STATES: readonly string[] = RecipientState.options;
const SKIP_REASONS: readonly string[] = SkipReason.options;
const DELIVERY_STATUSES: readonly string[] = DeliveryStatus.options;
/** A null status code in its Int32 column (no service answers with it). */
const NO_STATUS_CODE = -0x8000_0000;

/** The UserId schema's rule (a string of 1 to 256 characters), checked without zod. */
export const isUserId = (value: unknown): value is string =>
  typeof value === 'string' && value.length >= 1 && value.length <= 256;

const isInt32 = (value: unknown): value is number => typeof value === 'number' && (value | 0) === value;
