/**
 * Random and mutated captures never crash and never hang the dissect runner.
 *  (a) real captures mutated byte-wise (bit flips, byte sets, record/block/IP/TCP/UDP length
 *      fields, truncation, duplicated and removed chunks): the run ends within a time bound and
 *      fails, if at all, only with a KsError whose code is KS_ERR_CAPTURE_*;
 *  (b) valid pcap framing, valid Ethernet/IPv4/TCP/UDP headers, random payloads on the ports of
 *      the HTTP, DNS and WebSocket dissectors (some behind a real HTTP request line or WebSocket
 *      upgrade so the dissectors go deeper): no error, every connection and flow yields at least
 *      one entry, pure garbage yields exactly one L4 record, the summary adds up;
 *  (c) the built single executable, when dist/kubeshark exists: exit 0 or 3, no stack trace.
 * Every run happens in a worker thread (test/helpers/dissect-pool.ts) so even a synchronous
 * endless loop is caught by the time bound.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { execa } from 'execa';
import { PcapngWriter, pcapFile, type PcapRecord } from './helpers/capture-files.ts';
import { ether, ipv4, tcp, udp } from './helpers/decode-headers.ts';
import { DissectPool, type PoolResult } from './helpers/dissect-pool.ts';
import { layout, mutate, type Layout, type Mutation } from './helpers/capture-mutate.ts';
import { corpus, needsShared } from './helpers/shared.ts';

const root = new URL('..', import.meta.url).pathname;
/** Wall-clock bound per dissect run (the inputs are a few KiB; a normal run takes ~20 ms). */
const TIMEOUT_MS = 5000;
const MUTATION_RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const GARBAGE_RUNS = Number(process.env.FUZZ_RUNS ?? 120);

const seedPaths = [
  join(root, 'demo/shop.pcap'),
  corpus('http/zeek-pipelined-requests.pcap'),
  corpus('dns/suricata-dns-tcp-multirequest-buffer.pcap'),
  corpus('websocket/zeek-two-binary-fragments.pcap'),
  corpus('grpc/packt-grpc-server-streaming.pcapng'),
  join(root, 'src/tap/dissectors/http/testdata/chunked.pcap'),
  join(root, 'src/tap/dissectors/ws/testdata/websocket-deflate.pcap'),
  join(root, 'src/tap/dissectors/dns/testdata/udp.pcap'),
  join(root, 'src/tap/capture/testdata/two-ifaces.pcapng'),
  join(root, 'src/tap/decode/testdata/frag.pcap'),
  join(root, 'src/tap/decode/testdata/sll2.pcap'),
];

interface Seed {
  name: string;
  bytes: Buffer;
  layout: Layout;
}

/** The seed captures, read on first use (by the tests that declare they need ../shared). */
let seedCache: Seed[] | undefined;
function seeds(): Seed[] {
  seedCache ??= seedPaths.map((p) => {
    const bytes = readFileSync(p);
    return { name: basename(p), bytes, layout: layout(bytes) };
  });
  return seedCache;
}

const pool = new DissectPool();
let dir = '';
let n = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ks-fuzz-'));
});
after(async () => {
  await pool.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function dissectBytes(bytes: Buffer, l4All = false): Promise<PoolResult> {
  const path = join(dir, `f${n++}.pcap`);
  writeFileSync(path, bytes);
  try {
    return await pool.run([path], { l4All, timeoutMs: TIMEOUT_MS });
  } finally {
    rmSync(path, { force: true });
  }
}

function describeError(r: PoolResult): string {
  if (r.helperFailure) return `helper failed: ${r.helperFailure}`;
  const e = r.error;
  return e ? `${e.name} ${e.code ?? ''}: ${e.message}\n${e.stack ?? ''}` : 'no error';
}

/** The capture contract: success, or a KsError with a KS_ERR_CAPTURE_* code. */
function assertCaptureContract(r: PoolResult): void {
  assert.equal(r.helperFailure, undefined, describeError(r));
  if (r.error) {
    assert.ok(r.error.ksError, `not a KsError: ${describeError(r)}`);
    assert.match(r.error.code ?? '', /^KS_ERR_CAPTURE_/, describeError(r));
  } else {
    assert.ok(r.summary, 'a summary on success');
    assertSummaryMatchesViews(r);
  }
}

function assertSummaryMatchesViews(r: PoolResult): void {
  const s = r.summary!;
  const total = Object.values(s.entries).reduce((a, b) => a + b, 0);
  assert.equal(total, r.views.length, 'summary entries = entries printed');
  const byProto: Record<string, number> = {};
  for (const v of r.views) byProto[String(v.protocol)] = (byProto[String(v.protocol)] ?? 0) + 1;
  assert.deepEqual(byProto, s.entries);
  assert.deepEqual(
    r.views.map((v) => v.id),
    r.views.map((_, i) => i + 1),
    'entry ids are 1..n in output order',
  );
  assert.ok(s.decoded <= s.packets && s.gapBytes >= 0 && s.violations >= 0);
  assert.ok(s.detached <= s.tcpConnections + s.udpFlows);
}

// ---------------------------------------------------------------------------------------------
// (a) mutated real captures

const offset = fc.nat({ max: 1 << 20 });
const inPlace: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: offset, bit: fc.nat({ max: 7 }) }),
  fc.record({ k: fc.constant('set' as const), at: offset, v: fc.nat({ max: 255 }) }),
  // Bytes inside packets (the framing stays valid, so the decoder and dissectors see them).
  fc.record({
    k: fc.constant('pset' as const),
    packet: fc.nat(),
    at: fc.nat({ max: 70_000 }),
    v: fc.nat({ max: 255 }),
  }),
  fc.record({
    k: fc.constant('len' as const),
    field: fc.nat(),
    v: fc.oneof(
      fc.constantFrom(
        0,
        1,
        2,
        7,
        8,
        20,
        0x7f,
        0xff,
        0x100,
        0xffff,
        0x10000,
        0x7fffffff,
        0xffffffff,
      ),
      fc.nat({ max: 0xffff }),
      fc.nat(),
    ),
  }),
);
const structural: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('cut' as const), at: offset }),
  fc.record({
    k: fc.constant('dup' as const),
    from: offset,
    len: fc.integer({ min: 1, max: 400 }),
    to: offset,
  }),
  fc.record({
    k: fc.constant('del' as const),
    from: offset,
    len: fc.integer({ min: 1, max: 400 }),
  }),
);
const mutationPlan = fc.record({
  seed: fc.nat({ max: seedPaths.length - 1 }),
  inPlace: fc.array(inPlace, { maxLength: 8 }),
  structural: fc.array(structural, { maxLength: 2 }),
  l4All: fc.boolean(),
});

describe('mutated real captures', () => {
  test('seeds dissect cleanly before mutation', needsShared(), async () => {
    assert.ok(seeds().length >= 5, 'seed captures present');
    for (const s of seeds()) {
      const r = await dissectBytes(s.bytes);
      assert.equal(r.error, undefined, `${s.name}: ${describeError(r)}`);
      assert.ok(s.layout.fields.length > 0, `${s.name}: length fields found`);
      assert.ok(s.layout.packets.length > 0, `${s.name}: packets found`);
    }
  });

  test('never crash, never hang, fail only with KS_ERR_CAPTURE_*', needsShared(), async () => {
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(mutationPlan, async (m) => {
        const seed = seeds()[m.seed]!;
        const bytes = mutate(seed.bytes, seed.layout, [...m.inPlace, ...m.structural]);
        const r = await dissectBytes(bytes, m.l4All);
        const key = r.error?.code ?? 'ok';
        codes.set(key, (codes.get(key) ?? 0) + 1);
        assertCaptureContract(r);
      }),
      { numRuns: MUTATION_RUNS, includeErrorInReport: true },
    );
    // The generator reaches both outcomes (a fuzzer that only ever errors tests little).
    assert.ok((codes.get('ok') ?? 0) > 0, `outcomes: ${JSON.stringify([...codes])}`);
    assert.ok(codes.size > 1, `outcomes: ${JSON.stringify([...codes])}`);
  });

  test('a pcapng timestamp beyond the Date range (found by the mutation fuzzer)', async () => {
    // A 64-bit pcapng timestamp of 2^64-1 µs (year ~586 000) on the first packet of a
    // connection: found as a mutated EPB timestamp byte (plus a mutated source address) of
    // packt-grpc-server-streaming.pcapng. The capture is structurally valid.
    const frame = (sport: number) =>
      ether(0x0800, ipv4({ proto: 6, payload: tcp(sport, 80, { payload: Buffer.from('xx') }) }));
    const w = new PcapngWriter().shb().idb(1).epb(0, 1_700_000_000_000_000n, frame(40000));
    w.epb(0, 0xffff_ffff_ffff_ffffn, frame(40001));
    const r = await dissectBytes(w.toBuffer());
    assertCaptureContract(r);
  });

  test('every truncation point of a capture', needsShared(), async () => {
    // Exhaustive over a small capture: every prefix length is a valid input.
    const seed = seeds().find((s) => s.name === 'chunked.pcap') ?? seeds()[0]!;
    const step = Math.max(1, Math.floor(seed.bytes.length / 300));
    for (let cut = 0; cut <= seed.bytes.length; cut += step) {
      const r = await dissectBytes(seed.bytes.subarray(0, cut));
      assertCaptureContract(r);
      if (cut === 0) assert.equal(r.error?.code, 'KS_ERR_CAPTURE_EMPTY');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (b) valid framing, random payloads

const CLIENT = '10.0.0.1';
const SERVER = '10.0.0.2';
const WS_REQUEST =
  'GET /chat HTTP/1.1\r\nHost: server\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
const WS_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

/**
 * garbage: random bytes whose first two bytes each way are 0xff 0xfe (no HTTP method, a DNS
 * length no message completes) — no dissector may claim it;
 * http: a real request line and headers, then random bytes each way;
 * ws: a real upgrade exchange, then random bytes each way (random WebSocket frames);
 * dns: each turn a length-prefixed DNS message whose header and question are real and whose
 *   tail is random;
 * raw: random bytes with no constraint (a dissector may or may not claim them).
 */
type Style = 'garbage' | 'http' | 'ws' | 'dns' | 'raw';

/** A DNS message: a real header and question (`a.example`, type A), then `tail`. */
function dnsMessage(id: number, response: boolean, tail: Uint8Array): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id & 0xffff, 0);
  h.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  const q = Buffer.from('01610765786174706c650000010001', 'hex');
  return Buffer.concat([h, q, Buffer.from(tail)]);
}

interface TcpConnSpec {
  kind: 'tcp';
  port: number;
  style: Style;
  handshake: boolean;
  fin: boolean;
  turns: Array<{ fromClient: boolean; data: Uint8Array }>;
}
interface UdpFlowSpec {
  kind: 'udp';
  port: number;
  /** Datagrams are DNS messages with a random tail (else random bytes). */
  dns: boolean;
  datagrams: Array<{ fromClient: boolean; data: Uint8Array }>;
}
type FlowSpec = TcpConnSpec | UdpFlowSpec;

const bytesArb = fc.uint8Array({ minLength: 1, maxLength: 700 });
const tcpConnArb: fc.Arbitrary<TcpConnSpec> = fc.record({
  kind: fc.constant('tcp' as const),
  port: fc.constantFrom(80, 53, 8080),
  style: fc.constantFrom<Style>('garbage', 'http', 'ws', 'dns', 'raw'),
  handshake: fc.boolean(),
  fin: fc.boolean(),
  turns: fc.array(fc.record({ fromClient: fc.boolean(), data: bytesArb }), {
    minLength: 1,
    maxLength: 6,
  }),
});
const udpFlowArb: fc.Arbitrary<UdpFlowSpec> = fc.record({
  kind: fc.constant('udp' as const),
  port: fc.constantFrom(53, 5353),
  dns: fc.boolean(),
  datagrams: fc.array(
    fc.record({ fromClient: fc.boolean(), data: fc.uint8Array({ minLength: 0, maxLength: 600 }) }),
    { minLength: 1, maxLength: 5 },
  ),
});
const flowsArb = fc.array(fc.oneof(tcpConnArb, udpFlowArb), { minLength: 1, maxLength: 5 });

/** The payload turns of a connection after its style's preamble and constraints. */
function turnsOf(c: TcpConnSpec): Array<{ fromClient: boolean; data: Buffer }> {
  const turns = c.turns.map((t) => ({ fromClient: t.fromClient, data: Buffer.from(t.data) }));
  if (c.style === 'garbage') {
    const seen = new Set<boolean>();
    for (const t of turns) {
      if (seen.has(t.fromClient)) continue;
      seen.add(t.fromClient);
      t.data = Buffer.concat([Buffer.from([0xff, 0xfe]), t.data]);
    }
  }
  if (c.style === 'dns') {
    for (const [i, t] of turns.entries()) {
      const m = dnsMessage(i, !t.fromClient, t.data.subarray(0, 40));
      const len = Buffer.alloc(2);
      len.writeUInt16BE(m.length);
      t.data = Buffer.concat([len, m]);
    }
  }
  if (c.style === 'http') {
    turns.unshift({ fromClient: true, data: Buffer.from('POST /x HTTP/1.1\r\nHost: s\r\n') });
  }
  if (c.style === 'ws') {
    turns.unshift(
      { fromClient: true, data: Buffer.from(WS_REQUEST) },
      { fromClient: false, data: Buffer.from(WS_RESPONSE) },
    );
  }
  return turns;
}

/** Builds the capture: flows one after the other, 1 ms between packets. */
function buildCapture(flows: FlowSpec[]): { bytes: Buffer; packets: number } {
  const records: PcapRecord[] = [];
  let t = 1_700_000_000_000_000;
  const push = (frame: Buffer) => {
    t += 1000;
    records.push({ sec: Math.floor(t / 1e6), frac: t % 1e6, data: frame });
  };
  flows.forEach((f, i) => {
    const cport = 40000 + i;
    if (f.kind === 'udp') {
      for (const [k, d] of f.datagrams.entries()) {
        const [sp, dp, src, dst] = d.fromClient
          ? [cport, f.port, CLIENT, SERVER]
          : [f.port, cport, SERVER, CLIENT];
        const data = f.dns
          ? dnsMessage(k, !d.fromClient, d.data.subarray(0, 40))
          : Buffer.from(d.data);
        push(ether(0x0800, ipv4({ src, dst, proto: 17, payload: udp(sp, dp, data) })));
      }
      return;
    }
    let cseq = 1000 + i * 7919;
    let sseq = 500000 + i * 104729;
    const seg = (fromClient: boolean, flags: number, payload: Buffer = Buffer.alloc(0)) => {
      const [sp, dp, src, dst] = fromClient
        ? [cport, f.port, CLIENT, SERVER]
        : [f.port, cport, SERVER, CLIENT];
      const seq = fromClient ? cseq : sseq;
      const ack = fromClient ? sseq : cseq;
      push(
        ether(
          0x0800,
          ipv4({ src, dst, proto: 6, payload: tcp(sp, dp, { seq, ack, flags, payload }) }),
        ),
      );
      const advance = payload.length + (flags & 0x03 ? 1 : 0); // SYN and FIN take a number
      if (fromClient) cseq = (cseq + advance) >>> 0;
      else sseq = (sseq + advance) >>> 0;
    };
    if (f.handshake) {
      seg(true, 0x02);
      seg(false, 0x12);
      seg(true, 0x10);
    }
    for (const turn of turnsOf(f)) seg(turn.fromClient, 0x18, turn.data);
    if (f.fin) {
      seg(true, 0x11);
      seg(false, 0x11);
      seg(true, 0x10);
    }
  });
  return { bytes: pcapFile({}, records), packets: records.length };
}

function entriesOf(views: Record<string, unknown>[], cport: number): Record<string, unknown>[] {
  return views.filter((v) => {
    const s = v.src as { port?: number } | undefined;
    const d = v.dst as { port?: number } | undefined;
    return s?.port === cport || d?.port === cport;
  });
}

describe('valid framing, random payloads', () => {
  test('no crash; every connection and flow yields entries; garbage becomes L4 records', async (t) => {
    let garbageSeen = 0;
    const seen: Record<string, number> = {};
    const count = (k: string, by = 1) => (seen[k] = (seen[k] ?? 0) + by);
    await fc.assert(
      fc.asyncProperty(flowsArb, fc.boolean(), async (flows, l4All) => {
        const cap = buildCapture(flows);
        const r = await dissectBytes(cap.bytes, l4All);
        assert.equal(r.helperFailure, undefined, describeError(r));
        assert.equal(r.error, undefined, describeError(r));
        const s = r.summary!;
        assertSummaryMatchesViews(r);
        assert.equal(s.packets, cap.packets);
        assert.equal(s.decoded, cap.packets, 'every frame decodes');
        assert.equal(s.tcpConnections, flows.filter((f) => f.kind === 'tcp').length);
        assert.equal(s.udpFlows, flows.filter((f) => f.kind === 'udp').length);
        assert.equal(s.gaps, 0, 'contiguous sequence numbers leave no gap');
        for (const [k, v] of Object.entries(s.entries)) count(k, v);
        count('violations', s.violations);
        count('detached', s.detached);
        count('entries with error', r.views.filter((v) => v.error !== undefined).length);
        flows.forEach((f, i) => {
          const mine = entriesOf(r.views, 40000 + i);
          const label = `flow ${i} (${f.kind}${f.kind === 'tcp' ? ` ${f.style} :${f.port}` : ''})`;
          assert.ok(mine.length >= 1, `${label} yields at least one entry`);
          const l4 = mine.filter((v) => v.protocol === 'tcp' || v.protocol === 'udp');
          assert.ok(l4.length <= 1, `${label}: at most one L4 record`);
          if (l4All) assert.equal(l4.length, 1, `${label}: --l4 gives its L4 record`);
          if (mine.length === l4.length)
            assert.equal(l4.length, 1, `${label}: L4 record when no L7`);
          if (f.kind === 'tcp' && f.style === 'garbage') {
            garbageSeen++;
            assert.deepEqual(
              mine.map((v) => v.protocol),
              ['tcp'],
              `${label}: garbage is one tcp_conn record, got ${JSON.stringify(mine)}`,
            );
            assert.equal(mine[0]!.tcp_conn, true);
            assert.deepEqual(mine[0]!.conn_l7_detected, []);
          }
        });
      }),
      { numRuns: GARBAGE_RUNS, includeErrorInReport: true },
    );
    t.diagnostic(`seen: ${JSON.stringify(seen)}`);
    assert.ok(garbageSeen > 0);
    // The payloads reach the dissectors: L7 entries of each kind and dissectors giving up.
    for (const k of ['http', 'ws', 'dns', 'tcp', 'udp', 'violations'])
      assert.ok((seen[k] ?? 0) > 0, `saw ${k}`);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) the built executable

const exe = join(root, 'dist/kubeshark');
const built = { skip: existsSync(exe) ? false : 'dist/kubeshark not built' };
describe('built executable', needsShared(built), () => {
  test('mutated and garbage captures: exit 0 or 3, no stack trace', async () => {
    const env = { HOME: mkdtempSync(join(tmpdir(), 'kshome-')), PATH: process.env.PATH ?? '' };
    const inputs: Buffer[] = [];
    const rnd = fc.sample(mutationPlan, { numRuns: 4, seed: 42 });
    for (const m of rnd) {
      const seed = seeds()[m.seed]!;
      inputs.push(mutate(seed.bytes, seed.layout, [...m.inPlace, ...m.structural]));
    }
    inputs.push(...fc.sample(flowsArb, { numRuns: 2, seed: 7 }).map((f) => buildCapture(f).bytes));
    for (const [i, bytes] of inputs.entries()) {
      const path = join(dir, `bin${i}.pcap`);
      writeFileSync(path, bytes);
      const r = await execa(exe, ['dissect', '-o', 'jsonl', path], {
        env,
        extendEnv: false,
        reject: false,
        timeout: 20_000,
      });
      assert.equal(r.timedOut, false, `input ${i} finished`);
      assert.ok(r.exitCode === 0 || r.exitCode === 3, `exit ${r.exitCode}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(r.stderr, /KS_ERR_INTERNAL/);
      if (r.exitCode === 3) assert.match(r.stderr, /^kubeshark: .*\[KS_ERR_CAPTURE_[A-Z]+\]$/m);
      for (const line of r.stdout.split('\n').filter((l) => l)) JSON.parse(line);
    }
  });
});
