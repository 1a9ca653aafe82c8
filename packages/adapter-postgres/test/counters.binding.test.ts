import { fixtures } from '@herald/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresCounters } from '../src/index.js';
import { type Backend, openBackend } from './helpers.js';

// PGlite boots a WebAssembly Postgres (seconds; far more on a loaded CI box).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const { T0, at, HOUR } = fixtures;

// Keys travel as text[] parameters, serialised by the driver (pg and PGlite each have their own).
describe.each(['pglite', 'postgres'] as const)('postgresCounters on %s binds keys as values', (kind) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await openBackend(kind, 'counters_binding');
  });
  afterAll(() => backend.close());

  it('quotes, SQL, array syntax and NULL in keys are just characters', async () => {
    const counters = postgresCounters({ client: backend.client, schema: backend.schema });
    const keys = [`x'); DROP TABLE counters; --"`, '{a,b}', 'back\\slash', 'NULL', ' spaced '];
    const specs = keys.map((key) => ({ key, limit: 2, expiresAt: at(HOUR) }));
    expect(await counters.consume(specs, T0)).toEqual({ allowed: true, counts: keys.map(() => 1) });
    expect(await counters.consume([...specs].reverse(), T0)).toEqual({
      allowed: true,
      counts: keys.map(() => 2),
    });
    await counters.release(['NULL', ''], T0);
    expect(await counters.get([...keys, 'null', 'spaced', ''], T0)).toEqual([2, 2, 2, 1, 2, 0, 0, 0]);
    const { rows } = await backend.sql.query<{ key: string }>(
      `SELECT key FROM "${backend.schema}".counters ORDER BY key`,
    );
    expect(rows.map((row) => row.key).sort()).toEqual([...keys].sort());
    // The empty string is no key a counter can have: refused as every adapter refuses it (counter-input.ts).
    await expect(counters.consume([{ key: '', limit: 2, expiresAt: at(HOUR) }], T0)).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('[0].key: must be a non-empty string'),
    });
  });
});
