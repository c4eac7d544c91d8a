// The decoder never throws: random bytes under every link type, and random mutations (byte
// flips, cuts, length fields) of real and built frames. Whatever it returns is self-consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { defaultLimits, LimitCounters } from '../../util/limits.ts';
import type { Packet } from '../capture/types.ts';
import { Decoder, LinkType } from './decoder.ts';
import {
  ether,
  ext6,
  fixturePackets,
  frag6,
  ipv4,
  ipv6,
  pkt,
  tcp,
  udp,
} from '../../../test/helpers/decode-headers.ts';
import type { DecodedPacket } from './types.ts';

const linkTypes = [...Object.values(LinkType), 2, 147];

function check(d: DecodedPacket | undefined): void {
  if (d === undefined) return;
  assert.ok(d.ipVersion === 4 || d.ipVersion === 6);
  assert.ok(d.srcPort >= 0 && d.srcPort <= 0xffff && d.dstPort >= 0 && d.dstPort <= 0xffff);
  assert.ok(d.payload.length <= d.ipBytes);
  assert.equal(typeof d.src, 'string');
}

const seeds: Packet[] = [
  ...fixturePackets('frag.pcap'),
  ...fixturePackets('sll.pcap'),
  ...fixturePackets('sll2.pcap'),
  ...fixturePackets('rawip.pcap'),
  pkt(
    1,
    ether(
      0x0800,
      ipv4({
        proto: 6,
        payload: tcp(1, 2, { flags: 2, options: Buffer.from('0303070102040000', 'hex') }),
      }),
      [
        [0x88a8, 1],
        [0x8100, 2],
      ],
    ),
  ),
  pkt(
    101,
    ipv6({
      nh: 0,
      payload: Buffer.concat([ext6(44), frag6(17, 8, true, 1), udp(1, 2, Buffer.alloc(8))]),
    }),
  ),
  pkt(
    229,
    ipv6({
      nh: 51,
      payload: Buffer.concat([
        Buffer.from([60, 1, 0, 0, 0, 0, 0, 0]),
        ext6(58),
        Buffer.from('8000ffff', 'hex'),
      ]),
    }),
  ),
];

test('random bytes under every link type never throw', () => {
  const dec = new Decoder(defaultLimits, new LimitCounters());
  fc.assert(
    fc.property(fc.constantFrom(...linkTypes), fc.uint8Array({ maxLength: 120 }), (lt, bytes) => {
      check(dec.decode(pkt(lt, Buffer.from(bytes))));
    }),
    { numRuns: 20_000 },
  );
});

test('random bytes behind valid link and IP version prefixes never throw', () => {
  const dec = new Decoder(defaultLimits, new LimitCounters());
  const prefixed = fc.oneof(
    fc
      .uint8Array({ maxLength: 100 })
      .map((b) => pkt(1, ether(0x0800, Buffer.concat([Buffer.from([0x45]), b])))),
    fc
      .uint8Array({ maxLength: 100 })
      .map((b) => pkt(1, ether(0x86dd, Buffer.concat([Buffer.from([0x60]), b])))),
    fc
      .uint8Array({ maxLength: 100 })
      .map((b) => pkt(228, Buffer.concat([Buffer.from([0x45, 0, 0, 0, 0, 0, 0x20, 0, 64]), b]))),
  );
  fc.assert(
    fc.property(prefixed, (p) => check(dec.decode(p))),
    { numRuns: 20_000 },
  );
});

test('mutated real and built frames never throw', () => {
  const dec = new Decoder({ ...defaultLimits, maxFragmentDatagrams: 16 }, new LimitCounters());
  const mutation = fc.record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    cut: fc.option(fc.nat()),
    ts: fc.integer({ min: 0, max: 120_000_000 }),
  });
  fc.assert(
    fc.property(mutation, (m) => {
      const seed = seeds[m.seed] as Packet;
      const data = Buffer.from(seed.data);
      for (const [at, v] of m.flips) data[at % data.length] = v;
      const cut = m.cut === null ? data : data.subarray(0, m.cut % (data.length + 1));
      check(dec.decode({ ...seed, data: cut, ts: seed.ts + m.ts }));
    }),
    { numRuns: 30_000 },
  );
});
