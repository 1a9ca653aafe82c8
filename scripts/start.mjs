#!/usr/bin/env node
// `npm start`: installs dependencies if needed, builds the packages, and
// runs the Express example on the embedded default storage.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const run = (command, args) => {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

const lock = 'package-lock.json';
const installed = 'node_modules/.package-lock.json';
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run('npm', ['run', 'build', '--silent']);
run('npm', ['run', 'start', '--silent', '-w', '@herald/example-express']);
