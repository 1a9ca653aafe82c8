import { runRetentionSuite } from '@herald/core/testing';
import { vi } from 'vitest';
import { postgresCounters, postgresQueue, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, truncateStorage } from './helpers.js';

// PGlite boots a WebAssembly Postgres (seconds; more on a loaded box), and the engine sends real pushes.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

/** herald.prune on postgresStorage + postgresQueue, embedded (PGlite) and on the real server. */
for (const kind of ['pglite', 'postgres'] as const) {
  let backend: Backend | undefined;
  const current = (): Backend => {
    if (!backend) throw new Error('backend not open yet');
    return backend;
  };
  runRetentionSuite({
    name: `postgresStorage + postgresQueue on ${kind === 'pglite' ? 'PGlite' : 'Postgres'}`,
    async create() {
      backend = await openBackend(kind, 'retention');
      const { client, schema } = backend;
      return {
        storage: postgresStorage({ client, schema }),
        counters: postgresCounters({ client, schema }),
        newQueue: () => postgresQueue({ client, schema }),
      };
    },
    async reset() {
      const { sql, schema } = current();
      await truncateStorage(current());
      await sql.query(`TRUNCATE "${schema}".jobs`);
    },
    close: () => current().close(),
  });
}
