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
    // The herald-migrate and herald-prune bins: ESM only, run by node directly.
    entry: { 'bin/migrate': 'src/bin/migrate.ts', 'bin/prune': 'src/bin/prune.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    external: ['pg', '@herald/core'],
  },
]);
