// `npm run test:scale`: issue 15's scale-out and kill -9 tests on their own (test/processes/scale.test.ts,
// real worker processes on the built packages), then the kill -9 runs' figures as the last stdout lines,
// one JSON object per run: Postgres alone first, then Postgres with Redis queue and counters (last):
//   {"processes":3,"audience":N,"sent_once":N1,"duplicates":D,"in_flight_at_kill":F,"lost":L,
//    "per_process":[killed, survivor, survivor, replacement],"stack":…,"pick_up_ms_max":…,…}
// Needs HERALD_TEST_PG_URL and HERALD_TEST_REDIS_URL (package.json runs it through with-services.sh).
// HERALD_SCALE_AUDIENCE sets the audience (default 20,000).
import { runWithReport } from './vitest-report.mjs';

await runWithReport({
  testFile: 'test/processes/scale.test.ts',
  reportEnv: 'HERALD_SCALE_REPORT',
  name: 'kill-runs',
});
