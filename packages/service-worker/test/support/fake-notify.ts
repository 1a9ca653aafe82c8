/**
 * Starts a private D-Bus session bus and a fake desktop notification server on it
 * (see fake-notify-server.py), so a browser launched with `env` sends its
 * notifications here and the test can click or close them for real.
 *
 *   const notify = await startFakeNotify();
 *   const browser = await chromium.launch({ ..., env: { ...process.env, ...notify.env } });
 *   const shown = await notify.waitForNotify((n) => n.summary === 'Price drop', 'deal notification');
 *   notify.click(shown.id);          // body click  -> notificationclick, event.action === ''
 *   notify.click(shown.id, '0');     // first action button
 *   notify.close(shown.id);          // dismissed   -> notificationclose
 *   await notify.stop();
 *
 * Needs Debian's dbus (dbus-daemon), python3-dbus and python3-gi. Works for any browser
 * that uses org.freedesktop.Notifications (Chromium, Firefox).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface NotifyCall {
  id: number;
  replaces_id: number;
  app_name: string;
  app_icon: string;
  summary: string;
  body: string;
  actions: string[];
  hints: Record<string, unknown>;
  timeout: number;
}

export interface FakeNotify {
  /** Environment to give the browser: DBUS_SESSION_BUS_ADDRESS of the private bus. */
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  /** Every Notify call received so far. */
  calls: NotifyCall[];
  /** Ids the browser asked to close (CloseNotification). */
  closeRequests: number[];
  waitForNotify(
    predicate: (call: NotifyCall) => boolean,
    step: string,
    timeoutMs?: number,
  ): Promise<NotifyCall>;
  /** Emits ActionInvoked(id, key): "default" is the body, "0", "1"… the action buttons. */
  click(id: number, key?: string): void;
  /** Emits NotificationClosed(id, reason); 2 = dismissed by the user. */
  close(id: number, reason?: number): void;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./fake-notify-server.py', import.meta.url));

function withTimeout<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${step}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`${child.spawnfile} exited with ${code}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  });
}

export async function startFakeNotify(): Promise<FakeNotify> {
  // stderr ignored: the daemon warns about fd limits and logs each service activation.
  const daemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const address = await withTimeout(firstLine(daemon), 10_000, 'dbus-daemon prints its address');
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  const server = spawn('/usr/bin/python3', [SERVER], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const calls: NotifyCall[] = [];
  const closeRequests: number[] = [];
  const waiters = new Set<() => void>();
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: server.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { event: string } & Record<string, unknown>;
    if (message.event === 'ready') ready();
    if (message.event === 'notify') calls.push(message as unknown as NotifyCall);
    if (message.event === 'close-requested') closeRequests.push(message.id as number);
    if (message.event === 'error') console.error('fake-notify-server:', message.message);
    for (const wake of waiters) wake();
  });
  await withTimeout(readyPromise, 10_000, 'fake notification server owns org.freedesktop.Notifications');

  // If the test process dies without stop(), do not leave the bus and the server behind.
  const killAll = () => {
    server.kill('SIGKILL');
    daemon.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const send = (cmd: object) => server.stdin!.write(`${JSON.stringify(cmd)}\n`);
  return {
    env,
    calls,
    closeRequests,
    waitForNotify(predicate, step, timeoutMs = 10_000) {
      const found = new Promise<NotifyCall>((resolve) => {
        const check = () => {
          const call = calls.find(predicate);
          if (!call) return;
          waiters.delete(check);
          resolve(call);
        };
        waiters.add(check);
        check();
      });
      return withTimeout(found, timeoutMs, `notification server receives: ${step}`);
    },
    click: (id, key = 'default') => send({ cmd: 'action', id, key }),
    close: (id, reason = 2) => send({ cmd: 'close', id, reason }),
    async stop() {
      process.off('exit', killAll);
      server.stdin!.end();
      await kill(server);
      await kill(daemon);
    },
  };
}
