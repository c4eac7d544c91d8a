/**
 * Benchmark (a program, not a test): feeds 1M synthetic TCP packets through TcpAssembler and
 * prints packets/s. Run: `node --expose-gc --import tsx src/tap/reassembly/assembler.bench.ts [packets]`.
 *
 * Workload: `CONCURRENT` connections interleaved round-robin, each a handshake, HTTP-like rounds
 * (one request segment, four 1400-byte response segments, client ACKs every second segment) and
 * a FIN exchange; finished connections are replaced by new ones (new client port). Packets are
 * generated in batches outside the timed section, with fresh address strings per packet as a
 * decoder produces them. The "disorder" run swaps 1% of packets with the next one of the same
 * connection and drops 0.2% of data segments. With --expose-gc the generator's garbage is collected
 * before each timed batch, so the figures are the assembler's own cost (its own garbage included).
 */
import type { DecodedPacket } from '../decode/types.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../decode/types.ts';
import { LimitCounters, defaultLimits } from '../../util/limits.ts';
import { TcpAssembler } from './assembler.ts';
import type { ConnectionFactory, Direction, TcpConnectionHandler } from './types.ts';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
const CONCURRENT = 2000;
const ROUNDS = 10;
const BATCH = 100_000;
const payload = Buffer.alloc(1400, 0x61);

class CountingHandler implements TcpConnectionHandler {
  static bytes = 0;
  static gaps = 0;
  onData(_dir: Direction, data: Buffer): void {
    CountingHandler.bytes += data.length;
  }
  onGap(_dir: Direction, n: number): void {
    CountingHandler.gaps += n;
  }
  onClose(): void {}
}

const factory: ConnectionFactory = {
  open: () => new CountingHandler(),
  isServerPort: (port) => port === 80,
};

/** One synthetic connection: yields its packets in order. */
class SynthConn {
  private readonly script: (() => DecodedPacket)[] = [];
  private i = 0;
  private pending: DecodedPacket | null = null;
  private cSeq: number;
  private sSeq: number;

  constructor(
    private readonly n: number,
    private readonly clientPort: number,
  ) {
    this.cSeq = (n * 2654435761) >>> 0;
    this.sSeq = (n * 40503 + 12345) >>> 0;
    const s = this.script;
    s.push(
      () => this.pkt(true, TCP_SYN, 0),
      () => this.pkt(false, TCP_SYN | TCP_ACK, 0),
    );
    s.push(() => this.pkt(true, TCP_ACK, 0));
    for (let r = 0; r < ROUNDS; r++) {
      s.push(() => this.pkt(true, TCP_PSH | TCP_ACK, 200));
      for (let k = 0; k < 4; k++) {
        s.push(() => this.pkt(false, TCP_ACK, 1400));
        if (k % 2 === 1) s.push(() => this.pkt(true, TCP_ACK, 0));
      }
    }
    s.push(
      () => this.pkt(true, TCP_FIN | TCP_ACK, 0),
      () => this.pkt(false, TCP_FIN | TCP_ACK, 0),
    );
    s.push(() => this.pkt(true, TCP_ACK, 0));
  }

  get done(): boolean {
    return this.i >= this.script.length && this.pending === null;
  }

  /** The next packet; with `swap`, this one and the following are sent in reverse order. */
  next(ts: number, swap: boolean): DecodedPacket {
    let p: DecodedPacket;
    if (this.pending !== null) {
      p = this.pending;
      this.pending = null;
    } else {
      p = this.script[this.i++]!();
      if (swap && !this.done) {
        this.pending = p;
        p = this.script[this.i++]!();
      }
    }
    p.ts = ts;
    return p;
  }

  private pkt(fromClient: boolean, flags: number, len: number): DecodedPacket {
    const cIp = `10.1.${(this.n >> 8) & 255}.${this.n & 255}`;
    const sIp = `10.2.0.${this.n % 50}`;
    const seq = fromClient ? this.cSeq : this.sSeq;
    const ack = fromClient ? this.sSeq : this.cSeq;
    const adv = len + ((flags & (TCP_SYN | TCP_FIN)) !== 0 ? 1 : 0);
    if (fromClient) this.cSeq = (this.cSeq + adv) >>> 0;
    else this.sSeq = (this.sSeq + adv) >>> 0;
    return {
      ts: 0,
      ipVersion: 4,
      src: fromClient ? cIp : sIp,
      dst: fromClient ? sIp : cIp,
      ipProto: 6,
      transport: 'tcp',
      ipBytes: 40 + len,
      srcPort: fromClient ? this.clientPort : 80,
      dstPort: fromClient ? 80 : this.clientPort,
      tcp: { seq, ack, flags, window: 5000, wscale: -1 },
      payload: payload.subarray(0, len),
      truncated: false,
    };
  }
}

function run(name: string, disorder: boolean): void {
  CountingHandler.bytes = 0;
  CountingHandler.gaps = 0;
  const counters = new LimitCounters();
  const asm = new TcpAssembler(factory, defaultLimits, counters);
  const conns: SynthConn[] = [];
  let opened = 0;
  for (; opened < CONCURRENT; opened++) conns.push(new SynthConn(opened, 1024 + opened));
  let ts = 1_700_000_000_000_000;
  let rr = 0;
  let rnd = 12345;
  const random = (): number => {
    rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
    return rnd / 2 ** 32;
  };
  let fed = 0;
  let ns = 0n;
  const rates: number[] = [];
  const batch: DecodedPacket[] = [];
  while (fed < TOTAL) {
    batch.length = 0;
    while (batch.length < Math.min(BATCH, TOTAL - fed)) {
      const c = conns[rr]!;
      const p = c.next((ts += 2), disorder && random() < 0.01);
      if (c.done) {
        conns[rr] = new SynthConn(opened, 1024 + (opened % 60000));
        opened++;
      }
      rr = (rr + 1) % CONCURRENT;
      if (disorder && p.payload.length > 0 && random() < 0.002) continue; // lost
      batch.push(p);
    }
    // Collect the generator's garbage outside the timed section (run with --expose-gc).
    gc?.();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch.length; i++) asm.packet(batch[i]!);
    const dt = process.hrtime.bigint() - t0;
    ns += dt;
    rates.push((batch.length * 1e9) / Number(dt));
    fed += batch.length;
  }
  const t0 = process.hrtime.bigint();
  asm.flushAll(ts);
  ns += process.hrtime.bigint() - t0;
  const secs = Number(ns) / 1e9;
  const s = asm.stats();
  rates.sort((a, b) => a - b);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(
    `${name.padEnd(9)} ${fed} packets in ${secs.toFixed(3)} s: ${fmt(fed / secs)} packets/s` +
      ` (per ${BATCH / 1000}k batch: median ${fmt(rates[rates.length >> 1]!)}, best ${fmt(rates.at(-1)!)})` +
      ` | conns ${s.connectionsOpened}, delivered ${(CountingHandler.bytes / 1e6).toFixed(0)} MB,` +
      ` gaps ${CountingHandler.gaps} B, retrans/ooo peak buffered ${s.bufferedBytesPeak} B`,
  );
}

// First pass warms up the JIT; the figures that count are the later ones. On a loaded machine
// the per-batch median and best are steadier than the total.
run('warm-up', false);
run('in-order', false);
run('disorder', true);
