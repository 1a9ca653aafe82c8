import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import type { SecureContextOptions } from 'node:tls';

/**
 * One node:http2 client session per origin already known to speak h2.
 *
 * http2-wrapper's Agent normalises its options and walks its session lists
 * on every request; at thousands of messages a second that was about a
 * third of the transport's CPU in bench/delivery. The pooled transport
 * already bounds the streams in flight per origin, so one session per
 * origin is enough: streams beyond the service's SETTINGS_MAX_CONCURRENT_STREAMS
 * wait inside nghttp2 until one ends.
 *
 * A session that receives GOAWAY, errors or closes is dropped at once; the
 * next request opens a new one. A request the dropped session can no
 * longer take (it throws when opened) is made once more on a fresh session.
 */
export interface H2Sessions {
  request(origin: string, headers: OutgoingHttpHeaders): ClientHttp2Stream;
  close(): void;
}

export function h2Sessions(tls: SecureContextOptions): H2Sessions {
  const sessions = new Map<string, ClientHttp2Session>();

  const open = (origin: string): ClientHttp2Session => {
    // No SNI for an IP address (RFC 6066), as for the ALPN probe.
    const ip = isIP(new URL(origin).hostname.replace(/^\[|\]$/g, '')) !== 0;
    const session = http2.connect(origin, { ...tls, ...(ip ? { servername: '' } : {}) });
    const drop = () => {
      if (sessions.get(origin) === session) sessions.delete(origin);
    };
    session.once('goaway', drop);
    session.once('close', drop);
    // Streams in flight get the error too, and each rejects on its own.
    session.on('error', drop);
    sessions.set(origin, session);
    return session;
  };

  const usable = (origin: string): ClientHttp2Session => {
    const current = sessions.get(origin);
    return current && !current.closed && !current.destroyed ? current : open(origin);
  };

  return {
    request(origin, headers) {
      const session = usable(origin);
      try {
        return session.request(headers, { endStream: false });
      } catch {
        // Out of stream ids, or closing after a GOAWAY not seen yet: a new session.
        if (sessions.get(origin) === session) sessions.delete(origin);
        session.close();
        return usable(origin).request(headers, { endStream: false });
      }
    },
    close() {
      for (const session of sessions.values()) session.destroy();
      sessions.clear();
    },
  };
}
