// `npm run test:chaos`: issue 18's misbehaving push service at scale on its own
// (test/processes/chaos.test.ts: two worker processes on the built packages, the postgres stack, the
// loopback push service in chaos mode), then the run's figures as the last two stdout lines: the
// detail (answers, retries by cause, attempts, circuit changes), then the summary (last):
//   {"deliverable":N,"delivered":N,"duplicates":D,"in_flight_window":F,"gone_total":G,
//    "gone_removed":G,"sent_after_gone":0,"drain_s":S}
// Needs HERALD_TEST_PG_URL (package.json runs it through with-services.sh).
// HERALD_CHAOS_AUDIENCE sets the audience (default 20,000).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'herald-chaos-'));
const report = join(dir, 'chaos.jsonl');
const vitest = spawn('npx', ['vitest', 'run', 'test/processes/chaos.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, HERALD_CHAOS_REPORT: report },
});
const code = await new Promise((resolve) => vitest.once('exit', (exitCode) => resolve(exitCode ?? 1)));
let lines = [];
try {
  lines = readFileSync(report, 'utf8').split('\n').filter(Boolean);
} catch {
  // The run did not finish: vitest's output above says why.
}
rmSync(dir, { recursive: true, force: true });
for (const line of lines) process.stdout.write(`${line}\n`);
process.exit(code === 0 && lines.length > 0 ? 0 : 1);
