import { runCountersSuite, runQueueSuite, runStorageSuite } from '@herald/core/testing';
import { memoryCounters } from '../src/adapters/memory-counters.js';
import { memoryQueue } from '../src/adapters/memory-queue.js';
import { memoryStorage } from '../src/adapters/memory-storage.js';
import type { Counters, Queue, Storage } from '../src/ports/index.js';
import { memoryStorageInspector } from '../src/testing/memory-inspector.js';

let storage: Storage;
const inspect = memoryStorageInspector(() => storage);

runStorageSuite({
  name: 'memory',
  create: async () => {
    storage = memoryStorage();
    return storage;
  },
  reset: () => inspect.clear(),
  inspect,
});

// The memory queue and counters hold no outside state: a fresh instance per test is the reset.
let queue: Queue;
runQueueSuite({
  name: 'memory',
  create: async () => {
    queue = memoryQueue();
    return new Proxy({} as Queue, { get: (_, key) => Reflect.get(queue, key) });
  },
  // One process: the queue is its own peer.
  createPeer: async (sameQueue) => sameQueue,
  reset: async () => {
    queue = memoryQueue();
  },
});

let counters: Counters;
runCountersSuite({
  name: 'memory',
  create: async () => {
    counters = memoryCounters();
    return new Proxy({} as Counters, { get: (_, key) => Reflect.get(counters, key) });
  },
  reset: async () => {
    counters = memoryCounters();
  },
});
