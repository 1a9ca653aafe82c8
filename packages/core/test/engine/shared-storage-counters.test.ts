import { describe, expect, it } from 'vitest';
// Counters are no part of the public Herald; the test reads them through the module-private registry.
import { internals } from '../../src/engine/internals.js';
import {
  ConfigError,
  createHerald,
  generateVapidKeys,
  memoryCounters,
  memoryQueue,
  memoryStorage,
  type Storage,
  webPush,
} from '../../src/index.js';

const providers = {
  webpush: webPush({ vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() } }),
};

/** memoryStorage announcing what a database server's storage announces: other processes share it. */
function sharedStorage(): Storage {
  const storage = memoryStorage();
  return { ...storage, capabilities: { ...storage.capabilities, shared: true } };
}

/**
 * Several processes on one database each counting caps in their own memory
 * would each let a user's last allowed message through. createHerald refuses
 * that configuration rather than warn: the default logger is silent, and a
 * refused start is found at deploy, before any user gets a message too many.
 */
describe('createHerald: counters for storage shared between processes', () => {
  it('refuses shared storage without counters, naming the shared counters to pass', () => {
    const create = () => createHerald({ storage: sharedStorage(), queue: memoryQueue(), providers });
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/postgresCounters\(\{ client \}\).*redisCounters\(\{ connection \}\)/);
  });

  it('accepts shared storage with counters given, and uses those counters', () => {
    const counters = memoryCounters();
    const herald = createHerald({ storage: sharedStorage(), queue: memoryQueue(), counters, providers });
    expect(internals(herald).counters).toBe(counters);
  });

  it('keeps counting in memory by default for storage in this process only', async () => {
    const storage = memoryStorage();
    expect(storage.capabilities.shared ?? false).toBe(false);
    const herald = createHerald({ storage, queue: memoryQueue(), providers });
    const spec = { key: 'k', limit: 1, expiresAt: new Date('2026-05-02T00:00:00Z') };
    const now = new Date('2026-05-01T00:00:00Z');
    expect(await internals(herald).counters.consume([spec], now)).toEqual({ allowed: true, counts: [1] });
    expect(await internals(herald).counters.consume([spec], now)).toEqual({ allowed: false, blockedBy: 'k' });
  });
});
