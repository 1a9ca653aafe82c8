import {
  type JsonValue,
  Profile,
  Subscription,
  type SubscriptionId,
  type UserId,
  type WebPushSubscription,
} from '../model/index.js';
import {
  ByteColumn,
  instantOf,
  KeyedRows,
  NumberColumn,
  type StringPool,
  TextColumn,
} from './memory-columns.js';
import { frozenInPlace } from './memory-rows.js';

/**
 * Profiles and subscriptions in columns (see memory-columns.ts): written
 * once per user and read by every campaign, they are most of what a memory
 * storage holds before its first campaign. Each write is parsed with the
 * model's schema, as before; what parses goes in the columns, anything else
 * is kept whole (KeyedRows) and fails its reads as a database would.
 */

/**
 * Profiles by user id (the row's key, so not stored again): properties
 * shared and frozen (one empty object for all that have none).
 */
export class ProfileRows extends KeyedRows {
  readonly #properties: Array<Readonly<Record<string, JsonValue>>> = [];
  readonly #timezone = new NumberColumn(Int32Array);
  readonly #test = new NumberColumn(Uint8Array);
  readonly #createdAt = new NumberColumn(Float64Array);
  readonly #updatedAt = new NumberColumn(Float64Array);

  constructor(private readonly strings: StringPool) {
    super();
  }

  set(userId: string, value: unknown, keepWhole: (value: unknown) => unknown): void {
    this.put(
      userId,
      (slot) => this.#write(slot, userId, value),
      () => keepWhole(value),
    );
  }

  get(userId: string): Profile | undefined {
    const slot = this.slots.numberOf(userId);
    if (slot === undefined) return undefined;
    const timezone = this.strings.valueOf(this.#timezone.get(slot));
    return {
      userId: userId as UserId,
      properties: this.#properties[slot] as Record<string, JsonValue>,
      ...(timezone === null ? {} : { timezone }),
      test: this.#test.get(slot) === 1,
      createdAt: new Date(this.#createdAt.get(slot)),
      updatedAt: new Date(this.#updatedAt.get(slot)),
    };
  }

  #write(slot: number, userId: string, value: unknown): boolean {
    const parsed = Profile.safeParse(value);
    if (!parsed.success || parsed.data.userId !== userId) return false;
    const p = parsed.data;
    this.#properties[slot] = frozenInPlace(p.properties) as Readonly<Record<string, JsonValue>>;
    this.#timezone.set(slot, this.strings.numberOf(p.timezone ?? null));
    this.#test.set(slot, p.test ? 1 : 0);
    this.#createdAt.set(slot, p.createdAt.getTime());
    this.#updatedAt.set(slot, p.updatedAt.getTime());
    return true;
  }
}

/**
 * Web Push subscriptions by id: the P-256 key and auth secret as their 65
 * and 16 bytes outside the JavaScript heap (two base64url strings and an
 * object were about 200 bytes of it), turned back into the very same
 * strings at each read. Safari subscriptions, and keys that would not read
 * back identically (padded base64url), are kept whole.
 */
export class SubscriptionRows extends KeyedRows {
  readonly #userId = new TextColumn();
  readonly #endpoint = new TextColumn();
  readonly #p256dh = new ByteColumn(P256DH_BYTES);
  readonly #auth = new ByteColumn(AUTH_BYTES);
  readonly #timezone = new NumberColumn(Int32Array);
  /** 0: no expirationTime, 1: null, 2: the number in `#expirationTime`. */
  readonly #expires = new NumberColumn(Uint8Array);
  readonly #expirationTime = new NumberColumn(Float64Array);
  readonly #createdAt = new NumberColumn(Float64Array);
  readonly #updatedAt = new NumberColumn(Float64Array);

  constructor(private readonly strings: StringPool) {
    super();
  }

  /** Stores `value` under `id`, replacing what was there. */
  set(id: string, value: unknown, keepWhole: (value: unknown) => unknown): void {
    this.put(
      id,
      (slot) => this.#write(slot, id, value),
      () => keepWhole(value),
    );
  }

  get(id: string): WebPushSubscription | undefined {
    const slot = this.slots.numberOf(id);
    if (slot === undefined) return undefined;
    const timezone = this.strings.valueOf(this.#timezone.get(slot));
    const expires = this.#expires.get(slot);
    return {
      id: id as SubscriptionId,
      userId: this.#userId.get(slot) as UserId,
      ...(timezone === null ? {} : { timezone }),
      createdAt: new Date(this.#createdAt.get(slot)),
      updatedAt: new Date(this.#updatedAt.get(slot)),
      target: 'webpush',
      endpoint: this.#endpoint.get(slot) as string,
      keys: Object.freeze({
        p256dh: base64url(this.#p256dh.get(slot)),
        auth: base64url(this.#auth.get(slot)),
      }),
      ...(expires === 0 ? {} : { expirationTime: expires === 1 ? null : this.#expirationTime.get(slot) }),
    };
  }

  /** The user id of a stored subscription, in the columns or whole, without parsing it. */
  ownerOf(id: string): string | undefined {
    const slot = this.slots.numberOf(id);
    if (slot !== undefined) return this.#userId.get(slot);
    if (!this.odd.has(id)) return undefined;
    const owner = (this.odd.get(id) as { userId?: unknown } | null)?.userId;
    return typeof owner === 'string' ? owner : '';
  }

  #write(slot: number, id: string, value: unknown): boolean {
    const parsed = Subscription.safeParse(value);
    if (!parsed.success || parsed.data.id !== id || parsed.data.target !== 'webpush') return false;
    const s = parsed.data;
    const p256dh = exactBytes(s.keys.p256dh, P256DH_BYTES);
    const auth = exactBytes(s.keys.auth, AUTH_BYTES);
    const createdAt = instantOf(s.createdAt);
    const updatedAt = instantOf(s.updatedAt);
    if (p256dh === null || auth === null || createdAt === null || updatedAt === null) return false;
    this.#userId.set(slot, s.userId);
    this.#endpoint.set(slot, s.endpoint);
    this.#p256dh.set(slot, p256dh);
    this.#auth.set(slot, auth);
    this.#timezone.set(slot, this.strings.numberOf(s.timezone ?? null));
    const expiration = s.expirationTime;
    this.#expires.set(slot, expiration === undefined ? 0 : expiration === null ? 1 : 2);
    this.#expirationTime.set(slot, expiration ?? 0);
    this.#createdAt.set(slot, createdAt);
    this.#updatedAt.set(slot, updatedAt);
    return true;
  }
}

/** An uncompressed P-256 public key, and a Web Push auth secret, in bytes. */
const P256DH_BYTES = 65;
const AUTH_BYTES = 16;

const base64url = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

/** The bytes of a base64url string of exactly `width` bytes that encodes back to the same string, else null. */
function exactBytes(text: string, width: number): Uint8Array | null {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === width && bytes.toString('base64url') === text ? bytes : null;
}
