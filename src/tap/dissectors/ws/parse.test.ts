import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDeflateNegotiation,
  WsParser,
  type WsMessage,
  type WsParserOptions,
} from './parse.ts';

/** Builds a frame as RFC 6455 §5.2 lays it out. */
export function frame(
  opcode: number,
  payload: Buffer | string,
  o: { fin?: boolean; rsv1?: boolean; mask?: Buffer | undefined } = {},
): Buffer {
  const p = Buffer.from(payload);
  const fin = o.fin ?? true;
  const head = [((fin ? 0x80 : 0) | (o.rsv1 === true ? 0x40 : 0) | opcode) & 0xff];
  const maskBit = o.mask !== undefined ? 0x80 : 0;
  if (p.length < 126) head.push(maskBit | p.length);
  else if (p.length < 65536) head.push(maskBit | 126, p.length >> 8, p.length & 0xff);
  else {
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(p.length));
    head.push(maskBit | 127, ...len);
  }
  const body = Buffer.from(p);
  if (o.mask !== undefined) for (let i = 0; i < body.length; i++) body[i]! ^= o.mask[i & 3]!;
  return Buffer.concat([Buffer.from(head), o.mask ?? Buffer.alloc(0), body]);
}

const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

function run(opts: Partial<WsParserOptions> = {}) {
  const r = { messages: [] as WsMessage[], violations: [] as string[], limits: [] as string[] };
  const parser = new WsParser(
    { fromClient: true, rsv1Allowed: false, maxKeep: 1 << 20, maxFrameBytes: 16 << 20, ...opts },
    {
      onMessage: (m) => r.messages.push(m),
      onViolation: (m) => r.violations.push(m),
      onLimit: (n) => r.limits.push(n),
    },
  );
  return { ...r, parser };
}

test('masked client text frame (RFC 6455 §5.7 example: "Hello")', () => {
  const r = run();
  r.parser.push(Buffer.from('818537fa213d7f9f4d5158', 'hex'), 5);
  const m = r.messages[0]!;
  assert.equal(m.payload.toString(), 'Hello');
  assert.deepEqual(
    [m.opcode, m.frames, m.masked, m.payloadLength, m.wireBytes, m.ts],
    [1, 1, true, 5, 11, 5],
  );
  assert.deepEqual(r.violations, []);
});

test('unmasked client frames are a violation (reported once) but still parsed', () => {
  const r = run();
  r.parser.push(Buffer.concat([frame(1, 'a'), frame(1, 'b')]), 1);
  assert.deepEqual(
    r.messages.map((m) => [m.payload.toString(), m.masked]),
    [
      ['a', false],
      ['b', false],
    ],
  );
  assert.deepEqual(r.violations, ['ws: unmasked client frame']);
});

test('16-bit and 64-bit payload lengths', () => {
  const r = run({ fromClient: false });
  const p300 = Buffer.alloc(300, 0x61);
  const p70k = Buffer.alloc(70_000, 0x62);
  r.parser.push(Buffer.concat([frame(2, p300), frame(2, p70k)]), 1);
  assert.deepEqual(
    r.messages.map((m) => [
      m.payloadLength,
      m.wireBytes,
      m.payload.equals(m.payloadLength === 300 ? p300 : p70k),
    ]),
    [
      [300, 304, true],
      [70_000, 70_010, true],
    ],
  );
});

test('fragmented message with an interleaved ping, byte by byte', () => {
  const r = run();
  const bytes = Buffer.concat([
    frame(1, 'Hel', { fin: false, mask: KEY }),
    frame(9, 'are you there', { mask: KEY }),
    frame(0, 'lo, ', { fin: false, mask: KEY }),
    frame(0, 'world', { mask: KEY }),
  ]);
  for (let i = 0; i < bytes.length; i++) r.parser.push(bytes.subarray(i, i + 1), i);
  assert.deepEqual(
    r.messages.map((m) => [m.opcode, m.payload.toString(), m.frames, m.ts]),
    [
      [9, 'are you there', 1, 9],
      [1, 'Hello, world', 3, 0],
    ],
  );
  assert.deepEqual(r.violations, []);
});

test('close frame: code and reason', () => {
  const r = run({ fromClient: false });
  r.parser.push(frame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')])), 1);
  assert.deepEqual([r.messages[0]!.closeCode, r.messages[0]!.closeReason], [1000, 'bye']);
});

test('protocol violations: reserved opcode, long control frame, RSV bits, orphan continuation', () => {
  const r = run({ fromClient: false });
  r.parser.push(frame(3, 'x'), 1);
  r.parser.push(frame(9, Buffer.alloc(130)), 2);
  r.parser.push(frame(1, 'x', { rsv1: true }), 3);
  r.parser.push(frame(0, 'x'), 4);
  assert.equal(r.violations.length, 4);
  assert.equal(r.messages.length, 4);
});

test('a new data frame interrupting a fragmented message: the old one is emitted cut', () => {
  const r = run({ fromClient: false });
  r.parser.push(Buffer.concat([frame(1, 'part', { fin: false }), frame(2, 'new')]), 1);
  assert.deepEqual(
    r.messages.map((m) => [m.payload.toString(), m.cut]),
    [
      ['part', 'interrupted'],
      ['new', undefined],
    ],
  );
});

test('keep limit and frame-size limit', () => {
  const r = run({ fromClient: false, maxKeep: 10, maxFrameBytes: 100 });
  r.parser.push(frame(2, Buffer.alloc(200, 1)), 1);
  const m = r.messages[0]!;
  assert.deepEqual([m.payload.length, m.payloadLength, m.payloadCut], [10, 200, true]);
  assert.deepEqual(r.limits.sort(), ['maxBodyBytes', 'maxPduBytes']);
  assert.equal(r.violations.length, 1);
});

test('an impossible 64-bit length stops the direction', () => {
  const r = run({ fromClient: false });
  r.parser.push(Buffer.from([0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1, 0x61]), 1);
  r.parser.push(frame(1, 'later'), 2);
  assert.equal(r.messages.length, 0);
  assert.equal(r.violations.length, 1);
});

test('gaps: inside a payload counted; in a header the direction stops', () => {
  const r = run({ fromClient: false });
  const f = frame(1, 'abcdefghij');
  r.parser.push(f.subarray(0, 5), 1);
  r.parser.gap(4);
  r.parser.push(f.subarray(9), 2);
  assert.deepEqual(
    r.messages.map((m) => [m.payload.toString(), m.gapBytes, m.payloadCut, m.payloadLength]),
    [['abc', 4, true, 10]],
  );
  r.parser.push(frame(1, 'xy', { fin: false }), 3);
  r.parser.gap(3);
  r.parser.push(frame(1, 'never'), 4);
  assert.deepEqual(
    r.messages.slice(1).map((m) => [m.payload.toString(), m.cut]),
    [['xy', 'gap']],
  );
});

test('end inside a message emits it cut', () => {
  const r = run({ fromClient: false });
  r.parser.push(frame(2, Buffer.alloc(50)).subarray(0, 20), 1);
  r.parser.end();
  assert.deepEqual(
    [r.messages[0]!.cut, r.messages[0]!.payload.length, r.messages[0]!.payloadCut],
    ['end', 18, true],
  );
});

test('permessage-deflate negotiation', () => {
  assert.deepEqual(
    parseDeflateNegotiation(
      'permessage-deflate; client_max_window_bits=10; server_no_context_takeover',
    ),
    {
      clientNoContextTakeover: false,
      serverNoContextTakeover: true,
      clientMaxWindowBits: 10,
    },
  );
  assert.deepEqual(
    parseDeflateNegotiation(
      'x-webkit-deflate-frame, permessage-deflate;client_no_context_takeover',
    ),
    {
      clientNoContextTakeover: true,
      serverNoContextTakeover: false,
    },
  );
  assert.equal(parseDeflateNegotiation('x-other'), undefined);
  assert.equal(parseDeflateNegotiation(undefined), undefined);
});
