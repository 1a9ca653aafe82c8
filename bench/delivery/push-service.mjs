// The benchmark's push service, in its own process so its CPU is not the
// sender's event loop: TLS with ALPN offering h2 and http/1.1 (like real
// services), answering 201 to every POST. It keeps the bodies of sampled
// paths (/push/<phase>/<index> with index % sampleEvery === 0) and hands
// them to the parent on request, for decryption there.
//
// h2 streams are answered with Node's core stream API rather than the
// req/res compatibility layer: the service shares the two cores with the
// sender, and the compatibility objects cost it about a third more CPU per
// request. HTTP/1.1 (the baseline's web-push requests) goes through the
// ordinary request handler.
//
// `latencyMs` (`--service-latency`) holds every answer back that long after
// its body arrived, as a real push service's round trip does (tens of
// milliseconds from a data centre): a sender must then keep that many more
// requests in flight to send as fast as on loopback.
//
// `goneShare` (`--gone`) answers 410 Gone to that share of Herald's
// subscriptions (a fixed set of indexes, the same on every stack), as a real
// audience's stale subscriptions answer; they are counted as `gone`.
// `unavailableShare` (`--unavailable`) answers 503 with Retry-After: 0 to the
// first request of another such share, as a service in passing trouble does,
// and 201 to the retry; those first bodies are not kept as samples.
import { constants, createSecureServer } from 'node:http2';

const {
  key,
  cert,
  sampleEvery,
  latencyMs = 0,
  goneShare = 0,
  unavailableShare = 0,
} = JSON.parse(process.env.HERALD_BENCH_SERVICE ?? '{}');
const samples = [];
const counts = { h2: 0, h1: 0, gone: 0 };
const CREATED = { [constants.HTTP2_HEADER_STATUS]: 201 };
const GONE = { [constants.HTTP2_HEADER_STATUS]: 410 };
const UNAVAILABLE = { [constants.HTTP2_HEADER_STATUS]: 503, 'retry-after': '0' };
/** Paths already answered 503: their retry is answered 201. */
const answeredUnavailable = new Set();

/** The sample a path asks to keep, or null: /push/<phase>/<index>, one index in sampleEvery. */
function sampleOf(path) {
  const match = /^\/push\/([a-z]+)\/(\d+)$/.exec(path ?? '');
  return match !== null && Number(match[2]) % sampleEvery === 0
    ? { phase: match[1], index: Number(match[2]) }
    : null;
}

/**
 * Whether a Herald push (/push/h<stack>/<index>) answers 410: a multiplicative hash of the index
 * spreads the gone ones evenly over the audience and its batches.
 */
function isGone(path) {
  return heraldShare(path, 0) < goneShare;
}

/** Whether this request is a first one to answer 503 (`--unavailable`): another hash, so not the gone ones. */
function isFirstUnavailable(path) {
  if (answeredUnavailable.has(path) || heraldShare(path, 7) >= unavailableShare) return false;
  answeredUnavailable.add(path);
  return true;
}

/** Where a Herald push's index falls in [0, 1) (2 for any other path), by a multiplicative hash. */
function heraldShare(path, offset) {
  const match = /^\/push\/h[a-z]\/(\d+)$/.exec(path ?? '');
  return match === null ? 2 : (((Number(match[1]) + offset) * 2654435761) >>> 0) / 2 ** 32;
}

/** Pushes are counted; the benchmark's bare transport requests (/transport/<n>) are not. */
function isPush(path) {
  return typeof path === 'string' && path.startsWith('/push/');
}

/**
 * Reads a request body, keeping it only for a sampled path (and `keep`); `done` runs at its end,
 * `latencyMs` later.
 */
function receive(source, path, done, keep = true) {
  const sample = keep ? sampleOf(path) : null;
  const chunks = [];
  source.on('data', (chunk) => {
    if (sample) chunks.push(chunk);
  });
  source.on('end', () => {
    if (sample) samples.push({ ...sample, body: Buffer.concat(chunks).toString('base64') });
    if (latencyMs > 0) setTimeout(done, latencyMs);
    else done();
  });
}

const server = createSecureServer(
  // 100 streams a connection, as FCM allows (most subscriptions are Chrome's and Edge's, at FCM).
  { key, cert, allowHTTP1: true, settings: { maxConcurrentStreams: 100 } },
  (req, res) => {
    receive(req, req.url, () => {
      if (isPush(req.url)) counts.h1 += 1;
      res.writeHead(201);
      res.end();
    });
  },
);
// The request handler above installed the compatibility layer's stream
// listener; h2 streams are taken here instead (HTTP/1.1 requests still reach
// the handler, which is not driven by 'stream' events).
server.removeAllListeners('stream');
server.on('stream', (stream, headers) => {
  const path = headers[constants.HTTP2_HEADER_PATH];
  const unavailable = isFirstUnavailable(path);
  const gone = !unavailable && isGone(path);
  receive(
    stream,
    path,
    () => {
      if (isPush(path)) counts.h2 += 1;
      if (gone) counts.gone += 1;
      const answer = unavailable ? UNAVAILABLE : gone ? GONE : CREATED;
      // A held-back answer may find its stream already closed by the sender.
      if (!stream.destroyed) stream.respond(answer, { endStream: true });
    },
    !unavailable,
  );
});

server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('message', (message) => {
  if (message.type === 'samples') {
    process.send({ type: 'samples', samples: samples.splice(0), counts: { ...counts } });
  } else if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', cpu: user + system });
  } else if (message.type === 'stop') {
    server.close();
    process.exit(0);
  }
});
