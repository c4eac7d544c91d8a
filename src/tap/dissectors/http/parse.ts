/**
 * Incremental HTTP/1.0 and 1.1 parser for one direction of a connection: bytes → messages.
 * Chunk boundaries never matter: the only bytes buffered are an incomplete head, chunk-size line
 * or trailer block (bounded by `maxHeaderBytes`); bodies are consumed as they arrive, keeping at
 * most `maxBodyKeep` bytes per message.
 *
 * What the parser cannot know from its own direction (a response to HEAD has no body; after a
 * 101 or a 2xx to CONNECT the bytes are another protocol) the session answers in `onHead`.
 * After a gap or garbage the parser resynchronises at the next line that looks like a start line.
 *
 * Requests are read as servers read them: a request line with odd whitespace, a broken or missing
 * version, a missing target, or a lower-case or unregistered method still makes a message (with
 * `problem` saying what is wrong), so that its answer — often a 400 — pairs with it. A request
 * line without a version (`GET /path`) is HTTP/0.9: with no header lines after it, it ends at its
 * line end (when the server starts answering, or at the end of the stream), and its answer may be
 * a bare body up to the connection close (no status line: see `expectSimpleResponses`).
 * Resynchronisation and detection stay strict (`findStartLine`, `requestLineAt`).
 */
import { isAscii } from 'node:buffer';
import { ByteAccumulator } from '../common/accumulator.ts';

export interface HttpHead {
  /** Requests: method and request-target as sent; '' for responses. */
  method: string;
  target: string;
  /** Responses: status code and reason; 0 and '' for requests. */
  statusCode: number;
  statusText: string;
  /**
   * `HTTP/1.1`, `HTTP/1.0`, as sent (requests read leniently: whatever stood there, e.g.
   * `HTTP/1.`). `HTTP/0.9` for a request line without a version and for a response without a
   * status line (HTTP/0.9: statusCode 0, no headers, headBytes 0).
   */
  version: string;
  /** Header fields in order and original case; obs-fold continuation lines joined with a space. */
  headers: [string, string][];
  /** Bytes of start line + header fields + blank line. */
  headBytes: number;
  /** Framing: Content-Length (-1: absent, -2: invalid); Transfer-Encoding ends with chunked. */
  contentLength: number;
  chunked: boolean;
  /** Transfer-Encoding present but not ending with chunked. */
  otherTransferEncoding: boolean;
  /** Requests: what is wrong with the request line, when it was read leniently. */
  problem?: string;
  /** Requests: the request line had no version (HTTP/0.9 form; `version` is `HTTP/0.9`). */
  noVersion?: boolean;
}

export interface HttpMessage {
  head: HttpHead;
  /** Capture time of the message's first byte. */
  startTs: number;
  /**
   * Kept body bytes (after de-chunking, before content decoding): at most `maxBodyKeep`.
   * May be a view into the bytes being parsed: valid only during `onMessage` (copy late).
   */
  body: Buffer;
  /** Body bytes on the wire after de-chunking, including bytes lost in gaps. */
  bodySize: number;
  /** `body` is only a prefix of the body (keep limit, gap, or message cut short). */
  bodyCut: boolean;
  /** Bytes of this message lost in capture gaps. */
  gapBytes: number;
  trailers?: [string, string][];
  /** Bytes of the message on the wire: head + body framing (chunk lines, trailers) + gap bytes. */
  wireBytes: number;
  /** Set when the message did not end by its own framing. */
  cut?: 'end' | 'gap' | 'malformed';
  /** What was malformed (with cut = 'malformed'). */
  malformed?: string;
}

/**
 * The session's answer to a complete head:
 * - `default`: framing from the head;
 * - `no-body`: response without a body whatever its headers say (answer to HEAD);
 * - `hold` (requests): after this message, hold further bytes until `resume()` (no upgrade
 *   happened) or `switchProtocols()` — used for requests asking for Upgrade or CONNECT;
 * - `switch` (responses): no body, and every following byte belongs to another protocol.
 */
export type HeadVerdict = 'default' | 'no-body' | 'hold' | 'switch';

export interface HttpParserSink {
  onHead(head: HttpHead, startTs: number): HeadVerdict;
  onMessage(msg: HttpMessage): void;
  /** A gap swallowed the start of at least one message of this direction. */
  onLost(ts: number): void;
  onViolation(message: string): void;
  onLimit(name: 'maxHeaderBytes' | 'maxBodyBytes'): void;
  /** After a protocol switch: this direction's bytes (a view valid during the call) and gaps. */
  onSwitchedData(data: Buffer, ts: number): void;
  onSwitchedGap(bytes: number, ts: number): void;
  /**
   * Responses, after `expectSimpleResponses()`: at a message start, does the next answer belong
   * to a request without a version? Then bytes that are not a status line are an HTTP/0.9
   * response: a bare body up to the end of the stream.
   */
  simpleResponseNext?(): boolean;
}

export interface HttpParserOptions {
  kind: 'request' | 'response';
  maxHeaderBytes: number;
  maxBodyKeep: number;
}

const enum S {
  Start, // between messages: skipping blank lines
  Head, // collecting start line + headers
  Body, // Content-Length body: `remaining` bytes left
  ChunkSize, // chunk-size line
  ChunkData, // `remaining` bytes of chunk data
  ChunkEnd, // CRLF after chunk data
  Trailers, // trailer fields after the last chunk
  BodyEof, // close-delimited body
  Resync, // looking for the next start line
  Hold, // holding bytes until the session decides about an upgrade
  Switched, // another protocol: bytes go to onSwitchedData
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const HTTP09 = 'HTTP/0.9';
const LFLF = Buffer.from('\n\n');
const SP_HTTP1 = Buffer.from(' HTTP/1.');
const HTTP1 = Buffer.from('HTTP/1.');
const EMPTY = Buffer.alloc(0);
/** Resync keeps at most this many bytes of an unfinished line: longer start lines are not found. */
const RESYNC_TAIL = 8192;

/** RFC 9110 tchar. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

export class HttpParser {
  private state: number = S.Start;
  private readonly acc = new ByteAccumulator();
  private readonly isRequest: boolean;
  /** At least one message parsed: garbage is a violation from now on (before: mid-stream start). */
  private synced = false;
  /** Resync: the first unconsumed byte starts a line (or follows a gap). */
  private atLineStart = false;
  /** Head: bytes already searched for the blank line. */
  private scanned = 0;
  private lastTs = 0;
  /** Bytes at the start of the current buffer kept from earlier calls, and when they came. */
  private carried = 0;
  private carriedTs = 0;

  // The message in progress.
  private head: HttpHead | undefined;
  private startTs = 0;
  private remaining = 0;
  private parts: Buffer[] = [];
  /** parts[ownedParts..] are views into the current push's bytes (valid only during that call). */
  private ownedParts = 0;
  private kept = 0;
  private bodySize = 0;
  private bodyCut = false;
  private gapBytes = 0;
  private wire = 0;
  private trailers: [string, string][] | undefined;
  private trailerBytes = 0;
  private holdAfter = false;
  /** Responses: some request had no version, so an answer may be HTTP/0.9 (ask the sink). */
  private simpleCheck = false;
  /** Header fields of the head being parsed (reused: heads get exactly sized arrays). */
  private readonly scratch: ([string, string] | undefined)[] = [];

  constructor(
    private readonly opts: HttpParserOptions,
    private readonly sink: HttpParserSink,
  ) {
    this.isRequest = opts.kind === 'request';
  }

  push(data: Buffer, ts: number): void {
    this.lastTs = ts;
    if (this.state === S.Switched) {
      this.sink.onSwitchedData(data, ts);
      return;
    }
    if (this.state === S.Hold) {
      this.hold(data);
      return;
    }
    this.carried = this.acc.length;
    const buf = this.acc.join(data);
    let off = 0;
    while (off < buf.length) {
      const before = this.state;
      const next = this.step(buf, off, ts);
      if (next === off && this.state === before) break; // needs more bytes
      off = next;
      if (this.state === S.Switched || this.state === S.Hold) break;
    }
    if (this.parts.length > this.ownedParts) {
      // The message continues in a later call: copy this call's body bytes (copy late, once).
      const views = this.parts.splice(this.ownedParts);
      this.parts.push(views.length === 1 ? Buffer.from(views[0]!) : Buffer.concat(views));
      this.ownedParts = this.parts.length;
    }
    if (this.state === S.Switched) {
      this.acc.clear();
      if (off < buf.length) this.sink.onSwitchedData(buf.subarray(off), ts);
    } else if (this.state === S.Hold) {
      this.acc.keep(buf, off);
      if (this.acc.length > this.opts.maxHeaderBytes) this.resume();
    } else {
      if (off < buf.length && off >= this.carried) this.carriedTs = ts;
      this.acc.keep(buf, off);
    }
  }

  /** `bytes` are missing at this point of the stream. Never invents data: counts or resyncs. */
  gap(bytes: number, ts: number): void {
    this.lastTs = ts;
    this.acc.clear(); // buffered bytes (partial head, held bytes) are not contiguous with what follows
    switch (this.state) {
      case S.Switched:
        this.sink.onSwitchedGap(bytes, ts);
        return;
      case S.BodyEof:
        this.bodyGap(bytes);
        return;
      case S.Body: {
        const lost = Math.min(bytes, this.remaining);
        this.bodyGap(lost);
        this.remaining -= lost;
        if (this.remaining > 0) return;
        this.complete(undefined);
        if (bytes > lost) this.lostStart(ts); // the gap also ate the start of the next message
        return;
      }
      case S.ChunkData:
        if (bytes <= this.remaining) {
          this.bodyGap(bytes);
          this.remaining -= bytes;
          if (this.remaining === 0) this.state = S.ChunkEnd;
          return;
        }
        this.bodyGap(this.remaining);
        this.complete('gap'); // the chunk framing after the gap is unknown
        this.toResync(true);
        return;
      case S.ChunkSize:
      case S.ChunkEnd:
      case S.Trailers:
        this.gapBytes += bytes;
        this.wire += bytes;
        this.complete('gap');
        this.toResync(true);
        return;
      case S.Start:
      case S.Head:
        this.lostStart(ts);
        return;
      case S.Hold:
      case S.Resync:
        this.toResync(true);
        return;
    }
  }

  /** The stream ended: a close-delimited body is complete, anything else in progress is cut. */
  end(ts: number): void {
    this.lastTs = ts;
    switch (this.state) {
      case S.Hold:
        this.resume();
        if (this.state !== S.Hold) this.end(ts);
        return;
      case S.BodyEof:
        this.complete(undefined);
        return;
      case S.Body:
      case S.ChunkSize:
      case S.ChunkData:
      case S.ChunkEnd:
      case S.Trailers:
        this.bodyCut = true;
        this.complete('end');
        return;
      case S.Head:
        // A request line without a version and nothing after it: an HTTP/0.9 request.
        if (this.completeSimpleRequest()) this.end(ts);
        else this.acc.clear();
        return;
      case S.Start:
        // Bytes too few to tell a status line from a bare HTTP/0.9 body: a body.
        if (this.acc.length > 0 && this.simpleNext()) {
          const bytes = this.acc.peek();
          this.simpleResponse(this.carriedTs);
          this.takeBody(bytes, 0, bytes.length);
          this.complete(undefined);
        }
        this.acc.clear();
        return;
      default:
        this.acc.clear();
    }
  }

  /** Responses: from now on, ask the sink whether an answer may be HTTP/0.9 (no status line). */
  expectSimpleResponses(): void {
    this.simpleCheck = true;
  }

  /**
   * Requests: when the head being collected is a complete request line without a version and
   * the server starts answering (or the stream ends), that line was the whole request (HTTP/0.9
   * has no headers). Returns whether it completed a message; bytes after the line are parsed on.
   */
  completeSimpleRequest(): boolean {
    if (this.state !== S.Head || !this.isRequest) return false;
    const buf = this.acc.peek();
    const nl = buf.indexOf(0x0a);
    if (nl < 0) return false;
    // Cheap test first: a last word `HTTP/…` is a version (the head waits for its blank line).
    const e = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    let w = e;
    while (w > 0 && buf[w - 1]! > 0x20) w--;
    if (e - w >= 5 && (buf[w]! | 0x20) === 0x68 && buf[w + 4] === 0x2f) return false;
    const head = this.parseHead(buf, 0, nl + 1);
    if (head === undefined || head.noVersion !== true) return false;
    const rest = nl + 1 < buf.length ? Buffer.from(buf.subarray(nl + 1)) : undefined;
    this.acc.clear();
    this.scanned = 0;
    this.synced = true;
    this.head = head;
    this.wire = head.headBytes;
    this.afterHead(head);
    if (rest !== undefined) this.push(rest, this.lastTs);
    return true;
  }

  /** Hold is over without a protocol switch: parse the held bytes as HTTP. */
  resume(): void {
    if (this.state !== S.Hold) return;
    this.state = S.Start;
    const held = this.acc.peek();
    if (held.length === 0) return;
    const copy = Buffer.from(held);
    this.acc.clear();
    this.push(copy, this.lastTs);
  }

  /** The connection switched protocols: held and future bytes go to onSwitchedData. */
  switchProtocols(): void {
    if (this.state === S.Switched) return;
    const held = this.state === S.Hold ? this.acc.peek() : EMPTY;
    this.state = S.Switched;
    if (held.length > 0) this.sink.onSwitchedData(held, this.lastTs);
    this.acc.clear();
  }

  private hold(data: Buffer): void {
    const buf = this.acc.join(data);
    this.acc.keep(buf, 0);
    if (this.acc.length > this.opts.maxHeaderBytes) this.resume(); // not an upgrade after all
  }

  private step(buf: Buffer, off: number, ts: number): number {
    switch (this.state) {
      case S.Start:
        return this.start(buf, off, ts);
      case S.Head:
        return this.headState(buf, off);
      case S.Body:
      case S.ChunkData:
        return this.lengthBody(buf, off);
      case S.BodyEof: {
        this.takeBody(buf, off, buf.length - off);
        return buf.length;
      }
      case S.ChunkSize:
        return this.chunkSize(buf, off);
      case S.ChunkEnd:
        return this.chunkEnd(buf, off);
      case S.Trailers:
        return this.trailerLine(buf, off);
      case S.Resync:
        return this.resync(buf, off, ts);
      default:
        return off;
    }
  }

  private start(buf: Buffer, off: number, ts: number): number {
    if (this.simpleCheck && this.simpleNext()) {
      // The answer to a request without a version: a status line, or a bare HTTP/0.9 body.
      const v = statusLineAt(buf, off);
      if (v === 'maybe') return off; // the next bytes (or the end) decide
      if (v === 'no') {
        this.simpleResponse(off < this.carried ? this.carriedTs : ts);
        return off;
      }
    }
    let i = off;
    while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) i++;
    if (i < buf.length) {
      this.state = S.Head;
      this.startTs = ts;
      this.scanned = 0;
    }
    return i;
  }

  private simpleNext(): boolean {
    return this.simpleCheck && !this.isRequest && this.sink.simpleResponseNext?.() === true;
  }

  /** An HTTP/0.9 response starts here: no status line, no headers, a body up to the end. */
  private simpleResponse(startTs: number): void {
    this.synced = true;
    this.startTs = startTs;
    const head: HttpHead = {
      method: '',
      target: '',
      statusCode: 0,
      statusText: '',
      version: HTTP09,
      headers: [],
      headBytes: 0,
      contentLength: -1,
      chunked: false,
      otherTransferEncoding: false,
    };
    this.head = head;
    this.wire = 0;
    this.afterHead(head); // no status code, no length: close-delimited
  }

  private headState(buf: Buffer, off: number): number {
    const avail = buf.length - off;
    if (this.scanned < 33 && !this.startLinePlausible(buf, off))
      return this.garbage(off, 'invalid start line');
    let end = buf.indexOf(CRLFCRLF, off + Math.max(0, this.scanned - 3));
    if (end >= 0) end += 4;
    else {
      end = buf.indexOf(LFLF, off + Math.max(0, this.scanned - 1));
      if (end >= 0) end += 2;
    }
    if (end < 0) {
      if (avail > this.opts.maxHeaderBytes) return this.headTooLarge(off);
      this.scanned = avail;
      return off;
    }
    this.scanned = 0;
    if (end - off > this.opts.maxHeaderBytes) return this.headTooLarge(off);
    const head = this.parseHead(buf, off, end);
    if (head === undefined) return this.garbage(off, 'invalid start line');
    this.synced = true;
    this.head = head;
    this.wire = head.headBytes;
    this.afterHead(head);
    return off + head.headBytes;
  }

  /** Cheap early check of the first bytes, so garbage is not buffered up to maxHeaderBytes. */
  private startLinePlausible(buf: Buffer, off: number): boolean {
    if (this.isRequest) {
      const lim = Math.min(buf.length, off + 33);
      for (let i = off; i < lim; i++) {
        const c = buf[i]!;
        if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c) return i > off;
        if (TCHAR[c] !== 1) return false;
      }
      return lim - off < 33; // a method token longer than 32 bytes is not plausible
    }
    const lim = Math.min(buf.length, off + 5);
    for (let i = off; i < lim; i++) if (buf[i] !== HTTP1[i - off]) return false;
    return true;
  }

  private headTooLarge(off: number): number {
    this.sink.onLimit('maxHeaderBytes');
    return this.garbage(
      off,
      `message head larger than maxHeaderBytes (${this.opts.maxHeaderBytes})`,
    );
  }

  /** Not a message where one must start: report (once synced) and resynchronise. */
  private garbage(off: number, why: string): number {
    if (this.synced) this.sink.onViolation(`${this.opts.kind}: ${why}`);
    this.scanned = 0;
    this.toResync(false);
    return off + 1; // progress: the resync search starts after this byte
  }

  private afterHead(head: HttpHead): void {
    const verdict = this.sink.onHead(head, this.startTs);
    if (this.isRequest) {
      this.holdAfter = verdict === 'hold';
      if (head.chunked) this.state = S.ChunkSize;
      else if (head.contentLength === -2) this.malformed('invalid Content-Length');
      else if (head.contentLength > 0) this.toBody(head.contentLength);
      else this.complete(undefined);
      return;
    }
    const code = head.statusCode;
    if (verdict === 'switch') {
      this.complete(undefined, S.Switched);
    } else if (
      verdict === 'no-body' ||
      (code >= 100 && code < 200) ||
      code === 204 ||
      code === 304
    ) {
      this.complete(undefined);
    } else if (head.chunked) {
      this.state = S.ChunkSize;
    } else if (head.otherTransferEncoding) {
      this.state = S.BodyEof;
    } else if (head.contentLength === -2) {
      this.malformed('invalid Content-Length');
    } else if (head.contentLength > 0) {
      this.toBody(head.contentLength);
    } else if (head.contentLength === 0) {
      this.complete(undefined);
    } else {
      this.state = S.BodyEof;
    }
  }

  private toBody(length: number): void {
    this.remaining = length;
    this.state = S.Body;
  }

  private lengthBody(buf: Buffer, off: number): number {
    const n = Math.min(this.remaining, buf.length - off);
    this.takeBody(buf, off, n);
    this.remaining -= n;
    if (this.remaining === 0) {
      if (this.state === S.ChunkData) this.state = S.ChunkEnd;
      else this.complete(undefined);
    }
    return off + n;
  }

  private takeBody(buf: Buffer, off: number, n: number): void {
    this.bodySize += n;
    this.wire += n;
    if (this.bodyCut) return;
    const room = this.opts.maxBodyKeep - this.kept;
    const k = Math.min(room, n);
    if (k > 0) {
      // A view: copied at the end of push() if still needed. A first part gets an array of its
      // own size (the usual single-part body), not one grown by push.
      const view = buf.subarray(off, off + k);
      if (this.parts.length === 0) this.parts = [view];
      else this.parts.push(view);
      this.kept += k;
    }
    if (n > room) {
      this.bodyCut = true;
      this.sink.onLimit('maxBodyBytes');
    }
  }

  private bodyGap(bytes: number): void {
    this.bodySize += bytes;
    this.wire += bytes;
    this.gapBytes += bytes;
    if (bytes > 0) this.bodyCut = true; // keep only the bytes before the first gap
  }

  private chunkSize(buf: Buffer, off: number): number {
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0) {
      if (buf.length - off > this.opts.maxHeaderBytes) this.malformed('chunk-size line too long');
      return off;
    }
    let size = 0;
    let i = off;
    for (; i < nl && i - off < 13; i++) {
      const c = buf[i]!;
      const v =
        c >= 0x30 && c <= 0x39
          ? c - 0x30
          : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : c >= 0x41 && c <= 0x46
              ? c - 0x37
              : -1;
      if (v < 0) break;
      size = size * 16 + v;
    }
    const after = buf[i];
    // After the hex digits: optional whitespace, ';' chunk extensions, or the line end.
    if (
      i === off ||
      (after !== 0x3b && after !== 0x0d && after !== 0x0a && after !== 0x20 && after !== 0x09)
    ) {
      this.malformed('invalid chunk size');
      return off;
    }
    this.wire += nl + 1 - off;
    if (size === 0) {
      this.trailerBytes = 0;
      this.state = S.Trailers;
    } else {
      this.remaining = size;
      this.state = S.ChunkData;
    }
    return nl + 1;
  }

  private chunkEnd(buf: Buffer, off: number): number {
    const c = buf[off];
    if (c === 0x0a) {
      this.wire += 1;
      this.state = S.ChunkSize;
      return off + 1;
    }
    if (c === 0x0d) {
      if (off + 1 >= buf.length) return off;
      if (buf[off + 1] === 0x0a) {
        this.wire += 2;
        this.state = S.ChunkSize;
        return off + 2;
      }
    }
    this.malformed('missing CRLF after chunk data');
    return off;
  }

  private trailerLine(buf: Buffer, off: number): number {
    const nl = buf.indexOf(0x0a, off);
    if (nl < 0) {
      if (this.trailerBytes + buf.length - off > this.opts.maxHeaderBytes) {
        this.sink.onLimit('maxHeaderBytes');
        this.malformed('trailers larger than maxHeaderBytes');
      }
      return off;
    }
    const used = nl + 1 - off;
    this.wire += used;
    this.trailerBytes += used;
    const lineEnd = nl > off && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    if (lineEnd === off) {
      this.complete(undefined);
      return nl + 1;
    }
    const line = buf.toString('latin1', off, lineEnd);
    const colon = line.indexOf(':');
    if (colon > 0)
      (this.trailers ??= []).push([line.slice(0, colon), trimOws(line, colon + 1, line.length)]);
    if (this.trailerBytes > this.opts.maxHeaderBytes) {
      this.sink.onLimit('maxHeaderBytes');
      this.malformed('trailers larger than maxHeaderBytes');
    }
    return nl + 1;
  }

  /** Framing broke inside a message: emit what we have, flagged, and resynchronise. */
  private malformed(why: string): void {
    this.sink.onViolation(`${this.opts.kind}: ${why}`);
    this.bodyCut = this.bodyCut || this.bodySize > 0;
    this.complete('malformed', S.Resync, why);
    this.toResync(true); // the next line may start a message
  }

  /** A gap outside any body: the message in progress (if any) and the next start are lost. */
  private lostStart(ts: number): void {
    this.head = undefined;
    this.resetMessage();
    this.toResync(true);
    this.sink.onLost(ts);
  }

  /** `atLineStart`: the next byte may begin a message (after a gap or a complete line). */
  private toResync(atLineStart: boolean): void {
    this.state = S.Resync;
    this.atLineStart = atLineStart;
    this.holdAfter = false;
  }

  /** Looks for the next message start; keeps only a bounded tail between calls. */
  private resync(buf: Buffer, off: number, ts: number): number {
    const found = findStartLine(buf, off, this.isRequest, this.atLineStart);
    if (found !== undefined) {
      if (found.at > off) this.atLineStart = buf[found.at - 1] === 0x0a;
      if (!found.complete) return found.at; // wait for the rest of the line
      this.state = S.Head;
      this.startTs = found.at < this.carried ? this.carriedTs : ts;
      this.scanned = 0;
      return found.at;
    }
    const nl = buf.lastIndexOf(0x0a);
    let keepFrom = nl >= off ? nl + 1 : off;
    if (buf.length - keepFrom > RESYNC_TAIL) keepFrom = buf.length - RESYNC_TAIL;
    if (keepFrom > off) this.atLineStart = buf[keepFrom - 1] === 0x0a;
    return keepFrom;
  }

  private complete(cut: HttpMessage['cut'], next: S = S.Start, malformed?: string): void {
    const head = this.head;
    const toHold = this.holdAfter;
    if (head === undefined) {
      this.resetMessage();
      this.state = next;
      return;
    }
    const parts = this.parts;
    const msg: HttpMessage = {
      head,
      startTs: this.startTs,
      body:
        parts.length === 0
          ? EMPTY
          : parts.length === 1
            ? parts[0]!
            : Buffer.concat(parts, this.kept),
      bodySize: this.bodySize,
      bodyCut: this.bodyCut,
      gapBytes: this.gapBytes,
      wireBytes: this.wire,
    };
    if (this.trailers !== undefined) msg.trailers = this.trailers;
    if (cut !== undefined) msg.cut = cut;
    if (malformed !== undefined) msg.malformed = malformed;
    this.head = undefined;
    this.resetMessage();
    this.state = next === S.Start && toHold ? S.Hold : next;
    this.sink.onMessage(msg);
  }

  private resetMessage(): void {
    this.remaining = 0;
    if (this.parts.length !== 0) this.parts = [];
    this.ownedParts = 0;
    this.kept = 0;
    this.bodySize = 0;
    this.bodyCut = false;
    this.gapBytes = 0;
    this.wire = 0;
    this.trailers = undefined;
    this.holdAfter = false;
  }

  /** Parses [off, end) — the head including its blank line. undefined: not a valid start line. */
  private parseHead(buf: Buffer, off: number, end: number): HttpHead | undefined {
    let s = buf.toString('latin1', off, end);
    let utf8 = false;
    if (!isAscii(off === 0 && end === buf.length ? buf : buf.subarray(off, end))) {
      const u = buf.toString('utf8', off, end);
      utf8 = !u.includes('\ufffd'); // header text is latin1 unless the bytes are valid UTF-8
      if (utf8) s = u;
    }
    const base = utf8 ? -1 : off; // `s` is the latin1 decoding of buf[off, end)
    // The start line is parsed in place (offsets into `s`, no copy of the line).
    let nl = s.indexOf('\n');
    const firstEnd = nl > 0 && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    let method = '';
    let target = '';
    let statusCode = 0;
    let statusText = '';
    let version: string;
    let problem: string | undefined;
    let noVersion = false;
    if (this.isRequest) {
      // TOKEN SP request-target SP HTTP/d.d
      const sp1 = s.indexOf(' ');
      const sp2 = s.lastIndexOf(' ', firstEnd - 1);
      let strict =
        sp1 > 0 &&
        sp1 < firstEnd &&
        sp2 > sp1 + 1 &&
        firstEnd - sp2 - 1 === 8 &&
        isVersion(s, sp2 + 1);
      for (let i = 0; strict && i < sp1; i++) if (TCHAR[s.charCodeAt(i)] !== 1) strict = false;
      if (strict && s.charCodeAt(sp1 + 1) !== 0x20 && s.charCodeAt(sp2 - 1) !== 0x20) {
        method = token(s, buf, base, 0, sp1);
        target = s.slice(sp1 + 1, sp2);
        version = token(s, buf, base, sp2 + 1, firstEnd);
        if (!REGISTERED_METHODS.has(method) || (version !== 'HTTP/1.1' && version !== 'HTTP/1.0'))
          problem = lineProblems(method, false, false, version);
      } else {
        const line = oddRequestLine(s, buf, off, firstEnd, strict ? sp1 : -1, sp2);
        if (line === undefined) return undefined;
        method = line.method;
        target = line.target;
        noVersion = line.version === undefined;
        version = line.version ?? HTTP09;
        problem = line.problem;
      }
    } else {
      // HTTP/d.d SP 3DIGIT [SP reason]
      if (firstEnd < 12 || !isVersion(s, 0) || s.charCodeAt(8) !== 0x20) return undefined;
      const a = s.charCodeAt(9) - 0x30;
      const b = s.charCodeAt(10) - 0x30;
      const c = s.charCodeAt(11) - 0x30;
      if (!(a >= 1 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9)) return undefined;
      if (firstEnd > 12 && s.charCodeAt(12) !== 0x20) return undefined;
      version = token(s, buf, base, 0, 8);
      statusCode = a * 100 + b * 10 + c;
      statusText = firstEnd > 13 ? token(s, buf, base, 13, firstEnd) : '';
    }
    const headers = this.scratch;
    let n = 0;
    let headBytes = end - off;
    let pos = nl + 1;
    for (;;) {
      nl = s.indexOf('\n', pos);
      if (nl < 0) break;
      const lineEnd = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      if (lineEnd === pos) {
        // Blank line: end of head (it may come before `end` when lines end with bare LF).
        if (nl + 1 < s.length) headBytes = utf8 ? Buffer.byteLength(s.slice(0, nl + 1)) : nl + 1;
        break;
      }
      const c0 = s.charCodeAt(pos);
      if (c0 === 0x20 || c0 === 0x09) {
        // obs-fold: continuation of the previous field value.
        const last = n > 0 ? headers[n - 1] : undefined;
        if (last !== undefined) last[1] = `${last[1]} ${trimOws(s, pos, lineEnd)}`;
      } else {
        const colon = s.indexOf(':', pos);
        if (colon <= pos || colon > lineEnd) {
          this.sink.onViolation(`${this.opts.kind}: header line without a colon`);
        } else {
          let nameEnd = colon;
          while (
            nameEnd > pos &&
            (s.charCodeAt(nameEnd - 1) === 0x20 || s.charCodeAt(nameEnd - 1) === 0x09)
          )
            nameEnd--;
          headers[n++] = [token(s, buf, base, pos, nameEnd), trimOws(s, colon + 1, lineEnd)];
        }
      }
      pos = nl + 1;
    }
    // An array of exactly the fields' size. The scratch array keeps its capacity (no `length = 0`,
    // which would give it back) and no references.
    const fields = headers.slice(0, n) as [string, string][];
    for (let i = 0; i < n; i++) headers[i] = undefined;
    const head: HttpHead = {
      method,
      target,
      statusCode,
      statusText,
      version,
      headers: fields,
      headBytes,
      contentLength: -1,
      chunked: false,
      otherTransferEncoding: false,
    };
    if (noVersion) {
      head.noVersion = true;
      // HTTP/0.9 is `GET target` alone; header lines need a version (HTTP/1.0 on).
      if (n > 0 || method !== 'GET') problem = joinProblems(problem, 'no HTTP version');
    }
    if (problem !== undefined) head.problem = problem;
    framing(head);
    return head;
  }
}

/**
 * Header names (and start-line tokens) repeat from message to message, so each distinct spelling
 * is sliced once and then reused from a small direct-mapped cache: the same characters either
 * way. The cache compares raw bytes (`s` is their latin1 decoding, so character i of `s` is byte
 * `base + i` of `buf`), which is much cheaper than comparing strings. Reused strings keep their
 * computed hash, which makes the lower-case lookups below and the session's header maps cheap.
 * Bounded: a slot is simply overwritten on a collision. `base` < 0: `s` is not the latin1
 * decoding of `buf` (a UTF-8 head): no cache.
 */
const NAME_CACHE_SLOTS = 512; // a power of two
const NAME_CACHE_MAX_LEN = 40;
interface CachedName {
  name: string;
  /** Its bytes, in storage of their own (a pooled Buffer would keep a whole pool slab alive). */
  bytes: Uint8Array;
}
const nameCache: (CachedName | undefined)[] = new Array<CachedName | undefined>(
  NAME_CACHE_SLOTS,
).fill(undefined);

function token(s: string, buf: Buffer, base: number, from: number, to: number): string {
  const len = to - from;
  if (base < 0 || len > NAME_CACHE_MAX_LEN || len === 0) return s.slice(from, to);
  const b0 = base + from;
  // Slot from the length and three bytes; the full comparison below decides.
  const h =
    len * 0x9e3 + buf[b0]! * 0x3b + buf[b0 + (len >> 1)]! * 0x7 + buf[b0 + len - 1]! * 0x101;
  const slot = (h ^ (h >>> 9)) & (NAME_CACHE_SLOTS - 1);
  const cached = nameCache[slot];
  if (cached !== undefined && cached.bytes.length === len) {
    const cb = cached.bytes;
    let i = 0;
    while (i < len && cb[i] === buf[b0 + i]) i++;
    if (i === len) return cached.name;
  }
  const name = flat(s.slice(from, to));
  const bytes = new Uint8Array(len);
  bytes.set(buf.subarray(b0, b0 + len));
  nameCache[slot] = { name, bytes };
  return name;
}

/**
 * A flat copy of `s`, not a slice that references (and keeps alive) the whole head: property keys
 * are stored flat, so one round trip through an object key yields one.
 */
function flat(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

/** Lower-case header names, cached (names come from `token`, so few distinct strings). */
const LOWER_CACHE_MAX = 4096;
const lowerCache = new Map<string, string>();

/** `name.toLowerCase()`, from a bounded cache. */
export function lowerHeaderName(name: string): string {
  let lower = lowerCache.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCache.size >= LOWER_CACHE_MAX) lowerCache.clear();
    lowerCache.set(name, lower);
  }
  return lower;
}

function trimOws(s: string, from: number, to: number): string {
  while (from < to && (s.charCodeAt(from) === 0x20 || s.charCodeAt(from) === 0x09)) from++;
  while (to > from && (s.charCodeAt(to - 1) === 0x20 || s.charCodeAt(to - 1) === 0x09)) to--;
  return s.slice(from, to);
}

/** `HTTP/d.d` at `at`. */
function isVersion(s: string, at: number): boolean {
  return (
    s.charCodeAt(at) === 0x48 && // H
    s.charCodeAt(at + 1) === 0x54 && // T
    s.charCodeAt(at + 2) === 0x54 && // T
    s.charCodeAt(at + 3) === 0x50 && // P
    s.charCodeAt(at + 4) === 0x2f && // /
    isDigit(s.charCodeAt(at + 5)) &&
    s.charCodeAt(at + 6) === 0x2e &&
    isDigit(s.charCodeAt(at + 7))
  );
}

/** Content-Length and Transfer-Encoding (RFC 9112 §6.3: Transfer-Encoding wins). */
function framing(head: HttpHead): void {
  let cl = -1;
  let te: string | undefined;
  const headers = head.headers;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    if (name.length === 14 && lowerHeaderName(name) === 'content-length') {
      const v = parseContentLength(value);
      cl = v < 0 || (cl >= 0 && v !== cl) ? -2 : v;
      if (cl === -2) break;
    } else if (name.length === 17 && lowerHeaderName(name) === 'transfer-encoding') {
      te = te === undefined ? value : `${te}, ${value}`;
    }
  }
  if (te !== undefined) {
    const last = te
      .slice(te.lastIndexOf(',') + 1)
      .trim()
      .toLowerCase();
    head.chunked = last === 'chunked';
    head.otherTransferEncoding = !head.chunked;
    head.contentLength = -1;
    return;
  }
  head.contentLength = cl;
}

/** Digits, or a list of identical digit values ("5, 5"). -1: invalid. */
function parseContentLength(v: string): number {
  let result = -1;
  let cur = -1;
  for (let i = 0; i <= v.length; i++) {
    const c = i < v.length ? v.charCodeAt(i) : 0x2c;
    if (c >= 0x30 && c <= 0x39) {
      cur = (cur < 0 ? 0 : cur * 10) + (c - 0x30);
      if (cur > Number.MAX_SAFE_INTEGER / 16) return -1;
    } else if (c === 0x2c) {
      if (cur < 0 || (result >= 0 && result !== cur)) return -1;
      result = cur;
      cur = -1;
    } else if (c !== 0x20 && c !== 0x09) {
      return -1;
    }
  }
  return result;
}

/**
 * Methods registered with IANA (HTTP Method Registry) and a few common extensions: any other
 * token is still read as a method, with a problem noted.
 */
const REGISTERED_METHODS = new Set([
  'ACL',
  'BASELINE-CONTROL',
  'BIND',
  'CHECKIN',
  'CHECKOUT',
  'CONNECT',
  'COPY',
  'DELETE',
  'GET',
  'HEAD',
  'LABEL',
  'LINK',
  'LOCK',
  'MERGE',
  'MKACTIVITY',
  'MKCALENDAR',
  'MKCOL',
  'MKREDIRECTREF',
  'MKWORKSPACE',
  'MOVE',
  'OPTIONS',
  'ORDERPATCH',
  'PATCH',
  'POST',
  'PRI',
  'PROPFIND',
  'PROPPATCH',
  'PUT',
  'QUERY',
  'REBIND',
  'REPORT',
  'SEARCH',
  'TRACE',
  'UNBIND',
  'UNCHECKOUT',
  'UNLINK',
  'UNLOCK',
  'UPDATE',
  'UPDATEREDIRECTREF',
  'VERSION-CONTROL',
  // Common unregistered ones: cache purging, UPnP/GENA.
  'PURGE',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
]);

/** A request line read word by word (`lenientRequestLine`). */
interface LenientLine {
  method: string;
  /** '' when absent (`OPTIONS HTTP/1.1`). */
  target: string;
  noTarget: boolean;
  /** As sent; undefined when absent (HTTP/0.9 form). */
  version: string | undefined;
  /** Whitespace other than one SP between words (tabs, runs, leading or trailing). */
  oddSpace: boolean;
}

/** Whitespace a server may take as a separator in a request line (RFC 9112 §3). */
function isLineSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

const UPPER_METHOD = /^[A-Z][A-Z0-9_-]{1,31}$/;
const VERSION_SHAPE = /^HTTP\/[01]?(\.[0-9]*)?$/i;

/**
 * buf[from, to) — a request line without its line end — read as servers read it: two or three
 * words separated by any whitespace. Still a request line only when it has the shape of one:
 * printable ASCII; a method-shaped first word (a registered method in any case, or an upper-case
 * token); then a target starting with `/`, `*` or `http` (any target for CONNECT) and/or a
 * version-shaped word (`HTTP/`, `HTTP/1.`, `HTTP/1.9`…; not HTTP/2's preface). Else undefined.
 */
export function lenientRequestLine(buf: Buffer, from: number, to: number): LenientLine | undefined {
  const words: string[] = [];
  let oddSpace = false;
  for (let i = from; i < to;) {
    const c = buf[i]!;
    if (isLineSpace(c)) {
      if (c !== 0x20 || i === from || i + 1 === to || isLineSpace(buf[i + 1]!)) oddSpace = true;
      i++;
      continue;
    }
    let j = i;
    for (; j < to; j++) {
      const d = buf[j]!;
      if (isLineSpace(d)) break;
      if (d < 0x21 || d > 0x7e) return undefined;
    }
    if (words.length === 3) return undefined;
    words.push(buf.toString('latin1', i, j));
    i = j;
  }
  const [method, w1, w2] = words;
  if (method === undefined || w1 === undefined || !methodShaped(method)) return undefined;
  const connect = method.toUpperCase() === 'CONNECT';
  const targetShaped = (t: string): boolean => {
    const c = t.charCodeAt(0);
    return c === 0x2f || c === 0x2a || t.slice(0, 4).toLowerCase() === 'http' || connect;
  };
  if (w2 !== undefined) {
    if (!targetShaped(w1) || !VERSION_SHAPE.test(w2)) return undefined;
    return { method, target: w1, noTarget: false, version: w2, oddSpace };
  }
  if (VERSION_SHAPE.test(w1)) return { method, target: '', noTarget: true, version: w1, oddSpace };
  if (!targetShaped(w1)) return undefined;
  return { method, target: w1, noTarget: false, version: undefined, oddSpace };
}

/**
 * The request line of the head `s` (the decoding of buf[off..]), when the strict reading failed
 * or found spaces around the target (kept out of `parseHead`, which runs for every message).
 * Read as servers do, words separated by any whitespace (RFC 9112 §3); when that fails but the
 * strict reading worked (`sp1` ≥ 0: a target with spaces inside and around), as sent.
 */
function oddRequestLine(
  s: string,
  buf: Buffer,
  off: number,
  firstEnd: number,
  sp1: number,
  sp2: number,
): (LenientLine & { problem: string | undefined }) | undefined {
  // An ASCII first line has the same offsets in `s` as in `buf`; any other is refused.
  const line = lenientRequestLine(buf, off, off + firstEnd);
  if (line !== undefined) {
    const problem = lineProblems(line.method, line.oddSpace, line.noTarget, line.version);
    return { ...line, problem };
  }
  if (sp1 < 0) return undefined;
  const method = s.slice(0, sp1);
  const version = s.slice(sp2 + 1, firstEnd);
  return {
    method,
    target: s.slice(sp1 + 1, sp2),
    noTarget: false,
    version,
    oddSpace: true,
    problem: lineProblems(method, true, false, version),
  };
}

/** What is wrong with a request line (undefined: nothing). `version` undefined: absent. */
function lineProblems(
  method: string,
  oddSpace: boolean,
  noTarget: boolean,
  version: string | undefined,
): string | undefined {
  let p: string | undefined;
  if (!REGISTERED_METHODS.has(method)) {
    p = REGISTERED_METHODS.has(method.toUpperCase())
      ? `method not in upper case: ${method}`
      : `unknown method: ${method}`;
  }
  if (oddSpace) p = joinProblems(p, 'whitespace other than single spaces in the request line');
  if (noTarget) p = joinProblems(p, 'no request-target');
  if (version !== undefined && version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
    p = joinProblems(
      p,
      version.length === 8 && isVersion(version, 0)
        ? `unsupported HTTP version: ${version}`
        : `invalid HTTP version: ${version}`,
    );
  }
  return p;
}

function joinProblems(a: string | undefined, b: string): string {
  return a === undefined ? b : `${a}; ${b}`;
}

/**
 * Detection: is there a request line at `off` as a lenient server reads it (`lenientRequestLine`),
 * complete with its line end? 'maybe' while the bytes could still become one. Weaker evidence than
 * `requestLineAt`: a match needs the other direction to confirm.
 */
export function lenientRequestLineAt(buf: Buffer, off: number): LineVerdict {
  const nl = buf.indexOf(0x0a, off);
  if (nl >= 0) {
    const end = nl > off && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    return lenientRequestLine(buf, off, end) !== undefined ? 'yes' : 'no';
  }
  // No line end yet: plausible while printable ASCII or spaces, at most 3 words, the first one
  // method-shaped once complete, and not longer than a request line can be.
  if (buf.length - off > MAX_LENIENT_LINE) return 'no';
  let words = 0;
  for (let i = off; i < buf.length;) {
    const c = buf[i]!;
    if (isLineSpace(c)) {
      i++;
      continue;
    }
    let j = i;
    for (; j < buf.length && !isLineSpace(buf[j]!); j++) {
      const d = buf[j]!;
      if (d < 0x21 || d > 0x7e) return 'no';
    }
    if (++words > 3) return 'no';
    if (words === 1) {
      const m = buf.toString('latin1', i, j);
      if (j === buf.length) return m.length <= 32 && isToken(m) ? 'maybe' : 'no';
      if (!methodShaped(m)) return 'no';
    }
    i = j;
  }
  return 'maybe';
}

/** Longest request line the lenient reading waits for in detection. */
const MAX_LENIENT_LINE = 8192;

function isToken(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return s.length > 0;
}

/** A registered method in any case, or an upper-case token; never HTTP/2's `PRI`. */
function methodShaped(m: string): boolean {
  if (!isToken(m)) return false;
  const upper = m.toUpperCase();
  return upper !== 'PRI' && (REGISTERED_METHODS.has(upper) || UPPER_METHOD.test(m));
}

/**
 * Detection: buf[off..] is exactly an HTTP/0.9 request — `GET /target` and its line end (maybe
 * one blank line) and nothing else.
 */
export function simpleRequestAt(buf: Buffer, off: number): boolean {
  const nl = buf.indexOf(0x0a, off);
  if (nl < 0) return false;
  const end = nl > off && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  const line = lenientRequestLine(buf, off, end);
  if (line === undefined || line.version !== undefined || line.method !== 'GET') return false;
  if (line.oddSpace || line.target.charCodeAt(0) !== 0x2f) return false;
  let rest = nl + 1;
  if (buf[rest] === 0x0d) rest++;
  if (buf[rest] === 0x0a) rest++;
  return rest >= buf.length;
}

export type LineVerdict = 'yes' | 'no' | 'maybe';

/** Longest first, so that a suffix match prefers PROPPATCH over PATCH. */
const KNOWN_METHODS = [
  'PROPPATCH',
  'PROPFIND',
  'OPTIONS',
  'CONNECT',
  'DELETE',
  'UNLOCK',
  'REPORT',
  'SEARCH',
  'PATCH',
  'TRACE',
  'MKCOL',
  'PURGE',
  'POST',
  'HEAD',
  'COPY',
  'MOVE',
  'LOCK',
  'PUT',
  'GET',
].map((m) => Buffer.from(m));

/**
 * The next message start in buf[from..], for resynchronisation and mid-stream detection:
 * - a status line (`HTTP/1.x NNN`) anywhere — it may directly follow the tail of a body;
 * - a request line at the beginning of a line (any method token), or anywhere when its method is
 *   a well-known one (`…"}GET /x HTTP/1.1`).
 * `fromIsLineStart`: buf[from] begins a line. `complete: false`: the bytes at `at` are a prefix of
 * a start line that the next bytes may complete.
 */
export function findStartLine(
  buf: Buffer,
  from: number,
  isRequest: boolean,
  fromIsLineStart: boolean,
): { at: number; complete: boolean } | undefined {
  if (!isRequest) {
    for (let i = buf.indexOf(HTTP1, from); i >= 0; i = buf.indexOf(HTTP1, i + 1)) {
      const v = statusLineAt(buf, i);
      if (v !== 'no') return { at: i, complete: v === 'yes' };
    }
    return undefined;
  }
  for (let i = buf.indexOf(SP_HTTP1, from); i >= 0; i = buf.indexOf(SP_HTTP1, i + 1)) {
    const nl = buf.lastIndexOf(0x0a, i);
    const lineStart = nl < from ? from : nl + 1;
    if (lineStart > from || fromIsLineStart) {
      const v = requestLineAt(buf, lineStart);
      if (v !== 'no') return { at: lineStart, complete: v === 'yes' };
    }
    const sp = buf.lastIndexOf(0x20, i - 1);
    const at = sp > lineStart ? knownMethodEndingAt(buf, sp, lineStart) : -1;
    if (at >= 0) {
      const v = requestLineAt(buf, at);
      if (v !== 'no') return { at, complete: v === 'yes' };
    }
  }
  return undefined;
}

/** Start of a well-known method that ends at `end` and starts at or after `min`, else -1. */
function knownMethodEndingAt(buf: Buffer, end: number, min: number): number {
  for (const m of KNOWN_METHODS) {
    const start = end - m.length;
    if (start >= min && buf.compare(m, 0, m.length, start, end) === 0) return start;
  }
  return -1;
}

/**
 * Is there a request line (`TOKEN SP target SP HTTP/d.d` CRLF) at `off`? 'maybe' while the
 * bytes are a prefix of one. Reads only within `buf`.
 */
export function requestLineAt(buf: Buffer, off: number): LineVerdict {
  let i = off;
  const len = buf.length;
  while (i < len && TCHAR[buf[i]!] === 1 && i - off < 32) i++;
  if (i === len) return i - off < 32 ? 'maybe' : 'no';
  if (buf[i] !== 0x20 || i === off) return 'no';
  const sp = buf.indexOf(SP_HTTP1, i + 1);
  const nl = buf.indexOf(0x0a, i + 1);
  if (sp < 0 || (nl >= 0 && nl < sp)) {
    // No " HTTP/1." yet: still plausible while the target has no line break or control bytes.
    for (let j = i + 1; j < len; j++) if (buf[j]! < 0x20 || buf[j] === 0x7f) return 'no';
    return 'maybe';
  }
  if (sp === i + 1) return 'no'; // empty target
  for (let j = i + 1; j < sp; j++) if (buf[j]! < 0x20 || buf[j] === 0x7f) return 'no';
  return versionTail(buf, sp + SP_HTTP1.length);
}

/** Is there a status line (`HTTP/d.d SP NNN` followed by SP or the line end) at `off`? */
export function statusLineAt(buf: Buffer, off: number): LineVerdict {
  const len = buf.length;
  for (let k = 0; k < HTTP1.length; k++) {
    if (off + k >= len) return 'maybe';
    if (buf[off + k] !== HTTP1[k]) return 'no';
  }
  const p = off + HTTP1.length;
  const probe = [isDigit, (c: number | undefined) => c === 0x20, isDigit, isDigit, isDigit];
  for (let k = 0; k < probe.length; k++) {
    if (p + k >= len) return 'maybe';
    if (!probe[k]!(buf[p + k])) return 'no';
  }
  const after = p + probe.length;
  if (after >= len) return 'maybe';
  const c = buf[after];
  return c === 0x20 || c === 0x0d || c === 0x0a ? 'yes' : 'no';
}

/** After "HTTP/1.": a digit then the line end. */
function versionTail(buf: Buffer, p: number): LineVerdict {
  if (p >= buf.length) return 'maybe';
  if (!isDigit(buf[p])) return 'no';
  if (p + 1 >= buf.length) return 'maybe';
  const c = buf[p + 1];
  if (c === 0x0a) return 'yes';
  if (c !== 0x0d) return 'no';
  return 'yes';
}
