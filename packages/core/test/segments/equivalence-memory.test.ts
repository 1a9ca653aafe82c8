import { memoryStorage } from '../../src/adapters/memory-storage.js';
import type { Storage } from '../../src/ports/storage.js';
import { runSegmentEquivalenceSuite } from '../../src/testing/fuzz/segment-equivalence.js';
import { memoryStorageInspector } from '../../src/testing/memory-inspector.js';

let storage: Storage;
const inspector = memoryStorageInspector(() => storage);

runSegmentEquivalenceSuite({
  name: 'memory',
  create: async () => {
    storage = memoryStorage();
    return storage;
  },
  reset: () => inspector.clear(),
  // The memory store evaluates with the reference itself: fewer runs check its loading and paging; SQL stores keep the defaults.
  worlds: 2,
  definitionsPerWorld: 80,
});
