/**
 * Runs the example app the way `npm start` does — `node --import tsx src/main.ts`
 * in a child process, on the BUILT packages (dist/) — with a throwaway data
 * dir, so an end-to-end test exercises exactly what a newcomer starts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './steps.js';

const EXAMPLE_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface ExampleProcess {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  adminToken: string;
  /** Everything the app printed (stdout and stderr), for failure messages. */
  output: string[];
  /** Sends `signal` and resolves when the app has exited, with how and how long it took. */
  signal(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Calls the admin API (under /admin/api) with the bearer token; throws with the body on a non-2xx answer. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export async function startExample(
  env: Record<string, string> = {},
  /** How long to wait for "Herald example on …": tsx and PGlite take seconds, more on a loaded box. */
  listenTimeoutMs = 30_000,
): Promise<ExampleProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-example-'));
  const adminToken = `e2e-admin-${Math.random().toString(36).slice(2)}-token`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: EXAMPLE_DIR,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_TOKEN: adminToken,
      HERALD_DEMO: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(`[stderr] ${line}`));
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      const match = /Herald example on (http:\/\/\S+)/.exec(line);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) =>
      reject(new Error(`the example exited with ${code} before listening:\n${output.join('\n')}`)),
    );
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  let origin: string;
  try {
    origin = await withTimeout(listening, listenTimeoutMs, 'the example app (npm start) listens');
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    origin,
    adminToken,
    output,
    async signal(signal) {
      const sent = Date.now();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null)
          resolve({ code: child.exitCode, signal: child.signalCode });
        else child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
      });
      child.kill(signal);
      const result = await exited;
      return { ...result, ms: Date.now() - sent };
    },
    async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
      const response = await fetch(`${origin}/admin/api${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} /admin/api${path} answered ${response.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    stop,
  };
}
