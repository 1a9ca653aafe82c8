import { memoryStorage, type Storage } from '../../src/index.js';
import { memoryStorageInspector, runImportSuite } from '../../src/testing/index.js';

let storage: Storage;
runImportSuite({
  name: 'memory',
  create: async () => {
    storage = memoryStorage();
    return { storage };
  },
  reset: () => memoryStorageInspector(storage).clear(),
});
