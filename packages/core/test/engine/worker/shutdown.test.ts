import { memoryQueue, memoryStorage, type Queue, type Storage } from '../../../src/index.js';
import { memoryStorageInspector, runShutdownSuite } from '../../../src/testing/index.js';

let storage: Storage;
let queue: Queue;
// One queue shared by both engines, as processes share one database.
runShutdownSuite({
  name: 'memory',
  create: async () => {
    storage = memoryStorage();
    return { storage, openQueue: () => queue };
  },
  reset: async () => {
    memoryStorageInspector(storage).clear();
    queue = memoryQueue();
  },
});
