/**
 * Generates secrets.pcap: real HTTP and WebSocket traffic carrying every kind of secret the
 * redactor handles, each value containing `s3cr3t` so a test can check none survives.
 * A Node http server (with a `ws` WebSocket server on the same port) on 127.0.0.1:8080; clients
 * are curl and Node's http / `ws`.
 *
 *   scripts/capture/in-netns.sh node --import tsx src/redact/testdata/secrets.ts
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { WebSocket, WebSocketServer } from 'ws';
import { captureFile, requireCaptureNamespace, sleep } from '../../../scripts/capture/lib.ts';

const PORT = 8080;
const HOST = '127.0.0.1';
const BASE = `http://${HOST}:${PORT}`;
const OUT = new URL('./secrets.pcap', import.meta.url).pathname;
const run = promisify(execFile);

/** Between steps: keeps the order on the wire the order of the script. */
const STEP_MS = 20;

async function readBody(req: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString();
}

function server(): http.Server {
  return http.createServer((req, res) => {
    void readBody(req).then(() => {
      if (req.url?.startsWith('/api/login')) {
        const body = JSON.stringify({
          access_token: 's3cr3t-access-token',
          refresh_token: 's3cr3t-refresh-token',
          expires_in: 3600,
          user: { id: 7, name: 'ann' },
        });
        res.writeHead(200, {
          'content-type': 'application/json',
          'set-cookie': ['session=s3cr3t-set-cookie; Path=/; HttpOnly', 'theme=dark; Path=/'],
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      } else if (req.url?.startsWith('/api/token')) {
        // Compressed on the wire: the kept (decoded) text is what gets redacted.
        const body = zlib.gzipSync(JSON.stringify({ token: 's3cr3t-gzip-token', ok: true }));
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': body.length,
        });
        res.end(body);
      } else {
        res.writeHead(204);
        res.end();
      }
    });
  });
}

async function scenario(): Promise<void> {
  const srv = server();
  const wss = new WebSocketServer({ server: srv, path: '/ws' });
  wss.on('connection', (peer) => {
    peer.on('message', (data, isBinary) => peer.send(data, { binary: isBinary }));
  });
  srv.listen(PORT, HOST);
  await once(srv, 'listening');
  try {
    // 1. curl: Authorization, Cookie, a secret query parameter, a nested JSON password.
    const json = JSON.stringify({
      user: {
        name: 'ann',
        Password: 's3cr3t-json-pass',
        profile: { api_key: 's3cr3t-nested-key', lang: 'en' },
      },
      items: [{ token: 's3cr3t-array-token', n: 1 }, { n: 2 }],
      note: 'keep me',
      big: 12345678901234567890,
    }).replace('12345678901234567000', '12345678901234567890');
    await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-H',
      'Authorization: Bearer s3cr3t-bearer-token',
      '-b',
      'session=s3cr3t-session-id; theme=dark',
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      json,
      `${BASE}/api/login?token=s3cr3t-query-token&page=2`,
    ]);
    await sleep(STEP_MS);
    // 2. A form login with Proxy-Authorization and X-Api-Key.
    await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-H',
      'Proxy-Authorization: Basic s3cr3t-proxy-credentials',
      '-H',
      'X-Api-Key: s3cr3t-api-key',
      '--data',
      'username=ann&password=s3cr3t-form-pass&remember=1',
      `${BASE}/form/login`,
    ]);
    await sleep(STEP_MS);
    // 3. A gzip-encoded JSON response with a token, fetched by Node's http client.
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${BASE}/api/token?access_token=s3cr3t-query-access`, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
    await sleep(STEP_MS);
    // 4. WebSocket: an X-Auth-Token on the upgrade, a JSON message with secrets (echoed back).
    const ws = new WebSocket(`ws://${HOST}:${PORT}/ws`, {
      headers: { 'X-Auth-Token': 's3cr3t-upgrade-token' },
      perMessageDeflate: false,
    });
    await once(ws, 'open');
    await sleep(STEP_MS);
    ws.send(
      JSON.stringify({ type: 'auth', token: 's3cr3t-ws-token', data: { secret: 's3cr3t-ws-nested' } }),
    );
    await once(ws, 'message');
    await sleep(STEP_MS);
    ws.send('plain text, no secrets');
    await once(ws, 'message');
    ws.close(1000, 'done');
    await once(ws, 'close');
  } finally {
    wss.close();
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

requireCaptureNamespace();
await captureFile(OUT, `tcp port ${PORT}`, scenario);
