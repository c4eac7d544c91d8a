/**
 * L4 aggregation: hand-built records, then real captures cross-checked against tshark
 * (testdata/*.conv.txt is `tshark -z conv,tcp -z conv,udp`; testdata/*.dirs.tsv has tshark's
 * exact per-direction packet and byte totals; both from testdata/make-tshark-l4.sh).
 *
 * Bytes: tshark's conversation bytes are frame bytes; DirectionStats.bytes are IP bytes. On
 * Ethernet a frame is the IP packet + the 14-byte Ethernet header + padding up to the 60-byte
 * minimum (18 frames of pcapplusplus-example-mixed are padded: 14 × 6 bytes after 40-byte IP
 * packets, 4 × 2 bytes after 44-byte ones).
 * So frame bytes = IP bytes + 14 × packets + padding; the test checks IP bytes exactly against
 * tshark's `ip.len` sums and checks that relation on tshark's side.
 *
 * Packets: the TCP assembler drops the bare packets (no payload, no SYN) that arrive within 60 s
 * after a connection closed (its second FIN or an RST) — the last ACK of the close, late FIN
 * retransmissions — rather than open a new connection for them; tshark counts them in the
 * conversation. The .tsv lists them per direction (`trailing_*`), and the records must equal
 * tshark minus exactly those (or tshark, should the assembler come to count them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Entry } from '../../entry/model.ts';
import { KsError } from '../../util/errors.ts';
import type { L4Group, SerializedL4 } from './l4.ts';
import { L4Aggregation, aggregateL4 } from './l4.ts';
import { entriesOf, http, pod, tcpConn, udpFlow } from '../../../test/helpers/stats-entries.ts';
import { corpus, needsShared } from '../../../test/helpers/shared.ts';

const here = new URL('.', import.meta.url).pathname;

const A = pod('10.2.0.1', 'front-1', 'shop', 'front');
const B = pod('10.2.0.2', 'cart-1', 'shop', 'cart');
const C = pod('10.3.0.1', 'db-0', 'data', 'db');

function dirOf(g: L4Group | undefined): [number, number, number, number] {
  assert.ok(g, 'group missing');
  return [g.sent.packets, g.sent.bytes, g.received.packets, g.received.bytes];
}

test('each record counts for both ends, from each end’s side', () => {
  const es: Entry[] = [
    tcpConn({ src: A, dst: B, client: [10, 1000], server: [8, 5000], rtt: 200, l7: ['http'] }),
    tcpConn({ src: A, dst: C, client: [3, 300], server: [2, 200], retransmissions: 2, rst: true }),
    udpFlow({ src: B, dst: C, client: [1, 60], server: [1, 100], rtt: 5, l7: ['dns'] }),
    http({ src: A, dst: B }), // not an L4 record
  ];
  const agg = aggregateL4(es, { by: 'pod' });
  assert.deepEqual(dirOf(agg.group('shop/front-1')), [13, 1300, 10, 5200]);
  assert.deepEqual(dirOf(agg.group('shop/cart-1')), [9, 5060, 11, 1100]);
  assert.deepEqual(dirOf(agg.group('data/db-0')), [3, 300, 4, 360]);
  const front = agg.group('shop/front-1')!;
  assert.deepEqual(
    [front.connections, front.flows, front.retransmissions, front.resets],
    [2, 0, 2, 1],
  );
  assert.deepEqual(front.rtt, { samples: 1, min: 200, max: 200, mean: 200 });
  assert.deepEqual(front.l7, { http: 1 });
  const db = agg.group('data/db-0')!;
  assert.deepEqual([db.connections, db.flows, db.rtt], [1, 1, null]);
  assert.deepEqual(agg.totals(), {
    connections: 2,
    flows: 1,
    clientToServer: { packets: 14, bytes: 1360, payloadBytes: 1360 - 40 * 14 },
    serverToClient: { packets: 11, bytes: 5300, payloadBytes: 5300 - 40 * 11 },
    retransmissions: 2,
    resets: 1,
    ignored: 1,
  });

  // Inside one namespace a record counts once, both directions sent and received.
  const ns = aggregateL4(es, { by: 'namespace' });
  const shop = ns.group('shop')!;
  assert.deepEqual(dirOf(shop), [
    10 + 8 + 3 + 1,
    1000 + 5000 + 300 + 60,
    10 + 8 + 2 + 1,
    1000 + 5000 + 200 + 100,
  ]);
  assert.deepEqual([shop.connections, shop.flows], [2, 1]);
  assert.deepEqual(dirOf(ns.group('data')), [2 + 1, 200 + 100, 3 + 1, 300 + 60]);

  // Pairs: one group per (client group, server group), sent = client → server.
  const pairs = aggregateL4(es, { by: 'namespace', pairs: true });
  assert.deepEqual(
    pairs.groups().map((g) => [g.key, ...dirOf(g)]),
    [
      ['shop -> shop', 10, 1000, 8, 5000],
      ['shop -> data', 4, 360, 3, 300],
    ],
  );
  // Service, then pod, then IP; node: the capturing node, for both ends.
  assert.deepEqual(
    aggregateL4(es, { by: 'service' })
      .groups()
      .map((g) => g.key)
      .sort(),
    ['data/db', 'shop/cart', 'shop/front'],
  );
  const bare = aggregateL4([tcpConn({ dst: { ip: '10.0.0.9', port: 80 } })], { by: 'service' });
  assert.deepEqual(
    bare
      .groups()
      .map((g) => g.key)
      .sort(),
    ['10.0.0.1', '10.0.0.9'],
  );
  const nodes = aggregateL4(
    [tcpConn({ node: 'n1' }), tcpConn({ node: 'n1' }), udpFlow({ node: 'n2' })],
    { by: 'node' },
  );
  assert.deepEqual(
    nodes.groups().map((g) => [g.key, g.connections, g.flows]),
    [
      ['n1', 2, 0],
      ['n2', 0, 1],
    ],
  );
  assert.throws(
    () => new L4Aggregation({ by: 'endpoint' as 'ip' }),
    (e: unknown) => e instanceof KsError && e.code === 'KS_ERR_USAGE',
  );
});

test('top talkers by bytes and by packets; ties by key', () => {
  const es = [
    tcpConn({
      src: { ip: '10.0.0.1' },
      dst: { ip: '10.0.0.2' },
      client: [100, 1000],
      server: [1, 100],
    }),
    tcpConn({
      src: { ip: '10.0.0.3' },
      dst: { ip: '10.0.0.4' },
      client: [2, 50_000],
      server: [2, 50_000],
    }),
    udpFlow({ src: { ip: '10.0.0.5' }, dst: { ip: '10.0.0.6' }, client: [1, 10], server: [1, 10] }),
  ];
  const agg = aggregateL4(es, { by: 'ip' });
  assert.deepEqual(
    agg.topTalkers(3, 'bytes').map((g) => g.key),
    ['10.0.0.3', '10.0.0.4', '10.0.0.1'],
  );
  assert.deepEqual(
    agg.topTalkers(2, 'packets').map((g) => g.key),
    ['10.0.0.1', '10.0.0.2'],
  );
  assert.deepEqual(agg.topTalkers(0), []);
  assert.equal(agg.topTalkers(100).length, 6);
});

test('merge equals aggregating the union, also through JSON', () => {
  const arb = fc.record({
    udp: fc.boolean(),
    s: fc.constantFrom(A, B, C, { ip: '192.168.0.1' }),
    d: fc.constantFrom(A, B, C, { ip: '192.168.0.2' }),
    c: fc.tuple(fc.nat(1000), fc.nat(1_000_000)),
    v: fc.tuple(fc.nat(1000), fc.nat(1_000_000)),
    re: fc.nat(5),
    rst: fc.boolean(),
    rtt: fc.option(fc.nat(100_000), { nil: undefined }),
    part: fc.nat(2),
  });
  fc.assert(
    fc.property(
      fc.array(arb, { maxLength: 60 }),
      fc.constantFrom('pod', 'namespace', 'service', 'ip', 'node' as const),
      fc.boolean(),
      (rs, by, pairs) => {
        const es = rs.map((r) => {
          const o = { src: r.s, dst: r.d, client: r.c, server: r.v, node: `n${r.part}` };
          const e = r.udp
            ? udpFlow(o)
            : tcpConn({
                ...o,
                retransmissions: r.re,
                rst: r.rst,
                ...(r.rtt !== undefined ? { rtt: r.rtt } : {}),
              });
          return [e, r.part] as const;
        });
        const union = aggregateL4(
          es.map(([e]) => e),
          { by, pairs },
        );
        const hub = new L4Aggregation({ by, pairs });
        for (const part of [0, 1, 2]) {
          const a = aggregateL4(
            es.filter(([, p]) => p === part).map(([e]) => e),
            { by, pairs },
          );
          hub.merge(JSON.parse(JSON.stringify(a.toJSON())) as SerializedL4);
        }
        assert.deepEqual(hub.toJSON(), union.toJSON());
        assert.deepEqual(hub.groups(), union.groups());
        assert.deepEqual(L4Aggregation.fromJSON(union.toJSON()).totals(), union.totals());
      },
    ),
    { numRuns: 150 },
  );
  assert.throws(
    () => new L4Aggregation({ by: 'ip' }).merge(new L4Aggregation({ by: 'pod' })),
    /cannot merge by pod into by ip/,
  );
});

// ---------------------------------------------------------------- real captures vs tshark

interface Dir {
  proto: 'tcp' | 'udp';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  packets: number;
  frameBytes: number;
  ipBytes: number;
  trailingPackets: number;
  trailingIpBytes: number;
}

function readDirs(file: string): Dir[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(head!.split('\t').length, 10);
  return lines.map((l) => {
    const f = l.split('\t');
    const n = (i: number): number => Number(f[i]);
    return {
      proto: f[0] as 'tcp' | 'udp',
      src: f[1]!,
      sport: n(2),
      dst: f[3]!,
      dport: n(4),
      packets: n(5),
      frameBytes: n(6),
      ipBytes: n(7),
      trailingPackets: n(8),
      trailingIpBytes: n(9),
    };
  });
}

interface Conv {
  proto: 'tcp' | 'udp';
  a: string;
  b: string;
  /** Frames and bytes (as printed) B → A (tshark's `<-`) and A → B (`->`). */
  framesBA: number;
  bytesBA: string;
  framesAB: number;
  bytesAB: string;
}

/** Rows of `tshark -q -z conv,tcp -z conv,udp` (4.0 text format). */
function readConv(file: string): Conv[] {
  const out: Conv[] = [];
  let proto: 'tcp' | 'udp' | undefined;
  const size = String.raw`(\d+ (?:bytes|kB|MB|GB))`;
  const row = new RegExp(String.raw`^(\S+)\s+<->\s+(\S+)\s+(\d+) ${size}\s+(\d+) ${size}\s`);
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('TCP Conversations')) proto = 'tcp';
    else if (line.startsWith('UDP Conversations')) proto = 'udp';
    const m = row.exec(line);
    if (m && proto)
      out.push({
        proto,
        a: m[1]!,
        b: m[2]!,
        framesBA: Number(m[3]),
        bytesBA: m[4]!,
        framesAB: Number(m[5]),
        bytesAB: m[6]!,
      });
  }
  return out;
}

/** How tshark 4.0 prints a byte count in conversation tables (SI, truncated). */
function tsharkSize(n: number): string {
  if (n < 10_000) return `${n} bytes`;
  if (n < 10_000_000) return `${Math.floor(n / 1e3)} kB`;
  return `${Math.floor(n / 1e6)} MB`;
}

/** `ip:port` as tshark prints it (IPv6 without brackets). */
const ep = (ip: string, port: number): string => `${ip}:${port}`;
const dirKey = (p: string, s: string, sp: number, d: string, dp: number): string =>
  `${p} ${ep(s, sp)} > ${ep(d, dp)}`;

/** Per direction of each tuple: packets and IP bytes summed over our records. */
function ourDirs(es: Entry[]): Map<string, { packets: number; bytes: number }> {
  const m = new Map<string, { packets: number; bytes: number }>();
  for (const e of es) {
    const r = e.record;
    if (r.kind !== 'tcp_conn' && r.kind !== 'udp_flow') continue;
    const p = r.kind === 'tcp_conn' ? 'tcp' : 'udp';
    const add = (k: string, d: { packets: number; bytes: number }): void => {
      if (d.packets === 0) return; // tshark lists no direction without packets
      const o = m.get(k) ?? { packets: 0, bytes: 0 };
      o.packets += d.packets;
      o.bytes += d.bytes;
      m.set(k, o);
    };
    add(dirKey(p, e.src.ip, e.src.port, e.dst.ip, e.dst.port), r.client);
    add(dirKey(p, e.dst.ip, e.dst.port, e.src.ip, e.src.port), r.server);
  }
  return m;
}

function checkConvAgainstDirs(conv: Conv[], dirs: Dir[]): void {
  const byKey = new Map(dirs.map((d) => [dirKey(d.proto, d.src, d.sport, d.dst, d.dport), d]));
  const split = (s: string): [string, number] => {
    const i = s.lastIndexOf(':');
    return [s.slice(0, i), Number(s.slice(i + 1))];
  };
  let seen = 0;
  for (const c of conv) {
    const [aIp, aPort] = split(c.a);
    const [bIp, bPort] = split(c.b);
    const ab = byKey.get(dirKey(c.proto, aIp, aPort, bIp, bPort));
    const ba = byKey.get(dirKey(c.proto, bIp, bPort, aIp, aPort));
    assert.equal(ab?.packets ?? 0, c.framesAB, `${c.a} -> ${c.b}`);
    assert.equal(ba?.packets ?? 0, c.framesBA, `${c.b} -> ${c.a}`);
    assert.equal(tsharkSize(ab?.frameBytes ?? 0), c.bytesAB, `${c.a} -> ${c.b} bytes`);
    assert.equal(tsharkSize(ba?.frameBytes ?? 0), c.bytesBA, `${c.b} -> ${c.a} bytes`);
    seen += (ab ? 1 : 0) + (ba ? 1 : 0);
  }
  assert.equal(seen, dirs.length, 'every direction is in a tshark conversation');
}

const MIXED = corpus('mixed/pcapplusplus-example-mixed.pcap');
const MERCURY = corpus('mixed/mercury-capture2.pcap');

test(
  'pcapplusplus-example-mixed: records and aggregation equal tshark’s conversations exactly',
  needsShared(),
  async () => {
    const dirs = readDirs(join(here, 'testdata/example-mixed.dirs.tsv'));
    const conv = readConv(join(here, 'testdata/example-mixed.conv.txt'));
    assert.equal(conv.filter((c) => c.proto === 'tcp').length, 66);
    assert.equal(conv.filter((c) => c.proto === 'udp').length, 70);
    checkConvAgainstDirs(conv, dirs);

    // tshark's side: frame bytes = IP bytes + 14 per packet + padding (18 padded 60-byte frames).
    let padding = 0;
    for (const d of dirs) {
      const pad = d.frameBytes - d.ipBytes - 14 * d.packets;
      assert.ok(pad >= 0 && pad % 2 === 0, `${d.src}:${d.sport} padding ${pad}`);
      padding += pad;
    }
    assert.equal(padding, 14 * 6 + 4 * 2);

    const es = await entriesOf(MIXED);
    const ours = ourDirs(es);
    assert.equal(ours.size, dirs.length);
    // Every direction: tshark's count less exactly its post-close bare packets (or, should the
    // assembler come to count those, tshark's count).
    let trailing = 0;
    let dropped = 0;
    const counted = new Map<Dir, { packets: number; bytes: number }>();
    for (const d of dirs) {
      const k = dirKey(d.proto, d.src, d.sport, d.dst, d.dport);
      const o = ours.get(k)!;
      const less = { packets: d.packets - d.trailingPackets, bytes: d.ipBytes - d.trailingIpBytes };
      const all = { packets: d.packets, bytes: d.ipBytes };
      assert.ok(
        (o.packets === less.packets && o.bytes === less.bytes) ||
          (o.packets === all.packets && o.bytes === all.bytes),
        `${k}: ours ${JSON.stringify(o)}, tshark ${JSON.stringify(all)}, less trailing ${JSON.stringify(less)}`,
      );
      counted.set(d, o);
      trailing += d.trailingPackets;
      dropped += d.packets - o.packets;
    }
    assert.equal(trailing, 18, 'final ACKs after the close (tshark side)');
    assert.ok(dropped === 18 || dropped === 0, `${dropped} packets not counted`);

    // Aggregation by IP equals tshark's per-address totals (its `-z endpoints,ip` over TCP and
    // UDP), from the same per-direction numbers: sent = as source, received = as destination.
    const want = new Map<string, [number, number, number, number]>();
    const at = (ip: string): [number, number, number, number] => {
      let v = want.get(ip);
      if (!v) want.set(ip, (v = [0, 0, 0, 0]));
      return v;
    };
    for (const [d, o] of counted) {
      const s = at(d.src);
      s[0] += o.packets;
      s[1] += o.bytes;
      const r = at(d.dst);
      r[2] += o.packets;
      r[3] += o.bytes;
    }
    const agg = aggregateL4(es, { by: 'ip' });
    assert.equal(agg.groups().length, want.size);
    for (const [ip, v] of want) assert.deepEqual(dirOf(agg.group(ip)), v, ip);
    // Connections and flows per address = tshark conversations involving it.
    for (const g of agg.groups()) {
      const touching = (p: string): number =>
        conv.filter(
          (c) => c.proto === p && (c.a.startsWith(`${g.key}:`) || c.b.startsWith(`${g.key}:`)),
        ).length;
      assert.deepEqual([g.connections, g.flows], [touching('tcp'), touching('udp')], g.key);
    }
    const t = agg.totals();
    assert.deepEqual([t.connections, t.flows], [66, 70]);
    assert.equal(
      t.clientToServer.packets + t.serverToClient.packets,
      dirs.reduce((n, d) => n + d.packets, 0) - dropped,
    );

    // Top talkers: tshark's ranking by total bytes / packets.
    const rank = (i: 0 | 1): string[] =>
      [...want]
        .sort((x, y) => y[1][i] + y[1][i + 2]! - (x[1][i] + x[1][i + 2]!) || (x[0] < y[0] ? -1 : 1))
        .slice(0, 5)
        .map(([ip]) => ip);
    assert.deepEqual(
      agg.topTalkers(5, 'bytes').map((g) => g.key),
      rank(1),
    );
    assert.deepEqual(
      agg.topTalkers(5, 'packets').map((g) => g.key),
      rank(0),
    );
    assert.deepEqual(
      agg.topTalkers(2, 'bytes').map((g) => g.key),
      ['10.0.0.6', '212.199.202.9'],
    );
  },
);

test(
  'mercury-capture2 (IPv6, Teredo, retransmissions, resets): records within tshark’s bounds',
  needsShared(),
  async () => {
    const dirs = readDirs(join(here, 'testdata/mercury-capture2.dirs.tsv'));
    checkConvAgainstDirs(readConv(join(here, 'testdata/mercury-capture2.conv.txt')), dirs);
    const es = await entriesOf(MERCURY);
    const ours = ourDirs(es);
    assert.equal(ours.size, dirs.length);
    let exact = 0;
    for (const d of dirs) {
      const k = dirKey(d.proto, d.src, d.sport, d.dst, d.dport);
      const o = ours.get(k)!;
      // Never more than tshark saw, never less than tshark minus the post-close bare packets.
      assert.ok(o.packets <= d.packets && o.packets >= d.packets - d.trailingPackets, k);
      assert.ok(o.bytes <= d.ipBytes && o.bytes >= d.ipBytes - d.trailingIpBytes, k);
      if (o.packets === d.packets - d.trailingPackets && o.bytes === d.ipBytes - d.trailingIpBytes)
        exact++;
    }
    // The rest: a few connections whose every packet was captured twice with different
    // sequence numbers, where the assembler's idea of the close differs from this model.
    assert.ok(exact >= dirs.length - 4, `${exact} of ${dirs.length} directions exact`);

    // The aggregation adds the records up: per IP and in total.
    const agg = aggregateL4(es, { by: 'ip' });
    const l4 = es.filter((e) => e.record.kind === 'tcp_conn' || e.record.kind === 'udp_flow');
    const t = agg.totals();
    let retrans = 0;
    let resets = 0;
    for (const e of l4)
      if (e.record.kind === 'tcp_conn') {
        retrans += e.record.retransmissions;
        resets += e.record.rst ? 1 : 0;
      }
    assert.deepEqual(
      [t.retransmissions, t.resets, t.ignored],
      [retrans, resets, es.length - l4.length],
    );
    assert.ok(retrans > 0 && resets > 0);
    let sentBytes = 0;
    let recvBytes = 0;
    for (const g of agg.groups()) {
      sentBytes += g.sent.bytes;
      recvBytes += g.received.bytes;
    }
    const total = t.clientToServer.bytes + t.serverToClient.bytes;
    // Every byte is sent by one address and received by another; a record from an address to
    // itself (loopback here) counts once in its group, both directions sent and received.
    assert.equal(sentBytes, total);
    assert.equal(recvBytes, total);
    const lo = agg.group('127.0.0.1')!;
    assert.ok(l4.some((e) => e.src.ip === '127.0.0.1' && e.dst.ip === '127.0.0.1'));
    assert.deepEqual(lo.sent, lo.received);
  },
);
