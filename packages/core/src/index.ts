export * from './errors/index.js';
export * from './model/index.js';
export type * from './ports/index.js';
