import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DecodedPacket } from '../decode/types.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../decode/types.ts';
import { Conv, setup } from '../../../test/helpers/reassembly-conversation.ts';

const PA = TCP_PSH | TCP_ACK;

/** Small deterministic PRNG (mulberry32): fast-check picks the seed, so failures replay. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

interface Segment {
  rel: number;
  data: Buffer;
}

/**
 * Cuts `bytes` into random segments (1..maxSeg bytes) and adds `dups` retransmissions of random
 * byte ranges (other boundaries than the originals, so they overlap partially).
 */
function segment(bytes: Buffer, rnd: () => number, maxSeg: number, dups: number): Segment[] {
  const segs: Segment[] = [];
  for (let off = 0; off < bytes.length;) {
    const n = Math.min(bytes.length - off, 1 + Math.floor(rnd() * maxSeg));
    segs.push({ rel: 1 + off, data: bytes.subarray(off, off + n) });
    off += n;
  }
  for (let i = 0; i < dups && bytes.length > 0; i++) {
    const a = Math.floor(rnd() * bytes.length);
    const b = Math.min(bytes.length, a + 1 + Math.floor(rnd() * maxSeg * 2));
    segs.push({ rel: 1 + a, data: bytes.subarray(a, b) });
  }
  return segs;
}

const isnArb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  fc.integer({ min: 2 ** 32 - 3000, max: 2 ** 32 - 1 }), // data crosses the wrap
);

const streamArb = fc.uint8Array({ maxLength: 4000 }).map((a) => Buffer.from(a));

/** Checks one direction's events: each delivered byte at its position, everything accounted. */
function checkPositions(events: (Buffer | number)[], original: Buffer, what: string): void {
  let pos = 0;
  for (const e of events) {
    if (typeof e === 'number') {
      assert.ok(e > 0, `${what}: empty gap`);
      pos += e;
    } else {
      assert.ok(e.equals(original.subarray(pos, pos + e.length)), `${what}: wrong bytes at ${pos}`);
      pos += e.length;
    }
  }
  assert.equal(pos, original.length, `${what}: delivered + gaps = length`);
}

test('property: reordered and duplicated segments (no loss) give exactly the original bytes', () => {
  fc.assert(
    fc.property(
      streamArb,
      streamArb,
      isnArb,
      isnArb,
      fc.integer(),
      fc.integer({ min: 1, max: 600 }),
      fc.integer({ min: 0, max: 10 }),
      (client, server, isnC, isnS, seed, maxSeg, dups) => {
        const rnd = prng(seed);
        const cv = new Conv('10.1.0.1', 41000, '10.1.0.2', 443, isnC, isnS);
        const data: DecodedPacket[] = [
          ...segment(client, rnd, maxSeg, dups).map((s) => cv.c(s.rel, PA, s.data)),
          ...segment(server, rnd, maxSeg, dups).map((s) => cv.s(s.rel, PA, s.data)),
          // The client's FIN may overtake its data: it waits for the holes before it.
          cv.c(1 + client.length, TCP_FIN | TCP_ACK),
        ];
        const pkts = [
          cv.c(0, TCP_SYN),
          cv.s(0, TCP_SYN | TCP_ACK),
          cv.c(1, TCP_ACK),
          ...shuffle(data, rnd),
          cv.s(1 + server.length, TCP_FIN | TCP_ACK, '', { ack: client.length + 2 }),
        ];
        const t = setup();
        for (const p of pkts) t.asm.packet(p);
        assert.equal(t.rec.conns.length, 1);
        const c = t.rec.conns[0]!;
        assert.deepEqual(
          c.closes.map((x) => x.reason),
          ['fin'],
        );
        assert.ok(Buffer.concat(c.events[0] as Buffer[]).equals(client), 'client bytes');
        assert.ok(Buffer.concat(c.events[1] as Buffer[]).equals(server), 'server bytes');
        assert.equal(c.closes[0]!.stats.gapBytes, 0);
        assert.equal(t.asm.stats().bufferedBytes, 0);
      },
    ),
    { numRuns: 1000 },
  );
});

test('property: with loss, delivered bytes are correct at their positions and bytes + gaps = length', () => {
  fc.assert(
    fc.property(
      streamArb,
      streamArb,
      isnArb,
      isnArb,
      fc.integer(),
      fc.integer({ min: 1, max: 600 }),
      fc.integer({ min: 0, max: 10 }),
      fc.double({ min: 0, max: 0.6, noNaN: true }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.boolean(),
      (client, server, isnC, isnS, seed, maxSeg, dups, lossRate, perConnLimit, withFin) => {
        const rnd = prng(seed);
        const cv = new Conv('10.1.0.1', 41000, '10.1.0.2', 443, isnC, isnS);
        const kept = (): boolean => rnd() >= lossRate;
        const data: DecodedPacket[] = [
          ...segment(client, rnd, maxSeg, dups)
            .filter(kept)
            .map((s) => cv.c(s.rel, PA, s.data)),
          ...segment(server, rnd, maxSeg, dups)
            .filter(kept)
            .map((s) => cv.s(s.rel, PA, s.data)),
        ];
        // Pure ACKs from the receivers, acknowledging any prefix of the other side's data.
        for (let i = Math.floor(rnd() * 6); i > 0; i--) {
          data.push(cv.s(1, TCP_ACK, '', { ack: 1 + Math.floor(rnd() * (client.length + 1)) }));
          data.push(cv.c(1, TCP_ACK, '', { ack: 1 + Math.floor(rnd() * (server.length + 1)) }));
        }
        const end = withFin
          ? // The FINs tell where each stream ends; the server's ACK of the client's FIN (the
            // FIN's sequence number is not a byte) is applied at the client's next packet.
            [
              cv.c(1 + client.length, TCP_FIN | TCP_ACK),
              cv.s(1, TCP_ACK, '', { ack: client.length + 2 }),
              cv.c(client.length + 2, TCP_ACK),
              cv.s(1 + server.length, TCP_FIN | TCP_ACK),
            ]
          : // No FIN: the receivers' last ACKs tell it.
            [
              cv.s(1, TCP_ACK, '', { ack: 1 + client.length }),
              cv.c(1, TCP_ACK, '', { ack: 1 + server.length }),
            ];
        const pkts = [
          cv.c(0, TCP_SYN),
          cv.s(0, TCP_SYN | TCP_ACK),
          cv.c(1, TCP_ACK),
          ...shuffle(data, rnd),
          ...end,
        ];
        const t = setup({ maxBufferedBytesPerConnection: perConnLimit });
        for (const p of pkts) t.asm.packet(p);
        t.asm.flushAll(1e12);
        assert.equal(t.rec.conns.length, 1);
        const c = t.rec.conns[0]!;
        assert.equal(c.closes.length, 1);
        checkPositions(c.events[0], client, 'client');
        checkPositions(c.events[1], server, 'server');
        const gaps = c.events
          .flat()
          .reduce<number>((n, e) => n + (typeof e === 'number' ? e : 0), 0);
        assert.equal(c.closes[0]!.stats.gapBytes, gaps);
        assert.equal(t.asm.stats().bufferedBytes, 0);
      },
    ),
    { numRuns: 1000 },
  );
});
