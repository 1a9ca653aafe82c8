import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = (file: string) => new URL(`../src/${file}`, import.meta.url).pathname;

async function gzippedSize(contents: string): Promise<number> {
  const result = await build({
    stdin: { contents, resolveDir: src(''), loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2020',
    platform: 'browser',
    write: false,
  });
  return gzipSync(result.outputFiles[0]!.contents, { level: 9 }).length;
}

// The budget from the issue: minified + gzipped ESM, < 5 KB without the soft prompt, < 8 KB with it.
describe('bundle size budget', () => {
  it('the SDK is under 5 KB gzipped', async () => {
    const size = await gzippedSize(`export * from './index.ts';`);
    console.log(`browser-sdk: ${size} bytes gzipped`);
    expect(size).toBeLessThan(5 * 1024);
  });

  it('the SDK with the soft prompt is under 8 KB gzipped', async () => {
    const size = await gzippedSize(`export * from './index.ts'; export * from './prompt.ts';`);
    console.log(`browser-sdk + prompt: ${size} bytes gzipped`);
    expect(size).toBeLessThan(8 * 1024);
  });
});
