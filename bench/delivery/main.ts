/**
 * npm run bench:delivery [-- --n 20000] [--concurrency 100] [--workers <encryption workers>] [--herald-only]
 *
 * Progress goes to stderr; the last line on stdout is one JSON object.
 */
import { runDeliveryBench } from './bench.js';

function option(name: string): number | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index === -1) return undefined;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a whole number`);
  return value;
}

const n = option('n') ?? 20_000;
const concurrency = option('concurrency');
const workers = option('workers');
const result = await runDeliveryBench({
  n,
  ...(concurrency !== undefined ? { concurrency } : {}),
  ...(workers !== undefined ? { encryptionWorkers: workers } : {}),
  heraldOnly: process.argv.includes('--herald-only'),
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.verified ? 0 : 1);
