import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Packet } from '../capture/types.ts';
import { defaultLimits, LimitCounters, type Limits } from '../../util/limits.ts';
import { Decoder } from './decoder.ts';
import { FRAGMENT_TIMEOUT_US } from './fragments.ts';
import {
  ext6,
  fixturePackets,
  frag6,
  ipv4,
  ipv6,
  pkt,
  udp,
} from '../../../test/helpers/decode-headers.ts';
import type { DecodedPacket } from './types.ts';

const T0 = 1_700_000_000_000_000;

function decoder(limits: Partial<Limits> = {}) {
  const counters = new LimitCounters();
  return { dec: new Decoder({ ...defaultLimits, ...limits }, counters), counters };
}

function decodeAll(dec: Decoder, packets: Packet[]): DecodedPacket[] {
  return packets.flatMap((p) => dec.decode(p) ?? []);
}

/** A UDP datagram (header included) of `n` bytes with recognisable content. */
function datagram(n: number, seed = 0): Buffer {
  const data = Buffer.alloc(n - 8);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed) & 0xff;
  return udp(4000, 53, data);
}

type Piece = [start: number, end: number, content?: Buffer];

/** IPv4 fragments of `payload` (the IP payload); the piece ending at its end has no MF flag. */
function frags4(
  payload: Buffer,
  pieces: Piece[],
  o: { id?: number; src?: string; ts?: number } = {},
): Packet[] {
  return pieces.map(([s, e, content]) =>
    pkt(
      228,
      ipv4({
        proto: 17,
        id: o.id ?? 7,
        src: o.src,
        payload: content ?? payload.subarray(s, e),
        fragOffset: s,
        more: e < payload.length,
      }),
      o.ts ?? T0,
    ),
  );
}

function frags6(payload: Buffer, pieces: Piece[], id = 9, nh = 17): Packet[] {
  return pieces.map(([s, e]) =>
    pkt(
      229,
      ipv6({
        nh: 44,
        payload: Buffer.concat([frag6(nh, s, e < payload.length, id), payload.subarray(s, e)]),
      }),
      T0,
    ),
  );
}

/** The expected datagram when overlapping pieces arrive in this order: first arrival wins. */
function firstWins(len: number, pieces: Array<[number, number, Buffer]>): Buffer {
  const out = Buffer.alloc(len);
  const set = new Array<boolean>(len).fill(false);
  for (const [s, e, bytes] of pieces) {
    for (let i = s; i < Math.min(e, len); i++) {
      if (set[i]) continue;
      set[i] = true;
      out[i] = bytes[i - s] as number;
    }
  }
  return out;
}

test('real fragment trains (IPv4 and IPv6, both directions) are reassembled', () => {
  const { dec } = decoder();
  const out = decodeAll(dec, fixturePackets('frag.pcap'));
  assert.deepEqual(
    out.map((d) => [
      d.ipVersion,
      d.src,
      d.transport,
      d.srcPort,
      d.dstPort,
      d.payload.length,
      d.ipBytes,
    ]),
    [
      [4, '10.9.0.1', 'udp', out[0]?.srcPort, 7007, 3000, 3028],
      [4, '10.9.0.2', 'udp', 7007, out[0]?.srcPort, 3000, 3028],
      [6, 'fd00::1', 'udp', out[2]?.srcPort, 7007, 3000, 3048],
      [6, 'fd00::2', 'udp', 7007, out[2]?.srcPort, 3000, 3048],
      [4, '10.9.0.1', 'udp', out[4]?.srcPort, 7007, 1800, 1828],
      [4, '10.9.0.2', 'udp', 7007, out[4]?.srcPort, 1800, 1828],
    ],
  );
  assert.ok(out.every((d) => d.payload.equals(Buffer.alloc(d.payload.length, 'kubeshark '))));
  assert.equal(dec.stats.datagramsReassembled, 6);
  assert.equal(dec.stats.fragmentsReassembled, 16);
  assert.equal(dec.stats.fragmentsDropped, 0);
  assert.equal(dec.pendingFragments, 0);
  assert.deepEqual(dec.stats.skipped, { 'ip-fragment': 10 });
});

test('real fragments in any order give the same datagram, once', () => {
  const packets = fixturePackets('frag.pcap');
  const want = decodeAll(decoder().dec, packets);
  const trains = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [9, 10, 11],
    [12, 13],
    [14, 15],
  ];
  trains.forEach((train, i) => {
    fc.assert(
      fc.property(fc.shuffledSubarray(train, { minLength: train.length }), (order) => {
        const out = decodeAll(
          decoder().dec,
          order.map((j) => packets[j] as Packet),
        );
        assert.equal(out.length, 1);
        assert.deepEqual(out[0]?.payload, want[i]?.payload);
        assert.equal(out[0]?.ts, packets[order.at(-1) as number]?.ts);
      }),
    );
  });
});

test('random fragmentation with overlaps and duplicates, in any order (IPv4 and IPv6)', () => {
  const pieces = fc
    .record({
      blocks: fc.integer({ min: 2, max: 300 }), // datagram length in 8-byte blocks
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: 299 }), { maxLength: 8 }),
      extra: fc.array(fc.tuple(fc.integer({ min: 0, max: 299 }), fc.integer({ min: 1, max: 40 })), {
        maxLength: 6,
      }),
      seed: fc.integer({ min: 0, max: 255 }),
      v6: fc.boolean(),
    })
    .chain((r) => {
      const len = r.blocks * 8;
      const inner = r.cuts.map((c) => c * 8).filter((c) => c < len);
      // At least two pieces: a single [0, len) piece would be an unfragmented datagram.
      if (inner.length === 0) inner.push(8);
      const bounds = [0, ...inner.sort((a, b) => a - b), len];
      const all: Array<[number, number]> = [];
      for (let i = 1; i < bounds.length; i++)
        all.push([bounds[i - 1] as number, bounds[i] as number]);
      for (const [s, n] of r.extra) {
        const e = Math.min(len, (s + n) * 8);
        if (s * 8 < len && !(s === 0 && e === len)) all.push([s * 8, e]);
      }
      return fc.tuple(
        fc.constant(r),
        fc.constant(len),
        fc.shuffledSubarray(all, { minLength: all.length }),
      );
    });
  fc.assert(
    fc.property(pieces, ([r, len, order]) => {
      const payload = datagram(len, r.seed);
      const { dec } = decoder();
      const out = decodeAll(dec, r.v6 ? frags6(payload, order) : frags4(payload, order));
      assert.ok(out.length >= 1);
      for (const d of out) {
        assert.deepEqual(d.payload, payload.subarray(8));
        assert.equal(d.ipBytes, (r.v6 ? 40 : 20) + len);
      }
    }),
    { numRuns: 300 },
  );
});

test('overlapping fragments with conflicting bytes: the first arrival wins', () => {
  const payload = datagram(48);
  const x = Buffer.alloc(24, 0x58);
  const orders: Array<Array<[number, number, Buffer]>> = [
    [
      [0, 16, payload.subarray(0, 16)],
      [8, 32, x],
      [16, 48, payload.subarray(16, 48)],
    ],
    [
      [16, 48, payload.subarray(16, 48)],
      [8, 32, x],
      [0, 16, payload.subarray(0, 16)],
    ],
    [
      [8, 32, x],
      [16, 48, payload.subarray(16, 48)],
      [0, 16, payload.subarray(0, 16)],
    ],
  ];
  for (const order of orders) {
    const { dec } = decoder();
    const out = decodeAll(dec, frags4(payload, order));
    assert.equal(out.length, 1);
    const want = firstWins(48, order);
    assert.deepEqual(out[0]?.payload, want.subarray(8));
  }
});

test('incomplete datagrams expire 30 s (capture time) after their first fragment', () => {
  const payload = datagram(64);
  const { dec } = decoder();
  const [first, last] = frags4(payload, [
    [0, 32],
    [32, 64],
  ]);
  dec.decode(first as Packet);
  const other = (ts: number) =>
    dec.decode(pkt(228, ipv4({ proto: 17, payload: udp(1, 2, Buffer.alloc(0)) }), ts));
  other(T0 + FRAGMENT_TIMEOUT_US);
  assert.equal(dec.pendingFragments, 1);
  other(T0 + FRAGMENT_TIMEOUT_US + 1);
  assert.equal(dec.pendingFragments, 0);
  assert.equal(dec.stats.fragmentsDropped, 1);
  // The tail alone cannot complete it any more.
  assert.equal(dec.decode({ ...(last as Packet), ts: T0 + FRAGMENT_TIMEOUT_US + 2 }), undefined);
  assert.equal(dec.pendingFragments, 1);
});

test('limit: incomplete datagrams held at once (the oldest is dropped, the hit counted)', () => {
  const { dec, counters } = decoder({ maxFragmentDatagrams: 2 });
  const p = datagram(64);
  const heads = [1, 2, 3].map((id) => frags4(p, [[0, 32]], { id })[0] as Packet);
  const tails = [1, 2, 3].map((id) => frags4(p, [[32, 64]], { id })[0] as Packet);
  heads.forEach((h) => dec.decode(h));
  assert.deepEqual(counters.toJSON(), { maxFragmentDatagrams: 1 });
  assert.equal(dec.pendingFragments, 2);
  assert.equal(dec.stats.fragmentsDropped, 1);
  assert.equal(dec.decode(tails[2] as Packet)?.payload.length, 56);
  assert.equal(dec.decode(tails[1] as Packet)?.payload.length, 56);
  assert.equal(dec.decode(tails[0] as Packet), undefined); // datagram 1 was dropped
});

test('limit: bytes held across incomplete datagrams', () => {
  const { dec, counters } = decoder({ maxFragmentBytes: 3000 });
  const p = datagram(4000);
  for (const id of [1, 2, 3]) dec.decode(frags4(p, [[0, 1480]], { id })[0] as Packet);
  assert.deepEqual(counters.toJSON(), { maxFragmentBytes: 1 });
  assert.equal(dec.pendingFragments, 2);
  // A fragment larger than the whole budget is dropped outright.
  const { dec: small, counters: c2 } = decoder({ maxFragmentBytes: 1000 });
  assert.equal(small.decode(frags4(p, [[0, 1480]])[0] as Packet), undefined);
  assert.deepEqual(c2.toJSON(), { maxFragmentBytes: 1 });
  assert.equal(small.stats.fragmentsDropped, 1);
  assert.equal(small.pendingFragments, 0);
});

test('datagrams are keyed by addresses, id and protocol', () => {
  const p = datagram(64);
  const { dec } = decoder();
  const a = frags4(
    p,
    [
      [0, 32],
      [32, 64],
    ],
    { id: 5, src: '10.0.0.1' },
  );
  const b = frags4(
    p,
    [
      [0, 32],
      [32, 64],
    ],
    { id: 5, src: '10.0.0.9' },
  );
  const out = decodeAll(dec, [a[0], b[0], a[1], b[1]] as Packet[]);
  assert.deepEqual(
    out.map((d) => d.src),
    ['10.0.0.1', '10.0.0.9'],
  );
});

test('a fragment cut by the snaplen is dropped', () => {
  const { dec } = decoder();
  const [first] = frags4(datagram(64), [
    [0, 32],
    [32, 64],
  ]);
  assert.equal(
    dec.decode({ ...(first as Packet), data: (first as Packet).data.subarray(0, 40) }),
    undefined,
  );
  assert.deepEqual(dec.stats.skipped, { 'truncated-fragment': 1 });
  assert.equal(dec.stats.fragmentsDropped, 1);
});

test('IPv6: an atomic fragment is a whole datagram; extension headers after the fragment header', () => {
  const { dec } = decoder();
  const atomic = dec.decode(frags6(datagram(24), [[0, 24]])[0] as Packet);
  assert.deepEqual([atomic?.transport, atomic?.payload.length], ['udp', 16]);
  // Destination options inside the fragmentable part, fragmented in the middle.
  const inner = Buffer.concat([ext6(17, 16), datagram(40)]);
  const out = decodeAll(
    dec,
    frags6(
      inner,
      [
        [0, 24],
        [24, 56],
      ],
      3,
      60,
    ),
  );
  assert.deepEqual(
    out.map((d) => [d.ipProto, d.transport, d.payload.length, d.ipBytes]),
    [[17, 'udp', 32, 40 + 56]],
  );
  // A fragment header inside a reassembled datagram is not reassembled again.
  const nested = Buffer.concat([frag6(17, 0, true, 4), datagram(16)]);
  decodeAll(
    dec,
    frags6(
      nested,
      [
        [0, 8],
        [8, 24],
      ],
      5,
      44,
    ),
  );
  assert.equal(dec.stats.skipped['bad-ipv6-ext'], 1);
});
