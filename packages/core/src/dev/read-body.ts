import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

/** RFC 8030 §7.2: a push service must accept 4096 bytes of message body; more gets 413 (Mozilla's autopush too). */
export const MAX_PUSH_BODY_BYTES = 4096;

/**
 * A push request's body, or null when it is over MAX_PUSH_BODY_BYTES: read to
 * the end either way, so the connection stays usable, but kept no further.
 */
export function readPushBody(req: IncomingMessage | Http2ServerRequest): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_PUSH_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_PUSH_BODY_BYTES ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
