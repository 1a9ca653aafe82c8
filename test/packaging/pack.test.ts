import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CJS_PROGRAM, ESM_PROGRAM, FUZZ_PROGRAM, TESTING_PROGRAM } from './programs.js';

/**
 * What a user gets from npm, tried for real: every publishable package is packed (`npm pack`, so
 * `files`, `exports` and the built dist are what ships), installed into a fresh project outside
 * the workspace (third-party dependencies come from the registry, as for a user), and a small ESM
 * and a small CommonJS program send a campaign through the dev push service, which decrypts it.
 * A missing file, a wrong export, a dependency left undeclared or a second copy of core fails here.
 * The project installs vitest, as a host's test setup does, but not fast-check (an optional peer of
 * core) until the last test, which adds it for `@herald/core/testing/fuzz`.
 * Needs `npm run build` first (scripts/test.sh builds before the suites).
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['core', 'adapter-postgres', 'adapter-redis', 'browser-sdk', 'service-worker', 'dashboard'];
const run = promisify(execFile);
/** The workspace's own versions of the test tools, so npm finds them in its cache. */
const installedVersion = (name: string): string =>
  JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
/** `npm install` into the fresh project, as a user runs it (the registry's packages, the cache first). */
const npmInstall = (specs: readonly string[]) =>
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], {
    cwd: project,
    maxBuffer: 32 * 1024 * 1024,
  });
// Each program starts Herald and a push service in a fresh node process: generous for a loaded CI machine.

let project: string;
let tarballs: Record<string, string>;

beforeAll(async () => {
  for (const name of PACKAGES) {
    if (!existsSync(join(root, 'packages', name, 'dist')))
      throw new Error(`packages/${name}/dist is missing: run \`npm run build\` first`);
  }
  project = mkdtempSync(join(tmpdir(), 'herald-pack-'));
  const { stdout } = await run(
    'npm',
    [
      'pack',
      '--json',
      '--pack-destination',
      project,
      ...PACKAGES.flatMap((name) => ['-w', `packages/${name}`]),
    ],
    { cwd: root, maxBuffer: 32 * 1024 * 1024 },
  );
  const packed = JSON.parse(stdout) as Array<{
    name: string;
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarballs = Object.fromEntries(packed.map((entry) => [entry.name, join(project, entry.filename)]));
  for (const entry of packed) {
    const files = entry.files.map((file) => file.path);
    expect(files, `${entry.name} ships its LICENSE`).toContain('LICENSE');
    expect(files, `${entry.name} ships its README`).toContain('README.md');
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'herald-pack-check', private: true, version: '0.0.0' }),
  );
  await npmInstall([...Object.values(tarballs), `vitest@${installedVersion('vitest')}`]);
}, 180_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

const expected = {
  sent: 1,
  received: 1,
  title: 'Hello Ada',
  adapterErrors: ['ConfigError', 'ValidationError'],
  browserPackages: ['function', 'function'],
  dashboard: [200, 200, true],
};

describe('the packed packages in a fresh project', () => {
  it('installs one copy of core, under the project, not under an adapter', () => {
    expect(Object.keys(tarballs).sort()).toEqual(PACKAGES.map((name) => `@herald/${name}`).sort());
    const installed = join(project, 'node_modules', '@herald');
    for (const name of ['adapter-postgres', 'adapter-redis', 'service-worker', 'dashboard'])
      expect(existsSync(join(installed, name, 'node_modules', '@herald', 'core'))).toBe(false);
    const serviceWorker = JSON.parse(readFileSync(join(installed, 'service-worker', 'package.json'), 'utf8'));
    expect(Object.keys(serviceWorker.dependencies ?? {})).toEqual(['zod']);
    // Every package's LICENSE is the repository's, word for word.
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    for (const name of PACKAGES) expect(readFileSync(join(installed, name, 'LICENSE'), 'utf8')).toBe(license);
  });

  it.each([
    ['ESM', 'program.mjs', ESM_PROGRAM],
    ['CommonJS', 'program.cjs', CJS_PROGRAM],
  ])(
    'a %s program sends a campaign through the dev push service and reads its stats',
    async (_, file, source) => {
      writeFileSync(join(project, file), source);
      const { stdout } = await run(process.execPath, [file], { cwd: project, timeout: 60_000 });
      const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
      expect(result).toMatchObject(expected);
      expect(result.vapidAudience).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    },
    60_000,
  );

  it('the "Try it locally" program of the READMEs runs as written', async () => {
    const tryItLocally = (readme: string) => {
      const text = readFileSync(join(root, readme), 'utf8');
      return /```js\n([\s\S]*?)```/.exec(text.slice(text.indexOf('## Try it locally')))?.[1];
    };
    const program = tryItLocally('packages/core/README.md');
    expect(program).toContain('createDevPushService');
    // The root README shows the same program, word for word.
    expect(tryItLocally('README.md')).toBe(program);
    writeFileSync(join(project, 'try-herald.mjs'), program as string);
    const { stdout } = await run(process.execPath, ['try-herald.mjs'], { cwd: project, timeout: 60_000 });
    expect(stdout).toContain("title: 'Hello Ada'");
    expect(stdout).toContain('sent 1, failed 0');
  }, 60_000);

  it('@herald/core/testing loads without fast-check; /testing/fuzz says fast-check is missing', async () => {
    expect(existsSync(join(project, 'node_modules', 'fast-check'))).toBe(false);
    writeFileSync(join(project, 'testing.mjs'), TESTING_PROGRAM);
    const { stdout } = await run(process.execPath, ['testing.mjs'], { cwd: project, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(result).toMatchObject({
      now: '2026-01-01T00:01:00.000Z',
      suites: ['function', 'function', 'function', 'function'],
      movedAway: false,
      fuzz: { code: 'ERR_MODULE_NOT_FOUND' },
    });
    expect(result.fuzz.message).toMatch(/Cannot find package 'fast-check'/);
  }, 60_000);

  // Last: it installs fast-check into the project the tests above rely on not having it.
  it('@herald/core/testing/fuzz loads once the host installs fast-check', async () => {
    await npmInstall([`fast-check@${installedVersion('fast-check')}`]);
    writeFileSync(join(project, 'fuzz.mjs'), FUZZ_PROGRAM);
    const { stdout } = await run(process.execPath, ['fuzz.mjs'], { cwd: project, timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(result).toMatchObject({ suite: 'function', boundSegments: true, drawn: 5 });
  }, 120_000);
});
