/**
 * Test helpers for dissector sessions (imported by *.test.ts only).
 *
 * `startTeeProxy` sits between a real client and a real server on loopback and records the bytes
 * each side sends, in arrival order, with capture-like timestamps — the same view a session gets
 * from TCP reassembly. `testContext` is a SessionContext that collects what a session emits.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Direction } from '../../src/tap/reassembly/types.ts';
import { defaultLimits, LimitCounters, type Limits } from '../../src/util/limits.ts';
import type { Emitted, Session, SessionContext } from '../../src/tap/dissectors/types.ts';
import { dissectorById } from '../../src/tap/dissectors/registry.ts';

export interface Chunk {
  dir: Direction;
  data: Buffer;
  /** µs since the epoch. */
  ts: number;
  /** Instead of data: this many bytes are missing here (a capture gap). */
  gap?: number;
}

export interface TeeProxy {
  port: number;
  /** One chunk list per accepted connection, in accept order. */
  connections: Chunk[][];
  close(): Promise<void>;
}

function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export async function startTeeProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TeeProxy> {
  const connections: Chunk[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const chunks: Chunk[] = [];
    connections.push(chunks);
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pause(); // forward nothing before the upstream connection exists
    upstream.on('connect', () => client.resume());
    client.on('data', (d) => {
      chunks.push({ dir: 0, data: Buffer.from(d), ts: nowUs() });
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      chunks.push({ dir: 1, data: Buffer.from(d), ts: nowUs() });
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface TestContext {
  ctx: SessionContext;
  entries: Emitted[];
  violations: string[];
  counters: LimitCounters;
}

export function testContext(limits: Partial<Limits> = {}): TestContext {
  const entries: Emitted[] = [];
  const violations: string[] = [];
  const counters = new LimitCounters();
  const ctx: SessionContext = {
    transport: 'tcp',
    flowId: 1,
    limits: { ...defaultLimits, ...limits },
    counters,
    emit: (e) => entries.push(e),
    violation: (m) => violations.push(m),
    // As the pipeline does: the registry's dissector (an HTTP upgrade to WebSocket).
    handoff: (to, from) => dissectorById(to)?.createSession(ctx, from),
  };
  return { ctx, entries, violations, counters };
}

/** Feeds recorded chunks (and gaps) to a session, then ends it (unless `end` is false). */
export function replay(session: Session, chunks: readonly Chunk[], end = true): void {
  for (const c of chunks) {
    if (c.gap !== undefined) session.onGap(c.dir, c.gap, c.ts);
    else session.onData(c.dir, c.data, c.ts);
  }
  if (end) session.onEnd((chunks[chunks.length - 1]?.ts ?? 0) + 1);
}

/** Concatenated bytes of one direction. */
export function bytesOf(chunks: readonly Chunk[], dir: Direction): Buffer {
  return Buffer.concat(chunks.filter((c) => c.dir === dir).map((c) => c.data));
}

/**
 * Re-cuts every chunk into pieces whose lengths cycle through `sizes` (each piece keeps its
 * chunk's timestamp): the same bytes, delivered in other chunks.
 */
export function resplit(chunks: readonly Chunk[], sizes: readonly number[]): Chunk[] {
  const out: Chunk[] = [];
  let k = 0;
  for (const c of chunks) {
    if (c.gap !== undefined) out.push(c);
    for (let off = 0; off < c.data.length;) {
      const n = Math.max(1, sizes[k++ % sizes.length] ?? 1);
      out.push({ dir: c.dir, data: c.data.subarray(off, off + n), ts: c.ts });
      off += n;
    }
  }
  return out;
}

/** Everything a session produced, as one comparable string. */
export function outcome(t: TestContext): string {
  return JSON.stringify({ entries: t.entries, violations: t.violations, counters: t.counters });
}
