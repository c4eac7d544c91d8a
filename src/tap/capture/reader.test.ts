import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { tsConverter } from './pcapng.ts';
import { CaptureReader } from './reader.ts';
import {
  PcapngWriter,
  pcapFile,
  readChunks,
  readInChunksOf,
  type PcapRecord,
} from '../../../test/helpers/capture-files.ts';
import type { Packet } from './types.ts';

const fixture = (name: string) => readFileSync(new URL(`testdata/${name}`, import.meta.url));

const frame = (n: number, len = 60) => Buffer.alloc(len, n);

const records: PcapRecord[] = [
  { sec: 1_700_000_000, frac: 1, data: frame(1) },
  { sec: 1_700_000_001, frac: 999_999, data: frame(2, 1514), origLen: 1514 },
  { sec: 1_700_000_002, frac: 500_000, data: frame(3, 96), origLen: 1500 },
];

function summary(p: Packet) {
  return {
    ts: p.ts,
    linkType: p.linkType,
    len: p.data.length,
    origLen: p.origLen,
    ifIndex: p.ifIndex,
  };
}

test('pcap: little- and big-endian, µs', () => {
  for (const le of [true, false]) {
    const bytes = pcapFile({ le, linkType: 113 }, records);
    const r = readChunks(bytes);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.packets.map(summary), [
      { ts: 1_700_000_000_000_001, linkType: 113, len: 60, origLen: 60, ifIndex: 0 },
      { ts: 1_700_000_001_999_999, linkType: 113, len: 1514, origLen: 1514, ifIndex: 0 },
      { ts: 1_700_000_002_500_000, linkType: 113, len: 96, origLen: 1500, ifIndex: 0 },
    ]);
    assert.deepEqual(r.packets[2]?.data, frame(3, 96));
  }
});

test('pcap: nanosecond files round down to µs', () => {
  for (const le of [true, false]) {
    const bytes = pcapFile({ le, nano: true }, [
      { sec: 1_700_000_000, frac: 999_999_999, data: frame(1) },
      { sec: 1_700_000_001, frac: 1_999, data: frame(2) },
    ]);
    const reader = new CaptureReader('ns.pcap');
    const out: Packet[] = [];
    reader.push(bytes, out);
    reader.end();
    assert.deepEqual(
      out.map((p) => p.ts),
      [1_700_000_000_999_999, 1_700_000_001_000_001],
    );
    assert.deepEqual(reader.info(), {
      format: 'pcap',
      linkType: 1,
      snaplen: 262144,
      nanosecond: true,
    });
  }
});

test('pcap: the link type field ignores the FCS bits', () => {
  const bytes = pcapFile({ linkType: 0x14000001 }, records.slice(0, 1));
  assert.equal(readChunks(bytes).packets[0]?.linkType, 1);
});

test('pcap: a real nanosecond capture (tcpdump --time-stamp-precision=nano)', () => {
  const r = readChunks(fixture('lo-ns.pcap'));
  assert.equal(r.error, undefined);
  assert.equal(r.packets.length, 14);
  assert.ok(r.packets.every((p) => Number.isInteger(p.ts) && p.linkType === 1));
});

/** Two sections: the second is big-endian and redeclares its interfaces. */
function multiSection(): PcapngWriter {
  const w = new PcapngWriter();
  w.shb(true)
    .idb(1) // 0: Ethernet, µs
    .idb(113, { tsresol: 9, snaplen: 128 }) // 1: SLL, ns
    .idb(101, { tsresol: 0x80 | 20, tsoffset: 1_000_000_000 }) // 2: raw, 2^-20 s, offset
    .epb(0, 1_700_000_000_123_456n, frame(1))
    .block(0x0bad, Buffer.from('an unknown block is skipped'))
    .epb(1, 1_700_000_000_123_456_789n, frame(2, 100), 1500)
    .spb(frame(3, 40)) // interface 0, takes the previous timestamp
    .block(5, Buffer.alloc(8)) // Interface Statistics Block: skipped
    .epb(2, (5n << 20n) + (1n << 19n), frame(4, 20))
    .obsoletePacket(1, 1_700_000_001_000_000_999n, frame(5, 30));
  w.shb(false)
    .idb(276, { tsresol: 3 }) // 0: SLL2, ms
    .epb(0, 1_700_000_002_001n, frame(6, 80))
    .spb(Buffer.concat([frame(7, 200)]), 300);
  return w;
}

test('pcapng: interfaces, resolutions, SPB, obsolete PB, unknown blocks, a big-endian section', () => {
  const r = readChunks(multiSection().toBuffer(), [], 'multi.pcapng');
  assert.equal(r.error, undefined);
  assert.deepEqual(r.packets.map(summary), [
    { ts: 1_700_000_000_123_456, linkType: 1, len: 60, origLen: 60, ifIndex: 0 },
    { ts: 1_700_000_000_123_456, linkType: 113, len: 100, origLen: 1500, ifIndex: 1 },
    { ts: 1_700_000_000_123_456, linkType: 1, len: 40, origLen: 40, ifIndex: 0 },
    { ts: 1_000_000_005_500_000, linkType: 101, len: 20, origLen: 20, ifIndex: 2 },
    { ts: 1_700_000_001_000_000, linkType: 113, len: 30, origLen: 30, ifIndex: 1 },
    { ts: 1_700_000_002_001_000, linkType: 276, len: 80, origLen: 80, ifIndex: 0 },
    { ts: 1_700_000_002_001_000, linkType: 276, len: 200, origLen: 300, ifIndex: 0 },
  ]);
  assert.deepEqual(r.packets[3]?.data, frame(4, 20));
});

test('pcapng: a new section resets the interfaces', () => {
  const w = new PcapngWriter()
    .shb()
    .idb(1)
    .idb(1)
    .epb(1, 1n, frame(1))
    .shb()
    .idb(1)
    .epb(1, 2n, frame(2));
  const r = readChunks(w.toBuffer());
  assert.equal(r.packets.length, 1);
  assert.equal(r.error?.code, 'KS_ERR_CAPTURE_CORRUPT');
  assert.match(r.error?.message ?? '', /undeclared interface 1.*after 1 packets/);
});

test('pcapng: a real two-interface capture (mergecap of Ethernet ns and SLL2 µs)', () => {
  const ng = readChunks(fixture('two-ifaces.pcapng'));
  assert.equal(ng.error, undefined);
  const eth = readChunks(fixture('lo-ns.pcap')).packets;
  const sll2 = readChunks(fixture('any.pcap')).packets;
  assert.deepEqual(
    ng.packets.filter((p) => p.ifIndex === 0).map((p) => [p.ts, p.linkType, p.data]),
    eth.map((p) => [p.ts, p.linkType, p.data]),
  );
  assert.deepEqual(
    ng.packets.filter((p) => p.ifIndex === 1).map((p) => [p.ts, p.linkType, p.data]),
    sll2.map((p) => [p.ts, 276, p.data]),
  );
});

test('pcapng timestamps: exact for every resolution', () => {
  const ns = 1_700_000_000_123_456_789n;
  const split = (v: bigint): [number, number] => [Number(v >> 32n), Number(v & 0xffffffffn)];
  assert.equal(tsConverter(9, 0)(...split(ns)), 1_700_000_000_123_456);
  assert.equal(tsConverter(6, 0)(...split(ns / 1000n)), 1_700_000_000_123_456);
  assert.equal(tsConverter(0, 0)(...split(1_700_000_000n)), 1_700_000_000_000_000);
  assert.equal(tsConverter(12, 0)(...split(ns * 1000n + 999n)), 1_700_000_000_123_456);
  assert.equal(tsConverter(15, 0)(...split(ns * 1_000_000n)), 1_700_000_000_123_456);
  assert.equal(tsConverter(0x80 | 10, 0)(...split(1024n * 3n + 512n)), 3_500_000);
  assert.equal(tsConverter(6, -10)(...split(10_000_001n)), 1);
  // Any µs value a double holds exactly, plus any sub-µs remainder, within 64 bits.
  fc.assert(
    fc.property(
      fc.bigInt(0n, 2n ** 53n - 1n),
      fc.integer({ min: 7, max: 15 }),
      fc.bigInt(0n, 10n ** 9n),
      (us, exp, rem) => {
        const d = 10n ** BigInt(exp - 6);
        const v = us * d + (rem % d);
        fc.pre(v < 2n ** 64n);
        return tsConverter(exp, 0)(...split(v)) === Number(us);
      },
    ),
  );
});

const splitFixtures: Array<[string, Buffer]> = [
  ['pcap LE', pcapFile({}, records)],
  ['pcap BE ns', pcapFile({ le: false, nano: true }, records)],
  ['pcapng multi-section', multiSection().toBuffer()],
  ['real pcapng', fixture('two-ifaces.pcapng')],
];

test('chunk boundaries never matter: every chunk size', () => {
  for (const [name, bytes] of splitFixtures) {
    const whole = readChunks(bytes);
    assert.equal(whole.error, undefined, name);
    for (let size = 1; size <= bytes.length; size++) {
      const r = readInChunksOf(bytes, size);
      assert.equal(r.error, undefined, `${name} in chunks of ${size}`);
      assert.deepEqual(r.packets, whole.packets, `${name} in chunks of ${size}`);
    }
  }
});

test('chunk boundaries never matter: arbitrary split points', () => {
  for (const [name, bytes] of splitFixtures) {
    const whole = readChunks(bytes).packets;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          const r = readChunks(
            bytes,
            cuts.sort((a, b) => a - b),
          );
          assert.equal(r.error, undefined, name);
          assert.deepEqual(r.packets, whole, name);
        },
      ),
      { numRuns: 200 },
    );
  }
});

/** Cut `bytes` at every offset: the packets whose record ends before the cut, then the error. */
function checkTruncation(bytes: Buffer, recordEnds: Array<{ end: number; packet: boolean }>) {
  const whole = readChunks(bytes).packets;
  for (let cut = 0; cut < bytes.length; cut++) {
    const r = readInChunksOf(bytes.subarray(0, cut), 7);
    const complete = recordEnds.filter((e) => e.end <= cut);
    const want = complete.filter((e) => e.packet).length;
    assert.deepEqual(r.packets, whole.slice(0, want), `cut at ${cut}`);
    if (cut === 0) {
      assert.equal(r.error?.code, 'KS_ERR_CAPTURE_EMPTY');
    } else if (complete.at(-1)?.end === cut) {
      assert.equal(r.error, undefined, `cut at a record boundary (${cut})`);
    } else {
      assert.equal(r.error?.code, 'KS_ERR_CAPTURE_TRUNCATED', `cut at ${cut}`);
      const at = complete.at(-1)?.end ?? 0;
      assert.ok(
        r.error?.message.includes(`truncated at byte ${at}:`) &&
          r.error.message.includes(`after ${want} packets`),
        r.error?.message,
      );
    }
  }
}

test('truncated pcap: every cut yields the good prefix, then KS_ERR_CAPTURE_TRUNCATED', () => {
  const bytes = pcapFile({}, records);
  const ends = [{ end: 24, packet: false }];
  for (const r of records)
    ends.push({ end: (ends.at(-1)?.end ?? 0) + 16 + r.data.length, packet: true });
  checkTruncation(bytes, ends);
});

test('truncated pcapng: every cut yields the good prefix, then KS_ERR_CAPTURE_TRUNCATED', () => {
  const w = multiSection();
  checkTruncation(w.toBuffer(), w.ends);
});

test('corrupt pcap: an absurd record length after good packets', () => {
  const bytes = pcapFile({ snaplen: 65535 }, records);
  const bad = Buffer.concat([
    bytes,
    Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0]),
  ]);
  const r = readInChunksOf(bad, 100);
  assert.equal(r.packets.length, 3);
  assert.equal(r.error?.code, 'KS_ERR_CAPTURE_CORRUPT');
  assert.match(
    r.error?.message ?? '',
    /corrupt at byte 1742: record length 196607 exceeds the maximum of 131070 \(after 3 packets\)/,
  );
  // Without a snaplen the limit is 256 KiB.
  const big = pcapFile({ snaplen: 0 }, [{ sec: 1, frac: 0, data: Buffer.alloc(262145) }]);
  assert.equal(readChunks(big).error?.code, 'KS_ERR_CAPTURE_CORRUPT');
  assert.equal(
    readChunks(pcapFile({ snaplen: 0 }, [{ sec: 1, frac: 0, data: Buffer.alloc(262144) }])).error,
    undefined,
  );
});

test('corrupt pcapng blocks: bad lengths, trailing length mismatch, bad captured length', () => {
  const good = new PcapngWriter().shb().idb(1).epb(0, 1n, frame(1));
  const base = good.toBuffer();
  const tail = (type: number, len: number, body: Buffer, trailer = len) => {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    const t = Buffer.alloc(4);
    t.writeUInt32LE(trailer);
    return Buffer.concat([base, b, body, t]);
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['length not a multiple of 4', tail(0x0bad, 14, Buffer.alloc(2)), /invalid block length 14/],
    ['length below 12', tail(0x0bad, 8, Buffer.alloc(0)), /invalid block length 8/],
    [
      'trailing length mismatch',
      tail(0x0bad, 16, Buffer.alloc(4), 20),
      /does not match its trailing length 20/,
    ],
    [
      'captured length beyond the block',
      tail(
        6,
        36,
        Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0]),
      ),
      /captured length 50 exceeds its block/,
    ],
    [
      'bad byte-order magic mid-file',
      tail(0x0a0d0d0a, 28, Buffer.alloc(16)),
      /bad byte-order magic 0x00000000/,
    ],
  ];
  for (const [name, bytes, msg] of cases) {
    const r = readInChunksOf(bytes, 5);
    assert.equal(r.packets.length, 1, name);
    assert.equal(r.error?.code, 'KS_ERR_CAPTURE_CORRUPT', name);
    assert.match(r.error?.message ?? '', msg, name);
    assert.match(
      r.error?.message ?? '',
      new RegExp(`corrupt at byte ${base.length}:.*after 1 packets`),
      name,
    );
  }
});

test('format detection: unknown magic, short files, a pcapng with a bad first section', () => {
  const text = readChunks(Buffer.from('GET / HTTP/1.1\r\n\r\n'), [], 'req.txt');
  assert.equal(text.error?.code, 'KS_ERR_CAPTURE_FORMAT');
  assert.equal(text.error?.message, 'req.txt is not a pcap or pcapng capture (magic 0x47455420)');
  const short = readChunks(Buffer.from('GE'), [], 'x');
  assert.equal(short.error?.code, 'KS_ERR_CAPTURE_FORMAT');
  assert.match(short.error?.message ?? '', /magic 0x4745, only 2 bytes/);
  const prefix = readChunks(Buffer.from([0xd4, 0xc3]), [], 'x');
  assert.equal(prefix.error?.code, 'KS_ERR_CAPTURE_TRUNCATED');
  assert.match(prefix.error?.message ?? '', /inside the file header after 0 packets/);
  const badShb = Buffer.alloc(28);
  badShb.writeUInt32BE(0x0a0d0d0a);
  assert.equal(readChunks(badShb).error?.code, 'KS_ERR_CAPTURE_FORMAT');
});

test('headers only: a pcap or pcapng without packets is not an error', () => {
  const pcap = readChunks(pcapFile({ linkType: 101 }, []));
  assert.deepEqual(pcap, { packets: [] });
  assert.deepEqual(readChunks(new PcapngWriter().shb().toBuffer()), { packets: [] });
  assert.deepEqual(readChunks(new PcapngWriter().shb().idb(1).toBuffer()), { packets: [] });
});

test('mutated captures never throw anything but a capture KsError', () => {
  const codes = [
    'KS_ERR_CAPTURE_TRUNCATED',
    'KS_ERR_CAPTURE_CORRUPT',
    'KS_ERR_CAPTURE_FORMAT',
    'KS_ERR_CAPTURE_EMPTY',
  ];
  const seeds = splitFixtures.map(([, bytes]) => bytes);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.option(fc.nat()),
      fc.integer({ min: 1, max: 4096 }),
      (seed, flips, cut, chunk) => {
        const bytes = Buffer.from(seeds[seed] as Buffer);
        for (const [at, v] of flips) bytes[at % bytes.length] = v;
        const input = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
        const r = readInChunksOf(input, chunk);
        if (r.error) assert.ok(codes.includes(r.error.code), `${r.error.code}: ${r.error.message}`);
      },
    ),
    { numRuns: 3000 },
  );
});

test('an unknown format version is an error, not read on a guess', () => {
  for (const le of [true, false]) {
    for (const [major, minor] of [
      [3, 0],
      [1, 0],
      [2, 5],
      [0, 0],
      [543, 0],
    ] as const) {
      const bytes = pcapFile({ le }, records);
      if (le) {
        bytes.writeUInt16LE(major, 4);
        bytes.writeUInt16LE(minor, 6);
      } else {
        bytes.writeUInt16BE(major, 4);
        bytes.writeUInt16BE(minor, 6);
      }
      const r = readChunks(bytes, [], 'v.pcap');
      assert.deepEqual(r.packets, [], 'nothing read');
      assert.equal(r.error?.code, 'KS_ERR_CAPTURE_FORMAT');
      assert.equal(
        r.error?.message,
        `v.pcap: unsupported pcap format version ${major}.${minor}, not one this reader knows (2.0 to 2.4)`,
      );
    }
    for (const minor of [0, 3, 4]) {
      const bytes = pcapFile({ le }, records);
      if (le) bytes.writeUInt16LE(minor, 6);
      else bytes.writeUInt16BE(minor, 6);
      assert.equal(readChunks(bytes).packets.length, 3, `2.${minor} is read`);
    }
  }
  const ng = new PcapngWriter().shb().idb(1).epb(0, 1n, frame(1)).toBuffer();
  ng.writeUInt16LE(2, 12); // the section's major version
  const r = readChunks(ng, [], 'v.pcapng');
  assert.deepEqual(r.packets, []);
  assert.equal(r.error?.code, 'KS_ERR_CAPTURE_FORMAT');
  assert.match(r.error?.message ?? '', /^v\.pcapng: unsupported pcapng format version 2\.0/);
});
