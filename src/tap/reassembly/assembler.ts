/**
 * TCP reassembly: turns decoded TCP packets into ordered bytes per direction, explicit gaps and
 * one close per connection (CONVENTIONS 5).
 *
 * Each direction of a connection is a `Half`. Sequence numbers are converted to stream offsets
 * (plain numbers counting the sender's sequence space from the first one seen, SYN included), so
 * everything after the conversion is ordinary arithmetic; only the conversion uses 32-bit
 * wrapping math (seq.ts). Invariants of a Half, true between packets:
 *   - every byte before `nextOff` was delivered or reported as a gap, exactly once;
 *   - `held` segments are sorted, do not overlap, lie in (nextOff, finOff) and are copies;
 *   - `nextOff <= finOff` until the FIN is consumed, then `nextOff == finOff + 1`.
 *
 * Policies (the observer cannot know what the receiver kept, so it picks the Linux answers):
 *   - in-order data is delivered at once as a view of the packet; out-of-order data is copied
 *     and held until the hole before it fills;
 *   - overlapping bytes: the first copy to arrive wins (already delivered or held bytes are never
 *     replaced), only new bytes are delivered;
 *   - a hole is given up (reported through `onGap`, then the held data follows) when: the peer
 *     acknowledged past it (capture loss; checked when this direction's next packet arrives, so a
 *     slightly reordered capture still fills it), a buffer limit is exceeded, or the connection
 *     closes (second FIN, RST, idle, stream limit, end of capture). A first FIN with a hole
 *     before it waits like any other held data: a retransmission may still fill the hole.
 */
import type { DecodedPacket, TcpHeader } from '../decode/types.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/types.ts';
import type { DirectionStats } from '../../entry/model.ts';
import type { LimitCounters, Limits } from '../../util/limits.ts';
import { OldestFirst } from './oldest-first.ts';
import { seqAdd, seqDiff, seqGt } from './seq.ts';
import { TupleTable, tupleKey, type Tuple } from './table.ts';
import type {
  CloseReason,
  ConnectionFactory,
  Direction,
  TcpAssemblerStats,
  TcpConnectionHandler,
  TcpStats,
} from './types.ts';
import { FROM_CLIENT, FROM_SERVER } from './types.ts';

/**
 * How long a tuple closed by FIN or RST is remembered (µs of capture time), so that its trailing
 * bare ACKs (the final ACK of the close, a late FIN retransmission) do not open a new
 * connection. Linux keeps TIME_WAIT for 60 s.
 */
export const CLOSED_TUPLE_LINGER_US = 60_000_000;

/** An out-of-order segment held until the hole before it fills. */
interface Held {
  /** Stream offset of data[0]. */
  start: number;
  data: Buffer;
}

/** One direction of a connection: the byte stream its sender sends. */
class Half {
  /** False until the first packet of this direction; then `nextSeq` anchors the offsets. */
  started = false;
  /** The next byte to deliver, as a sequence number (uint32) and as a stream offset. */
  nextSeq = 0;
  nextOff = 0;
  /** End of the highest sequence space seen in any segment (duplicate-ACK rule). */
  highOff = 0;
  synSeen = false;
  isn = 0;
  /** Offset of the FIN's sequence number, -1 until one is seen. */
  finOff = -1;
  /** Highest ACK the peer sent for this direction (uint32), valid once `peerAckSeen`. */
  peerAck = 0;
  peerAckSeen = false;
  /** Last ack number and window this direction sent (duplicate-ACK rule); -1: none yet. */
  lastAck = -1;
  lastWin = -1;
  held: Held[] = [];
  heldBytes = 0;

  constructor(
    readonly conn: Conn,
    readonly dir: Direction,
    readonly stats: DirectionStats,
  ) {}
}

class Conn implements Tuple {
  readonly halves: readonly [Half, Half];
  readonly stats: TcpStats & { keepAlives: number };
  /** Least-recently-used list (head = least recently used). */
  prev: Conn | null = null;
  next: Conn | null = null;
  /** Time of the most recent client SYN (-1: none), and whether the server's SYN/ACK was seen. */
  synTs = -1;
  synAckSeen = false;
  /** The ack number of the SYN/ACK (the client's ISN + 1), -1 until one is seen. */
  synAckAck = -1;
  /** In the assembler's half-open set: no payload and no completed handshake yet. */
  halfOpen = false;

  constructor(
    readonly clientIp: string,
    readonly clientPort: number,
    readonly serverIp: string,
    readonly serverPort: number,
    readonly handler: TcpConnectionHandler,
    synSeen: boolean,
    ts: number,
  ) {
    this.stats = {
      client: { packets: 0, bytes: 0, payloadBytes: 0 },
      server: { packets: 0, bytes: 0, payloadBytes: 0 },
      synSeen,
      established: false,
      retransmissions: 0,
      outOfOrder: 0,
      duplicateAcks: 0,
      zeroWindow: 0,
      gapBytes: 0,
      keepAlives: 0,
      finClient: false,
      finServer: false,
      rst: false,
      firstTs: ts,
      lastTs: ts,
    };
    this.halves = [
      new Half(this, FROM_CLIENT, this.stats.client),
      new Half(this, FROM_SERVER, this.stats.server),
    ];
  }
}

function newStats(): TcpAssemblerStats {
  return {
    packets: 0,
    ignoredPackets: 0,
    connectionsOpened: 0,
    connectionsClosed: 0,
    connectionsActive: 0,
    closedBy: { fin: 0, rst: 0, idle: 0, limit: 0, end_of_capture: 0 },
    bytesDelivered: 0,
    gapBytes: 0,
    gaps: 0,
    bufferedBytes: 0,
    bufferedBytesPeak: 0,
    limitHits: {
      maxStreams: 0,
      maxHalfOpenConnections: 0,
      maxBufferedBytesPerConnection: 0,
      maxBufferedBytesTotal: 0,
    },
  };
}

export class TcpAssembler {
  private readonly conns = new TupleTable<Conn>();
  /** tupleKey of tuples closed by FIN/RST → close time, oldest first (CLOSED_TUPLE_LINGER_US). */
  private readonly recentlyClosed = new Map<string, number>();
  private head: Conn | null = null;
  private tail: Conn | null = null;
  /**
   * Connections with no payload yet and no completed handshake, oldest first: a SYN flood fills
   * this, never the connections that carry data (`limits.maxHalfOpenConnections`).
   */
  private readonly halfOpen = new OldestFirst<Conn>();
  /** Halves holding out-of-order bytes, in the order they started holding (oldest hole first). */
  private readonly holding = new Set<Half>();
  private readonly s = newStats();

  constructor(
    private readonly factory: ConnectionFactory,
    private readonly limits: Readonly<Limits>,
    private readonly counters: LimitCounters,
  ) {}

  /** One decoded packet, in capture order. Packets without a TCP header are ignored (counted). */
  packet(p: DecodedPacket): void {
    const tcp = p.tcp;
    if (tcp === undefined) {
      this.s.ignoredPackets++;
      return;
    }
    this.s.packets++;
    const sp = p.srcPort;
    const dp = p.dstPort;
    const flags = tcp.flags;
    let c = this.conns.get(p.src, sp, p.dst, dp);
    if (c !== undefined && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      const dir = sp === c.clientPort && p.src === c.clientIp ? FROM_CLIENT : FROM_SERVER;
      if (this.isNewIncarnation(c, dir, tcp.seq)) {
        // The tuple is reused while we still track its old connection, which can no longer
        // end normally: close it as abandoned ('fin' when it was half-closed).
        const st = c.stats;
        this.close(c, st.finClient || st.finServer ? 'fin' : 'idle', p.ts);
        c = undefined;
      }
    }
    if (c === undefined) {
      if (
        (flags & TCP_SYN) === 0 &&
        p.payload.length === 0 &&
        this.recentlyClosed.size > 0 &&
        this.recentlyClosed.has(tupleKey(p.src, sp, p.dst, dp))
      ) {
        this.s.ignoredPackets++;
        return;
      }
      c = this.open(p, flags);
    } else if (c !== this.tail) {
      this.unlink(c);
      this.append(c);
    }
    const dir = sp === c.clientPort && p.src === c.clientIp ? FROM_CLIENT : FROM_SERVER;
    this.segment(c, dir, p, tcp, flags);
    if (c.halfOpen && (c.stats.established || p.payload.length > 0)) {
      c.halfOpen = false;
      this.halfOpen.delete(c);
    }
  }

  /** Closes connections without a packet for more than `limits.idleTimeoutSec` (reason 'idle'). */
  flushIdle(nowTs: number): void {
    const cutoff = nowTs - this.limits.idleTimeoutSec * 1_000_000;
    // The LRU list is in order of last packet, so the idle ones are at its head.
    while (this.head !== null && this.head.stats.lastTs < cutoff) {
      this.close(this.head, 'idle', nowTs);
    }
    const lingerCutoff = nowTs - CLOSED_TUPLE_LINGER_US;
    for (const [key, ts] of this.recentlyClosed) {
      if (ts >= lingerCutoff) break;
      this.recentlyClosed.delete(key);
    }
  }

  /** End of capture: closes every connection (reason 'end_of_capture'), least recent first. */
  flushAll(ts: number): void {
    while (this.head !== null) this.close(this.head, 'end_of_capture', ts);
    this.recentlyClosed.clear();
  }

  stats(): TcpAssemblerStats {
    const s = this.s;
    return {
      ...s,
      connectionsActive: this.conns.size,
      closedBy: { ...s.closedBy },
      limitHits: { ...s.limitHits },
    };
  }

  // ------------------------------------------------------------------ connections

  /**
   * A bare SYN on a tracked tuple: a retransmission of the SYN we know (same ISN), a SYN the
   * capture delivered after the SYN/ACK that acknowledged it, the server's SYN of a simultaneous
   * open, or else a new connection reusing the tuple.
   */
  private isNewIncarnation(c: Conn, dir: Direction, seq: number): boolean {
    const h = c.halves[dir];
    if (h.synSeen) return seq !== h.isn;
    if (c.synAckAck >= 0 && seqAdd(seq, 1) === c.synAckAck) return false;
    return !(dir === FROM_SERVER && c.halves[FROM_CLIENT].synSeen && !h.started);
  }

  private open(p: DecodedPacket, flags: number): Conn {
    const sp = p.srcPort;
    const dp = p.dstPort;
    let clientIsSrc: boolean;
    if ((flags & TCP_SYN) !== 0) {
      // SYN: its sender is the client; SYN/ACK: its receiver is.
      clientIsSrc = (flags & TCP_ACK) === 0;
    } else {
      // Mid-stream: a known server port decides, else the lower port is the server; on equal
      // ports the first packet's sender is the client.
      const srcIsServer = this.factory.isServerPort(sp);
      const dstIsServer = this.factory.isServerPort(dp);
      clientIsSrc = srcIsServer !== dstIsServer ? dstIsServer : sp >= dp;
    }
    if (p.payload.length === 0 && this.halfOpen.size >= this.limits.maxHalfOpenConnections) {
      // A flood of handshakes that go nowhere: the oldest of them goes, not a live connection.
      const oldest = this.halfOpen.oldest()!;
      this.counters.hit('maxHalfOpenConnections');
      this.s.limitHits.maxHalfOpenConnections++;
      this.close(oldest, 'limit', p.ts);
    }
    if (this.conns.size >= this.limits.maxStreams && this.head !== null) {
      this.counters.hit('maxStreams');
      this.s.limitHits.maxStreams++;
      this.close(this.head, 'limit', p.ts);
    }
    const synSeen = (flags & TCP_SYN) !== 0;
    const ck = clientIsSrc
      ? { clientIp: p.src, clientPort: sp, serverIp: p.dst, serverPort: dp }
      : { clientIp: p.dst, clientPort: dp, serverIp: p.src, serverPort: sp };
    const handler = this.factory.open(ck, p.ts, synSeen);
    const c = new Conn(
      ck.clientIp,
      ck.clientPort,
      ck.serverIp,
      ck.serverPort,
      handler,
      synSeen,
      p.ts,
    );
    this.conns.add(c);
    if (p.payload.length === 0) {
      // Leaves the set in packet() once it completes its handshake or carries data.
      c.halfOpen = true;
      this.halfOpen.add(c);
    }
    if (this.recentlyClosed.size > 0) this.recentlyClosed.delete(tupleKey(p.src, sp, p.dst, dp));
    this.append(c);
    this.s.connectionsOpened++;
    return c;
  }

  /** Gives up every hole of both directions, then reports the close (exactly once). */
  private close(c: Conn, reason: CloseReason, ts: number): void {
    this.conns.delete(c);
    if (c.halfOpen) {
      c.halfOpen = false;
      this.halfOpen.delete(c);
    }
    this.unlink(c);
    this.finishHalf(c.halves[FROM_CLIENT], ts);
    this.finishHalf(c.halves[FROM_SERVER], ts);
    if (reason === 'fin' || reason === 'rst') {
      this.recentlyClosed.set(tupleKey(c.clientIp, c.clientPort, c.serverIp, c.serverPort), ts);
      if (this.recentlyClosed.size > this.limits.maxStreams) {
        for (const oldest of this.recentlyClosed.keys()) {
          this.recentlyClosed.delete(oldest);
          break;
        }
      }
    }
    this.s.connectionsClosed++;
    this.s.closedBy[reason]++;
    c.handler.onClose(c.stats, reason, ts);
  }

  private append(c: Conn): void {
    c.prev = this.tail;
    c.next = null;
    if (this.tail === null) this.head = c;
    else this.tail.next = c;
    this.tail = c;
  }

  private unlink(c: Conn): void {
    if (c.prev === null) this.head = c.next;
    else c.prev.next = c.next;
    if (c.next === null) this.tail = c.prev;
    else c.next.prev = c.prev;
    c.prev = null;
    c.next = null;
  }

  // ------------------------------------------------------------------ one segment

  private segment(c: Conn, dir: Direction, p: DecodedPacket, tcp: TcpHeader, flags: number): void {
    const h = c.halves[dir];
    const peer = c.halves[dir === FROM_CLIENT ? FROM_SERVER : FROM_CLIENT];
    const st = c.stats;
    const ts = p.ts;
    const data = p.payload;
    const len = data.length;
    h.stats.packets++;
    h.stats.bytes += p.ipBytes;
    h.stats.payloadBytes += len;
    if (ts > st.lastTs) st.lastTs = ts;

    if ((flags & TCP_RST) !== 0) {
      // An RST ends both directions at once; its payload (a diagnostic text) is not stream data.
      st.rst = true;
      this.close(c, 'rst', ts);
      return;
    }
    if ((flags & TCP_ACK) !== 0 && (!peer.peerAckSeen || seqGt(tcp.ack, peer.peerAck))) {
      peer.peerAck = tcp.ack;
      peer.peerAckSeen = true;
    }
    // Handshake: RTT from the most recent SYN to the client's first ACK after the SYN/ACK, as
    // tshark's tcp.analysis.initial_rtt.
    if ((flags & TCP_SYN) !== 0) {
      if ((flags & TCP_ACK) === 0) {
        if (dir === FROM_CLIENT) c.synTs = ts;
      } else if (dir === FROM_SERVER) {
        c.synAckSeen = true;
        c.synAckAck = tcp.ack;
      }
    } else if ((flags & TCP_ACK) !== 0 && dir === FROM_CLIENT && c.synAckSeen && !st.established) {
      if (c.synTs >= 0) st.handshakeRtt = ts - c.synTs;
      st.established = true;
    }
    // As tshark's tcp.analysis.zero_window.
    if (tcp.window === 0 && (flags & (TCP_SYN | TCP_FIN)) === 0) st.zeroWindow++;

    const syn = (flags & TCP_SYN) !== 0 ? 1 : 0;
    const fin = (flags & TCP_FIN) !== 0 ? 1 : 0;
    // The SYN that starts a direction is consumed by start(); it is not a retransmission.
    const synStarts = !h.started && syn === 1;
    if (!h.started) this.start(h, tcp.seq, syn, fin, len);
    const off = h.nextOff + seqDiff(tcp.seq, h.nextSeq);
    const end = off + syn + len + fin;
    if (syn + len + fin === 0) {
      if (this.isKeepAlive(h, tcp.seq, off)) {
        st.keepAlives++;
      } else if (
        // As tshark's tcp.analysis.duplicate_ack: same ack and (non-zero) window as this
        // direction's previous packet, no data, at the highest sequence number seen.
        (flags & TCP_ACK) !== 0 &&
        tcp.window !== 0 &&
        tcp.window === h.lastWin &&
        tcp.ack === h.lastAck &&
        off === h.highOff
      ) {
        st.duplicateAcks++;
      }
    } else if (syn + fin === 0 && len <= 1 && this.isKeepAlive(h, tcp.seq, off)) {
      st.keepAlives++;
    } else if (end <= h.nextOff) {
      if (!synStarts) st.retransmissions++;
    } else {
      this.accept(c, h, data, off + syn, fin === 1, ts);
    }
    if (end > h.highOff) h.highOff = end;
    h.lastWin = tcp.window;
    if ((flags & TCP_ACK) !== 0) h.lastAck = tcp.ack;

    // The peer acknowledged bytes of this direction that were never seen: capture loss.
    if (h.peerAckSeen && seqGt(h.peerAck, h.nextSeq)) this.fillToAck(h, ts);

    if (h.finOff >= 0 && peer.finOff >= 0) {
      this.close(c, 'fin', ts);
      return;
    }
    if (!st.established && st.client.payloadBytes > 0 && st.server.payloadBytes > 0) {
      st.established = true;
    }
  }

  /** Anchors a direction's offsets at its first packet. */
  private start(h: Half, seq: number, syn: number, fin: number, len: number): void {
    h.started = true;
    if (syn === 1) {
      h.synSeen = true;
      h.isn = seq;
      h.nextSeq = seqAdd(seq, 1);
      h.nextOff = 1;
      h.highOff = 1;
    } else if (fin === 0 && len <= 1 && h.peerAckSeen && seqAdd(seq, 1) === h.peerAck) {
      // Mid-stream, the first packet is a keep-alive probe (the peer already acknowledged its
      // byte): start after it so its garbage byte is never delivered.
      h.nextSeq = h.peerAck;
    } else {
      h.nextSeq = seq;
    }
  }

  /**
   * A probe re-sending the byte before the next one (RFC 1122 keep-alive: seq = next - 1 with 0
   * or 1 byte), either by our own position or because the peer already acknowledged it.
   */
  private isKeepAlive(h: Half, seq: number, off: number): boolean {
    return off === h.nextOff - 1 || (h.peerAckSeen && seqAdd(seq, 1) === h.peerAck);
  }

  /** A segment with something new: data starting at offset `dataOff` (maybe partly old), FIN. */
  private accept(c: Conn, h: Half, data: Buffer, dataOff: number, fin: boolean, ts: number): void {
    const st = c.stats;
    let to = dataOff + data.length;
    let fresh = false;
    if (fin && h.finOff < 0) {
      h.finOff = to;
      if (h.dir === FROM_CLIENT) st.finClient = true;
      else st.finServer = true;
      this.dropHeldAfter(h, to);
      fresh = true;
    }
    if (h.finOff >= 0 && to > h.finOff) to = h.finOff; // nothing follows a FIN
    let from = dataOff;
    const overlapsOld = from < h.nextOff;
    if (overlapsOld) from = h.nextOff;
    if (from < to) {
      if (from === h.nextOff) {
        this.deliverInOrder(h, data, dataOff, to, ts);
        fresh = true;
      } else if (this.hold(h, data, dataOff, from, to) > 0) {
        st.outOfOrder++;
        fresh = true;
        this.enforceBufferLimits(h, ts);
      }
    }
    if (overlapsOld || !fresh) st.retransmissions++;
    this.consumeFin(h);
  }

  /**
   * Delivers [nextOff, to) of `data` (whose byte 0 is at `dataOff`), interleaved with held
   * segments: bytes already held were first and win, the rest are views of the packet.
   */
  private deliverInOrder(h: Half, data: Buffer, dataOff: number, to: number, ts: number): void {
    for (;;) {
      const first = h.held[0];
      const stop = first === undefined || first.start >= to ? to : first.start;
      if (stop > h.nextOff) {
        const whole = h.nextOff === dataOff && stop === dataOff + data.length;
        this.emit(h, whole ? data : data.subarray(h.nextOff - dataOff, stop - dataOff), ts);
      }
      if (first === undefined || first.start > h.nextOff) return;
      this.drain(h, ts);
      if (h.nextOff >= to) return;
    }
  }

  private emit(h: Half, bytes: Buffer, ts: number): void {
    const n = bytes.length;
    h.nextOff += n;
    h.nextSeq = seqAdd(h.nextSeq, n);
    this.s.bytesDelivered += n;
    h.conn.handler.onData(h.dir, bytes, ts);
  }

  private gap(h: Half, n: number, ts: number): void {
    h.nextOff += n;
    h.nextSeq = seqAdd(h.nextSeq, n);
    h.conn.stats.gapBytes += n;
    this.s.gapBytes += n;
    this.s.gaps++;
    h.conn.handler.onGap(h.dir, n, ts);
  }

  /** The FIN takes one sequence number once everything before it is delivered or gapped. */
  private consumeFin(h: Half): void {
    if (h.nextOff === h.finOff) {
      h.nextOff++;
      h.nextSeq = seqAdd(h.nextSeq, 1);
    }
  }

  // ------------------------------------------------------------------ out-of-order data

  /** Delivers the held segments that continue the stream at `nextOff`. */
  private drain(h: Half, ts: number): void {
    const held = h.held;
    let n = 0;
    let bytes = 0;
    for (let seg = held[0]; seg !== undefined && seg.start === h.nextOff; seg = held[n]) {
      bytes += seg.data.length;
      n++;
      this.emit(h, seg.data, ts);
    }
    if (n > 0) {
      held.splice(0, n);
      this.release(h, bytes);
    }
  }

  /**
   * Copies the bytes of [from, to) that are not held yet (first arrival wins) into `held`.
   * Returns how many new bytes it holds.
   */
  private hold(h: Half, data: Buffer, dataOff: number, from: number, to: number): number {
    const held = h.held;
    // held[j..i) overlap [from, to); held[i..] lie after it. Scanning from the end is short in
    // the common case (segments after a hole arrive in ascending order).
    let i = held.length;
    while (i > 0 && held[i - 1]!.start >= to) i--;
    let j = i;
    while (j > 0 && held[j - 1]!.start + held[j - 1]!.data.length > from) j--;
    let added = 0;
    if (j === i) {
      held.splice(i, 0, {
        start: from,
        data: Buffer.from(data.subarray(from - dataOff, to - dataOff)),
      });
      added = to - from;
    } else {
      const merged: Held[] = [];
      let s = from;
      for (let k = j; k < i; k++) {
        const seg = held[k]!;
        if (seg.start > s) {
          merged.push({
            start: s,
            data: Buffer.from(data.subarray(s - dataOff, seg.start - dataOff)),
          });
          added += seg.start - s;
        }
        merged.push(seg);
        s = Math.max(s, seg.start + seg.data.length);
      }
      if (s < to) {
        merged.push({ start: s, data: Buffer.from(data.subarray(s - dataOff, to - dataOff)) });
        added += to - s;
      }
      held.splice(j, i - j, ...merged);
    }
    if (added > 0) {
      if (h.heldBytes === 0) this.holding.add(h);
      h.heldBytes += added;
      this.s.bufferedBytes += added;
      if (this.s.bufferedBytes > this.s.bufferedBytesPeak) {
        this.s.bufferedBytesPeak = this.s.bufferedBytes;
      }
    }
    return added;
  }

  private release(h: Half, bytes: number): void {
    h.heldBytes -= bytes;
    this.s.bufferedBytes -= bytes;
    if (h.heldBytes === 0) this.holding.delete(h);
  }

  /** A FIN was learned: held bytes at or after it can never be stream data. */
  private dropHeldAfter(h: Half, finOff: number): void {
    const held = h.held;
    for (
      let last = held.at(-1);
      last !== undefined && last.start + last.data.length > finOff;
      last = held.at(-1)
    ) {
      if (last.start < finOff) {
        this.release(h, last.start + last.data.length - finOff);
        last.data = last.data.subarray(0, finOff - last.start);
        return;
      }
      held.pop();
      this.release(h, last.data.length);
    }
  }

  /** Reports the hole before the first held segment as a gap and delivers what follows it. */
  private skipHole(h: Half, ts: number): void {
    const first = h.held[0]!;
    this.gap(h, first.start - h.nextOff, ts);
    this.drain(h, ts);
    this.consumeFin(h);
  }

  private enforceBufferLimits(h: Half, ts: number): void {
    const lim = this.limits;
    if (h.heldBytes > lim.maxBufferedBytesPerConnection) {
      this.counters.hit('maxBufferedBytesPerConnection');
      this.s.limitHits.maxBufferedBytesPerConnection++;
      while (h.heldBytes > lim.maxBufferedBytesPerConnection) this.skipHole(h, ts);
    }
    if (this.s.bufferedBytes > lim.maxBufferedBytesTotal) {
      this.counters.hit('maxBufferedBytesTotal');
      this.s.limitHits.maxBufferedBytesTotal++;
      // Oldest holes first: they are the least likely to be filled by a retransmission.
      for (const x of this.holding) {
        while (x.held.length > 0) this.skipHole(x, ts);
        if (this.s.bufferedBytes <= lim.maxBufferedBytesTotal) break;
      }
    }
  }

  /**
   * The peer acknowledged up to `peerAck`: every byte before it was sent, so the holes before it
   * will not be filled. Reports them as gaps and delivers the held data between them.
   */
  private fillToAck(h: Half, ts: number): void {
    const target = h.nextOff + seqDiff(h.peerAck, h.nextSeq);
    // A consumed FIN ends the stream: an ACK beyond it is not evidence of data.
    while (h.nextOff < target && !(h.finOff >= 0 && h.nextOff > h.finOff)) {
      const first = h.held[0];
      let stop = first !== undefined && first.start < target ? first.start : target;
      if (h.finOff >= 0 && stop > h.finOff) stop = h.finOff;
      this.gap(h, stop - h.nextOff, ts);
      this.drain(h, ts);
      this.consumeFin(h);
    }
  }

  /** On close: every hole of this direction becomes a gap, held data is delivered. */
  private finishHalf(h: Half, ts: number): void {
    if (!h.started) return;
    while (h.held.length > 0) this.skipHole(h, ts);
    if (h.peerAckSeen && seqGt(h.peerAck, h.nextSeq)) this.fillToAck(h, ts);
    if (h.finOff >= h.nextOff) {
      if (h.finOff > h.nextOff) this.gap(h, h.finOff - h.nextOff, ts);
      this.consumeFin(h);
    }
  }
}
