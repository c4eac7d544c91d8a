/**
 * One HTTP/1.x connection: two incremental parsers (client → requests, server → responses),
 * request/response pairing with pipelining, 1xx interim responses, gaps, and protocol switches
 * (WebSocket after `101`, opaque tunnels after other upgrades and CONNECT).
 *
 * Pairing: every request head opens an exchange in a FIFO; each final response answers the oldest
 * unanswered exchange. An exchange is emitted once its request and final response are both
 * complete, in FIFO order — so a response that arrives before its request's body ends (e.g. 413,
 * or the final answer to `Expect: 100-continue`) waits for the request.
 *
 * Odd request lines that servers still answer (odd whitespace, a broken or missing version, a
 * missing target, lower-case or unregistered methods) are requests like any other, paired with
 * their answer and flagged `KS_DISSECT_MALFORMED` on the entry; they count as a protocol
 * violation (towards detaching) only when no answer comes. A request without a version is
 * HTTP/0.9: it ends at its line end once the server answers, and an answer without a status line
 * is its bare body up to the close (statusCode 0, version `HTTP/0.9`).
 */
import type { Body, EntryError } from '../../../entry/model.ts';
import type { HttpRecord, HttpRequest, HttpResponse } from './record.ts';
import type { Direction } from '../../reassembly/types.ts';
import type { Emitted, Session, SessionContext } from '../types.ts';
import { decompressBounded, foldErrors, keptBody, type Coding } from '../common/body.ts';
import {
  HttpParser,
  lowerHeaderName,
  type HeadVerdict,
  type HttpHead,
  type HttpMessage,
  type HttpParserSink,
} from './parse.ts';

interface Exchange {
  /** Request head (undefined for a response seen without its request: mid-stream start). */
  reqHead: HttpHead | undefined;
  /** The request, converted when it completed (message bodies are only valid until then). */
  request: HttpRequest | undefined;
  requestWire: number;
  informational: { statusCode: number; statusText: string; ts: number }[];
  /** Wire bytes of the interim 1xx responses. */
  infoBytes: number;
  response: HttpResponse | undefined;
  responseWire: number;
  /** A final response was seen (or lost in a gap): the exchange no longer waits for one. */
  answered: boolean;
  /** The request asked for Upgrade or CONNECT: the request parser holds bytes until the answer. */
  wantsSwitch: boolean;
  /** The final response switches protocols (101, or 2xx to CONNECT). */
  switching: boolean;
  errors: EntryError[];
}

function newExchange(reqHead: HttpHead | undefined): Exchange {
  return {
    reqHead,
    request: undefined,
    requestWire: 0,
    informational: [],
    infoBytes: 0,
    response: undefined,
    responseWire: 0,
    answered: false,
    wantsSwitch: false,
    switching: false,
    errors: [],
  };
}

export class HttpSession implements Session {
  private readonly req: HttpParser;
  private readonly res: HttpParser;
  private readonly queue: Exchange[] = [];
  /** The exchange whose request is being parsed / whose response is being parsed. */
  private requesting: Exchange | undefined;
  private responding: Exchange | undefined;
  /** After a protocol switch: the WebSocket session, or null for an opaque tunnel (bytes counted only). */
  private tunnel: Session | null | undefined;
  private ended = false;

  constructor(private readonly ctx: SessionContext) {
    // Plain object literals, no spreads: a session is created per connection, and copying
    // objects of closures with `...` cost more than the rest of the constructor together.
    const onViolation = (m: string): void => ctx.violation(m);
    const onLimit = (name: 'maxHeaderBytes' | 'maxBodyBytes'): void => ctx.counters.hit(name);
    const maxHeaderBytes = ctx.limits.maxHeaderBytes;
    const maxBodyKeep = ctx.limits.maxBodyBytes;
    const reqSink: HttpParserSink = {
      onViolation,
      onLimit,
      onHead: (head) => this.onRequestHead(head),
      onMessage: (msg) => this.onRequest(msg),
      onLost: () => {}, // a lost request cannot be reported: its response will show up alone
      onSwitchedData: (data, ts) => this.tunnel?.onData(0, data, ts),
      onSwitchedGap: (bytes, ts) => this.tunnel?.onGap(0, bytes, ts),
    };
    const resSink: HttpParserSink = {
      onViolation,
      onLimit,
      onHead: (head) => this.onResponseHead(head),
      onMessage: (msg) => this.onResponse(msg),
      onLost: () => this.onResponseLost(),
      onSwitchedData: (data, ts) => this.tunnel?.onData(1, data, ts),
      onSwitchedGap: (bytes, ts) => this.tunnel?.onGap(1, bytes, ts),
      simpleResponseNext: () => this.nextAnswersSimple(),
    };
    this.req = new HttpParser({ kind: 'request', maxHeaderBytes, maxBodyKeep }, reqSink);
    this.res = new HttpParser({ kind: 'response', maxHeaderBytes, maxBodyKeep }, resSink);
  }

  onData(dir: Direction, data: Buffer, ts: number): void {
    if (this.ended) return;
    if (dir === 0) {
      this.req.push(data, ts);
      return;
    }
    // The server answers: a request line without a version still waiting for header lines was
    // the whole request (HTTP/0.9).
    this.req.completeSimpleRequest();
    this.res.push(data, ts);
  }

  onGap(dir: Direction, bytes: number, ts: number): void {
    if (this.ended) return;
    (dir === 0 ? this.req : this.res).gap(bytes, ts);
  }

  onEnd(ts: number): void {
    if (this.ended) return;
    this.ended = true;
    this.req.end(ts);
    this.res.end(ts);
    this.tunnel?.onEnd(ts);
    while (this.queue.length > 0) this.emit(this.queue.shift()!);
  }

  private onRequestHead(head: HttpHead): HeadVerdict {
    const ex = newExchange(head);
    this.requesting = ex;
    this.queue.push(ex);
    this.enforcePendingLimit();
    if (head.noVersion === true) this.res.expectSimpleResponses();
    ex.wantsSwitch = head.method === 'CONNECT' || asksUpgrade(head);
    return ex.wantsSwitch ? 'hold' : 'default';
  }

  private onRequest(msg: HttpMessage): void {
    const ex = this.requesting;
    this.requesting = undefined;
    if (ex === undefined) return;
    ex.request = this.toRequest(msg, ex.errors);
    ex.requestWire = msg.wireBytes;
    this.flush();
  }

  private onResponseHead(head: HttpHead): HeadVerdict {
    let ex: Exchange | undefined;
    for (const e of this.queue) {
      if (!e.answered) {
        ex = e;
        break;
      }
    }
    if (ex === undefined) {
      ex = newExchange(undefined); // no request seen: mid-stream start or lost request
      this.queue.push(ex);
    }
    this.responding = ex;
    const code = head.statusCode;
    const method = ex.reqHead?.method;
    if (code === 101 || (method === 'CONNECT' && code >= 200 && code < 300)) {
      ex.switching = true;
      return 'switch';
    }
    return method === 'HEAD' && code !== 0 ? 'no-body' : 'default';
  }

  /** The next answer belongs to a request without a version (it may be HTTP/0.9). */
  private nextAnswersSimple(): boolean {
    for (const e of this.queue) if (!e.answered) return e.reqHead?.noVersion === true;
    return false;
  }

  private onResponse(msg: HttpMessage): void {
    const ex = this.responding;
    this.responding = undefined;
    if (ex === undefined) return;
    const code = msg.head.statusCode;
    if (code >= 100 && code < 200 && !ex.switching) {
      ex.informational.push({ statusCode: code, statusText: msg.head.statusText, ts: msg.startTs });
      ex.infoBytes += msg.wireBytes;
      return;
    }
    ex.response = this.toResponse(msg, ex, ex.errors);
    ex.responseWire = msg.wireBytes;
    ex.answered = true;
    this.flush();
    if (ex.switching) this.startTunnel(ex, msg.head);
    else if (ex.wantsSwitch) this.req.resume(); // upgrade refused: the held bytes are HTTP
  }

  /** A gap swallowed the start of a response: the oldest waiting request lost its answer. */
  private onResponseLost(): void {
    const ex = this.queue.find((e) => !e.answered && e.reqHead !== undefined);
    if (ex === undefined) return;
    ex.answered = true;
    ex.errors.push({ code: 'KS_GAP', message: 'response lost in a capture gap' });
    this.flush();
    if (ex.wantsSwitch) this.req.resume(); // whether it switched is unknown: keep parsing HTTP
  }

  private startTunnel(ex: Exchange, resHead: HttpHead): void {
    const upgrade =
      headerValue(resHead.headers, 'upgrade') ??
      (ex.reqHead && headerValue(ex.reqHead.headers, 'upgrade'));
    const reqHeaders = ex.reqHead?.headers;
    if (resHead.statusCode === 101 && upgrade?.toLowerCase().includes('websocket') === true) {
      // Handed to the WebSocket dissector; when it is not enabled, the rest is opaque.
      this.tunnel =
        this.ctx.handoff('ws', {
          from: 'http',
          target: ex.reqHead?.target ?? '',
          requestHeader: (name) => reqHeaders && headerValue(reqHeaders, name.toLowerCase()),
          responseHeader: (name) => headerValue(resHead.headers, name.toLowerCase()),
        }) ?? null;
    } else {
      this.tunnel = null; // h2c, CONNECT tunnels, other upgrades: the rest is not parsed
    }
    this.req.switchProtocols();
  }

  /** Beyond maxPendingRequests unanswered requests, the oldest is emitted as unanswered. */
  private enforcePendingLimit(): void {
    let waiting = 0;
    for (const e of this.queue) if (!e.answered && e.reqHead !== undefined) waiting++;
    if (waiting <= this.ctx.limits.maxPendingRequests) return;
    const i = this.queue.findIndex(
      (e) => !e.answered && e.reqHead !== undefined && e !== this.requesting,
    );
    if (i < 0) return;
    const [old] = this.queue.splice(i, 1);
    this.ctx.counters.hit('maxPendingRequests');
    old!.errors.push({
      code: 'KS_NO_RESPONSE',
      message: `no response: more than maxPendingRequests (${this.ctx.limits.maxPendingRequests}) requests pending`,
    });
    old!.answered = true;
    this.emit(old!);
  }

  /** Emits complete exchanges at the front of the FIFO. */
  private flush(): void {
    for (;;) {
      const ex = this.queue[0];
      if (
        ex === undefined ||
        !ex.answered ||
        (ex.reqHead !== undefined && ex.request === undefined)
      )
        return;
      this.queue.shift();
      this.emit(ex);
    }
  }

  private emit(ex: Exchange): void {
    const { request, response, errors } = ex;
    if (request === undefined && response === undefined) return;
    const record: HttpRecord = { kind: 'http' };
    let ts = 0;
    let elapsed = 0;
    if (request !== undefined) {
      record.request = request;
      ts = request.ts;
    }
    if (response !== undefined) {
      record.response = response;
      if (request === undefined) ts = response.ts;
      else elapsed = Math.max(0, response.ts - request.ts);
    } else if (!ex.answered) {
      errors.push({
        code: 'KS_NO_RESPONSE',
        message: 'no response seen before the connection ended',
      });
    }
    const requestSize = ex.requestWire;
    const responseSize = response === undefined ? 0 : ex.responseWire + ex.infoBytes;
    const e: Emitted = { record, ts, elapsed, requestSize, responseSize };
    // Added in place (a spread into a new object with one more key is slow in V8).
    if (errors.length > 0) e.error = foldErrors(errors);
    this.ctx.emit(e);
    // An odd request line nobody answered is a protocol violation (after the entry: enough of
    // them detach the session); answered, it was HTTP.
    const problem = ex.reqHead?.problem;
    if (problem !== undefined && response === undefined) this.ctx.violation(`request: ${problem}`);
  }

  private toRequest(msg: HttpMessage, errors: EntryError[]): HttpRequest {
    const h = msg.head;
    const headers = headerMap(h.headers);
    const cookies = cookiesFrom(h.headers, 'cookie', parseCookieHeader);
    const target = splitTarget(h.target);
    messageErrors(msg, 'request', errors);
    const req: HttpRequest = {
      method: h.method,
      url: h.target,
      path: target.path,
      query: target.query,
      httpVersion: h.version,
      headers,
      headersList: h.headers,
      cookies,
      headersSize: h.headBytes,
      body: this.toBody(msg, headers['content-encoding'], 'request', errors),
      ts: msg.startTs,
    };
    if (msg.trailers !== undefined) req.trailers = headerMap(msg.trailers);
    return req;
  }

  private toResponse(msg: HttpMessage, ex: Exchange, errors: EntryError[]): HttpResponse {
    const h = msg.head;
    const headers = headerMap(h.headers);
    const cookies = cookiesFrom(h.headers, 'set-cookie', parseSetCookie);
    messageErrors(msg, 'response', errors);
    const res: HttpResponse = {
      statusCode: h.statusCode,
      statusText: h.statusText,
      httpVersion: h.version,
      headers,
      headersList: h.headers,
      cookies,
      headersSize: h.headBytes,
      body: this.toBody(msg, headers['content-encoding'], 'response', errors),
      ts: msg.startTs,
    };
    if (msg.trailers !== undefined) res.trailers = headerMap(msg.trailers);
    if (ex.informational.length > 0) res.informational = ex.informational;
    return res;
  }

  /** Kept bytes → Body: Content-Encoding decoded (bounded), then text or base64. */
  private toBody(
    msg: HttpMessage,
    contentEncoding: string | undefined,
    side: string,
    errors: EntryError[],
  ): Body {
    const body: Body = { size: msg.bodySize };
    let bytes = msg.body;
    let cut = msg.bodyCut;
    if (bytes.length > 0 && contentEncoding !== undefined) {
      const codings = parseCodings(contentEncoding);
      if (codings !== undefined && codings.length > 0) {
        let decoded: Buffer | undefined = bytes;
        let capped = false;
        // Codings are listed in the order they were applied: undo them last to first.
        for (let i = codings.length - 1; i >= 0 && decoded !== undefined; i--) {
          const r = decompressBounded(codings[i]!, decoded, this.ctx.limits.maxBodyBytes, {
            partial: cut || capped,
          });
          if (r.error !== undefined) {
            errors.push({
              code: 'KS_BODY_DECODE',
              message: `${side} body: ${codings[i]}: ${r.error}`,
            });
            decoded = undefined;
          } else {
            decoded = r.output;
            capped ||= r.capped;
          }
        }
        if (decoded !== undefined) {
          if (capped) this.ctx.counters.hit('maxDecompressedBytes');
          body.encoding = codings.join(', ');
          bytes = decoded;
          cut ||= capped;
        }
      }
    }
    return keptBody(body, bytes, msg.body, msg.bodySize, cut);
  }
}

/** Errors carried by a message itself: cut short, gaps, malformed framing. */
function messageErrors(msg: HttpMessage, side: string, errors: EntryError[]): void {
  if (msg.head.problem !== undefined) {
    errors.push({ code: 'KS_DISSECT_MALFORMED', message: `${side}: ${msg.head.problem}` });
  }
  if (msg.cut === 'malformed') {
    errors.push({
      code: 'KS_DISSECT_MALFORMED',
      message: `${side}: ${msg.malformed ?? 'malformed'}`,
    });
  } else if (msg.cut === 'end') {
    errors.push({ code: 'KS_TRUNCATED', message: `connection ended inside the ${side}` });
  }
  if (msg.gapBytes > 0 || msg.cut === 'gap') {
    errors.push({
      code: 'KS_GAP',
      message: `${side}: ${msg.gapBytes} bytes missing (capture gap)`,
    });
  }
}

/** Content-Encoding list → codings to undo; undefined when one is not supported (kept raw). */
function parseCodings(value: string): Coding[] | undefined {
  const out: Coding[] = [];
  for (const part of value.split(',')) {
    const c = part.trim().toLowerCase();
    if (c === 'gzip' || c === 'x-gzip') out.push('gzip');
    else if (c === 'deflate') out.push('deflate');
    else if (c === 'br') out.push('br');
    else if (c !== 'identity' && c !== '') return undefined;
  }
  return out;
}

/** Sets an own property even for keys like `__proto__`. */
function setOwn(map: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__')
    Object.defineProperty(map, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else map[key] = value;
}

/** Parses every header called `name` (lower case) with `parse` into one cookie map. */
function cookiesFrom(
  list: readonly [string, string][],
  name: string,
  parse: (value: string, into: Record<string, string>) => void,
): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) {
    const [n, value] = list[i]!;
    if (n.length === name.length && lowerHeaderName(n) === name) parse(value, cookies);
  }
  return cookies;
}

/**
 * Lower-case names → values. Repeated fields are joined with ", " (RFC 9110 §5.3), Set-Cookie
 * included; `headersList` and the cookie maps keep them apart.
 */
function headerMap(list: readonly [string, string][]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!;
    const key = lowerHeaderName(name);
    const prev = map[key];
    if (prev !== undefined && Object.hasOwn(map, key)) map[key] = `${prev}, ${value}`;
    else setOwn(map, key, value);
  }
  return map;
}

function headerValue(list: readonly [string, string][], lowerName: string): string | undefined {
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i]!;
    if (name.length === lowerName.length && lowerHeaderName(name) === lowerName) return value;
  }
  return undefined;
}

/** `Upgrade: x` with `Connection: upgrade` (any protocol: websocket, h2c…). */
function asksUpgrade(head: HttpHead): boolean {
  // The Upgrade header first: it is rare, and its absence spares the Connection token test.
  if (headerValue(head.headers, 'upgrade') === undefined) return false;
  const conn = headerValue(head.headers, 'connection');
  return conn !== undefined && /(^|[\s,])upgrade($|[\s,])/i.test(conn);
}

/** `Cookie: a=1; b=2` (the last value of a repeated name wins). */
function parseCookieHeader(value: string, into: Record<string, string>): void {
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name !== '') setOwn(into, name, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
}

/** `Set-Cookie: name=value; Path=/; …` → name → value (attributes dropped). */
function parseSetCookie(value: string, into: Record<string, string>): void {
  const semi = value.indexOf(';');
  const pair = semi < 0 ? value : value.slice(0, semi);
  const eq = pair.indexOf('=');
  const name = (eq < 0 ? '' : pair.slice(0, eq)).trim();
  if (name !== '') setOwn(into, name, pair.slice(eq + 1).trim());
}

/**
 * Request-target → path (without query) and query map. Absolute-form (`http://h/p?q`, proxies)
 * yields the path part; authority-form (CONNECT) and `*` are kept as the path.
 */
function splitTarget(target: string): { path: string; query: Record<string, string> } {
  const q = target.indexOf('?');
  let path = q < 0 ? target : target.slice(0, q);
  if (path.charCodeAt(0) !== 0x2f) {
    const scheme = path.indexOf('://');
    if (scheme > 0) {
      const slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? '/' : path.slice(slash);
    }
  }
  const query: Record<string, string> = {};
  if (q >= 0) {
    const hash = target.indexOf('#', q);
    parseQuery(target.slice(q + 1, hash < 0 ? target.length : hash), query);
  }
  return { path, query };
}

/** `a=1&b=x+y&a=2` → {a: "1,2", b: "x y"}: percent-decoded, `+` as space, repeats joined with ",". */
function parseQuery(qs: string, into: Record<string, string>): void {
  // One pass over the string (the same parts as `qs.split('&')`, no array). The next '=' is
  // remembered, so that parts without one do not rescan the rest of the string.
  let eq = -2; // index of the next '=' at or after `from`; -1: none left; -2: not searched yet
  for (let from = 0; from <= qs.length;) {
    let amp = qs.indexOf('&', from);
    if (amp < 0) amp = qs.length;
    if (amp > from) {
      if (eq !== -1 && eq < from) eq = qs.indexOf('=', from);
      const hasEq = eq >= 0 && eq < amp;
      const key = decodeQueryComponent(qs.slice(from, hasEq ? eq : amp));
      const value = hasEq ? decodeQueryComponent(qs.slice(eq + 1, amp)) : '';
      if (Object.hasOwn(into, key)) into[key] = `${into[key]},${value}`;
      else setOwn(into, key, value);
    }
    from = amp + 1;
  }
}

function decodeQueryComponent(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  const spaced = s.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced; // malformed escape: keep as sent
  }
}
