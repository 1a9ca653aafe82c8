import { memoryStorage, type Storage } from '../../src/index.js';
import { memoryStorageInspector, runCampaignEditingSuite } from '../../src/testing/index.js';

let storage: Storage;
runCampaignEditingSuite({
  name: 'memory',
  create: async () => {
    storage = memoryStorage();
    return { storage };
  },
  reset: () => memoryStorageInspector(storage).clear(),
});
