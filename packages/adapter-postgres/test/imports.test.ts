import { runImportSuite } from '@herald/core/testing';
import { vi } from 'vitest';
import { postgresCounters, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, truncateStorage } from './helpers.js';

// PGlite boots a WebAssembly Postgres (seconds; more on a loaded box).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

/** profiles / subscriptions / events imports on postgresStorage, embedded (PGlite) and on the real server. */
for (const kind of ['pglite', 'postgres'] as const) {
  let backend: Backend | undefined;
  const current = (): Backend => {
    if (!backend) throw new Error('backend not open yet');
    return backend;
  };
  runImportSuite({
    name: `postgresStorage on ${kind === 'pglite' ? 'PGlite' : 'Postgres'}`,
    async create() {
      backend = await openBackend(kind, 'imports');
      const { client, schema } = backend;
      return { storage: postgresStorage({ client, schema }), counters: postgresCounters({ client, schema }) };
    },
    reset: () => truncateStorage(current()),
    close: () => current().close(),
  });
}
