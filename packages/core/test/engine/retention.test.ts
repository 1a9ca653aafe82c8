import { memoryQueue, memoryStorage, type Storage } from '../../src/index.js';
import { memoryStorageInspector, runRetentionSuite } from '../../src/testing/index.js';

let storage: Storage;
runRetentionSuite({
  name: 'memory',
  create: async () => {
    storage = memoryStorage();
    return { storage, newQueue: memoryQueue };
  },
  reset: () => memoryStorageInspector(storage).clear(),
});
