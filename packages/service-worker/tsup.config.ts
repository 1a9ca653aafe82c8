import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

// The shared payload schema, read from core's sources so the classic script is self-contained.
const payload = fileURLToPath(new URL('../core/src/payload/index.ts', import.meta.url));

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    // Type-check against core's sources, so a build does not need core built first;
    // the emitted .d.ts keeps importing `@herald/core/payload`.
    dts: {
      compilerOptions: {
        rootDir: '..',
        baseUrl: '.',
        paths: { '@herald/core/payload': ['../core/src/payload/index.ts'] },
      },
    },
    clean: true,
    sourcemap: true,
    platform: 'browser',
    target: 'es2020',
  },
  {
    // dist/herald-sw.js: a classic script for `importScripts('/herald-sw.js')`, exposing `self.Herald`.
    entry: { 'herald-sw': 'src/iife.ts' },
    format: ['iife'],
    globalName: 'Herald',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    noExternal: [/.*/],
    outExtension: () => ({ js: '.js' }),
    esbuildOptions(options) {
      options.alias = { '@herald/core/payload': payload };
    },
  },
]);
