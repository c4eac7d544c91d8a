/**
 * Generates probe.pcap: the secrets a live probe of issue 12 found unredacted, sent by real
 * clients (curl, Node's http) to a Node http server on 127.0.0.1:8080 — multipart form fields
 * (and a PEM key file), X-Amz-Security-Token and the other cloud-provider token headers, JSON
 * keys such as privateKey / credentials / client_secret / refresh_token (camelCase too), and
 * secrets in text/plain bodies, both ways. Every secret contains `s3cr3t` (any case) so a test
 * can check none survives.
 *
 *   scripts/capture/in-netns.sh node --import tsx src/redact/testdata/probe.ts
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { captureFile, requireCaptureNamespace, sleep } from '../../../scripts/capture/lib.ts';

const PORT = 8080;
const HOST = '127.0.0.1';
const BASE = `http://${HOST}:${PORT}`;
const OUT = new URL('./probe.pcap', import.meta.url).pathname;
const run = promisify(execFile);
const STEP_MS = 20;

/** The secrets, by where they travel (the test reads this list). */
export const PROBE_SECRETS = [
  's3cr3t-multipart-pass',
  's3cr3t-multipart-token',
  's3cr3tPemKeyBody0123456789',
  's3cr3t-amz-security-token',
  's3cr3t-goog-iam-token',
  's3cr3t-ms-aad-token',
  's3cr3t-apim-key',
  's3cr3t-private-key',
  's3cr3t-credentials-secret',
  's3cr3t-client-secret',
  's3cr3t-refresh-token',
  's3cr3t-camel-client-secret',
  's3cr3t-text-aws-key',
  's3cr3t-text-bearer',
  's3cr3t-text-response-password',
  'ghp_s3cr3t0123456789abcdefghijABCDEFGHIJ',
];

function server(): http.Server {
  return http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (req.url === '/sts') {
        const body = JSON.stringify({
          Credentials: {
            AccessKeyId: 'ASIAS3CR3TEXAMPLE123',
            SecretAccessKey: 's3cr3t-credentials-secret',
            SessionToken: 's3cr3t-amz-security-token',
          },
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      } else if (req.url === '/env') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('DB_HOST=db\nDB_PASSWORD=s3cr3t-text-response-password\n');
      } else {
        res.writeHead(204);
        res.end();
      }
    });
  });
}

async function scenario(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ks-probe-'));
  const pem = join(dir, 'tls.key');
  writeFileSync(
    pem,
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\ns3cr3tPemKeyBody0123456789\n-----END PRIVATE KEY-----\n',
  );
  const srv = server();
  srv.listen(PORT, HOST);
  await once(srv, 'listening');
  const curl = async (...args: string[]): Promise<void> => {
    await run('curl', ['-s', '-o', '/dev/null', ...args]);
    await sleep(STEP_MS);
  };
  try {
    // 1. Multipart form: a password field, a token field, a key file.
    await curl(
      '-F',
      'username=ann',
      '-F',
      'password=s3cr3t-multipart-pass',
      '-F',
      'token=s3cr3t-multipart-token',
      '-F',
      `file=@${pem};type=application/x-pem-file`,
      `${BASE}/upload`,
    );
    // 2. Cloud-provider token headers.
    await curl(
      '-H',
      'X-Amz-Security-Token: s3cr3t-amz-security-token',
      '-H',
      'X-Goog-IAM-Authorization-Token: s3cr3t-goog-iam-token',
      '-H',
      'X-MS-TOKEN-AAD-ACCESS-TOKEN: s3cr3t-ms-aad-token',
      '-H',
      'Ocp-Apim-Subscription-Key: s3cr3t-apim-key',
      `${BASE}/bucket/object`,
    );
    // 3. JSON keys, snake and camel case; an STS-like response with a credentials object.
    await curl(
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      JSON.stringify({
        privateKey: 's3cr3t-private-key',
        client_secret: 's3cr3t-client-secret',
        refresh_token: 's3cr3t-refresh-token',
        app: { clientSecret: 's3cr3t-camel-client-secret' },
      }),
      `${BASE}/oauth/token`,
    );
    await curl(`${BASE}/sts`);
    // 4. text/plain both ways, and a token known by its shape in a log line.
    await curl(
      '-H',
      'Content-Type: text/plain',
      '--data-binary',
      'AWS_SECRET_ACCESS_KEY=s3cr3t-text-aws-key\nGET /x Authorization: Bearer s3cr3t-text-bearer\npushed with ghp_s3cr3t0123456789abcdefghijABCDEFGHIJ\n',
      `${BASE}/logs`,
    );
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${BASE}/env`, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  requireCaptureNamespace();
  await captureFile(OUT, `tcp port ${PORT}`, scenario);
}
