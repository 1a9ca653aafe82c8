import { runShutdownSuite } from '@herald/core/testing';
import { vi } from 'vitest';
import { postgresCounters, postgresQueue, postgresStorage } from '../src/index.js';
import { type Backend, openBackend, truncateStorage } from './helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

let backend: Backend | undefined;
const current = (): Backend => {
  if (!backend) throw new Error('backend not open yet');
  return backend;
};
/** herald.stop() with a stuck job on the real server: the jobs table is what both engines share. */
runShutdownSuite({
  name: 'postgresStorage + postgresQueue on Postgres',
  async create() {
    backend = await openBackend('postgres', 'shutdown');
    const { client, schema } = backend;
    return {
      storage: postgresStorage({ client, schema }),
      counters: postgresCounters({ client, schema }),
      openQueue: () => postgresQueue({ client, schema }),
    };
  },
  async reset() {
    await truncateStorage(current());
    await current().sql.query(`TRUNCATE "${current().schema}".jobs`);
  },
  close: () => current().close(),
});
