import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

// The files the package ships (npm run build), measured as a site serves them: minified, gzipped.
const dist = (file: string) => new URL(`../dist/${file}`, import.meta.url);

function gzippedSize(file: string): number {
  const path = dist(file);
  if (!existsSync(path)) throw new Error(`dist/${file} is missing: run \`npm run build\` first`);
  const contents = readFileSync(path);
  // A shipped file that imports another would cost a second request the budget does not count.
  expect(contents.toString('utf8')).not.toMatch(/\bfrom\s*["']\.\.?\//);
  return gzipSync(contents, { level: 9 }).length;
}

// The budget from the issue: < 5 KB without the soft prompt, < 8 KB with it. The README states these figures.
describe('bundle size budget, on the shipped files', () => {
  it('the SDK (dist/index.js) is under 5 KB gzipped', () => {
    const size = gzippedSize('index.js');
    console.log(`browser-sdk dist/index.js: ${size} bytes gzipped`);
    expect(size).toBeLessThan(5 * 1024);
  });

  it('the SDK with the soft prompt (dist/index.js + dist/prompt.js) is under 8 KB gzipped', () => {
    const prompt = gzippedSize('prompt.js');
    console.log(`browser-sdk dist/prompt.js: ${prompt} bytes gzipped`);
    expect(gzippedSize('index.js') + prompt).toBeLessThan(8 * 1024);
  });

  it('the CommonJS build is minified too', () => {
    expect(gzippedSize('index.cjs')).toBeLessThan(5 * 1024);
    expect(gzippedSize('prompt.cjs')).toBeLessThan(3 * 1024);
  });

  it('the <script src> build (dist/herald.iife.js, prompt included) is under 8 KB gzipped', () => {
    const size = gzippedSize('herald.iife.js');
    console.log(`browser-sdk dist/herald.iife.js: ${size} bytes gzipped`);
    expect(size).toBeLessThan(8 * 1024);
  });
});
