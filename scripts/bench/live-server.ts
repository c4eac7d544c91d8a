/**
 * HTTP server for the live-capture benchmark: answers every request with a small JSON body
 * (keep-alive). Prints `port N` once listening. Usage: node --import tsx live-server.ts PORT
 */
import http from 'node:http';

const body = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'kubeshark live bench' });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`port ${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
