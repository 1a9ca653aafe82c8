// `npm run test:chaos`: issue 18's misbehaving push service at scale on its own
// (test/processes/chaos.test.ts: two worker processes on the built packages, the postgres stack, the
// loopback push service in chaos mode), then the run's figures as the last two stdout lines: the
// detail (answers, retries by cause, attempts, circuit changes), then the summary (last):
//   {"deliverable":N,"delivered":N,"duplicates":D,"in_flight_window":F,"gone_total":G,
//    "gone_removed":G,"sent_after_gone":0,"drain_s":S}
// Needs HERALD_TEST_PG_URL (package.json runs it through with-services.sh).
// HERALD_CHAOS_AUDIENCE sets the audience (default 20,000).
import { runWithReport } from './vitest-report.mjs';

await runWithReport({
  testFile: 'test/processes/chaos.test.ts',
  reportEnv: 'HERALD_CHAOS_REPORT',
  name: 'chaos',
});
