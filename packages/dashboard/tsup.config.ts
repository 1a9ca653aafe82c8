import { defineConfig } from 'tsup';

// The server side (the handler): ESM + CJS + types. The front end is built by scripts/build-app.mjs
// into dist/app after this (tsup's `clean` would otherwise remove it).
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // dist/index.cjs finds dist/app through import.meta.url too.
  shims: true,
});
