/**
 * A WebSocket conversation after the HTTP Upgrade: one frame parser per direction, one entry per
 * message (control frames included), permessage-deflate inflated with a per-direction context.
 */
import type { Body, EntryError } from '../../../entry/model.ts';
import type { WsRecord } from './record.ts';
import type { Direction } from '../../reassembly/types.ts';
import type { Emitted, Session, SessionContext } from '../types.ts';
import { decompressBounded, foldErrors, keptBody } from '../common/body.ts';
import { WsParser, type DeflateParams, type WsMessage } from './parse.ts';

export { parseDeflateNegotiation, type DeflateParams } from './parse.ts';

export interface WsSessionOptions {
  /** permessage-deflate as accepted in the 101 response; undefined when not negotiated. */
  deflate?: DeflateParams | undefined;
  /** Path of the Upgrade request, copied into every message's record. */
  upgradePath?: string | undefined;
}

const OPCODES = ['continuation', 'text', 'binary', '', '', '', '', '', 'close', 'ping', 'pong'];

export function opcodeName(op: number): string {
  return OPCODES[op] || `opcode-${op}`;
}

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const WINDOW = 32 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Inflates permessage-deflate messages of one direction (RFC 7692 §7.2.2: append 00 00 ff ff,
 * raw inflate). With context takeover the LZ77 window carries over between messages: it is kept
 * as the last 32 KB of output and given to the next inflation as a preset dictionary (equivalent
 * to a persistent inflate stream, since every message ends on a byte-aligned sync flush). After a
 * message that could not be fully inflated (cut at the cap, gap, corrupt) the window is unknown
 * and the following messages of that direction are left compressed, with an error.
 */
class MessageInflater {
  private window: Buffer = EMPTY;
  private lost = false;

  constructor(
    private readonly takeover: boolean,
    private readonly cap: number,
  ) {}

  inflate(
    payload: Buffer,
    complete: boolean,
  ): { output: Buffer; capped: boolean } | { error: string } {
    if (this.lost) return { error: 'compression context lost earlier in this direction' };
    const input = complete ? Buffer.concat([payload, TAIL]) : payload;
    const r = decompressBounded('deflate-raw', input, this.cap, {
      partial: true, // a message ends on a sync flush, not on a final block
      dictionary: this.takeover ? this.window : undefined,
    });
    if (r.error !== undefined || r.capped || !complete) this.lost = this.takeover;
    if (r.error !== undefined) return { error: r.error };
    if (this.takeover && !this.lost) this.slide(r.output);
    return { output: r.output, capped: r.capped };
  }

  private slide(out: Buffer): void {
    if (out.length >= WINDOW) this.window = Buffer.from(out.subarray(out.length - WINDOW));
    else if (out.length > 0) {
      const joined = Buffer.concat([this.window, out]);
      this.window =
        joined.length > WINDOW ? Buffer.from(joined.subarray(joined.length - WINDOW)) : joined;
    }
  }
}

export class WsSession implements Session {
  private readonly parsers: [WsParser, WsParser];
  private readonly inflaters: [MessageInflater, MessageInflater] | undefined;
  private ended = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly opts: WsSessionOptions = {},
  ) {
    const d = opts.deflate;
    const cap = ctx.limits.maxBodyBytes;
    if (d !== undefined) {
      this.inflaters = [
        new MessageInflater(!d.clientNoContextTakeover, cap),
        new MessageInflater(!d.serverNoContextTakeover, cap),
      ];
    }
    const make = (fromClient: boolean): WsParser =>
      new WsParser(
        {
          fromClient,
          rsv1Allowed: d !== undefined,
          maxKeep: cap,
          maxFrameBytes: ctx.limits.maxPduBytes,
        },
        {
          onMessage: (m) => this.emit(m, fromClient),
          onViolation: (msg) => ctx.violation(msg),
          onLimit: (name) => ctx.counters.hit(name),
        },
      );
    this.parsers = [make(true), make(false)];
  }

  onData(dir: Direction, data: Buffer, ts: number): void {
    if (!this.ended) this.parsers[dir].push(data, ts);
  }

  onGap(dir: Direction, bytes: number, _ts: number): void {
    if (!this.ended) this.parsers[dir].gap(bytes);
  }

  onEnd(_ts: number): void {
    if (this.ended) return;
    this.ended = true;
    this.parsers[0].end();
    this.parsers[1].end();
  }

  private emit(m: WsMessage, fromClient: boolean): void {
    const errors: EntryError[] = [];
    const record: WsRecord = {
      kind: 'ws',
      fromClient,
      opcode: opcodeName(m.opcode),
      frames: m.frames,
      masked: m.masked,
      compressed: m.compressed,
      payloadLength: m.payloadLength,
      payload: this.payloadBody(m, fromClient, errors),
    };
    if (m.closeCode !== undefined) record.closeCode = m.closeCode;
    if (m.closeReason !== undefined) record.closeReason = m.closeReason;
    if (this.opts.upgradePath !== undefined) record.upgradePath = this.opts.upgradePath;
    if (m.cut === 'end')
      errors.push({ code: 'KS_TRUNCATED', message: 'connection ended inside the message' });
    if (m.cut === 'interrupted')
      errors.push({
        code: 'KS_DISSECT_MALFORMED',
        message: 'fragmented message interrupted by a new message',
      });
    if (m.gapBytes > 0 || m.cut === 'gap')
      errors.push({ code: 'KS_GAP', message: `${m.gapBytes} bytes missing (capture gap)` });
    const e: Emitted = {
      record,
      ts: m.ts,
      elapsed: 0,
      requestSize: fromClient ? m.wireBytes : 0,
      responseSize: fromClient ? 0 : m.wireBytes,
    };
    // Added in place (a spread into a new object with one more key is slow in V8).
    if (errors.length > 0) e.error = foldErrors(errors);
    this.ctx.emit(e);
  }

  private payloadBody(m: WsMessage, fromClient: boolean, errors: EntryError[]): Body {
    const body: Body = { size: m.payloadLength };
    let bytes = m.payload;
    let cut = m.payloadCut;
    const inflater = this.inflaters?.[fromClient ? 0 : 1];
    if (m.compressed && inflater !== undefined) {
      const r = inflater.inflate(bytes, !cut && m.cut === undefined);
      if ('error' in r) {
        errors.push({ code: 'KS_BODY_DECODE', message: `permessage-deflate: ${r.error}` });
      } else {
        if (r.capped) this.ctx.counters.hit('maxDecompressedBytes');
        body.encoding = 'permessage-deflate';
        bytes = r.output;
        cut ||= r.capped;
      }
    }
    return keptBody(body, bytes, m.payload, m.payloadLength, cut);
  }
}

/** The frame session the HTTP session hands a connection to after `101 Switching Protocols`. */
export function createWsSession(ctx: SessionContext, opts: WsSessionOptions = {}): Session {
  return new WsSession(ctx, opts);
}
