/**
 * Split-anywhere property (CONVENTIONS 17): the same capture's TCP payload delivered in other
 * packets gives identical entries. Real captures are rewritten in memory
 * (test/helpers/pcap-rewrite.ts) and dissected through the real runner:
 *  - split: every TCP segment with payload becomes several segments cut at points fast-check
 *    picks (same timestamp, sequence numbers advanced, IP length and checksums recomputed, link
 *    headers kept). Dissected without --l4, the entries must be identical except the packet and
 *    IP-byte counters of `tcp_conn` records (more packets, more headers); so must the summary
 *    except its packet/byte counts. One run in four also runs with --l4, so the tcp_conn record
 *    of every connection is compared as well;
 *  - rechunk: split, then coalesce same-direction segments (across the original packet
 *    boundaries too). A coalesced segment arrives when its last byte does, so the time fields
 *    (timestamp, elapsed_time, request/response time) legitimately move: they are only checked
 *    to stay within the capture's span; everything else must be identical;
 *  - IPv6: none of the listed captures carries IPv6 L7 traffic, so the demo capture and a few
 *    dissector captures are also moved to IPv6 (toIpv6) and split there; the Linux cooked
 *    (SLL/SLL2) IPv6 captures of the decoder tests are split as they are.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { isoMicros } from '../src/entry/time.ts';
import { dissectViews, type DissectResult } from './helpers/dissect.ts';
import { dissectorTestCaptures } from './helpers/dissector-captures.ts';
import {
  coalescableBoundaries,
  coalesceTcp,
  parsePcap,
  serializePcap,
  splitTcp,
  splittableSegments,
  toIpv6,
  type PcapFile,
} from './helpers/pcap-rewrite.ts';
import { corpus, needsShared, needsSharedFor } from './helpers/shared.ts';

const root = new URL('..', import.meta.url).pathname;

/** The dissectors' test captures this rewriter can read (pcap, not pcapng). */
function dissectorCaptures(): string[] {
  return dissectorTestCaptures()
    .map((c) => c.file)
    .filter((f) => f.endsWith('.pcap'));
}

const captures = [
  join(root, 'demo/shop.pcap'),
  corpus('http/zeek-pipelined-requests.pcap'),
  corpus('http/deepflow-sw8-keepalive-chunked.pcap'),
  corpus('websocket/zeek-two-binary-fragments.pcap'),
  corpus('dns/suricata-dns-tcp-multirequest-buffer.pcap'),
  ...dissectorCaptures(),
  // IPv6 TCP behind Linux cooked v1/v2 headers (payload no dissector knows: L4 records).
  join(root, 'src/tap/decode/testdata/sll.pcap'),
  join(root, 'src/tap/decode/testdata/sll2.pcap'),
];

/** Captures also moved to IPv6 and split there. */
const ipv6Captures = [
  join(root, 'demo/shop.pcap'),
  join(root, 'src/tap/dissectors/http/testdata/pipelined.pcap'),
  join(root, 'src/tap/dissectors/http/testdata/chunked.pcap'),
  join(root, 'src/tap/dissectors/ws/testdata/websocket.pcap'),
  join(root, 'src/tap/dissectors/dns/testdata/tcp.pcap'),
].filter((f) => existsSync(f));

const NUM_RUNS = Number(process.env.SPLIT_RUNS ?? 20);

type View = Record<string, unknown>;

/** Counters that count packets or IP bytes (headers included): they follow the packetisation. */
const PACKET_COUNTERS = [
  'conn_local_pkts',
  'conn_remote_pkts',
  'conn_local_bytes',
  'conn_remote_bytes',
];

function withoutPacketCounters(views: View[]): View[] {
  return views.map((v) => {
    const c: View = { ...v };
    for (const k of PACKET_COUNTERS) delete c[k];
    return c;
  });
}

/** Times in a view: `timestamp`, `elapsed_time`, and `time` anywhere below. */
function stripTimes(v: unknown, times: string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => stripTimes(x, times));
  if (v === null || typeof v !== 'object') return v;
  const out: View = {};
  for (const [k, x] of Object.entries(v as View)) {
    if (k === 'timestamp' || k === 'time') {
      times.push(String(x));
      continue;
    }
    if (k === 'elapsed_time') continue;
    out[k] = stripTimes(x, times);
  }
  return out;
}

/** Summary counters that do not depend on the packetisation. */
function stableSummary(r: DissectResult): Record<string, unknown> {
  const { packets: _p, bytes: _b, decoded: _d, ...rest } = r.summary;
  return rest;
}

let dir = '';
let seq = 0;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ks-split-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function dissectFile(f: PcapFile, l4All = false): Promise<DissectResult> {
  const path = join(dir, `c${seq++}.pcap`);
  writeFileSync(path, serializePcap(f));
  try {
    return await dissectViews([path], { l4All });
  } finally {
    rmSync(path, { force: true });
  }
}

/** Cut points for one segment of `len` bytes. */
type Cuts =
  | { kind: 'none' }
  /** Offsets from the start (≥ 0) or the end (< 0), modulo the length. */
  | { kind: 'at'; at: number[] }
  /** Single bytes: the first and last `k` bytes one per segment. */
  | { kind: 'bytes'; k: number };

const cutsArb: fc.Arbitrary<Cuts> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Cuts>({ kind: 'none' }) },
  {
    weight: 6,
    arbitrary: fc
      .array(fc.integer({ min: -5000, max: 5000 }), { minLength: 1, maxLength: 4 })
      .map((at): Cuts => ({ kind: 'at', at })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 12 }).map((k): Cuts => ({ kind: 'bytes', k })),
  },
);

function cutPoints(c: Cuts | undefined, len: number): number[] {
  if (!c || c.kind === 'none') return [];
  if (c.kind === 'at') return c.at.map((x) => (x >= 0 ? x % len : len - (-x % len)));
  const out: number[] = [];
  for (let i = 1; i <= c.k; i++) out.push(i, len - i);
  return out;
}

function planArb(segments: number): fc.Arbitrary<Cuts[]> {
  return fc.array(cutsArb, { minLength: segments, maxLength: segments });
}

function split(f: PcapFile, plan: Cuts[]): PcapFile {
  return splitTcp(f, (i, len) => cutPoints(plan[i], len));
}

/** First and last packet time of a µs capture, as the views print them. */
function captureSpan(f: PcapFile): [string, string] {
  const ts = f.records.map((r) => r.sec * 1_000_000 + r.frac);
  return [isoMicros(Math.min(...ts)), isoMicros(Math.max(...ts))];
}

function diffHint(a: View[], b: View[]): string {
  if (a.length !== b.length) return `entry count ${b.length} ≠ ${a.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) return `entry ${i}:\n  original ${x}\n  rewritten ${y}`;
  }
  return 'equal';
}

async function splitProperty(name: string, f: PcapFile): Promise<void> {
  const segments = splittableSegments(f).length;
  const base = await dissectFile(f);
  assert.equal(base.error, undefined, `original ${name} dissects cleanly`);
  assert.ok(base.views.length > 0, `${name} has entries`);
  // One run in four also with --l4: every connection's tcp_conn record must match too.
  const baseL4 = await dissectFile(f, true);
  let splitRuns = 0;
  await fc.assert(
    fc.asyncProperty(planArb(segments), fc.nat({ max: 3 }), async (plan, l4) => {
      const l4All = l4 === 0;
      const rewritten = split(f, plan);
      if (rewritten.records.length > f.records.length) splitRuns++;
      const r = await dissectFile(rewritten, l4All);
      assert.equal(r.error, undefined);
      assert.equal(r.summary.packets, rewritten.records.length);
      const want = withoutPacketCounters((l4All ? baseL4 : base).views);
      const got = withoutPacketCounters(r.views);
      assert.deepEqual(got, want, diffHint(want, got));
      assert.deepEqual(stableSummary(r), stableSummary(l4All ? baseL4 : base));
    }),
    { numRuns: NUM_RUNS, includeErrorInReport: true },
  );
  assert.ok(splitRuns > 0, 'some runs really split segments');
}

describe('TCP payload split at arbitrary points gives identical entries', () => {
  for (const path of captures) {
    test(basename(path), needsSharedFor(path), async (t) => {
      const f = parsePcap(readFileSync(path));
      if (splittableSegments(f).length === 0) return t.skip('no TCP payload');
      await splitProperty(basename(path), f);
    });
  }
});

describe('the same over IPv6', () => {
  for (const path of ipv6Captures) {
    test(`${basename(path)} as IPv6`, async () => {
      const f = toIpv6(parsePcap(readFileSync(path)));
      // Sanity: the rewrite really produced IPv6 entries.
      const base = await dissectFile(f);
      assert.ok(
        base.views.some((v) =>
          String((v.src as { ip?: string } | undefined)?.ip).startsWith('fd00::'),
        ),
        'entries carry IPv6 addresses',
      );
      await splitProperty(`${basename(path)} (IPv6)`, f);
    });
  }
});

describe('TCP payload split and coalesced again gives identical entries (times aside)', () => {
  for (const path of captures) {
    test(basename(path), needsSharedFor(path), async (t) => {
      const f = parsePcap(readFileSync(path));
      const segments = splittableSegments(f).length;
      if (segments === 0) return t.skip('no TCP payload');
      const base = await dissectFile(f);
      assert.equal(base.error, undefined);
      const want = stripTimes(withoutPacketCounters(base.views), []);
      const [first, last] = captureSpan(f);
      const arb = planArb(segments).chain((plan) => {
        const boundaries = coalescableBoundaries(split(f, plan));
        return fc.tuple(
          fc.constant(plan),
          fc.array(fc.boolean(), { minLength: boundaries, maxLength: boundaries }),
        );
      });
      await fc.assert(
        fc.asyncProperty(arb, async ([plan, merges]) => {
          const rewritten = coalesceTcp(split(f, plan), (b) => merges[b] ?? false);
          const r = await dissectFile(rewritten);
          assert.equal(r.error, undefined);
          const times: string[] = [];
          const got = stripTimes(withoutPacketCounters(r.views), times) as View[];
          assert.deepEqual(got, want, diffHint(want as View[], got));
          assert.deepEqual(stableSummary(r), stableSummary(base));
          // Times can only move within the capture's span (timestamps are ISO with µs).
          for (const t of times)
            assert.ok(t >= first && t <= last, `time ${t} in [${first}, ${last}]`);
        }),
        { numRuns: NUM_RUNS, includeErrorInReport: true },
      );
    });
  }

  test('coalescing alone (no split) merges real segments', needsShared(), () => {
    // The rechunk property above includes plans without cuts; this checks the rewrite does merge.
    const f = parsePcap(readFileSync(corpus('http/zeek-pipelined-requests.pcap')));
    const merged = coalesceTcp(f, () => true);
    assert.ok(merged.records.length < f.records.length);
  });
});
