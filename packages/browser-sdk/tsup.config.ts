import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // `@herald/browser-sdk/prompt` is its own entry so sites without the soft prompt do not ship it.
    entry: { index: 'src/index.ts', prompt: 'src/prompt.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    // Shipped minified: what a site serves is what test/size.test.ts measures and the README states.
    minify: true,
    // No shared chunk: prompt.js repeats a 200-byte helper rather than costing a page a second request.
    splitting: false,
    platform: 'browser',
    target: 'es2020',
  },
  {
    // dist/herald.iife.js: a classic script for `<script src>` (unpkg, jsDelivr), exposing `window.Herald`.
    entry: { herald: 'src/iife.ts' },
    format: ['iife'],
    globalName: 'Herald',
    minify: true,
    sourcemap: true,
    platform: 'browser',
    target: 'es2020',
    outExtension: () => ({ js: '.iife.js' }),
  },
]);
