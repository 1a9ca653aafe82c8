// Runs one vitest file whose tests append JSON lines to a report file (its path handed over in the
// environment variable `reportEnv`), then prints those lines as the last stdout lines. Exits 0 only
// when vitest passed and the report holds at least one line. Shared by test:scale and test:chaos.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function runWithReport({ testFile, reportEnv, name }) {
  const dir = mkdtempSync(join(tmpdir(), `herald-${name}-`));
  const report = join(dir, `${name}.jsonl`);
  const vitest = spawn('npx', ['vitest', 'run', testFile], {
    stdio: 'inherit',
    env: { ...process.env, [reportEnv]: report },
  });
  const code = await new Promise((resolve) => vitest.once('exit', (exitCode) => resolve(exitCode ?? 1)));
  let lines = [];
  try {
    lines = readFileSync(report, 'utf8').split('\n').filter(Boolean);
  } catch {
    // No run finished: vitest's output above says why.
  }
  rmSync(dir, { recursive: true, force: true });
  for (const line of lines) process.stdout.write(`${line}\n`);
  process.exit(code === 0 && lines.length > 0 ? 0 : 1);
}
