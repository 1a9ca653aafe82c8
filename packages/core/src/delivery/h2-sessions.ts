import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import { threadId } from 'node:worker_threads';

/**
 * node:http2 client sessions per origin already known to speak h2.
 *
 * A session carries at most the streams its service allows at once
 * (SETTINGS_MAX_CONCURRENT_STREAMS): 100 at FCM, the service most
 * subscriptions point to, and the minimum RFC 9113 recommends. One session
 * would bound a sender to 100 / round trip messages a second, 2,000 at a
 * 50 ms round trip, well under what the engine can encrypt (bench/README.md,
 * "A push service's round trip"). So a request goes to the first session
 * with a free stream, and when every session is full another is opened, up
 * to as many as `maxStreams` (the caller's in-flight bound) takes at 100
 * streams a session; beyond that, streams wait inside nghttp2 on the least
 * busy session until one ends. So a service that allows fewer streams gets
 * fewer connections, not more.
 *
 * Not http2-wrapper's Agent: it normalises its options and walks its
 * session lists on every request, about a third of the transport's CPU in
 * bench/delivery.
 *
 * A session that receives GOAWAY, errors or closes is dropped at once; the
 * next request opens a new one. A request the dropped session can no
 * longer take (it throws when opened) is made once more on a fresh session.
 */
export interface H2Sessions {
  request(origin: string, headers: OutgoingHttpHeaders): ClientHttp2Stream;
  /**
   * The session a stream that failed was on, named uniquely in the process, when that session has
   * ended (lost-connection.ts); undefined while it lives, when the stream failed on its own.
   */
  lostSessionOf(stream: ClientHttp2Stream): string | undefined;
  close(): void;
}

/** Sessions opened in this thread so far: with the thread's id, a session's name in the process. */
let sessionsOpened = 0;

/**
 * Streams a session is planned for, and assumed to allow until its service's SETTINGS say: FCM's
 * SETTINGS_MAX_CONCURRENT_STREAMS, and RFC 9113 §6.5.2's minimum advice.
 */
const STREAMS_A_SESSION = 100;

/** One session and the streams it carries now. */
interface Carrier {
  /** `<thread>:<serial>`, unique in the process. */
  name: string;
  session: ClientHttp2Session;
  streams: number;
  /** The service's SETTINGS_MAX_CONCURRENT_STREAMS for this session, once received. */
  limit: number;
}

/** `maxStreams`: the most streams the caller keeps in flight per origin, which sets how many sessions it may get. */
export function h2Sessions(tls: SecureContextOptions, maxStreams: number): H2Sessions {
  const maxSessions = Math.max(1, Math.ceil(maxStreams / STREAMS_A_SESSION));
  const origins = new Map<string, Carrier[]>();
  const carrierOf = new WeakMap<ClientHttp2Stream, Carrier>();

  const forget = (origin: string, carrier: Carrier): void => {
    const carriers = origins.get(origin);
    const index = carriers?.indexOf(carrier) ?? -1;
    if (carriers && index >= 0) carriers.splice(index, 1);
  };

  const open = (origin: string): Carrier => {
    // No SNI for an IP address (RFC 6066), as for the ALPN probe.
    const ip = isIP(new URL(origin).hostname.replace(/^\[|\]$/g, '')) !== 0;
    const session = http2.connect(origin, { ...tls, ...(ip ? { servername: '' } : {}) });
    sessionsOpened += 1;
    const carrier: Carrier = {
      name: `${threadId}:${sessionsOpened}`,
      session,
      streams: 0,
      limit: STREAMS_A_SESSION,
    };
    session.on('remoteSettings', (settings) => {
      carrier.limit = Math.max(1, settings.maxConcurrentStreams ?? STREAMS_A_SESSION);
    });
    const drop = () => forget(origin, carrier);
    session.once('goaway', drop);
    session.once('close', drop);
    // Streams in flight get the error too, and each rejects on its own.
    session.on('error', drop);
    const carriers = origins.get(origin);
    if (carriers) carriers.push(carrier);
    else origins.set(origin, [carrier]);
    return carrier;
  };

  /** The first session with a free stream; else a new one if allowed; else the least busy. */
  const carrierFor = (origin: string): Carrier => {
    const carriers = origins.get(origin) ?? [];
    let leastBusy: Carrier | undefined;
    for (const carrier of carriers) {
      if (carrier.session.closed || carrier.session.destroyed) continue;
      if (carrier.streams < carrier.limit) return carrier;
      if (!leastBusy || carrier.streams < leastBusy.streams) leastBusy = carrier;
    }
    return leastBusy && carriers.length >= maxSessions ? leastBusy : open(origin);
  };

  const requestOn = (carrier: Carrier, headers: OutgoingHttpHeaders): ClientHttp2Stream => {
    const stream = carrier.session.request(headers, { endStream: false });
    carrier.streams += 1;
    carrierOf.set(stream, carrier);
    stream.once('close', () => {
      carrier.streams -= 1;
    });
    return stream;
  };

  return {
    request(origin, headers) {
      const carrier = carrierFor(origin);
      try {
        return requestOn(carrier, headers);
      } catch {
        // Out of stream ids, or closing after a GOAWAY not seen yet: a new session.
        forget(origin, carrier);
        carrier.session.close();
        return requestOn(open(origin), headers);
      }
    },
    lostSessionOf(stream) {
      const carrier = carrierOf.get(stream);
      if (!carrier) return undefined;
      return carrier.session.destroyed || carrier.session.closed ? carrier.name : undefined;
    },
    close() {
      for (const carriers of origins.values()) for (const { session } of carriers) session.destroy();
      origins.clear();
    },
  };
}
