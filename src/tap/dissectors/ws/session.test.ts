import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpRecord } from '../http/record.ts';
import type { WsRecord } from './record.ts';
import { replay, testContext, type Chunk } from '../../../../test/helpers/dissector-session.ts';
import { HttpSession } from '../http/session.ts';
import { wsDissector } from './index.ts';
import { recordWs, sendAll } from '../../../../test/helpers/ws-record.ts';

function dissect(chunks: Chunk[], limits = {}) {
  const t = testContext(limits);
  replay(new HttpSession(t.ctx), chunks);
  const ws = t.entries.filter((e) => e.record.kind === 'ws');
  return { ...t, ws, wsRecords: ws.map((e) => e.record as WsRecord) };
}

const p300 = Buffer.alloc(300, 7);
const p70k = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));

test('upgrade, text, fragmented with interleaved ping, 16- and 64-bit lengths, close code', async () => {
  const chunks = await recordWs({ perMessageDeflate: false }, { perMessageDeflate: false }, (ws) =>
    sendAll(ws, 4, () => {
      ws.send('hello');
      ws.send('frag-one,', { fin: false });
      ws.ping('are you there');
      ws.send('frag-two', { fin: true });
      ws.send(p300);
      ws.send(p70k);
    }),
  );
  const { entries, ws, wsRecords, violations } = dissect(chunks);
  assert.deepEqual(violations, []);
  const upgrade = entries[0]!.record as HttpRecord;
  assert.equal(upgrade.request!.path, '/chat');
  assert.equal(upgrade.request!.headers.upgrade, 'websocket');
  assert.equal(upgrade.response!.statusCode, 101);
  assert.equal(entries[0]!.error, undefined);

  const client = wsRecords.filter((r) => r.fromClient);
  const server = wsRecords.filter((r) => !r.fromClient);
  assert.deepEqual(
    client.map((r) => [r.opcode, r.frames, r.masked, r.payloadLength]),
    [
      ['text', 1, true, 5],
      ['ping', 1, true, 13],
      ['text', 2, true, 17],
      ['binary', 1, true, 300],
      ['binary', 1, true, 70_000],
      ['close', 1, true, 6],
    ],
  );
  assert.equal(client[0]!.payload.text, 'hello');
  assert.equal(client[2]!.payload.text, 'frag-one,frag-two');
  assert.equal(Buffer.from(client[3]!.payload.base64!, 'base64').equals(p300), true);
  assert.equal(Buffer.from(client[4]!.payload.base64!, 'base64').equals(p70k), true);
  assert.deepEqual([client[5]!.closeCode, client[5]!.closeReason], [4000, 'done']);
  assert.ok(client.every((r) => r.upgradePath === '/chat' && !r.compressed));

  assert.deepEqual(
    server.map((r) => [r.opcode, r.masked]),
    [
      ['text', false],
      ['pong', false],
      ['text', false],
      ['binary', false],
      ['binary', false],
      ['close', false],
    ],
  );
  assert.equal(server[1]!.payload.text, 'are you there');
  assert.equal(server[2]!.payload.text, 'frag-one,frag-two');
  assert.equal(server[5]!.closeCode, 4000);

  for (const e of ws) {
    const r = e.record as WsRecord;
    assert.equal(e.elapsed, 0);
    assert.equal(e.error, undefined);
    assert.ok(
      r.fromClient
        ? e.requestSize > r.payloadLength && e.responseSize === 0
        : e.responseSize >= r.payloadLength + 2,
    );
  }
  assert.equal(
    ws.find(
      (e) => (e.record as WsRecord).payloadLength === 70_000 && (e.record as WsRecord).fromClient,
    )!.requestSize,
    70_000 + 14,
  );
});

const repeated = JSON.stringify({
  event: 'tick',
  data: Array.from({ length: 40 }, (_, i) => `value-${i}`),
});

test('permessage-deflate with context takeover: later messages refer back to earlier ones', async () => {
  const chunks = await recordWs(
    { perMessageDeflate: { threshold: 0 } },
    { perMessageDeflate: { threshold: 0 } },
    (ws) =>
      sendAll(ws, 3, () => {
        ws.send(repeated);
        ws.send(repeated);
        ws.send(`${repeated}-fragmented`, { fin: false });
        ws.send('-end', { fin: true });
      }),
  );
  const { entries, wsRecords, violations } = dissect(chunks);
  assert.deepEqual(violations, []);
  const upgrade = entries[0]!.record as HttpRecord;
  assert.match(upgrade.response!.headers['sec-websocket-extensions'] ?? '', /permessage-deflate/);
  for (const fromClient of [true, false]) {
    const texts = wsRecords.filter((r) => r.fromClient === fromClient && r.opcode === 'text');
    assert.deepEqual(
      texts.map((r) => r.payload.text),
      [repeated, repeated, `${repeated}-fragmented-end`],
    );
    assert.ok(texts.every((r) => r.compressed && r.payload.encoding === 'permessage-deflate'));
    assert.ok(
      texts[1]!.payloadLength < texts[0]!.payloadLength / 2,
      'the second message reuses the window',
    );
    assert.equal(texts[0]!.payload.decodedSize, repeated.length);
  }
  assert.ok(entries.every((e) => e.error === undefined));
});

test('permessage-deflate without context takeover (both directions)', async () => {
  const deflate = { threshold: 0, clientNoContextTakeover: true, serverNoContextTakeover: true };
  const chunks = await recordWs(
    { perMessageDeflate: deflate },
    { perMessageDeflate: deflate },
    (ws) =>
      sendAll(ws, 2, () => {
        ws.send(repeated);
        ws.send(repeated);
      }),
  );
  const { entries, wsRecords } = dissect(chunks);
  const ext = (entries[0]!.record as HttpRecord).response!.headers['sec-websocket-extensions'];
  assert.match(ext ?? '', /server_no_context_takeover/);
  assert.match(ext ?? '', /client_no_context_takeover/);
  const texts = wsRecords.filter((r) => r.opcode === 'text');
  assert.equal(texts.length, 4);
  assert.ok(texts.every((r) => r.payload.text === repeated && r.compressed));
  assert.equal(texts[0]!.payloadLength, texts[1]!.payloadLength, 'each message compressed alone');
});

test('an unmasked client frame: one violation, still parsed; the server closes with 1002', async () => {
  const chunks = await recordWs(
    { perMessageDeflate: false },
    { perMessageDeflate: false },
    async (ws) => {
      const closed = new Promise((r) => ws.on('close', r));
      ws.send('not masked', { mask: false });
      await closed;
    },
  );
  const { wsRecords, violations } = dissect(chunks);
  assert.deepEqual(violations, ['ws: unmasked client frame']);
  const first = wsRecords.find((r) => r.fromClient)!;
  assert.deepEqual([first.payload.text, first.masked], ['not masked', false]);
  assert.equal(wsRecords.find((r) => !r.fromClient && r.opcode === 'close')!.closeCode, 1002);
});

test('a deflate bomb in a message is cut at maxBodyBytes; the direction then stays compressed', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 0x61).toString();
  const chunks = await recordWs(
    { perMessageDeflate: { threshold: 0 }, maxPayload: 0 },
    { perMessageDeflate: { threshold: 0 } },
    (ws) =>
      sendAll(ws, 2, () => {
        ws.send(big);
        ws.send('after');
      }),
  );
  const { wsRecords, counters, ws } = dissect(chunks, { maxBodyBytes: 64 * 1024 });
  const [bomb, after] = wsRecords.filter((r) => r.fromClient && r.opcode === 'text');
  assert.equal(bomb!.payload.truncated, true);
  assert.ok(bomb!.payload.decodedSize! <= 64 * 1024 && bomb!.payload.decodedSize! > 60 * 1024);
  assert.ok((counters.hits.get('maxDecompressedBytes') ?? 0) >= 1);
  assert.equal(after!.payload.encoding, undefined);
  const afterEntry = ws.find((e) => e.record === after)!;
  assert.equal(afterEntry.error?.code, 'KS_BODY_DECODE');
});

test('ws dissector: never detected by content; KFL fields', () => {
  assert.equal(
    wsDissector.detect(Buffer.from([0x81, 0x85]), Buffer.alloc(0), {
      transport: 'tcp',
      portHint: true,
      clientEnded: false,
      serverEnded: false,
    }),
    'no',
  );
  const t = testContext();
  const s = new HttpSession(t.ctx);
  const b = (x: string) => Buffer.from(x, 'latin1');
  s.onData(
    0,
    b(
      'GET /live HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ),
    1,
  );
  s.onData(
    1,
    b(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello',
    ),
    2,
  );
  s.onData(0, Buffer.from('818537fa213d7f9f4d5158', 'hex'), 3);
  s.onEnd(4);
  const [, fromServer, fromClient] = t.entries;
  const get = (name: string, e: typeof fromServer) =>
    wsDissector.fields
      .find((f) => f.name === name)!
      .get({ protocol: e!.protocol ?? e!.record.kind, record: e!.record } as never);
  assert.deepEqual(
    [
      'ws',
      'ws_opcode',
      'ws_request',
      'ws_response',
      'ws_request_payload_data',
      'ws_request_payload_length',
      'ws_response_payload_length',
    ].map((n) => get(n, fromClient)),
    [true, 'text', true, false, 'Hello', 5, undefined],
  );
  assert.deepEqual(
    ['ws_request', 'ws_response', 'ws_request_payload_data', 'ws_response_payload_length'].map(
      (n) => get(n, fromServer),
    ),
    [false, true, undefined, 5],
  );
  assert.equal(get('ws', t.entries[0]), undefined);
});
