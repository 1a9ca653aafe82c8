import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built package, as npm ships it: these tests read it, so they need `npm run build` first. */
export const distDir = fileURLToPath(new URL('../../dist/', import.meta.url));

export function distFile(name: string): string {
  const path = join(distDir, name);
  if (!existsSync(path)) throw new Error(`dist/${name} is missing: run \`npm run build\` first`);
  return path;
}

/** Every bare specifier the file and the relative files it imports (its chunks) load, statically. */
export function bareImports(entry: string): Set<string> {
  const importPattern = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)["']([^"']+)["']/g;
  const bare = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(importPattern)) {
      if (!specifier) continue;
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else bare.add(specifier);
    }
  };
  visit(entry);
  return bare;
}
