import {
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { CircuitBreakerOptions, CircuitChange } from '../../../src/delivery/circuit-breaker.js';
import { pooledHttpTransport } from '../../../src/delivery/index.js';
import type { PushProvider } from '../../../src/delivery/provider.js';
import { generateVapidKeys } from '../../../src/delivery/vapid.js';
import { webPush } from '../../../src/delivery/webpush-provider.js';
import { createDevPushService } from '../../../src/dev/push-service.js';
import type { SelfSignedCertificate } from '../../../src/dev/self-signed.js';
import type { PushSubscriptionJson } from '../../../src/model/index.js';

/** A browser's subscription keys (a real P-256 point and auth secret), as the dev push service makes them. */
export async function subscriptionKeys(): Promise<PushSubscriptionJson['keys']> {
  const dev = createDevPushService();
  await dev.start();
  try {
    return dev.createSubscription().keys;
  } finally {
    await dev.stop();
  }
}

/** A push service of a test's own over h2 (TLS with `tls`), answering each request body's end with `answer`. */
export interface H2Service {
  url: string;
  /** Its open sessions: destroying them drops the connections. */
  sessions: Set<Http2Session>;
  stop(): Promise<void>;
}

export async function h2Service(
  tls: SelfSignedCertificate,
  answer: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
): Promise<H2Service> {
  const sessions = new Set<Http2Session>();
  const server = createSecureServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sessions,
    stop() {
      for (const session of sessions) session.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A webPush provider trusting `tls`, with the breaker's changes collected in `changes`. */
export function watchedWebPush(
  tls: SelfSignedCertificate,
  encryptionWorkers: number,
  circuitBreaker: Partial<CircuitBreakerOptions> = {},
): { provider: PushProvider; changes: CircuitChange[] } {
  const changes: CircuitChange[] = [];
  const provider = webPush({
    vapid: { subject: 'mailto:ops@example.com', ...generateVapidKeys() },
    transport: pooledHttpTransport({ ca: tls.cert }),
    encryptionWorkers,
    circuitBreaker: { ...circuitBreaker, onChange: (change) => changes.push(change) },
  });
  return { provider, changes };
}
