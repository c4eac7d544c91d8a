/**
 * Incremental WebSocket (RFC 6455) frame parser for one direction: bytes → messages.
 * Frames are assembled into messages (fragmentation; control frames may be interleaved and are
 * messages of their own). Payloads stream through: only the first `maxKeep` bytes of a message
 * are kept (unmasked); only an incomplete frame header (≤ 14 bytes) is ever buffered.
 */
import { ByteAccumulator } from '../common/accumulator.ts';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export interface WsMessage {
  opcode: number;
  frames: number;
  /** Every frame of the message was masked. */
  masked: boolean;
  /** RSV1 on the first frame (permessage-deflate). */
  compressed: boolean;
  /** Sum of the frames' payload lengths (as on the wire, before inflation). */
  payloadLength: number;
  /** Kept payload, unmasked: at most `maxKeep` bytes. */
  payload: Buffer;
  /** `payload` is only a prefix (keep limit, gap, message cut short). */
  payloadCut: boolean;
  gapBytes: number;
  /** Frame headers + payloads on the wire. */
  wireBytes: number;
  /** Capture time of the first frame's first byte. */
  ts: number;
  /** Close frames: status code and reason. */
  closeCode?: number;
  closeReason?: string;
  /** The message did not end with its FIN frame: stream end, gap, or a new message began. */
  cut?: 'end' | 'gap' | 'interrupted';
}

export interface WsParserSink {
  onMessage(msg: WsMessage): void;
  onViolation(message: string): void;
  onLimit(name: 'maxPduBytes' | 'maxBodyBytes'): void;
}

export interface WsParserOptions {
  fromClient: boolean;
  /** RSV1 is legal on first frames of data messages (permessage-deflate was negotiated). */
  rsv1Allowed: boolean;
  maxKeep: number;
  /** Frames with a larger payload are a violation (still parsed, payload streamed). */
  maxFrameBytes: number;
}

interface Building {
  msg: WsMessage;
  parts: Buffer[];
  kept: number;
}

const EMPTY = Buffer.alloc(0);
const enum S {
  Header,
  Payload,
  /** Framing lost (gap inside a header, impossible length): nothing more is parsed. */
  Dead,
}

export class WsParser {
  private state: number = S.Header;
  private readonly acc = new ByteAccumulator();
  /** The fragmented data message in progress. */
  private data: Building | undefined;
  /** The message the current frame's payload belongs to (data or a control message). */
  private frame: Building | undefined;
  private remaining = 0;
  private fin = false;
  private mask: Uint8Array | undefined;
  private maskPos = 0;
  private warnedMask = false;
  /** Capture time of the first byte of a partially received header. */
  private carriedTs = 0;

  constructor(
    private readonly opts: WsParserOptions,
    private readonly sink: WsParserSink,
  ) {}

  push(data: Buffer, ts: number): void {
    if (this.state === S.Dead) return;
    const carried = this.acc.length; // bytes of a header begun in an earlier call
    const buf = this.acc.join(data);
    let off = 0;
    while (off < buf.length && this.state !== S.Dead) {
      if (this.state === S.Payload) {
        off = this.payload(buf, off);
        continue;
      }
      const next = this.header(buf, off, off < carried ? this.carriedTs : ts);
      if (next === off) break; // incomplete header
      off = next;
    }
    if (this.state === S.Dead) {
      this.acc.clear();
      return;
    }
    if (off < buf.length && off >= carried) this.carriedTs = ts;
    this.acc.keep(buf, off);
  }

  gap(bytes: number): void {
    if (this.state === S.Payload && bytes <= this.remaining) {
      const b = this.frame!;
      b.msg.gapBytes += bytes;
      b.msg.wireBytes += bytes;
      b.msg.payloadCut = true;
      this.remaining -= bytes;
      this.maskPos = (this.maskPos + bytes) & 3;
      if (this.remaining === 0) this.frameEnd();
      return;
    }
    // A frame header was (at least partly) lost: WebSocket framing cannot be recovered.
    this.acc.clear();
    const b = this.frame ?? this.data;
    if (b !== undefined) b.msg.gapBytes += bytes;
    this.flushOpen('gap');
    this.state = S.Dead;
  }

  end(): void {
    this.flushOpen('end');
    this.acc.clear();
  }

  /** Emits the messages in progress (control frame first: it started last) as cut. */
  private flushOpen(cut: 'end' | 'gap'): void {
    if (this.state === S.Payload && this.frame !== undefined && this.frame !== this.data) {
      this.frame.msg.payloadCut = true;
      this.emit(this.frame, cut);
    }
    if (this.data !== undefined) {
      this.data.msg.payloadCut ||= this.state === S.Payload && this.frame === this.data;
      this.emit(this.data, cut);
    }
    this.data = this.frame = undefined;
    this.state = S.Header;
  }

  private header(buf: Buffer, off: number, ts: number): number {
    const avail = buf.length - off;
    if (avail < 2) return off;
    const b0 = buf[off]!;
    const b1 = buf[off + 1]!;
    const len7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const hlen = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (avail < hlen) return off;
    let len = len7;
    if (len7 === 126) len = buf.readUInt16BE(off + 2);
    else if (len7 === 127) {
      const hi = buf.readUInt32BE(off + 2);
      if (hi > 0x1fffff) {
        // Most significant bit set (forbidden) or beyond 2^53: this is not a frame header.
        this.sink.onViolation('ws: invalid 64-bit payload length');
        this.flushOpen('gap');
        this.state = S.Dead;
        return buf.length;
      }
      len = hi * 0x100000000 + buf.readUInt32BE(off + 6);
    }
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    this.validate(b0, opcode, fin, masked, len);
    if (len > this.opts.maxFrameBytes) {
      this.sink.onLimit('maxPduBytes');
      this.sink.onViolation(`ws: frame payload of ${len} bytes exceeds maxPduBytes`);
    }
    const isControl = opcode >= 8;
    let target: Building;
    if (isControl) {
      target = this.begin(opcode, ts, false);
    } else if (opcode === OP_CONTINUATION && this.data !== undefined) {
      target = this.data;
    } else {
      if (this.data !== undefined) {
        this.sink.onViolation('ws: new data frame while a fragmented message is incomplete');
        this.emit(this.data, 'interrupted');
      }
      if (opcode === OP_CONTINUATION)
        this.sink.onViolation('ws: continuation frame without a message');
      target = this.begin(opcode, ts, rsv1);
      this.data = target;
    }
    const m = target.msg;
    m.frames++;
    m.masked &&= masked;
    m.payloadLength += len;
    m.wireBytes += hlen;
    this.frame = target;
    this.fin = fin || isControl;
    this.remaining = len;
    this.maskPos = 0;
    this.mask = masked ? Uint8Array.from(buf.subarray(off + hlen - 4, off + hlen)) : undefined;
    if (len === 0) this.frameEnd();
    else this.state = S.Payload;
    return off + hlen;
  }

  private validate(b0: number, opcode: number, fin: boolean, masked: boolean, len: number): void {
    if ((opcode > OP_BINARY && opcode < OP_CLOSE) || opcode > OP_PONG)
      this.sink.onViolation(`ws: reserved opcode ${opcode}`);
    if (opcode >= 8 && (!fin || len > 125))
      this.sink.onViolation('ws: control frame fragmented or longer than 125 bytes');
    const rsv1Ok = this.opts.rsv1Allowed && opcode !== OP_CONTINUATION && opcode < 8;
    if ((b0 & 0x30) !== 0 || ((b0 & 0x40) !== 0 && !rsv1Ok))
      this.sink.onViolation('ws: reserved bits set');
    if (masked !== this.opts.fromClient && !this.warnedMask) {
      this.warnedMask = true; // reported once per direction: a peer that does this does it always
      this.sink.onViolation(
        this.opts.fromClient ? 'ws: unmasked client frame' : 'ws: masked server frame',
      );
    }
  }

  private begin(opcode: number, ts: number, compressed: boolean): Building {
    return {
      msg: {
        opcode,
        frames: 0,
        masked: true,
        compressed,
        payloadLength: 0,
        payload: EMPTY,
        payloadCut: false,
        gapBytes: 0,
        wireBytes: 0,
        ts,
      },
      parts: [],
      kept: 0,
    };
  }

  private payload(buf: Buffer, off: number): number {
    const n = Math.min(this.remaining, buf.length - off);
    const b = this.frame!;
    b.msg.wireBytes += n;
    if (!b.msg.payloadCut) {
      const room = this.opts.maxKeep - b.kept;
      const k = Math.min(room, n);
      if (k > 0) {
        const copy = Buffer.from(buf.subarray(off, off + k));
        const mask = this.mask;
        if (mask !== undefined)
          for (let i = 0, p = this.maskPos; i < k; i++, p = (p + 1) & 3) copy[i]! ^= mask[p]!;
        b.parts.push(copy);
        b.kept += k;
      }
      if (n > room) {
        b.msg.payloadCut = true;
        this.sink.onLimit('maxBodyBytes');
      }
    }
    this.maskPos = (this.maskPos + n) & 3;
    this.remaining -= n;
    if (this.remaining === 0) this.frameEnd();
    return off + n;
  }

  private frameEnd(): void {
    this.state = S.Header;
    const b = this.frame!;
    this.frame = undefined;
    if (!this.fin) return;
    if (b === this.data) this.data = undefined;
    this.emit(b, undefined);
  }

  private emit(b: Building, cut: WsMessage['cut']): void {
    const m = b.msg;
    m.payload =
      b.parts.length === 0
        ? EMPTY
        : b.parts.length === 1
          ? b.parts[0]!
          : Buffer.concat(b.parts, b.kept);
    if (cut !== undefined) m.cut = cut;
    if (m.opcode === OP_CLOSE && m.payload.length > 0) {
      if (m.payload.length < 2) this.sink.onViolation('ws: close frame with a 1-byte payload');
      else {
        m.closeCode = m.payload.readUInt16BE(0);
        m.closeReason = m.payload.toString('utf8', 2);
      }
    }
    this.sink.onMessage(m);
  }
}

/** permessage-deflate parameters agreed in the 101 response (RFC 7692). */
export interface DeflateParams {
  clientNoContextTakeover: boolean;
  serverNoContextTakeover: boolean;
  clientMaxWindowBits?: number;
  serverMaxWindowBits?: number;
}

/** `Sec-WebSocket-Extensions` of the 101 response → permessage-deflate parameters, if accepted. */
export function parseDeflateNegotiation(value: string | undefined): DeflateParams | undefined {
  if (value === undefined) return undefined;
  for (const ext of value.split(',')) {
    const [name, ...params] = ext.split(';').map((s) => s.trim());
    if (name?.toLowerCase() !== 'permessage-deflate') continue;
    const p: DeflateParams = { clientNoContextTakeover: false, serverNoContextTakeover: false };
    for (const param of params) {
      const eq = param.indexOf('=');
      const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
      const bits =
        eq < 0
          ? NaN
          : Number(
              param
                .slice(eq + 1)
                .trim()
                .replace(/^"|"$/g, ''),
            );
      if (key === 'client_no_context_takeover') p.clientNoContextTakeover = true;
      else if (key === 'server_no_context_takeover') p.serverNoContextTakeover = true;
      else if (key === 'client_max_window_bits' && bits >= 8 && bits <= 15)
        p.clientMaxWindowBits = bits;
      else if (key === 'server_max_window_bits' && bits >= 8 && bits <= 15)
        p.serverMaxWindowBits = bits;
    }
    return p;
  }
  return undefined;
}
