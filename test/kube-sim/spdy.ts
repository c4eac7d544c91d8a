/**
 * The SPDY/3.1 half of pods/portforward, as `kubectl port-forward` speaks it (stream protocol
 * portforward.k8s.io): the client opens an "error" and a "data" stream per connection (headers
 * streamType, port, requestID); the server replies to each, then bridges the data stream to
 * 127.0.0.1:<port> (then the pod IP, see PodConnection). Header blocks are zlib with the SPDY/3 dictionary; outgoing blocks are written
 * as stored (uncompressed) deflate blocks, which every zlib reader accepts. No flow control is
 * enforced (the Go client, moby/spdystream, does not enforce it either).
 */
import { inflateSync, constants as zc } from 'node:zlib';
import type { Duplex } from 'node:stream';
import { PodConnection } from './portforward.ts';

/** SPDY/3 header compression dictionary (draft 3, section 2.6.10.1); a protocol constant. */
const SPDY3_DICTIONARY = Buffer.from(
  'AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2VwdC1jaGFyc2V0AAAAD2FjY2VwdC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UAAAAFYWxsb3cAAAANYXV0aG9yaXphdGlvbgAAAA1jYWNoZS1jb250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNlAAAAEGNvbnRlbnQtZW5jb2RpbmcAAAAQY29udGVudC1sYW5ndWFnZQAAAA5jb250ZW50LWxlbmd0aAAAABBjb250ZW50LWxvY2F0aW9uAAAAC2NvbnRlbnQtbWQ1AAAADWNvbnRlbnQtcmFuZ2UAAAAMY29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAAAAZleHBlY3QAAAAHZXhwaXJlcwAAAARmcm9tAAAABGhvc3QAAAAIaWYtbWF0Y2gAAAARaWYtbW9kaWZpZWQtc2luY2UAAAANaWYtbm9uZS1tYXRjaAAAAAhpZi1yYW5nZQAAABNpZi11bm1vZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZpZWQAAAAIbG9jYXRpb24AAAAMbWF4LWZvcndhcmRzAAAABnByYWdtYQAAABJwcm94eS1hdXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXphdGlvbgAAAAVyYW5nZQAAAAdyZWZlcmVyAAAAC3JldHJ5LWFmdGVyAAAABnNlcnZlcgAAAAJ0ZQAAAAd0cmFpbGVyAAAAEXRyYW5zZmVyLWVuY29kaW5nAAAAB3VwZ3JhZGUAAAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3ZpYQAAAAd3YXJuaW5nAAAAEHd3dy1hdXRoZW50aWNhdGUAAAAGbWV0aG9kAAAAA2dldAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNpb24AAAAISFRUUC8xLjEAAAADdXJsAAAABnB1YmxpYwAAAApzZXQtY29va2llAAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAxMjAyMjA1MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3NDA4NDA5NDEwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0IE5vIENvbnRlbnQzMDEgTW92ZWQgUGVybWFuZW50bHk0MDAgQmFkIFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRlbjQwNCBOb3QgRm91bmQ1MDAgSW50ZXJuYWwgU2VydmVyIEVycm9yNTAxIE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZhaWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBKdW4gSnVsIEF1ZyBTZXB0IE9jdCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBXZWQsIFRodSwgRnJpLCBTYXQsIFN1biwgR01UY2h1bmtlZCx0ZXh0L2h0bWwsaW1hZ2UvcG5nLGltYWdlL2pwZyxpbWFnZS9naWYsYXBwbGljYXRpb24veG1sLGFwcGxpY2F0aW9uL3hodG1sK3htbCx0ZXh0L3BsYWluLHRleHQvamF2YXNjcmlwdCxwdWJsaWNwcml2YXRlbWF4LWFnZT1nemlwLGRlZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby04ODU5LTEsdXRmLSwqLGVucT0wLg==',
  'base64',
);

/** Largest frame accepted (SPDY allows 16 MiB; Go's client sends at most 32 KiB data frames). */
export const SPDY_MAX_FRAME_BYTES = 1024 * 1024;
/** Compressed header bytes kept for re-inflation (header blocks are few per port-forward session). */
export const SPDY_MAX_HEADER_BYTES = 256 * 1024;

const TYPE_SYN_STREAM = 1;
const TYPE_SYN_REPLY = 2;
const TYPE_RST_STREAM = 3;
const TYPE_PING = 6;
const TYPE_GOAWAY = 7;
const FLAG_FIN = 0x01;

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

function encodeHeaders(h: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const n = Buffer.alloc(4);
  n.writeUInt32BE(Object.keys(h).length);
  parts.push(n);
  for (const [k, v] of Object.entries(h)) {
    for (const s of [k.toLowerCase(), v]) {
      const b = Buffer.from(s);
      const l = Buffer.alloc(4);
      l.writeUInt32BE(b.length);
      parts.push(l, b);
    }
  }
  return Buffer.concat(parts);
}

function decodeHeaders(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 4;
  const count = b.readUInt32BE(0);
  for (let i = 0; i < count; i++) {
    const nl = b.readUInt32BE(off);
    const name = b.subarray(off + 4, off + 4 + nl).toString();
    off += 4 + nl;
    const vl = b.readUInt32BE(off);
    out[name.toLowerCase()] = b.subarray(off + 4, off + 4 + vl).toString();
    off += 4 + vl;
  }
  return out;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8003, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(payload.length, 4);
  h[4] = flags;
  return Buffer.concat([h, payload]);
}

function dataFrame(streamId: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(payload.length, 4);
  h[4] = flags;
  return Buffer.concat([h, payload]);
}

interface PfStream {
  id: number;
  type: string;
  port: number;
  requestId: string;
}

/** One SPDY session over an upgraded connection, serving port-forward streams. */
export class SpdyPortForwardSession {
  private buf = Buffer.alloc(0);
  private inHeaders = Buffer.alloc(0);
  private inflatedLen = 0;
  private outStarted = false;
  private readonly streams = new Map<number, PfStream>();
  private readonly tcpByStream = new Map<number, PodConnection>();
  private readonly pairs = new Map<string, { error?: PfStream; data?: PfStream }>();

  constructor(
    private readonly sock: Duplex,
    private readonly allowedPorts: number[] | undefined,
    private readonly hosts: string[] = ['127.0.0.1'],
  ) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('close', () => this.closeAll());
    sock.on('error', () => this.closeAll());
  }

  private closeAll(): void {
    for (const t of this.tcpByStream.values()) t.destroy();
    this.tcpByStream.clear();
  }

  private write(b: Buffer): void {
    if (!this.sock.destroyed) this.sock.write(b);
  }

  /** Compresses a header block as stored deflate blocks continuing the session's zlib stream. */
  private compress(raw: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.outStarted) {
      this.outStarted = true;
      const zh = Buffer.alloc(6);
      zh[0] = 0x78;
      zh[1] = 0x20; // FDICT set, fastest level
      zh[1] += 31 - ((zh[0] * 256 + zh[1]) % 31);
      zh.writeUInt32BE(adler32(SPDY3_DICTIONARY), 2);
      parts.push(zh);
    }
    for (let off = 0; off < raw.length || off === 0; off += 65535) {
      const chunk = raw.subarray(off, off + 65535);
      const h = Buffer.alloc(5);
      h[0] = 0; // BFINAL=0, BTYPE=00 (stored)
      h.writeUInt16LE(chunk.length, 1);
      h.writeUInt16LE(~chunk.length & 0xffff, 3);
      parts.push(h, chunk);
      if (raw.length === 0) break;
    }
    // An empty stored block is a sync-flush marker: it makes readers hand out the data so far
    // without waiting for the next block (Go's flate would otherwise hit EOF and stay broken).
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }

  private decompress(block: Buffer): Record<string, string> {
    this.inHeaders = Buffer.concat([this.inHeaders, block]);
    if (this.inHeaders.length > SPDY_MAX_HEADER_BYTES)
      throw new Error('SPDY header bytes over limit');
    const all = inflateSync(this.inHeaders, {
      dictionary: SPDY3_DICTIONARY,
      finishFlush: zc.Z_SYNC_FLUSH,
    });
    const fresh = all.subarray(this.inflatedLen);
    this.inflatedLen = all.length;
    return decodeHeaders(fresh);
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & 0xffffff;
      if (len > SPDY_MAX_FRAME_BYTES) {
        this.sock.destroy();
        return;
      }
      if (this.buf.length < 8 + len) return;
      const frame = this.buf.subarray(0, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      try {
        this.onFrame(frame);
      } catch {
        this.sock.destroy();
        return;
      }
    }
  }

  private onFrame(f: Buffer): void {
    const flags = f[4]!;
    const payload = f.subarray(8);
    if ((f[0]! & 0x80) === 0) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      const tcp = this.tcpByStream.get(id);
      if (payload.length > 0) tcp?.write(payload);
      if (flags & FLAG_FIN) tcp?.end();
      return;
    }
    const type = f.readUInt16BE(2);
    if (type === TYPE_SYN_STREAM) {
      const id = payload.readUInt32BE(0) & 0x7fffffff;
      const h = this.decompress(payload.subarray(10));
      const s: PfStream = {
        id,
        type: h.streamtype ?? '',
        port: Number(h.port),
        requestId: h.requestid ?? '',
      };
      this.streams.set(id, s);
      const idb = Buffer.alloc(4);
      idb.writeUInt32BE(id);
      this.write(
        controlFrame(TYPE_SYN_REPLY, 0, Buffer.concat([idb, this.compress(encodeHeaders({}))])),
      );
      const pair = this.pairs.get(s.requestId) ?? {};
      if (s.type === 'error') pair.error = s;
      else if (s.type === 'data') pair.data = s;
      this.pairs.set(s.requestId, pair);
      if (pair.error && pair.data) {
        this.pairs.delete(s.requestId);
        this.bridge(pair.data, pair.error);
      }
    } else if (type === TYPE_PING) {
      this.write(controlFrame(TYPE_PING, 0, payload));
    } else if (type === TYPE_RST_STREAM) {
      const id = payload.readUInt32BE(0) & 0x7fffffff;
      this.tcpByStream.get(id)?.destroy();
      this.tcpByStream.delete(id);
    } else if (type === TYPE_GOAWAY) {
      this.closeAll();
    }
    // SETTINGS, WINDOW_UPDATE and HEADERS need no action here.
  }

  private bridge(data: PfStream, err: PfStream): void {
    const fail = (msg: string): void => {
      this.write(dataFrame(err.id, FLAG_FIN, Buffer.from(msg)));
      this.write(dataFrame(data.id, FLAG_FIN, Buffer.alloc(0)));
    };
    if (this.allowedPorts && !this.allowedPorts.includes(data.port)) {
      fail(`port ${data.port} was not requested`);
      return;
    }
    const tcp = new PodConnection(data.port, this.hosts, {
      data: (b) => this.write(dataFrame(data.id, 0, b)),
      error: (e) => {
        this.tcpByStream.delete(data.id);
        fail(`error forwarding port ${data.port} to pod: ${e.message}`);
      },
      end: () => {
        this.write(dataFrame(data.id, FLAG_FIN, Buffer.alloc(0)));
        this.write(dataFrame(err.id, FLAG_FIN, Buffer.alloc(0)));
      },
      close: () => this.tcpByStream.delete(data.id),
    });
    this.tcpByStream.set(data.id, tcp);
  }
}
