// The benchmark's push service, in its own process so its CPU is not the
// sender's event loop: TLS with ALPN offering h2 and http/1.1 (like real
// services), answering 201 to every POST. It keeps the bodies of sampled
// paths (/push/<phase>/<index> with index % sampleEvery === 0) and hands
// them to the parent on request, for decryption there.
import { createSecureServer } from 'node:http2';

const { key, cert, sampleEvery } = JSON.parse(process.env.HERALD_BENCH_SERVICE ?? '{}');
const samples = [];
const counts = { h2: 0, h1: 0 };

const server = createSecureServer(
  { key, cert, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } },
  (req, res) => {
    const chunks = [];
    const match = /^\/push\/([a-z]+)\/(\d+)$/.exec(req.url);
    const keep = match !== null && Number(match[2]) % sampleEvery === 0;
    req.on('data', (chunk) => {
      if (keep) chunks.push(chunk);
    });
    req.on('end', () => {
      if (req.httpVersion === '2.0') counts.h2 += 1;
      else counts.h1 += 1;
      if (keep)
        samples.push({
          phase: match[1],
          index: Number(match[2]),
          body: Buffer.concat(chunks).toString('base64'),
        });
      res.writeHead(201);
      res.end();
    });
  },
);

server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
process.on('message', (message) => {
  if (message.type === 'samples') {
    process.send({ type: 'samples', samples: samples.splice(0), counts: { ...counts } });
  } else if (message.type === 'stop') {
    server.close();
    process.exit(0);
  }
});
