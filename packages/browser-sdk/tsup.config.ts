import { defineConfig } from 'tsup';

export default defineConfig({
  // `@herald/browser-sdk/prompt` is its own entry so sites without the soft prompt do not ship it.
  entry: { index: 'src/index.ts', prompt: 'src/prompt.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  platform: 'browser',
  target: 'es2020',
});
