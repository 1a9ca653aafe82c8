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

await build({
  entryPoints: { app: join(root, 'src', 'app', 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  legalComments: 'eof',
  logLevel: 'warning',
});

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

/**
 * What each library costs on its own: each bundled and minified alone, the way the app uses it,
 * then gzipped. The dashboard's own code is the rest of app.js: an estimate, since gzip packs the
 * parts together slightly better than apart.
 */
async function libraryCost(contents) {
  const alone = await build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  return gz(alone.outputFiles[0].contents);
}
const libraries = {
  'preact (with hooks and the JSX runtime)': await libraryCost(
    "export * from 'preact'; export * from 'preact/hooks'; export * from 'preact/jsx-runtime';",
  ),
  uPlot: await libraryCost("export { default } from 'uplot';"),
};
const files = ['app.js', 'app.css'].map((name) => {
  const body = readFileSync(join(outdir, name));
  return { name, raw: body.length, gzip: gz(body) };
});
const total = files.reduce((sum, file) => sum + file.gzip, 0);
const script = files.find((file) => file.name === 'app.js');
const librariesTotal = Object.values(libraries).reduce((sum, size) => sum + size, 0);
const parts = { ...libraries, 'dashboard code (app.js less the libraries)': script.gzip - librariesTotal };
writeFileSync(
  join(outdir, 'sizes.json'),
  `${JSON.stringify({ files, totalGzip: total, partsGzip: parts }, null, 2)}\n`,
);
for (const file of files)
  console.log(`dashboard ${file.name}: ${file.raw} B minified, ${file.gzip} B gzipped`);
for (const [part, size] of Object.entries(parts)) console.log(`  ${part}: ${size} B gzipped`);
console.log(`dashboard total: ${total} B gzipped (budget 150 KB)`);
if (total > 150 * 1024) {
  console.error('the dashboard is over its 150 KB gzipped budget');
  process.exit(1);
}
