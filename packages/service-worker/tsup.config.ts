import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

// The shared payload schema, read from core's sources and bundled into every build: the service
// worker needs this one module of core (and zod/mini), not core's engine and its dependencies
// (web-push, liquidjs, luxon…). One source, compiled into both packages; never a copy.
const payload = fileURLToPath(new URL('../core/src/payload/index.ts', import.meta.url));

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    // Type-check against core's sources, so a build does not need core built first, and inline the
    // payload types into the emitted .d.ts: @herald/core is only a devDependency.
    dts: {
      resolve: ['@herald/core/payload'],
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
    // zod stays a dependency (a host bundling its own zod shares one copy).
    noExternal: ['@herald/core/payload'],
    esbuildOptions(options) {
      options.alias = { '@herald/core/payload': payload };
    },
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
