/**
 * The secrets corpus: one case per secret shape (where it travels and what it looks like), each
 * an HTTP or WebSocket conversation that carries it. The credential parts (`secrets`) are random
 * (seeded: the corpus is the same on every run) so a test can check that no 8-character piece of
 * any of them survives redaction anywhere: in an entry, its JSON view, the store's files, the
 * API or `tap` output. `keep` lists values that look a little like secrets but are not, and must
 * survive (false positives cost users their debugging data).
 *
 * Synthetic on purpose: no real client sends most of these shapes to one server. The real-client
 * path is secrets.pcap (secrets.ts); this corpus is written to a capture at test time by
 * test/helpers/synth-capture.ts (`writeCorpusCapture`).
 */
import {
  SynthPcap,
  httpRequest,
  httpResponse,
  wsFrame,
  type Exchange,
} from '../../../test/helpers/synth-capture.ts';

export interface SecretCase {
  /** The shape: where the secret travels and what it looks like. */
  name: string;
  /** Credential parts: no 8-character piece of any may survive. */
  secrets: string[];
  /** Values that must survive (not secrets). */
  keep?: string[];
  exchanges: Exchange[];
}

// ---------------------------------------------------------------- deterministic random values

let seed = 0x5eed1234;
function next(): number {
  // xorshift32
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x100000000;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}_-`;
function rand(n: number, alphabet = ALNUM): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
  // At least one digit: a credential of letters only would also be a word.
  return /\d/.test(s) || n < 4 ? s : `${s.slice(0, -1)}7`;
}
const b64url = (s: string): string => Buffer.from(s).toString('base64url');

/** A JWT whose payload and signature are random: [token, payload, signature]. */
function jwt(): [string, string, string] {
  const head = b64url('{"alg":"RS256","typ":"JWT","kid":"k1"}');
  const payload = b64url(
    JSON.stringify({ sub: rand(12), iss: 'https://issuer.example.test', exp: 1999999999 }),
  );
  const sig = rand(86, B64URL);
  return [`${head}.${payload}.${sig}`, payload, sig];
}

/** A PEM private key block: [pem text, base64 body]. */
function pem(kind = 'PRIVATE KEY'): [string, string] {
  const body = rand(64 * 6, B64);
  const lines = body.match(/.{1,64}/g)!.join('\n');
  return [`-----BEGIN ${kind}-----\n${lines}\n-----END ${kind}-----\n`, body];
}

// ---------------------------------------------------------------- cases

const cases: SecretCase[] = [];
/** One request (and a plain 204 or the given response) as a case. */
function call(
  name: string,
  secrets: string[],
  request: string,
  response: string = httpResponse(204),
  keep?: string[],
): void {
  cases.push({ name, secrets, exchanges: [{ request, response }], ...(keep && { keep }) });
}
const get = (target: string, headers: Record<string, string> = {}): string =>
  httpRequest('GET', target, headers);
const post = (target: string, contentType: string, body: string, more = {}): string =>
  httpRequest('POST', target, { 'Content-Type': contentType, ...more }, body);
const json = (v: unknown): string => JSON.stringify(v);

// Headers, by name.
{
  const t = rand(40, B64URL);
  call('Authorization: Bearer (opaque)', [t], get('/a', { Authorization: `Bearer ${t}` }));
  const basic = Buffer.from(`svc:${rand(16)}`).toString('base64');
  call('Authorization: Basic', [basic], get('/a', { Authorization: `Basic ${basic}` }));
  const proxy = Buffer.from(`me:${rand(14)}`).toString('base64');
  call('Proxy-Authorization: Basic', [proxy], get('/a', { 'Proxy-Authorization': `Basic ${proxy}` }));
  const sid = rand(32);
  const sid2 = rand(24, B64URL);
  call('Cookie', [sid, sid2], get('/a', { Cookie: `sid=${sid}; csrf=${sid2}; theme=dark` }));
  const setc = rand(40, B64URL);
  call(
    'Set-Cookie (response)',
    [setc],
    get('/login'),
    httpResponse(200, { 'Set-Cookie': `session=${setc}; Path=/; HttpOnly; Secure` }),
  );
  const key = rand(32);
  call('X-Api-Key', [key], get('/a', { 'X-Api-Key': key }));
  const at = rand(36);
  call('X-Auth-Token', [at], get('/a', { 'X-Auth-Token': at }));
  const sts = `IQoJb3JpZ2luX2Vj${rand(300, B64)}`;
  call('X-Amz-Security-Token (STS session token)', [sts.slice(16)], get('/bucket/k', { 'X-Amz-Security-Token': sts }));
  const sig4 = rand(64, HEX);
  const akid = `AKIA${rand(16, UPPER)}`;
  call(
    'Authorization: AWS4-HMAC-SHA256 (SigV4)',
    [sig4, akid],
    get('/bucket/k', {
      Authorization: `AWS4-HMAC-SHA256 Credential=${akid}/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig4}`,
      'X-Amz-Date': '20240101T000000Z',
    }),
  );
  const gkey = `AIza${rand(35, B64URL)}`;
  call('X-Goog-Api-Key (Google API key)', [gkey], get('/v1/x', { 'X-Goog-Api-Key': gkey }));
  const giam = `ya29.${rand(120, B64URL)}`;
  call('X-Goog-IAM-Authorization-Token', [giam.slice(5)], get('/v1/x', { 'X-Goog-IAM-Authorization-Token': giam }));
  const [aad, aadP, aadS] = jwt();
  call('X-MS-Token-AAD-Access-Token (JWT)', [aadP, aadS], get('/x', { 'X-MS-TOKEN-AAD-ACCESS-TOKEN': aad }));
  const apim = rand(32, HEX);
  call('Ocp-Apim-Subscription-Key (Azure)', [apim], get('/x', { 'Ocp-Apim-Subscription-Key': apim }));
  const fnk = rand(54, B64URL);
  call('X-Functions-Key (Azure Functions)', [fnk], get('/api/f', { 'x-functions-key': fnk }));
  const aoai = rand(32, HEX);
  call('api-key (Azure OpenAI)', [aoai], get('/openai/x', { 'api-key': aoai }));
  const vault = `hvs.${rand(90, B64URL)}`;
  call('X-Vault-Token', [vault.slice(4)], get('/v1/secret/data/x', { 'X-Vault-Token': vault }));
  const csrf = rand(43, B64URL);
  call('X-CSRF-Token', [csrf], post('/form', 'application/x-www-form-urlencoded', 'a=1', { 'X-CSRF-Token': csrf }));
  const glpat = `glpat-${rand(20, B64URL)}`;
  call('Private-Token (GitLab PAT)', [glpat.slice(6)], get('/api/v4/projects', { 'PRIVATE-TOKEN': glpat }));
  const dd = rand(32, HEX);
  call('DD-API-KEY (Datadog)', [dd], post('/api/v2/series', 'application/json', '{}', { 'DD-API-KEY': dd }));
  const cfs = rand(64, HEX);
  call('CF-Access-Client-Secret', [cfs], get('/x', { 'CF-Access-Client-Id': 'abc.access', 'CF-Access-Client-Secret': cfs }));
  const [oidc, oidcP, oidcS] = jwt();
  call('X-Amzn-Oidc-Data (JWT under a neutral name)', [oidcP, oidcS], get('/x', { 'X-Amzn-Oidc-Data': oidc }));
  const fwd = rand(48, B64URL);
  call('X-Forwarded-Access-Token (oauth2-proxy)', [fwd], get('/x', { 'X-Forwarded-Access-Token': fwd }));
  const k8s = rand(60, B64URL);
  call(
    'Sec-WebSocket-Protocol bearer (Kubernetes exec)',
    [k8s],
    get('/api/v1/namespaces/d/pods/p/exec', {
      'Sec-WebSocket-Protocol': `v4.channel.k8s.io, base64url.bearer.authorization.k8s.io.${k8s}`,
    }),
  );
  const [dbg, dbgP, dbgS] = jwt();
  call('a JWT in a custom header', [dbgP, dbgS], get('/x', { 'X-Debug-Context': `user=${dbg}` }));
  const skey = rand(32, HEX);
  const ssec = rand(32, HEX);
  call(
    'X-Sentry-Auth',
    [skey, ssec],
    post('/api/1/store/', 'application/json', '{}', {
      'X-Sentry-Auth': `Sentry sentry_version=7, sentry_key=${skey}, sentry_secret=${ssec}`,
    }),
  );
  const shp = `shpat_${rand(32, HEX)}`;
  call('X-Shopify-Access-Token', [shp.slice(6)], get('/admin/api/x.json', { 'X-Shopify-Access-Token': shp }));
  const trailerTok = rand(40);
  cases.push({
    name: 'a token in a chunked trailer',
    secrets: [trailerTok],
    exchanges: [
      {
        request: get('/t'),
        response:
          'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Session-Token\r\n\r\n' +
          `2\r\nok\r\n0\r\nX-Session-Token: ${trailerTok}\r\n\r\n`,
      },
    ],
  });
}

// The query string and the URL.
{
  const t = rand(40, B64URL);
  call('?access_token=', [t], get(`/me?access_token=${t}&fields=id`));
  const amzSig = rand(64, HEX);
  const amzTok = rand(200, B64);
  const akid = `ASIA${rand(16, UPPER)}`;
  call(
    'S3 presigned URL (X-Amz-Signature, -Credential, -Security-Token)',
    [amzSig, amzTok, akid],
    get(
      `/bucket/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${akid}%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-Security-Token=${encodeURIComponent(amzTok)}&X-Amz-Signature=${amzSig}&X-Amz-SignedHeaders=host`,
    ),
  );
  const sas = rand(44, B64);
  call(
    'Azure SAS (?sig=)',
    [sas],
    get(`/container/blob?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01&sig=${encodeURIComponent(sas)}`),
  );
  const gsig = rand(128, HEX);
  call('GCS signed URL (X-Goog-Signature)', [gsig], get(`/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=${gsig}`));
  const ak = rand(32);
  call('?api_key=', [ak], get(`/v1/data?api_key=${ak}`));
  const cs = rand(40);
  call('?client_secret=', [cs], get(`/oauth/token?client_id=app&client_secret=${cs}`));
  const up = rand(18);
  call(
    'user:password@ in an absolute-form URL',
    [up],
    get(`http://deploy:${up}@registry.example.test/v2/`),
  );
  const [pj, pjP, pjS] = jwt();
  call('a JWT in the URL path', [pjP, pjS], get(`/auth/magic-link/${pj}`));
  const slack = rand(24);
  call(
    'a Slack webhook path',
    [slack],
    post(`/services/T0${rand(8, UPPER)}/B0${rand(8, UPPER)}/${slack}`, 'application/json', '{"text":"hi"}'),
  );
}

// JSON bodies, by name.
{
  const [p, pBody] = pem();
  call('JSON privateKey (PEM)', [pBody], post('/keys', 'application/json', json({ name: 'k', privateKey: p })));
  const akid = `ASIA${rand(16, UPPER)}`;
  const sak = rand(40, B64);
  const st = rand(300, B64);
  call(
    'JSON credentials object (AWS STS response)',
    [akid, sak, st],
    post('/', 'application/x-www-form-urlencoded', 'Action=AssumeRole&Version=2011-06-15'),
    httpResponse(
      200,
      { 'Content-Type': 'application/json' },
      json({
        AssumeRoleResponse: {
          AssumeRoleResult: {
            Credentials: { AccessKeyId: akid, SecretAccessKey: sak, SessionToken: st, Expiration: '2030-01-01T00:00:00Z' },
          },
        },
      }),
    ),
  );
  const cs = rand(40);
  call('JSON client_secret', [cs], post('/oauth/token', 'application/json', json({ client_id: 'app', client_secret: cs })));
  const rt = rand(64, B64URL);
  const at = rand(64, B64URL);
  call(
    'JSON refresh_token / access_token (token response)',
    [rt, at],
    post('/oauth/token', 'application/x-www-form-urlencoded', 'grant_type=client_credentials'),
    httpResponse(200, { 'Content-Type': 'application/json; charset=utf-8' }, json({ access_token: at, token_type: 'Bearer', expires_in: 3600, refresh_token: rt })),
    ['Bearer', '3600'],
  );
  const [idt, idtP, idtS] = jwt();
  call('JSON idToken (camelCase, JWT)', [idtP, idtS], post('/session', 'application/json', json({ idToken: idt, remember: true })));
  const ccs = rand(36);
  call('JSON clientSecret (camelCase)', [ccs], post('/apps', 'application/json', json({ app: { clientId: 'x', clientSecret: ccs } })));
  const pw = rand(20);
  call(
    'a connection string with a password in JSON',
    [pw],
    post('/config', 'application/json', json({ db: { url: `postgres://app:${pw}@db.internal:5432/shop`, pool: 5 } })),
  );
  const [gp, gpBody] = pem('RSA PRIVATE KEY');
  const keyId = rand(40, HEX);
  call(
    'GCP service account key (private_key, private_key_id)',
    [gpBody, keyId],
    post(
      '/upload',
      'application/json',
      json({ type: 'service_account', project_id: 'p', private_key_id: keyId, private_key: gp, client_email: 'sa@p.iam.gserviceaccount.com' }),
    ),
  );
  const oai = `sk-proj-${rand(48, B64URL)}`;
  call('JSON apiKey (OpenAI key)', [oai.slice(8)], post('/settings', 'application/json', json({ provider: 'openai', apiKey: oai })));
  const ghp = `ghp_${rand(36)}`;
  call('a GitHub token in a free-text JSON field', [ghp.slice(4)], post('/notes', 'application/json', json({ note: `CI uses ${ghp} for pushes` })));
  const pp = rand(24);
  call('JSON passphrase', [pp], post('/unlock', 'application/json', json({ passphrase: pp })));
  const pass = rand(16);
  call('JSON auth.pass (nodemailer style)', [pass], post('/smtp', 'application/json', json({ auth: { user: 'mailer', pass } })));
  const hook = rand(24);
  call(
    'a Slack webhook URL in JSON',
    [hook],
    post('/integrations', 'application/json', json({ kind: 'slack', url: `https://hooks.slack.com/services/T0${rand(8, UPPER)}/B0${rand(8, UPPER)}/${hook}` })),
  );
  const k8sTok = jwt();
  call(
    'a Kubernetes kubeconfig token in JSON',
    [k8sTok[1], k8sTok[2]],
    post('/clusters', 'application/json', json({ users: [{ name: 'u', user: { token: k8sTok[0] } }] })),
  );
  const capped = rand(40);
  call(
    'a body cut mid-secret (JSON without its end)',
    [capped],
    post('/x', 'application/json', `{"a":1,"password":"${capped}`),
  );
}

// Forms and multipart.
{
  const cs = rand(40);
  const rt = rand(60, B64URL);
  call(
    'form client_secret + refresh_token',
    [cs, rt],
    post('/oauth/token', 'application/x-www-form-urlencoded', `grant_type=refresh_token&client_id=app&client_secret=${cs}&refresh_token=${rt}`),
  );
  const up = rand(18);
  call('form userPassword (camelCase)', [up], post('/ldap', 'application/x-www-form-urlencoded', `uid=ann&userPassword=${up}`));
  const boundary = '----formdata-undici-0123456789';
  const mp = (parts: string[]): string => `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`;
  const ctype = `multipart/form-data; boundary=${boundary}`;
  const mpw = rand(20);
  call(
    'multipart field "password"',
    [mpw],
    post('/signup', ctype, mp([`Content-Disposition: form-data; name="user"\r\n\r\nann`, `Content-Disposition: form-data; name="password"\r\n\r\n${mpw}`])),
  );
  const mkey = rand(32);
  call('multipart field "api_key"', [mkey], post('/upload', ctype, mp([`Content-Disposition: form-data; name="api_key"\r\n\r\n${mkey}`])));
  const [mpem, mpemBody] = pem('EC PRIVATE KEY');
  call(
    'multipart file with a PEM private key',
    [mpemBody],
    post('/certs', ctype, mp([`Content-Disposition: form-data; name="file"; filename="tls.key"\r\nContent-Type: application/x-pem-file\r\n\r\n${mpem}`])),
  );
  const mjs = rand(30);
  call(
    'multipart JSON part with a secret field',
    [mjs],
    post('/import', ctype, mp([`Content-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n${json({ title: 't', webhookSecret: mjs })}`])),
  );
  const mtok = rand(40, B64URL);
  call(
    'multipart field "token" (quoted name, CRLF-less boundary prefix)',
    [mtok],
    post('/m', 'multipart/form-data; boundary="b1"', `--b1\r\nContent-Disposition: form-data; name=token\r\n\r\n${mtok}\r\n--b1--`),
  );
}

// Bodies that are not JSON: by shape and by `name=value`.
{
  const sak = rand(40, B64);
  call('text/plain env: AWS_SECRET_ACCESS_KEY=', [sak], post('/env', 'text/plain', `REGION=us-east-1\nAWS_SECRET_ACCESS_KEY=${sak}\nDEBUG=1\n`));
  const bt = rand(40, B64URL);
  call('text/plain log line with Authorization: Bearer', [bt], post('/logs', 'text/plain', `2024-01-01T00:00:00Z GET /x Authorization: Bearer ${bt} 200\n`));
  const akid = `AKIA${rand(16, UPPER)}`;
  call('an AWS access key id in text', [akid], post('/logs', 'text/plain', `using key ${akid} for upload\n`));
  const xoxb = `xoxb-${rand(12, '0123456789')}-${rand(13, '0123456789')}-${rand(24)}`;
  call('a Slack bot token in text', [xoxb.slice(5)], post('/logs', 'text/plain', `slack bot ${xoxb}\n`));
  const [tj, tjP, tjS] = jwt();
  call('a JWT in text', [tjP, tjS], post('/logs', 'text/plain', `session ${tj} expired\n`));
  const yp = rand(20);
  call('YAML password:', [yp], post('/config', 'application/yaml', `db:\n  host: db\n  password: ${yp}\n  pool: 5\n`));
  const sk = `sk_live_${rand(24)}`;
  call('a Stripe secret key in HTML/JS', [sk.slice(8)], get('/page'), httpResponse(200, { 'Content-Type': 'text/html' }, `<script>var stripe = Stripe("${sk}");</script>`));
  const xp = rand(20);
  call('XML <password>', [xp], post('/soap', 'text/xml', `<Login><User>ann</User><Password>${xp}</Password></Login>`));
  const gpat = `github_pat_${rand(22)}_${rand(59)}`;
  call('a GitHub fine-grained PAT in text', [gpat.slice(11)], post('/logs', 'text/plain', `token: none; pat ${gpat}\n`));
  const npm = `npm_${rand(36)}`;
  call('an npm token in .npmrc', [npm.slice(4)], post('/files', 'text/plain', `//registry.npmjs.org/:_authToken=${npm}\n`));
  const ya = `ya29.${rand(100, B64URL)}`;
  call('a Google OAuth access token in text', [ya.slice(5)], post('/logs', 'text/plain', `got ${ya}\n`));
  const oai = `sk-${rand(48)}`;
  call('an OpenAI key in text', [oai.slice(3)], post('/logs', 'text/plain', `OPENAI key ${oai}\n`));
  const sg = `SG.${rand(22, B64URL)}.${rand(43, B64URL)}`;
  call('a SendGrid key in text', [sg.slice(3)], post('/logs', 'text/plain', `sendgrid ${sg}\n`));
  const wh = `whsec_${rand(32)}`;
  call('a Stripe webhook secret in text', [wh.slice(6)], post('/logs', 'text/plain', `${wh}\n`));
  const hf = `hf_${rand(34)}`;
  call('a Hugging Face token in text', [hf.slice(3)], post('/logs', 'text/plain', `hf ${hf}`));
  const [tp, tpBody] = pem('OPENSSH PRIVATE KEY');
  call('an OpenSSH private key in text', [tpBody], post('/keys', 'text/plain', tp));
  const redis = rand(20);
  call('a redis:// URL with a password in text', [redis], post('/cfg', 'text/plain', `REDIS_URL=redis://:${redis}@cache:6379/0\n`));
  const dsn = rand(16);
  call(
    'a key=value secret in a cut (truncated) text body',
    [dsn],
    post('/cfg', 'text/plain', `mysql_password=${dsn}`),
  );
}

// WebSocket messages.
{
  const up = httpRequest('GET', '/ws', {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
  });
  const switching =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';
  const ws = (name: string, secrets: string[], client: string, server = 'ok'): void => {
    cases.push({
      name,
      secrets,
      exchanges: [
        { request: up, response: switching },
        { request: wsFrame(client, true), response: wsFrame(server, false) },
      ],
    });
  };
  const pc = rand(20);
  ws('WebSocket STOMP CONNECT passcode', [pc], `CONNECT\naccept-version:1.2\nlogin:guest\npasscode:${pc}\n\n\u0000`);
  const gq = rand(40, B64URL);
  ws('WebSocket graphql-ws connection_init authToken', [gq], json({ type: 'connection_init', payload: { authToken: gq } }));
  const sio = rand(40, B64URL);
  ws('WebSocket socket.io auth event', [sio], `42["auth",{"token":"${sio}"}]`);
  const [wj, wjP, wjS] = jwt();
  ws('WebSocket server message with a JWT', [wjP, wjS], 'hello', json({ event: 'session', jwt: wj }).replace('"jwt"', '"data"'));
}

// Not secrets: must survive.
call(
  'look-alikes that are not secrets',
  [],
  post(
    '/v1/chat/completions',
    'application/json',
    json({ model: 'gpt-4o', max_tokens: 2571, token_type: 'Bearer', note: 'Basic authentication is described in RFC 7617' }),
    { 'X-Request-Id': '3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b', 'User-Agent': 'curl/8.5.0' },
  ),
  httpResponse(
    200,
    { 'Content-Type': 'application/json', ETag: '"9f86d081884c7d659a2feaa0c55ad015"', 'x-ratelimit-remaining-tokens': '149984' },
    json({ usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 4663 }, id: 'chatcmpl-abc123' }),
  ),
  ['gpt-4o', '2571', 'RFC 7617', '3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b', 'curl/8.5.0', '9f86d081884c7d659a2feaa0c55ad015', '149984', '4663', 'chatcmpl-abc123'],
);

export const SECRET_CASES: readonly SecretCase[] = cases;

/** Writes the corpus as one capture (a connection per case, in order) to `path`. */
export function writeCorpusCapture(path: string): void {
  const w = new SynthPcap(path);
  let port = 40000;
  for (const c of SECRET_CASES) w.conversation({ clientPort: port++, serverPort: 8080 }, c.exchanges);
  w.close();
}

/**
 * Everything an output holds as searchable text: the output itself plus, decoded as latin1, every
 * base64 value in it (binary bodies are kept as base64: a secret in them is still there).
 */
export function haystack(output: string): string {
  const parts = [output];
  for (const m of output.matchAll(/"base64":"([A-Za-z0-9+/=]*)"/g))
    parts.push(Buffer.from(m[1]!, 'base64').toString('latin1'));
  return parts.join('\n');
}

/** Length of the pieces of a secret that may not survive. */
export const LEAK_PIECE = 8;

/**
 * What of the corpus survives in `text`: each case with a piece of one of its secrets found, and
 * each `keep` value that is missing (the text being everything printed or stored for the corpus).
 */
export function corpusLeaks(text: string): { leaked: string[]; lost: string[] } {
  const seen = new Set<string>();
  for (let i = 0; i + LEAK_PIECE <= text.length; i++) seen.add(text.slice(i, i + LEAK_PIECE));
  const leaked: string[] = [];
  const lost: string[] = [];
  for (const c of SECRET_CASES) {
    const hit = c.secrets.find((s) => {
      for (let i = 0; i + LEAK_PIECE <= s.length; i++) if (seen.has(s.slice(i, i + LEAK_PIECE))) return true;
      return false;
    });
    if (hit !== undefined) leaked.push(c.name);
    for (const k of c.keep ?? []) if (!text.includes(k)) lost.push(`${c.name}: ${k}`);
  }
  return { leaked, lost };
}
