// The classic-script build (dist/herald-sw.js) for `importScripts`: exposes `self.Herald`.
export { FLUSH_MESSAGE, installHerald, SYNC_TAG } from './install.js';
