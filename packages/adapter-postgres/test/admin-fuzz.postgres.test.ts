import { vi } from 'vitest';
import { runAdminFuzz } from '../../core/test/fuzz/admin-fuzz-suite.js';
import { postgresCounters, postgresStorage } from '../src/index.js';
import { openBackend, tablesSnapshot } from './helpers.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

// The admin fuzz on the real server (fewer cases than on memoryStorage, which covers the routes'
// logic): Postgres refuses values memory takes, such as a NUL in a path parameter or a query.
runAdminFuzz(
  'Postgres',
  async () => {
    const backend = await openBackend('postgres', 'adminfuzz');
    return {
      storage: postgresStorage({ client: backend.client, schema: backend.schema }),
      counters: postgresCounters({ client: backend.client, schema: backend.schema }),
      snapshot: () => tablesSnapshot(backend),
      close: () => backend.close(),
    };
  },
  150,
);
