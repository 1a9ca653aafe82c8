import type { Counters, Queue, Storage } from '../ports/index.js';

/**
 * Reads what an adapter really stored, bypassing the adapter's own read
 * methods (as Auth.js adapter tests do), so a suite cannot be fooled by an
 * adapter that returns what it was given without storing it.
 */
export interface StorageInspector {
  countRows(
    table:
      | 'profiles'
      | 'subscriptions'
      | 'events'
      | 'campaigns'
      | 'recipients'
      | 'deliveries'
      | 'interactions'
      | 'decisions'
      | 'conversions'
      | 'segments'
      | 'audience_pages'
      | 'campaign_history',
  ): Promise<number>;
  /** The stored row of one recipient decision, as plain data, or null. */
  recipientState(
    campaignId: string,
    occurrence: string,
    userId: string,
  ): Promise<{ state: string; reason: string | null } | null>;
  /** The stored endpoint (web push) or device token (safari) of a subscription, or null. */
  subscriptionAddress(subscriptionId: string): Promise<string | null>;
  /**
   * Overwrites a stored campaign row with raw, invalid data, to prove that
   * reads fail with CorruptRecordError. Optional: adapters that cannot
   * corrupt their own rows skip that test.
   */
  corruptCampaign?(campaignId: string): Promise<void>;
  /** The stored history of one campaign as plain data (actor, action, version), in the order appended. */
  campaignHistoryRows(campaignId: string): Promise<{ actor: string; action: string; version: number }[]>;
}

export interface StorageSuiteOptions {
  name: string;
  /** A Storage over an empty store; called once before the suite. */
  create: () => Promise<Storage>;
  /** Empties the store between tests. */
  reset: () => Promise<void>;
  inspect: StorageInspector;
  /** Called after the suite. */
  close?: () => Promise<void>;
}

export interface QueueSuiteOptions {
  name: string;
  create: () => Promise<Queue>;
  /**
   * Another queue on the same backend as `queue`, as another process would
   * open it (its own connection), or `queue` itself for an in-process
   * queue. Given, the wake-up cases run (`onWake` must then exist); the
   * suite's `close` closes it.
   */
  createPeer?: (queue: Queue) => Promise<Queue>;
  reset: () => Promise<void>;
  close?: () => Promise<void>;
}

export interface CountersSuiteOptions {
  name: string;
  create: () => Promise<Counters>;
  reset: () => Promise<void>;
  close?: () => Promise<void>;
}
