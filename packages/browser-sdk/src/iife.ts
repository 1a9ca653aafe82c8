// The `<script src>` build (dist/herald.iife.js): the whole SDK, soft prompt included, as one global
// `Herald` (`Herald.createHeraldClient`, `Herald.showSoftPrompt`), for pages without a bundler.
export * from './index.js';
export * from './prompt.js';
