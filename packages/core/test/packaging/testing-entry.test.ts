import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bareImports, distDir, distFile } from './dist-imports.js';

/**
 * fast-check is an optional peer dependency of core, so `@herald/core/testing` (fake clock,
 * conformance suites, stand-in push services) must load where it is not installed; only
 * `@herald/core/testing/fuzz` may import it. These tests read the built entries, as npm ships
 * them. test/packaging/pack.test.ts proves the same on the packed tarball in a fresh project.
 */
const FAST_CHECK = ['fast-check', '@fast-check/'];
const importsFastCheck = (file: string) =>
  [...bareImports(distFile(file))].filter((specifier) =>
    FAST_CHECK.some((name) => specifier.startsWith(name)),
  );

describe('@herald/core/testing as built', () => {
  for (const file of ['testing.js', 'testing.cjs']) {
    it(`dist/${file} never imports fast-check`, () => {
      expect(importsFastCheck(file)).toEqual([]);
      // The suites are vitest suites: the graph is read, not empty.
      expect([...bareImports(distFile(file))]).toContain('vitest');
    });
  }

  for (const file of ['testing-fuzz.js', 'testing-fuzz.cjs']) {
    it(`dist/${file} is where fast-check is imported`, () => {
      expect(importsFastCheck(file)).toEqual(['fast-check']);
    });
  }

  it('loads in a process where fast-check cannot be resolved, and /fuzz names what is missing', async () => {
    // A resolve hook answers for fast-check as Node does for a package that was never installed.
    // ESM only: vitest refuses to be require()d, so no CommonJS host can load the testing entries.
    const hooks = `export async function resolve(specifier, context, next) {
      if (/^(fast-check|@fast-check\\/)/.test(specifier)) {
        const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
        error.code = 'ERR_MODULE_NOT_FOUND';
        throw error;
      }
      return next(specifier, context);
    }`;
    const program = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
      const testing = await import(${JSON.stringify(pathToFileURL(distFile('testing.js')).href)});
      const clock = testing.fakeClock('2026-01-01T00:00:00Z');
      await clock.advance(60_000);
      const fuzz = await import(${JSON.stringify(pathToFileURL(distFile('testing-fuzz.js')).href)}).then(
        () => 'loaded',
        (error) => error.code + ': ' + error.message,
      );
      console.log(JSON.stringify({
        now: clock.now().toISOString(),
        suites: [typeof testing.runStorageSuite, typeof testing.listenForWakes, typeof testing.createTestPushService],
        movedAway: 'runSegmentEquivalenceSuite' in testing || 'segmentArbitraries' in testing,
        fuzz,
      }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program], {
      cwd: distDir,
    });
    const result = JSON.parse(stdout.trim());
    expect(result).toMatchObject({
      now: '2026-01-01T00:01:00.000Z',
      suites: ['function', 'function', 'function'],
      movedAway: false,
    });
    expect(result.fuzz).toMatch(/^ERR_MODULE_NOT_FOUND: Cannot find package 'fast-check'/);
  });

  it('/fuzz loads where fast-check is installed and draws segment definitions', async () => {
    // The built file, typed by the sources it was built from.
    const fuzz: typeof import('../../src/testing/fuzz/index.js') = await import(
      pathToFileURL(distFile('testing-fuzz.js')).href
    );
    const fc = (await import('fast-check')).default;
    expect(typeof fuzz.runSegmentEquivalenceSuite).toBe('function');
    expect(fuzz.boundSegments.length).toBeGreaterThan(0);
    const drawn = fc.sample(fuzz.segmentArbitraries.segmentDefinition, { seed: 1, numRuns: 5 });
    expect(drawn).toHaveLength(5);
    for (const definition of drawn) expect(typeof definition.type).toBe('string');
  });
});
