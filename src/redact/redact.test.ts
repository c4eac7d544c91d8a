/**
 * Redaction on real entries: testdata/secrets.pcap (made by testdata/secrets.ts with curl, Node
 * and `ws` clients) through the pipeline. Every secret in it contains `s3cr3t`; none may survive
 * anywhere in a redacted entry, its JSON view or its stored form.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../config/load.ts';
import type { Entry } from '../entry/model.ts';
import type { HttpRecord } from '../tap/dissectors/http/record.ts';
import type { WsRecord } from '../tap/dissectors/ws/record.ts';
import { buildView } from '../tap/records.ts';
import { compileKfl } from '../query/index.ts';
import { ByteReader, ByteWriter } from '../store/bytes.ts';
import { decodeFull, encodeRow } from '../store/codec.ts';
import { Dict } from '../store/dict.ts';
import { buildCatalogue } from '../tap/dissectors/registry.ts';
import { entriesFromCapture } from '../tap/run.ts';
import { redactionConfig } from './config.ts';
import { createRedactor, REDACTED } from './redact.ts';

const CAPTURE = new URL('./testdata/secrets.pcap', import.meta.url).pathname;
const catalogue = buildCatalogue();
const view = buildView(undefined, catalogue);
const defaults = redactionConfig(defaultConfig());

const http = (e: Entry): HttpRecord => {
  assert.equal(e.record.kind, 'http');
  return e.record as HttpRecord;
};
const ws = (e: Entry): WsRecord => {
  assert.equal(e.record.kind, 'ws');
  return e.record as WsRecord;
};
/** The HTTP entry whose request path is `path`. */
const call = (entries: Entry[], path: string): Entry => {
  const e = entries.find((x) => x.record.kind === 'http' && x.record.request?.path === path);
  assert.ok(e, path);
  return e;
};
/** The WebSocket text messages, in order. */
const texts = (entries: Entry[]): Entry[] =>
  entries.filter((x) => x.record.kind === 'ws' && x.record.opcode === 'text');

async function redacted(): Promise<Entry[]> {
  const entries = await entriesFromCapture(CAPTURE, { l4All: true });
  const redact = createRedactor(defaults);
  for (const e of entries) redact(e);
  return entries;
}

function storedJson(e: Entry): string {
  const w = new ByteWriter(64);
  const heavy: unknown[] = [];
  const dict = new Dict();
  encodeRow(e, w, dict, heavy); // throws MISFIT if the schema does not describe the entry
  return JSON.stringify(
    decodeFull(
      new ByteReader(Buffer.from(w.buf.subarray(0, w.pos))),
      dict,
      e.id,
      e.timestamp,
      JSON.parse(JSON.stringify(heavy)) as unknown[],
    ),
  );
}

test('the capture has the secrets (the redactor has something to do)', async () => {
  const raw = await entriesFromCapture(CAPTURE, { l4All: true });
  const text = raw.map((e) => JSON.stringify(e)).join('\n');
  for (const s of [
    's3cr3t-bearer-token',
    's3cr3t-session-id',
    's3cr3t-query-token',
    's3cr3t-json-pass',
    's3cr3t-nested-key',
    's3cr3t-array-token',
    's3cr3t-set-cookie',
    's3cr3t-access-token',
    's3cr3t-refresh-token',
    's3cr3t-proxy-credentials',
    's3cr3t-api-key',
    's3cr3t-form-pass',
    's3cr3t-query-access',
    's3cr3t-gzip-token',
    's3cr3t-upgrade-token',
    's3cr3t-ws-token',
    's3cr3t-ws-nested',
  ])
    assert.ok(text.includes(s), s);
});

test('no secret survives in any entry, its JSON view or its stored form', async () => {
  const entries = await redacted();
  assert.ok(entries.length >= 10);
  for (const e of entries) {
    const text = JSON.stringify(e);
    assert.ok(!text.includes('s3cr3t'), text);
    assert.ok(!view.json(e).includes('s3cr3t'));
    assert.equal(view.json(e), JSON.stringify(view.build(e)));
    assert.equal(storedJson(e), text, `entry ${e.id} round-trips through the store`);
  }
});

test('headers, cookies, query, nested JSON: replaced and marked, the rest intact', async () => {
  const login = call(await redacted(), '/api/login');
  const req = http(login).request!;
  const res = http(login).response!;
  assert.equal(req.headers.authorization, REDACTED);
  assert.equal(req.headers.cookie, REDACTED);
  assert.match(req.headers['user-agent']!, /^curl\//);
  assert.deepEqual(
    req.headersList.filter(([n]) => /^(authorization|cookie)$/i.test(n)),
    [
      ['Cookie', REDACTED],
      ['Authorization', REDACTED],
    ],
  );
  assert.deepEqual(req.cookies, { session: REDACTED, theme: REDACTED });
  assert.equal(req.url, `/api/login?token=${REDACTED}&page=2`);
  assert.deepEqual(req.query, { token: REDACTED, page: '2' });
  assert.equal(req.path, '/api/login');
  // The JSON body stays valid, byte for byte outside the secrets (the 20-digit number too).
  const body = JSON.parse(req.body.text!) as Record<string, unknown>;
  assert.deepEqual(body.user, {
    name: 'ann',
    Password: REDACTED,
    profile: { api_key: REDACTED, lang: 'en' },
  });
  assert.deepEqual(body.items, [{ token: REDACTED, n: 1 }, { n: 2 }]);
  assert.equal(body.note, 'keep me');
  assert.ok(req.body.text!.endsWith('"big":12345678901234567890}'));
  assert.equal(req.body.size, 206, 'sizes describe the wire');
  assert.equal(res.headers['set-cookie'], REDACTED);
  assert.deepEqual(res.cookies, { session: REDACTED, theme: REDACTED });
  const resBody = JSON.parse(res.body.text!) as Record<string, unknown>;
  assert.deepEqual(resBody, {
    access_token: REDACTED,
    refresh_token: REDACTED,
    expires_in: 3600,
    user: { id: 7, name: 'ann' },
  });
  assert.deepEqual(login.redacted, [
    'request.headers.cookie',
    'request.headers.authorization',
    'request.cookies.session',
    'request.cookies.theme',
    'request.query.token',
    'request.body.user.Password',
    'request.body.user.profile.api_key',
    'request.body.items.0.token',
    'response.headers.set-cookie',
    'response.cookies.session',
    'response.cookies.theme',
    'response.body.access_token',
    'response.body.refresh_token',
  ]);
});

test('form body, proxy credentials, API key, gzip JSON, upgrade header, WebSocket JSON', async () => {
  const entries = await redacted();
  const formEntry = call(entries, '/form/login');
  const form = http(formEntry).request!;
  assert.equal(form.body.text, `username=ann&password=${REDACTED}&remember=1`);
  assert.equal(form.headers['proxy-authorization'], REDACTED);
  assert.equal(form.headers['x-api-key'], REDACTED);
  assert.deepEqual(formEntry.redacted, [
    'request.headers.proxy-authorization',
    'request.headers.x-api-key',
    'request.body.password',
  ]);

  const token = http(call(entries, '/api/token'));
  assert.equal(token.request!.url, `/api/token?access_token=${REDACTED}`);
  assert.equal(token.response!.body.text, `{"token":"${REDACTED}","ok":true}`);
  assert.equal(token.response!.body.encoding, 'gzip');
  assert.equal(token.response!.body.decodedSize, 39);

  assert.equal(http(call(entries, '/ws')).request!.headers['x-auth-token'], REDACTED);
  const msgs = texts(entries);
  assert.equal(msgs.length, 4);
  const [toServer, toClient, plain] = msgs.map(ws);
  for (const m of [toServer!, toClient!]) {
    assert.deepEqual(JSON.parse(m.payload.text!), {
      type: 'auth',
      token: REDACTED,
      data: { secret: REDACTED },
    });
    assert.equal(m.payloadLength, 78);
  }
  assert.deepEqual(msgs[0]!.redacted, ['request.payload.token', 'request.payload.data.secret']);
  assert.deepEqual(msgs[1]!.redacted, ['response.payload.token', 'response.payload.data.secret']);
  assert.equal(plain!.payload.text, 'plain text, no secrets');
  assert.equal(msgs[2]!.redacted, undefined);
  assert.ok(!('redacted' in msgs[2]!));
});

test('KFL `redacted` field: in the catalogue, the view and filters', async () => {
  const entries = await redacted();
  const count = (q: string): number => {
    const f = compileKfl(q, { catalogue });
    return entries.filter((e) => f.matches(e)).length;
  };
  assert.equal(count('size(redacted) > 0'), 6);
  assert.equal(count('"request.headers.authorization" in redacted'), 1);
  assert.equal(count('redacted.exists(p, p.startsWith("request.body."))'), 2);
  const form = call(entries, '/form/login');
  assert.deepEqual(view.build(form).redacted, form.redacted);
  assert.equal(view.build(texts(entries)[2]!).redacted, undefined);
});

test('idempotent; disabled does nothing; the lists come from config, case-insensitively', async () => {
  const entries = await redacted();
  const again = entries.map((e) => JSON.stringify(e));
  const redact = createRedactor(defaults);
  for (const e of entries) redact(e);
  assert.deepEqual(
    entries.map((e) => JSON.stringify(e)),
    again,
  );

  const raw = await entriesFromCapture(CAPTURE, { l4All: true });
  const before = raw.map((e) => JSON.stringify(e));
  const off = createRedactor({ ...defaults, enabled: false });
  for (const e of raw) off(e);
  assert.deepEqual(
    raw.map((e) => JSON.stringify(e)),
    before,
  );

  const custom = createRedactor({
    enabled: true,
    headers: ['X-API-KEY'],
    bodyFields: ['UserName'],
  });
  const formEntry = call(raw, '/form/login');
  custom(formEntry);
  const form = http(formEntry).request!;
  assert.equal(form.headers['x-api-key'], REDACTED);
  assert.equal(form.headers['proxy-authorization'], 'Basic s3cr3t-proxy-credentials');
  assert.equal(form.body.text, `username=${REDACTED}&password=s3cr3t-form-pass&remember=1`);
  assert.deepEqual(formEntry.redacted, ['request.headers.x-api-key', 'request.body.username']);
});

test('absolute-form URL (proxy request): user info password and query redacted', async () => {
  const e = call(await entriesFromCapture(CAPTURE), '/form/login');
  const req = http(e).request!;
  req.url = 'http://bob:s3cr3t-userinfo@proxy.local:3128/x?apikey=s3cr3t-k&q=1#frag';
  req.query = { apikey: 's3cr3t-k', q: '1' };
  createRedactor(defaults)(e);
  assert.equal(req.url, `http://bob:${REDACTED}@proxy.local:3128/x?apikey=${REDACTED}&q=1#frag`);
  assert.ok(!JSON.stringify(e).includes('s3cr3t'));
  assert.ok(e.redacted!.includes('request.url'));
  assert.ok(e.redacted!.includes('request.query.apikey'));
});
