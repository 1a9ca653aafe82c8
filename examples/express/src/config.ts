import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateVapidKeys } from '@herald/core';
import { z } from 'zod';

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  HERALD_DATA_DIR: z.string().default('.herald'),
  /** pglite (default): embedded Postgres persisted under HERALD_DATA_DIR; memory: nothing kept. */
  HERALD_STORAGE: z.enum(['pglite', 'memory']).default('pglite'),
  /** The site's public origin, for icon URLs in notifications; default http://HOST:PORT. */
  HERALD_PUBLIC_URL: z.string().url().optional(),
  HERALD_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  VAPID_PUBLIC_KEY: z.string().optional(),
  VAPID_PRIVATE_KEY: z.string().optional(),
  VAPID_SUBJECT: z.string().default('mailto:demo@example.com'),
  HERALD_REPORT_SECRET: z.string().min(16).optional(),
  /** Demo mode: seed simulated subscribers and send them a campaign through a loopback push service. */
  HERALD_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  HERALD_DEMO_SUBSCRIBERS: z.coerce.number().int().min(1).max(100_000).default(300),
  /**
   * Extra push-service endpoints to accept besides the known ones, comma-separated origins with an
   * optional path prefix (`http://127.0.0.1:8081/wpush/`): a push service of your own, or a test's.
   */
  HERALD_ALLOW_ENDPOINTS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
});

export interface ExampleConfig {
  port: number;
  host: string;
  dataDir: string;
  adminToken: string;
  adminTokenGenerated: boolean;
  vapid: { subject: string; publicKey: string; privateKey: string };
  vapidGenerated: boolean;
  reportSecret: string;
  demo: boolean;
  demoSubscribers: number;
  allowEndpoints: string[];
  storage: 'pglite' | 'memory';
  publicUrl: string;
}

/**
 * Reads the example's settings from the environment. Without VAPID keys it
 * generates a pair once and keeps it under the data dir (a new pair would
 * orphan every stored subscription), and turns demo mode on.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`Bad environment: ${problems}`);
  }
  const e = parsed.data;
  mkdirSync(e.HERALD_DATA_DIR, { recursive: true });
  const configured = Boolean(e.VAPID_PUBLIC_KEY && e.VAPID_PRIVATE_KEY);
  const keys = configured
    ? { publicKey: e.VAPID_PUBLIC_KEY as string, privateKey: e.VAPID_PRIVATE_KEY as string }
    : kept(join(e.HERALD_DATA_DIR, 'vapid.json'), () => generateVapidKeys());
  const secrets = kept(join(e.HERALD_DATA_DIR, 'secrets.json'), () => ({
    reportSecret: randomBytes(32).toString('base64url'),
  }));
  const adminToken = e.HERALD_ADMIN_TOKEN ?? randomBytes(24).toString('base64url');
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.HERALD_DATA_DIR,
    adminToken,
    adminTokenGenerated: !e.HERALD_ADMIN_TOKEN,
    vapid: { subject: e.VAPID_SUBJECT, ...keys },
    vapidGenerated: !configured,
    reportSecret: e.HERALD_REPORT_SECRET ?? secrets.reportSecret,
    demo: e.HERALD_DEMO === 'on' || (e.HERALD_DEMO === 'auto' && !configured),
    demoSubscribers: e.HERALD_DEMO_SUBSCRIBERS,
    allowEndpoints: e.HERALD_ALLOW_ENDPOINTS,
    storage: e.HERALD_STORAGE,
    publicUrl: (e.HERALD_PUBLIC_URL ?? `http://${e.HOST}:${e.PORT}`).replace(/\/+$/, ''),
  };
}

function kept<T>(file: string, create: () => T): T {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as T;
  const value = create();
  writeFileSync(file, JSON.stringify(value, null, 2), { mode: 0o600 });
  return value;
}
