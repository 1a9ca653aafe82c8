import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bareImports, distDir, distFile } from './dist-imports.js';

/**
 * `@herald/core/dev` runs in a host's process (the example app, `npm run dev`), where no test
 * runner is installed. These tests read the built entry, as npm ships it, and fail if anything in
 * its module graph reaches for vitest or fast-check, or for a package core does not depend on.
 */
const corePackage = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};
const TEST_RUNNERS = ['vitest', 'fast-check', '@vitest/', 'tinyspy', '@fast-check/'];

const packageName = (specifier: string) =>
  specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : (specifier.split('/')[0] as string);

describe('@herald/core/dev as built', () => {
  for (const file of ['dev.js', 'dev.cjs']) {
    it(`dist/${file} loads only node built-ins and core's own dependencies`, () => {
      const imports = [...bareImports(distFile(file))];
      expect(imports.length).toBeGreaterThan(0);
      const testRunners = imports.filter((specifier) =>
        TEST_RUNNERS.some((name) => specifier.startsWith(name)),
      );
      expect(testRunners).toEqual([]);
      const strangers = imports.filter((specifier) => {
        const name = packageName(specifier.replace(/^node:/, ''));
        return !builtinModules.includes(name) && !(name in corePackage.dependencies);
      });
      expect(strangers).toEqual([]);
      expect(imports).toContain('http_ece');
    });
  }

  it('loads and starts in a process where vitest and fast-check cannot be resolved', async () => {
    // A resolve hook for ESM and a patched resolver for CJS refuse the test runners, as on a host
    // that never installed them; then both builds start a service and hand out a subscription.
    const hooks = `export async function resolve(specifier, context, next) {
      if (/^(vitest|fast-check|@vitest\\/)/.test(specifier)) throw new Error('test runner imported: ' + specifier);
      return next(specifier, context);
    }`;
    const program = `
      import { register, createRequire } from 'node:module';
      import Module from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
      const original = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (/^(vitest|fast-check|@vitest\\/)/.test(request)) throw new Error('test runner required: ' + request);
        return original.call(this, request, ...rest);
      };
      const esm = await import(${JSON.stringify(`file://${distFile('dev.js')}`)});
      const cjs = createRequire(import.meta.url)(${JSON.stringify(distFile('dev.cjs'))});
      for (const dev of [esm, cjs]) {
        const service = dev.createDevPushService();
        await service.start();
        const subscription = service.createSubscription();
        if (!subscription.endpoint.startsWith(service.url + '/push/')) throw new Error('bad endpoint');
        await service.stop();
      }
      console.log('dev entry loaded twice');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', program], {
      cwd: distDir,
    });
    expect(stdout.trim()).toBe('dev entry loaded twice');
  });
});
