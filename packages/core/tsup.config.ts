import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', payload: 'src/payload/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The conformance suites (@herald/core/testing) call vitest and fast-check; the host's test setup provides them.
  external: ['vitest', 'fast-check'],
});
