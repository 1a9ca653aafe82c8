import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** The files the build writes to dist/app and the page loads; nothing else is served from disk. */
const ASSET_TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * dist/app, found from this module: dist/index.js (the published build) or src/server/assets.ts
 * (the workspace's tests, which import the sources but still serve the built front end).
 */
function appDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'app'), join(here, '..', '..', 'dist', 'app')];
  return candidates.find((candidate) => existsSync(join(candidate, 'app.js'))) ?? (candidates[0] as string);
}

/** Reads the prebuilt front end once; an unbuilt checkout gets a clear error instead of a blank page. */
export function loadAssets(directory = appDirectory()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(ASSET_TYPES)) {
    const file = join(directory, name);
    if (!existsSync(file))
      throw new Error(`@herald/dashboard: ${file} is missing; build the package (npm run build)`);
    const body = readFileSync(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    assets.set(name, { body, contentType, etag });
  }
  return assets;
}
