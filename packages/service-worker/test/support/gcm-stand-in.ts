/**
 * Where Chromium registers push subscriptions, on loopback: GCM's check-in
 * (protobuf) and registration (form post answered `token=…`). Launch Chromium
 * with `args` and `pushManager.subscribe()` resolves with a real
 * browser-made subscription (its own P-256 key and auth secret, endpoint
 * `https://fcm.googleapis.com/fcm/send/<token>`). Message delivery (MCS) goes
 * to a closed port: tests hand pushes over the DevTools protocol instead.
 * Used by the browser harness here and by the example's end-to-end tests.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http-body.js';

export interface GcmStandIn {
  /** Chromium flags pointing its GCM client here. */
  args: string[];
  /** Successful registrations (subscriptions) so far. */
  readonly registrations: number;
  /** While true, registrations answer `Error=SERVICE_NOT_AVAILABLE` (Chromium then retries silently). */
  unavailable: boolean;
  stop(): Promise<void>;
}

function le64(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(value);
  return bytes;
}
// AndroidCheckinResponse { stats_ok: true (1), android_id (7, fixed64), security_token (8, fixed64) }
const CHECKIN_RESPONSE = Buffer.concat([
  Buffer.from([0x08, 0x01, 0x39]),
  le64(4242424242424242n),
  Buffer.from([0x41]),
  le64(1717171717171717n),
]);

/** `tokenPrefix` starts every registration token, so a test can tell its own subscriptions' endpoints. */
export async function startGcmStandIn({ tokenPrefix = 'herald-test' } = {}): Promise<GcmStandIn> {
  let registrations = 0;
  const state = { unavailable: false };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.url === '/checkin') {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(CHECKIN_RESPONSE);
      return;
    }
    if (req.url === '/register') {
      const form = new URLSearchParams(body);
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (form.get('delete') === 'true') {
        res.end(`deleted=${form.get('app') ?? ''}`);
        return;
      }
      if (form.has('X-subtype') && state.unavailable) {
        res.end('Error=SERVICE_NOT_AVAILABLE');
        return;
      }
      if (form.has('X-subtype')) registrations++;
      res.end(`token=${tokenPrefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    args: [
      `--gcm-checkin-url=${origin}/checkin`,
      `--gcm-registration-url=${origin}/register`,
      '--gcm-mcs-endpoint=https://127.0.0.1:9',
    ],
    get registrations() {
      return registrations;
    },
    get unavailable() {
      return state.unavailable;
    },
    set unavailable(value: boolean) {
      state.unavailable = value;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
