import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLimits, LimitCounters } from '../../util/limits.ts';
import { Decoder, LinkType } from './decoder.ts';
import {
  ether,
  ext6,
  fixturePackets,
  ipv4,
  ipv6,
  pkt,
  tcp,
  udp,
} from '../../../test/helpers/decode-headers.ts';
import { TCP_ACK, TCP_SYN, type DecodedPacket } from './types.ts';

const newDecoder = () => new Decoder(defaultLimits, new LimitCounters());

function decodeOne(linkType: number, data: Buffer): { d: DecodedPacket | undefined; dec: Decoder } {
  const dec = newDecoder();
  return { d: dec.decode(pkt(linkType, data)), dec };
}

const udp4 = (payload = Buffer.from('hello')) =>
  ipv4({ proto: 17, payload: udp(5353, 53, payload) });

test('Ethernet / IPv4 / TCP SYN: header fields and the window scale option', () => {
  // mss 1460, sackOK, timestamps, nop, wscale 7
  const options = Buffer.from(
    '020405b4' + '0402' + '080a0000000100000000' + '01' + '030307',
    'hex',
  );
  const seg = tcp(40000, 80, { seq: 0xfffffff0, ack: 0, flags: TCP_SYN, window: 64240, options });
  const { d } = decodeOne(
    1,
    ether(0x0800, ipv4({ proto: 6, payload: seg, src: '192.168.1.10', dst: '10.0.0.255' })),
  );
  assert.deepEqual(d, {
    ts: 1_700_000_000_000_000,
    ipVersion: 4,
    src: '192.168.1.10',
    dst: '10.0.0.255',
    ipProto: 6,
    transport: 'tcp',
    ipBytes: 20 + 40,
    srcPort: 40000,
    dstPort: 80,
    tcp: { seq: 0xfffffff0, ack: 0, flags: TCP_SYN, window: 64240, wscale: 7 },
    icmp: undefined,
    payload: Buffer.alloc(0),
    truncated: false,
    vlan: undefined,
  });
  // The option counts only on SYN.
  const ack = tcp(40000, 80, { flags: TCP_ACK, options, payload: Buffer.from('data') });
  const r = decodeOne(1, ether(0x0800, ipv4({ proto: 6, payload: ack }))).d;
  assert.equal(r?.tcp?.wscale, -1);
  assert.equal(r?.payload.toString(), 'data');
});

test('Ethernet padding beyond the IP total length is trimmed', () => {
  const frame = Buffer.concat([ether(0x0800, udp4(Buffer.from('hi'))), Buffer.alloc(20, 0xee)]);
  const { d } = decodeOne(1, frame);
  assert.equal(d?.ipBytes, 30);
  assert.equal(d?.payload.toString(), 'hi');
  assert.equal(d?.truncated, false);
});

test('snaplen: a cut payload is marked truncated, ipBytes stays the wire length', () => {
  const seg = tcp(1, 2, { payload: Buffer.alloc(1000, 7) });
  const frame = ether(0x0800, ipv4({ proto: 6, payload: seg })).subarray(0, 14 + 20 + 20 + 100);
  const { d } = decodeOne(1, frame);
  assert.equal(d?.ipBytes, 1040);
  assert.equal(d?.payload.length, 100);
  assert.equal(d?.truncated, true);
  // UDP cut too.
  const u = decodeOne(101, udp4(Buffer.alloc(500)).subarray(0, 100)).d;
  assert.deepEqual([u?.payload.length, u?.truncated, u?.ipBytes], [72, true, 528]);
});

test('VLAN tags: 802.1Q, QinQ (802.1ad + 802.1Q) and the old 0x9100', () => {
  const ip = udp4();
  assert.deepEqual(decodeOne(1, ether(0x0800, ip, [[0x8100, 300]])).d?.vlan, [300]);
  assert.deepEqual(
    decodeOne(
      1,
      ether(0x0800, ip, [
        [0x88a8, 100],
        [0x8100, 200],
      ]),
    ).d?.vlan,
    [100, 200],
  );
  // Priority bits are not part of the id.
  assert.deepEqual(
    decodeOne(
      1,
      ether(0x0800, ip, [
        [0x9100, 0xe000 | 7],
        [0x8100, 8],
      ]),
    ).d?.vlan,
    [7, 8],
  );
  assert.equal(decodeOne(1, ether(0x0800, ip)).d?.vlan, undefined);
  // A tag cut short.
  const { dec } = decodeOne(1, ether(0x8100, Buffer.alloc(2)));
  assert.deepEqual(dec.stats.skipped, { 'truncated-link': 1 });
});

test('Linux cooked captures v1 and v2 (real tcpdump -i any captures)', () => {
  for (const [file, linkType] of [
    ['sll.pcap', LinkType.LINUX_SLL],
    ['sll2.pcap', LinkType.LINUX_SLL2],
  ] as const) {
    const dec = newDecoder();
    const packets = fixturePackets(file);
    assert.ok(packets.every((p) => p.linkType === linkType));
    const out = packets.map((p) => dec.decode(p));
    assert.equal(dec.stats.decoded, 12, file);
    const [q, a] = out;
    assert.deepEqual(
      [q?.src, q?.dst, q?.transport, q?.dstPort, q?.payload.length],
      ['10.9.0.1', '10.9.0.2', 'udp', 7007, 40],
    );
    assert.deepEqual([a?.src, a?.srcPort], ['10.9.0.2', 7007]);
    const syn = out[2];
    assert.deepEqual(
      [syn?.ipVersion, syn?.src, syn?.dst, syn?.tcp?.flags, syn?.tcp?.wscale],
      [6, 'fd00::1', 'fd00::2', TCP_SYN, 10],
    );
    assert.ok(out.some((d) => d?.transport === 'tcp' && d.payload.length === 40));
  }
});

test('BSD NULL (both byte orders, every AF_INET6) and LOOP', () => {
  const v4 = udp4();
  const v6 = ipv6({ nh: 17, payload: udp(1, 2, Buffer.from('x')) });
  const fam = (af: number, le: boolean) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(af);
    else b.writeUInt32BE(af);
    return b;
  };
  for (const le of [true, false]) {
    assert.equal(decodeOne(LinkType.NULL, Buffer.concat([fam(2, le), v4])).d?.ipVersion, 4);
    for (const af of [10, 24, 28, 30]) {
      assert.equal(
        decodeOne(LinkType.NULL, Buffer.concat([fam(af, le), v6])).d?.dst,
        'fd00::2',
        `af ${af}`,
      );
    }
  }
  assert.equal(decodeOne(LinkType.LOOP, Buffer.concat([fam(2, false), v4])).d?.ipVersion, 4);
  assert.equal(decodeOne(LinkType.LOOP, Buffer.concat([fam(30, false), v6])).d?.ipVersion, 6);
  assert.deepEqual(decodeOne(LinkType.NULL, Buffer.concat([fam(7, true), v4])).dec.stats.skipped, {
    'non-ip': 1,
  });
  assert.deepEqual(decodeOne(LinkType.NULL, Buffer.alloc(3)).dec.stats.skipped, {
    'truncated-link': 1,
  });
});

test('raw IP link types: 101/12/14 by version nibble, 228 IPv4, 229 IPv6', () => {
  const v4 = udp4();
  const v6 = ipv6({ nh: 17, payload: udp(1, 2, Buffer.from('x')) });
  for (const lt of [101, 12, 14]) {
    assert.equal(decodeOne(lt, v4).d?.ipVersion, 4);
    assert.equal(decodeOne(lt, v6).d?.ipVersion, 6);
  }
  assert.equal(decodeOne(228, v4).d?.ipVersion, 4);
  assert.equal(decodeOne(229, v6).d?.ipVersion, 6);
  assert.deepEqual(decodeOne(228, v6).dec.stats.skipped, { 'bad-ip-header': 1 });
  assert.deepEqual(decodeOne(101, Buffer.from([0x50, 0])).dec.stats.skipped, {
    'bad-ip-header': 1,
  });
});

test('a real raw IP capture (tun device): IPv4, IPv6 and their fragments', () => {
  const dec = newDecoder();
  const out = fixturePackets('rawip.pcap').map((p) => dec.decode(p));
  assert.deepEqual(
    out.map((d) => d && [d.ipVersion, d.src, d.dst, d.transport, d.dstPort, d.payload.length]),
    [
      [4, '10.44.0.1', '10.44.0.2', 'udp', 7007, 64],
      [6, 'fd66::1', 'fd66::2', 'udp', 7007, 64],
      undefined,
      [4, '10.44.0.1', '10.44.0.2', 'udp', 7007, 2000],
      undefined,
      [6, 'fd66::1', 'fd66::2', 'udp', 7007, 2000],
    ],
  );
});

test('non-IP and unknown frames are counted by reason', () => {
  const dec = newDecoder();
  const arp = ether(0x0806, Buffer.alloc(28));
  const llc = Buffer.concat([Buffer.alloc(12), Buffer.from([0x00, 0x26]), Buffer.alloc(38)]);
  for (const p of [
    pkt(147, udp4()),
    pkt(1, arp),
    pkt(1, llc),
    pkt(1, Buffer.alloc(10)),
    pkt(1, ether(0x0800, Buffer.alloc(10))),
  ]) {
    assert.equal(dec.decode(p), undefined);
  }
  assert.deepEqual(dec.stats, {
    frames: 5,
    decoded: 0,
    skipped: { 'unknown-linktype': 1, 'non-ip': 2, 'truncated-link': 1, 'bad-ip-header': 1 },
    fragmentsReassembled: 0,
    fragmentsDropped: 0,
    datagramsReassembled: 0,
  });
});

test('IPv4 header checks', () => {
  const ok = udp4();
  const bad = (mutate: (b: Buffer) => void) => {
    const b = Buffer.from(ok);
    mutate(b);
    return decodeOne(101, b).dec.stats.skipped;
  };
  assert.deepEqual(
    bad((b) => (b[0] = 0x44)),
    { 'bad-ip-header': 1 },
  ); // IHL 4
  assert.deepEqual(
    bad((b) => (b[0] = 0x4f)),
    { 'bad-ip-header': 1 },
  ); // IHL beyond the packet
  assert.deepEqual(
    bad((b) => b.writeUInt16BE(19, 2)),
    { 'bad-ip-header': 1 },
  ); // total < IHL
  assert.deepEqual(decodeOne(101, ok.subarray(0, 19)).dec.stats.skipped, { 'bad-ip-header': 1 });
  // IP options are skipped.
  const withOpts = ipv4({
    proto: 17,
    payload: udp(1, 2, Buffer.from('o')),
    options: Buffer.from([1, 1, 1, 0]),
  });
  assert.equal(decodeOne(101, withOpts).d?.payload.toString(), 'o');
  // Total length 0 (segmentation offload): the frame decides.
  const tso = ipv4({
    proto: 6,
    payload: tcp(1, 2, { payload: Buffer.alloc(3000) }),
    totalLength: 0,
  });
  const d = decodeOne(101, tso).d;
  assert.deepEqual([d?.ipBytes, d?.payload.length, d?.truncated], [3040, 3000, false]);
});

test('TCP and UDP header checks', () => {
  const skipped = (data: Buffer) => decodeOne(101, data).dec.stats.skipped;
  assert.deepEqual(skipped(ipv4({ proto: 6, payload: tcp(1, 2, { dataOffset: 4 }) })), {
    'bad-tcp-header': 1,
  });
  assert.deepEqual(skipped(ipv4({ proto: 6, payload: tcp(1, 2, { dataOffset: 15 }) })), {
    'bad-tcp-header': 1,
  });
  assert.deepEqual(skipped(ipv4({ proto: 6, payload: Buffer.alloc(12) })), { 'bad-tcp-header': 1 });
  const cut = ipv4({ proto: 6, payload: tcp(1, 2, { payload: Buffer.alloc(100) }) }).subarray(
    0,
    30,
  );
  assert.deepEqual(skipped(cut), { 'truncated-tcp-header': 1 });
  assert.deepEqual(skipped(ipv4({ proto: 17, payload: Buffer.alloc(6) })), { 'bad-udp-header': 1 });
  // A UDP length shorter than the IP payload trims it; a longer one is ignored.
  const short = decodeOne(
    101,
    ipv4({ proto: 17, payload: udp(1, 2, Buffer.from('abcdef'), 11) }),
  ).d;
  assert.equal(short?.payload.toString(), 'abc');
  const long = decodeOne(
    101,
    ipv4({ proto: 17, payload: udp(1, 2, Buffer.from('abcdef'), 900) }),
  ).d;
  assert.deepEqual([long?.payload.toString(), long?.truncated], ['abcdef', false]);
});

test('ICMP, ICMPv6 and other protocols', () => {
  const echo = Buffer.from('0800f7ff00010001' + '6869', 'hex');
  const i4 = decodeOne(101, ipv4({ proto: 1, payload: echo })).d;
  assert.deepEqual(
    [i4?.transport, i4?.icmp, i4?.srcPort, i4?.payload.length],
    ['icmp', { type: 8, code: 0 }, 0, 6],
  );
  const i6 = decodeOne(101, ipv6({ nh: 58, payload: Buffer.from('87000000', 'hex') })).d;
  assert.deepEqual([i6?.transport, i6?.icmp], ['icmpv6', { type: 135, code: 0 }]);
  const gre = decodeOne(101, ipv4({ proto: 47, payload: Buffer.alloc(24, 1) })).d;
  assert.deepEqual(
    [gre?.transport, gre?.ipProto, gre?.payload.length, gre?.tcp],
    ['other', 47, 24, undefined],
  );
  assert.deepEqual(decodeOne(101, ipv4({ proto: 1, payload: Buffer.alloc(3) })).dec.stats.skipped, {
    'bad-icmp-header': 1,
  });
});

test('IPv6 extension headers are followed to the transport', () => {
  const chain = Buffer.concat([
    ext6(43, 8), // hop-by-hop → routing
    ext6(60, 24), // routing → destination options
    ext6(51, 16), // destination options → AH
    Buffer.from([17, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]), // AH: (2+2)·4 = 16 bytes → UDP
    udp(546, 547, Buffer.from('dhcp')),
  ]);
  const d = decodeOne(101, ipv6({ nh: 0, payload: chain, src: '2001:db8::1', dst: 'ff02::1:2' })).d;
  assert.deepEqual(
    [d?.src, d?.dst, d?.ipProto, d?.transport, d?.srcPort, d?.payload.toString(), d?.ipBytes],
    ['2001:db8::1', 'ff02::1:2', 17, 'udp', 546, 'dhcp', 40 + chain.length],
  );
  // No next header (59) and ESP (50) end the chain as 'other'.
  assert.equal(decodeOne(101, ipv6({ nh: 59, payload: Buffer.alloc(0) })).d?.transport, 'other');
  assert.equal(decodeOne(101, ipv6({ nh: 50, payload: Buffer.alloc(16) })).d?.ipProto, 50);
  // An extension header running past the payload.
  assert.deepEqual(
    decodeOne(101, ipv6({ nh: 0, payload: ext6(17, 8).fill(9, 1, 2) })).dec.stats.skipped,
    {
      'bad-ipv6-ext': 1,
    },
  );
});

test('IPv6 payload length: trailing bytes trimmed, a cut packet marked truncated', () => {
  const p = ipv6({ nh: 17, payload: udp(1, 2, Buffer.from('abcd')) });
  const padded = decodeOne(101, Buffer.concat([p, Buffer.alloc(10)])).d;
  assert.deepEqual([padded?.payload.toString(), padded?.ipBytes], ['abcd', 52]);
  const cut = decodeOne(101, p.subarray(0, 50)).d;
  assert.deepEqual([cut?.payload.length, cut?.truncated, cut?.ipBytes], [2, true, 52]);
});
