import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
  },
  {
    // The herald-migrate bin: ESM only, run by node directly.
    entry: { 'bin/migrate': 'src/bin/migrate.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    external: ['pg', '@herald/core'],
  },
]);
