import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIPv4, formatIPv6 } from './addr.ts';
import { ip6 } from '../../../test/helpers/decode-headers.ts';

test('IPv4 dotted quad', () => {
  assert.equal(formatIPv4(Buffer.from([0, 10, 0, 0, 1, 255]), 1), '10.0.0.1');
  assert.equal(formatIPv4(Buffer.from([255, 255, 255, 255]), 0), '255.255.255.255');
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      assert.equal(formatIPv4(Buffer.from(b), 0), Array.from(b).join('.'));
    }),
  );
});

test('IPv6 RFC 5952 text', () => {
  const cases: Array<[string, string]> = [
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:0db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['FF02:0:0:0:0:0:1:2', 'ff02::1:2'],
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'], // IPv4-mapped
  ];
  for (const [input, want] of cases) {
    const full = input.split(':').map((g) => parseInt(g, 16));
    const b = Buffer.alloc(17);
    full.forEach((g, i) => b.writeUInt16BE(g, 1 + 2 * i));
    assert.equal(formatIPv6(b, 1), want, input);
  }
});

test('IPv6 text matches the WHATWG URL serializer (RFC 5952 compression) and round-trips', () => {
  // Bias groups towards zero so runs of zeros are common.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
      const b = Buffer.alloc(16);
      groups.forEach((g, i) => b.writeUInt16BE(g, 2 * i));
      const text = formatIPv6(b, 0);
      if (text.includes('.')) return; // URL prints IPv4-mapped addresses in hex
      assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname);
      assert.deepEqual(ip6(text), b);
    }),
    { numRuns: 2000 },
  );
});
