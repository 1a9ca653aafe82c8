/**
 * npm run bench:delivery [-- --n 20000] [--stack memory|postgres|postgres+redis]… [--processes K]
 *   [--concurrency 100] [--workers <encryption workers>] [--herald-only] [--pg-statements] [--caps]
 *   [--service-latency <ms>] [--gone <percent>] [--unavailable <percent>]
 *   [--repeat R]
 *
 * Without --stack, all three stacks run, one after the other, each in
 * processes of its own. The shared stacks use the servers of
 * HERALD_TEST_PG_URL and HERALD_TEST_REDIS_URL (`npm run bench:delivery`
 * starts throwaway ones with scripts/with-services.sh), a fresh schema and
 * key prefix per run, dropped afterwards.
 *
 * --repeat R runs the stack list R times, interleaved, and reports each stack
 * by its median run (ratios median over median).
 *
 * --caps runs Herald under global per-user caps (3 a day, 10 a week), as most
 * deployments do: a counter step per user, on the stack's counters.
 *
 * --gone P makes P % of the subscriptions answer 410 Gone, as a real audience's
 * stale ones do: Herald stores each as gone and removes the subscription.
 *
 * --unavailable P answers 503 (Retry-After: 0) to the first request of another
 * P % of them and 201 to the next: each is retried once, after 100 ms (the
 * engine's retry base, 30 s by default, is lowered for the run).
 *
 * `npm run bench:delivery` starts its throwaway Postgres durable (HERALD_PG_DURABLE=1:
 * fsync, synchronous_commit and full_page_writes on, as production runs), where the
 * test suites' servers run without. The JSON's `postgres_durability` says which one
 * was measured (a server already running at the script's state dir is reused as it is).
 *
 * Progress goes to stderr; the last line on stdout is one JSON object.
 */
import { runDeliveryBench, STACKS, type Stack } from './bench.js';

function option(name: string): number | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index === -1) return undefined;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a whole number`);
  return value;
}

/** Every `--stack X` given (also `--stack a,b`), in order; all stacks when none is. */
function stacksAsked(): readonly Stack[] {
  const asked = process.argv.flatMap((arg, index) =>
    arg === '--stack' ? (process.argv[index + 1] ?? '').split(',') : [],
  );
  for (const stack of asked)
    if (!(STACKS as readonly string[]).includes(stack))
      throw new Error(`--stack: ${stack} is not one of ${STACKS.join(', ')}`);
  return asked.length === 0 ? STACKS : (asked as Stack[]);
}

const n = option('n') ?? 20_000;
const repeat = option('repeat') ?? 1;
if (repeat < 1) throw new Error('--repeat needs at least 1');
const concurrency = option('concurrency');
const workers = option('workers');
const stacks = stacksAsked();
const gonePercent = option('gone') ?? 0;
if (gonePercent >= 100) throw new Error('--gone needs a percentage under 100');
const unavailablePercent = option('unavailable') ?? 0;
if (unavailablePercent > 100) throw new Error('--unavailable needs a percentage');
const pgUrl = process.env.HERALD_TEST_PG_URL;
const redisUrl = process.env.HERALD_TEST_REDIS_URL;
if (stacks.some((stack) => stack !== 'memory') && !pgUrl)
  throw new Error('the postgres stacks need HERALD_TEST_PG_URL (npm run bench:delivery starts a server)');
if (stacks.includes('postgres+redis') && !redisUrl)
  throw new Error(
    'the postgres+redis stack needs HERALD_TEST_REDIS_URL (npm run bench:delivery starts a server)',
  );
const result = await runDeliveryBench({
  n,
  ...(concurrency !== undefined ? { concurrency } : {}),
  ...(workers !== undefined ? { encryptionWorkers: workers } : {}),
  heraldOnly: process.argv.includes('--herald-only'),
  stacks,
  processes: option('processes') ?? 1,
  repeat,
  ...(pgUrl ? { pgUrl } : {}),
  ...(redisUrl ? { redisUrl } : {}),
  pgStatements: process.argv.includes('--pg-statements'),
  caps: process.argv.includes('--caps'),
  serviceLatencyMs: option('service-latency') ?? 0,
  goneShare: gonePercent / 100,
  unavailableShare: unavailablePercent / 100,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.verified ? 0 : 1);
