import { memoryTablesOf } from '../../src/adapters/memory-storage.js';
import { memoryStorage } from '../../src/index.js';
import { runAdminFuzz } from './admin-fuzz-suite.js';
import { snapshotOf } from './support.js';

runAdminFuzz(
  'memoryStorage',
  async () => {
    const storage = memoryStorage();
    return { storage, snapshot: () => snapshotOf(memoryTablesOf(storage) as object) };
  },
  400,
);
