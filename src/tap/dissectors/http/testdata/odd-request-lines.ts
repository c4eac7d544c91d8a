/**
 * Generates odd-request-lines.pcap: request lines servers still answer, sent by a raw TCP client
 * (node:net), one connection per case unless noted:
 *  - to Node's http server on 127.0.0.1:8080 (llhttp answers malformed lines with
 *    `400 Bad Request` and closes; it reads a line without a version as HTTP/0.9 with headers):
 *    `GET / HTTP/1.` (400); `GET /HTTP/1.1` + headers (200, close-delimited); `OPTIONS HTTP/1.1`
 *    (400); `GET  /spaces  HTTP/1.1` (200, kept alive) then a normal GET on the same connection;
 *    tabs as separators (400); a normal GET then `get /lower HTTP/1.1` on the same connection
 *    (200, then 400); `FOO /x HTTP/1.1` (400);
 *  - to a raw node:net server on the same port that speaks HTTP/0.9: `GET /legacy.html` and
 *    its line end alone, answered by the bare document, then the close.
 *
 *   scripts/capture/in-netns.sh node --import tsx src/tap/dissectors/http/testdata/odd-request-lines.ts
 */
import http from 'node:http';
import net from 'node:net';
import { captureFile, requireCaptureNamespace, sleep } from '../../../../../scripts/capture/lib.ts';

const PORT = 8080;
const HOST = '127.0.0.1';
const OUT = new URL('./odd-request-lines.pcap', import.meta.url).pathname;
/** After an answer: no more bytes for this long means it is complete (keep-alive answers). */
const QUIET_MS = 100;

/**
 * One connection: writes each request once the previous one was answered (bytes, then quiet or
 * the server's close), then closes its side and waits for the connection to end.
 */
function conversation(requests: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(PORT, HOST);
    let received = '';
    let serverEnded = false;
    let wake: (() => void) | undefined;
    sock.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      wake?.();
    });
    sock.on('end', () => {
      serverEnded = true;
      wake?.();
      sock.end();
    });
    sock.on('close', () => resolve(received));
    sock.on('error', reject);
    sock.once('connect', () => {
      void (async () => {
        for (const r of requests) {
          if (serverEnded) break;
          const before = received.length;
          sock.write(r);
          // Wait for the first answer bytes, then for quiet (or the close).
          while (received.length === before && !serverEnded)
            await new Promise<void>((w) => (wake = w));
          let seen = -1;
          while (seen !== received.length && !serverEnded) {
            seen = received.length;
            await sleep(QUIET_MS);
          }
        }
        if (!serverEnded) sock.end();
      })().catch(reject);
    });
  });
}

const host = `Host: ${HOST}:${PORT}\r\nUser-Agent: raw-net\r\n`;

async function nodeServerCases(): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
      });
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(PORT, HOST, resolve));
  try {
    const show = (what: string, got: string) =>
      console.log(`  ${JSON.stringify(what)} → ${JSON.stringify(got.split('\r\n')[0])}`);
    for (const requests of [
      [`GET / HTTP/1.\r\n${host}\r\n`],
      [`GET /HTTP/1.1\r\n${host}\r\n`],
      [`OPTIONS HTTP/1.1\r\n${host}\r\n`],
      [`GET  /spaces  HTTP/1.1\r\n${host}\r\n`, `GET /after-spaces HTTP/1.1\r\n${host}\r\n`],
      [`GET\t/tabs\tHTTP/1.1\r\n${host}\r\n`],
      [`GET /first HTTP/1.1\r\n${host}\r\n`, `get /lower HTTP/1.1\r\n${host}\r\n`],
      [`FOO /x HTTP/1.1\r\n${host}\r\n`],
    ]) {
      show(requests.map((r) => r.split('\r\n')[0]).join(' + '), await conversation(requests));
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** An HTTP/0.9 server: reads one line, answers with the bare document, closes. */
async function http09Case(): Promise<void> {
  const doc =
    '<html>\n<head><title>legacy</title></head>\n<body>Served over HTTP/0.9: no status line, ' +
    'no headers; the close ends the document.</body>\n</html>\n';
  const server = net.createServer((sock) => {
    let line = '';
    sock.on('data', (d: Buffer) => {
      line += d.toString('latin1');
      if (line.includes('\n')) sock.end(doc);
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(PORT, HOST, resolve));
  try {
    const got = await conversation(['GET /legacy.html\r\n']);
    if (got !== doc) throw new Error(`HTTP/0.9 answer: ${JSON.stringify(got)}`);
    console.log(`  "GET /legacy.html" → ${got.length} bytes, then the close`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

requireCaptureNamespace();
await captureFile(OUT, `tcp port ${PORT}`, async () => {
  await nodeServerCases();
  await http09Case();
});
