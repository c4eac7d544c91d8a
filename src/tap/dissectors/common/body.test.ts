import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { decompressBounded, textOrBase64 } from './body.ts';

const text = Buffer.from(
  JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i, name: `item-${i}` })) }),
);

test('decodes gzip, zlib deflate, raw deflate and brotli', () => {
  assert.deepEqual(decompressBounded('gzip', zlib.gzipSync(text), 1 << 20).output, text);
  assert.deepEqual(decompressBounded('deflate', zlib.deflateSync(text), 1 << 20).output, text);
  assert.deepEqual(decompressBounded('deflate', zlib.deflateRawSync(text), 1 << 20).output, text);
  assert.deepEqual(decompressBounded('br', zlib.brotliCompressSync(text), 1 << 20).output, text);
});

test('a gzip bomb is cut at the cap, keeping a prefix of the output', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x41));
  const cap = 64 * 1024;
  const r = decompressBounded('gzip', bomb, cap);
  assert.equal(r.capped, true);
  assert.equal(r.error, undefined);
  assert.ok(r.output.length <= cap);
  assert.ok(r.output.length > cap - 2048, `kept ${r.output.length} of ${cap}`);
  assert.ok(r.output.every((b) => b === 0x41));
});

test('a brotli bomb is capped too', () => {
  const bomb = zlib.brotliCompressSync(Buffer.alloc(8 * 1024 * 1024, 0x41));
  const r = decompressBounded('br', bomb, 32 * 1024);
  assert.equal(r.capped, true);
  assert.ok(r.output.length <= 32 * 1024);
});

test('corrupt input is an error value, never a throw', () => {
  const r = decompressBounded('gzip', Buffer.from('definitely not gzip'), 1024);
  assert.equal(r.output.length, 0);
  assert.match(r.error ?? '', /header/);
  const bad = zlib.gzipSync(text);
  bad.fill(0xff, 20, 40);
  assert.ok(decompressBounded('gzip', bad, 1 << 20).error !== undefined);
  assert.ok(decompressBounded('br', Buffer.from([1, 2, 3, 4, 5]), 1024).error !== undefined);
});

test('a truncated stream decodes partially when marked partial', () => {
  const z = zlib.gzipSync(text);
  const half = z.subarray(0, z.length >> 1);
  assert.ok(decompressBounded('gzip', half, 1 << 20).error !== undefined);
  const r = decompressBounded('gzip', half, 1 << 20, { partial: true });
  assert.equal(r.error, undefined);
  assert.ok(r.output.length > 0 && text.subarray(0, r.output.length).equals(r.output));
});

test('cap 0 keeps nothing', () => {
  assert.deepEqual(decompressBounded('gzip', zlib.gzipSync(text), 0), {
    output: Buffer.alloc(0),
    capped: true,
  });
});

test('text when printable UTF-8, else base64', () => {
  assert.deepEqual(textOrBase64(Buffer.from('héllo\r\n\tworld'), false), {
    text: 'héllo\r\n\tworld',
  });
  assert.deepEqual(textOrBase64(Buffer.from([0x00, 0x01, 0x02]), false), { base64: 'AAEC' });
  assert.deepEqual(textOrBase64(Buffer.from([0x68, 0x69, 0x7f]), false), { base64: 'aGl/' });
  assert.deepEqual(textOrBase64(Buffer.from([0xc3, 0x28]), false), { base64: 'wyg=' });
});

test('a cut payload drops an incomplete trailing UTF-8 sequence', () => {
  const euro = Buffer.from('price: €'); // € is 3 bytes
  const cut = euro.subarray(0, euro.length - 1);
  assert.deepEqual(textOrBase64(cut, true), { text: 'price: ' });
  assert.ok('base64' in textOrBase64(cut, false));
});

test('text-or-base64 agrees with a byte-by-byte reference at any alignment', () => {
  const reference = (b: Buffer): boolean =>
    isUtf8(b) &&
    b.every((c) => !((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f));
  const bytes = fc.uint8Array({ maxLength: 64 }).map((a) =>
    // mostly printable ASCII, with the occasional control byte or UTF-8 lead byte
    Buffer.from(
      a.map((x) =>
        x % 16 === 0 ? x % 0x21 : x % 16 === 1 ? 0x7f : x % 16 === 2 ? 0xc3 : 0x20 + (x % 0x5f),
      ),
    ),
  );
  fc.assert(
    fc.property(bytes, fc.nat(7), (b, shift) => {
      const host = Buffer.alloc(b.length + 8);
      b.copy(host, shift);
      const view = host.subarray(shift, shift + b.length);
      assert.equal('text' in textOrBase64(view, false), reference(view));
    }),
    { numRuns: 2000 },
  );
});
