/**
 * DNS session: one UDP flow or TCP connection. Frames messages (one per datagram; length-prefixed
 * on TCP), pairs queries with responses and emits one entry per call.
 *
 * Pairing: a response answers the pending query with the same ID and the same first question
 * (name case-insensitively, type, class) — which direction a message came from does not matter,
 * the QR bit says what it is. A response without questions (mDNS, where every ID is 0; FORMERR)
 * takes the oldest pending query with its ID whose question its records answer, else the oldest
 * with its ID. Responses may come in any order.
 *
 * Retransmissions: a query with the ID and question of a query still waiting for its response is
 * the client asking again (UDP timeout), not a new call. It is folded into the pending entry and
 * counted in `record.retransmissions`; `ts`/`elapsed` stay measured from the first transmission, the
 * latency the client actually experienced. So one call is one entry, and entries with a request
 * plus their retransmissions equal the query packets tshark counts. A repeated response has no
 * query left to pair with and is emitted alone, so entries with a response equal tshark's
 * response count. Folding works within a flow: glibc and musl retry on the same socket, but dig
 * and c-ares (Node) retry from a new source port — another UDP flow, so another entry (each
 * unanswered one carries KS_NO_RESPONSE); the counts stay comparable either way.
 */
import type { EntryError } from '../../../entry/model.ts';
import type { DnsMessage, DnsRecord } from './record.ts';
import type { Direction } from '../../reassembly/types.ts';
import type { Limits } from '../../../util/limits.ts';
import type { Session, SessionContext } from '../types.ts';
import { ByteAccumulator } from '../common/accumulator.ts';
import { TCP_PREFIX_BYTES, assessDnsTcp, dnsTcpPduLength, parseDnsMessage } from './parse.ts';

const QR = 0x8000;

interface Pending {
  query: DnsMessage;
  error?: EntryError;
  retransmissions: number;
}

const pairKey = (m: DnsMessage): string => {
  const q = m.questions[0];
  return q ? `${m.id}|${q.name.toLowerCase()}|${q.type}|${q.class}` : `${m.id}|`;
};

/**
 * Reassembles length-prefixed messages (RFC 1035 §4.2.2) from one direction of a TCP connection;
 * chunk boundaries do not matter. Whole messages in a chunk are passed on as views; only an
 * unfinished one is kept (in the shared accumulator).
 */
class TcpFramer {
  private readonly acc = new ByteAccumulator();
  /** Capture time of the first kept byte (the start of the unfinished message). */
  private keptTs = 0;
  /** Bytes still to skip: the rest of an over-limit message, or of one hit by a gap. */
  private skip = 0;
  /** A gap swallowed a length prefix: framing is lost until a chunk starts with a message. */
  private lost = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly onMessage: (msg: Buffer, ts: number) => void,
  ) {}

  push(data: Buffer, ts: number): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      data = data.subarray(n);
    }
    if (data.length === 0) return;
    if (this.lost) {
      // Resynchronise only where a chunk plausibly starts a message (segments usually do).
      if (assessDnsTcp(data, true) === 'no') return;
      this.lost = false;
    }
    const kept = this.acc.length;
    const buf = this.acc.join(data);
    let off = 0;
    for (let pdu = dnsTcpPduLength(buf, 0); pdu !== undefined; pdu = dnsTcpPduLength(buf, off)) {
      const msgTs = off < kept ? this.keptTs : ts;
      if (pdu - TCP_PREFIX_BYTES > this.ctx.limits.maxPduBytes) {
        this.ctx.counters.hit('maxPduBytes');
        this.skip = Math.max(0, off + pdu - buf.length);
        off = Math.min(off + pdu, buf.length);
        continue;
      }
      if (off + pdu > buf.length) break;
      this.onMessage(buf.subarray(off + TCP_PREFIX_BYTES, off + pdu), msgTs);
      off += pdu;
    }
    if (off >= kept) this.keptTs = ts; // what is kept starts in this chunk
    this.acc.keep(buf, off);
  }

  /**
   * `bytes` are missing. Inside a message of known length the next prefix is still known: the
   * damaged message is dropped and framing continues; a gap over a prefix loses the framing.
   */
  gap(bytes: number): void {
    if (this.lost) return;
    const kept = this.acc.peek();
    const pdu = dnsTcpPduLength(kept, 0);
    const rest = this.skip + (pdu === undefined ? 0 : pdu - kept.length);
    this.acc.clear();
    if (bytes <= rest) {
      this.skip = rest - bytes;
      return;
    }
    this.skip = 0;
    this.lost = true;
  }

  /** The start of a message cut short by the end of the connection, if any. */
  leftover(): { bytes: Buffer; ts: number } | undefined {
    const kept = this.acc.peek();
    if (kept.length <= TCP_PREFIX_BYTES) return undefined;
    return { bytes: kept.subarray(TCP_PREFIX_BYTES), ts: this.keptTs };
  }
}

export class DnsSession implements Session {
  /** Queries waiting for a response, oldest first (Map insertion order). */
  private readonly pending = new Map<string, Pending>();
  private readonly framers: [TcpFramer, TcpFramer] | undefined;
  private gaps = 0;
  private ended = false;
  /** Inside onData: an onEnd now comes from a detach triggered by our own violation report. */
  private busy = false;

  constructor(private readonly ctx: SessionContext) {
    if (ctx.transport === 'tcp') {
      const onMessage = (msg: Buffer, ts: number): void => this.message(msg, ts);
      this.framers = [new TcpFramer(ctx, onMessage), new TcpFramer(ctx, onMessage)];
    }
  }

  onData(dir: Direction, data: Buffer, ts: number): void {
    if (this.ended) return;
    this.busy = true;
    try {
      if (this.framers) this.framers[dir].push(data, ts);
      else this.message(data, ts);
    } finally {
      this.busy = false;
    }
  }

  onGap(dir: Direction, bytes: number, _ts: number): void {
    this.gaps++;
    this.framers?.[dir].gap(bytes);
  }

  onEnd(_ts: number, evictedBy?: keyof Limits): void {
    if (this.ended) return;
    // Messages cut short by the end; not when detached mid-chunk (the framer is mid-parse).
    for (const framer of this.busy ? [] : (this.framers ?? [])) {
      const cut = framer.leftover();
      if (cut) this.message(cut.bytes, cut.ts, 'message cut short by the end of the connection');
    }
    this.ended = true;
    const cut: EntryError | undefined = evictedBy && {
      code: 'KS_LIMIT_PENDING',
      message: `no response before the ${this.ctx.transport === 'udp' ? 'flow' : 'connection'} was closed by the ${evictedBy} limit (${this.ctx.limits[evictedBy]})`,
    };
    for (const p of this.pending.values()) {
      this.emit(
        p,
        undefined,
        p.error ?? cut ?? { code: 'KS_NO_RESPONSE', message: this.noResponseText(p) },
      );
    }
    this.pending.clear();
  }

  private noResponseText(p: Pending): string {
    let s = 'no response to the query';
    if (p.retransmissions > 0) s += ` (sent ${p.retransmissions + 1} times)`;
    if (this.gaps > 0) s += `; the capture missed bytes of this connection (${this.gaps} gaps)`;
    return s;
  }

  /** One whole message (or, with `cut`, the start of one). */
  private message(bytes: Buffer, ts: number, cut?: string): void {
    if (this.ended) return;
    const r = parseDnsMessage(bytes);
    const problem = cut ?? (r.ok ? undefined : r.error);
    if (r.message) {
      const msg: DnsMessage = { ...r.message, ts };
      const error: EntryError | undefined = problem
        ? { code: 'KS_DISSECT_MALFORMED', message: problem }
        : undefined;
      if (msg.flags & QR) this.response(msg, error);
      else this.query(msg, error);
    }
    // Reported after the entry is in place: the pipeline may detach (and end) this session.
    if (problem) this.ctx.violation(`dns: ${problem}`);
  }

  private query(msg: DnsMessage, error: EntryError | undefined): void {
    const key = pairKey(msg);
    const same = this.pending.get(key);
    if (same) {
      same.retransmissions++;
      return;
    }
    if (this.pending.size >= this.ctx.limits.maxPendingRequests) {
      const [oldestKey, oldest] = this.pending.entries().next().value!;
      this.pending.delete(oldestKey);
      this.ctx.counters.hit('maxPendingRequests');
      this.emit(oldest, undefined, {
        code: 'KS_LIMIT_PENDING',
        message: `no response before ${this.ctx.limits.maxPendingRequests} newer queries were pending (maxPendingRequests)`,
      });
    }
    this.pending.set(
      key,
      error ? { query: msg, error, retransmissions: 0 } : { query: msg, retransmissions: 0 },
    );
  }

  private response(msg: DnsMessage, error: EntryError | undefined): void {
    let key: string | undefined = pairKey(msg);
    if (!this.pending.has(key)) {
      key = undefined;
      if (msg.questions.length === 0) key = this.byAnswers(msg);
    }
    const p = key === undefined ? undefined : this.pending.get(key);
    if (key !== undefined) this.pending.delete(key);
    if (p) this.emit(p, msg, error ?? p.error);
    else this.emitResponse(msg, error);
  }

  /**
   * The pending query a response without questions answers (mDNS responses carry none, RFC 6762
   * §6; FORMERR may carry none): among the queries with its ID — all 0 in mDNS — the oldest one
   * whose question one of its records answers (same name, and same type, a CNAME, or a query for
   * ANY), else the oldest with its ID.
   */
  private byAnswers(msg: DnsMessage): string | undefined {
    let first: string | undefined;
    const records = [...msg.answers, ...msg.authorities, ...msg.additionals];
    for (const [k, p] of this.pending) {
      if (p.query.id !== msg.id) continue;
      first ??= k;
      const q = p.query.questions[0];
      if (!q) continue;
      const name = q.name.toLowerCase();
      const answered = records.some(
        (r) =>
          r.name.toLowerCase() === name &&
          (r.type === q.type || r.type === 'CNAME' || q.type === 'ANY'),
      );
      if (answered) return k;
    }
    return first;
  }

  private emit(p: Pending, response: DnsMessage | undefined, error: EntryError | undefined): void {
    const record: DnsRecord = { kind: 'dns', transport: this.ctx.transport, request: p.query };
    if (response) record.response = response;
    if (p.retransmissions > 0) record.retransmissions = p.retransmissions;
    this.ctx.emit({
      record,
      ts: p.query.ts,
      elapsed: response ? response.ts - p.query.ts : 0,
      requestSize: p.query.length,
      responseSize: response?.length ?? 0,
      ...(error ? { error } : {}),
    });
  }

  private emitResponse(msg: DnsMessage, error: EntryError | undefined): void {
    this.ctx.emit({
      record: { kind: 'dns', transport: this.ctx.transport, response: msg },
      ts: msg.ts,
      elapsed: 0,
      requestSize: 0,
      responseSize: msg.length,
      ...(error ? { error } : {}),
    });
  }
}
