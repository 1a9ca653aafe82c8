// Builds the dashboard's front end into dist/app (app.js, app.css) with esbuild, and prints what
// each part costs gzipped: the README's size table is this output.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'app');
mkdirSync(outdir, { recursive: true });

const result = await build({
  entryPoints: { app: join(root, 'src', 'app', 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

/** Gzipped size of the bytes each input contributed to an output, grouped by package. */
const gz = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;
const parts = new Map();
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (file.endsWith('.map')) continue;
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(input)?.[1] ?? 'dashboard code';
    const kind = file.endsWith('.css') ? 'css' : 'js';
    const key = `${name} (${kind})`;
    parts.set(key, (parts.get(key) ?? 0) + bytesInOutput);
  }
}
const files = ['app.js', 'app.css'].map((name) => {
  const body = readFileSync(join(outdir, name));
  return { name, raw: body.length, gzip: gz(body) };
});
const total = files.reduce((sum, file) => sum + file.gzip, 0);
const sizes = {
  files,
  totalGzip: total,
  partsMinified: Object.fromEntries([...parts].sort((a, b) => b[1] - a[1])),
};
writeFileSync(join(outdir, 'sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`);
for (const file of files)
  console.log(`dashboard ${file.name}: ${file.raw} B minified, ${file.gzip} B gzipped`);
console.log(`dashboard total: ${total} B gzipped`);
if (total > 150 * 1024) {
  console.error('the dashboard is over its 150 KB gzipped budget');
  process.exit(1);
}
