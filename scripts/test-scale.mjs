// `npm run test:scale`: issue 15's scale-out and kill -9 tests on their own (test/processes/scale.test.ts,
// real worker processes on the built packages), then the kill -9 runs' figures as the last stdout lines,
// one JSON object per run: Postgres alone first, then Postgres with Redis queue and counters (last):
//   {"processes":3,"audience":N,"sent_once":N1,"duplicates":D,"in_flight_at_kill":F,"lost":L,
//    "per_process":[killed, survivor, survivor, replacement],"stack":…,"pick_up_ms_max":…,…}
// Needs HERALD_TEST_PG_URL and HERALD_TEST_REDIS_URL (package.json runs it through with-services.sh).
// HERALD_SCALE_AUDIENCE sets the audience (default 20,000).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'herald-scale-'));
const report = join(dir, 'kill-runs.jsonl');
const vitest = spawn('npx', ['vitest', 'run', 'test/processes/scale.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, HERALD_SCALE_REPORT: report },
});
const code = await new Promise((resolve) => vitest.once('exit', (exitCode) => resolve(exitCode ?? 1)));
let lines = [];
try {
  lines = readFileSync(report, 'utf8').split('\n').filter(Boolean);
} catch {
  // No kill run finished: vitest's output above says why.
}
rmSync(dir, { recursive: true, force: true });
for (const line of lines) process.stdout.write(`${line}\n`);
process.exit(code === 0 && lines.length > 0 ? 0 : 1);
