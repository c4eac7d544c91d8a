/**
 * Test helper: synthetic classic pcap files of TCP conversations — Ethernet, IPv4, TCP with a
 * handshake, sequence and acknowledgement numbers, segments of at most one MSS and a FIN each
 * way (checksums zero: the decoder does not verify them). Written to a file as it goes, so a
 * capture of hundreds of thousands of calls does not sit in memory. For tests whose input is
 * bytes no real client would send (secrets of every shape) or that need volume (replay).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** One request and its response (none: unanswered). */
export interface Exchange {
  request: Buffer | string;
  response?: Buffer | string;
}

export interface Endpoints {
  clientIp?: string;
  clientPort: number;
  serverIp?: string;
  serverPort?: number;
}

const MSS = 1460;
const FLUSH_BYTES = 4 * 1024 * 1024;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

function ip4(text: string): number[] {
  return text.split('.').map(Number);
}

export class SynthPcap {
  private readonly fd: number;
  private parts: Buffer[] = [];
  private pending = 0;
  /** Capture time of the next packet, µs. */
  private ts = 1_700_000_000_000_000;
  packets = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(1, 20); // Ethernet
    this.push(h);
  }

  /** A whole connection: handshake, each exchange in turn, FIN both ways. */
  conversation(ends: Endpoints, exchanges: readonly Exchange[]): void {
    const c = { ip: ip4(ends.clientIp ?? '10.0.0.1'), port: ends.clientPort, seq: 1000 };
    const s = { ip: ip4(ends.serverIp ?? '10.0.0.2'), port: ends.serverPort ?? 80, seq: 5000 };
    this.segment(c, s, SYN, Buffer.alloc(0), 0);
    c.seq++;
    this.segment(s, c, SYN | ACK, Buffer.alloc(0), c.seq);
    s.seq++;
    this.segment(c, s, ACK, Buffer.alloc(0), s.seq);
    for (const x of exchanges) {
      this.send(c, s, Buffer.from(x.request));
      if (x.response !== undefined) this.send(s, c, Buffer.from(x.response));
    }
    this.segment(c, s, FIN | ACK, Buffer.alloc(0), s.seq);
    c.seq++;
    this.segment(s, c, FIN | ACK, Buffer.alloc(0), c.seq);
    s.seq++;
    this.segment(c, s, ACK, Buffer.alloc(0), s.seq);
  }

  /** Writes what is buffered and closes the file. */
  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private send(from: Side, to: Side, data: Buffer): void {
    for (let off = 0; off < data.length; off += MSS) {
      const part = data.subarray(off, Math.min(data.length, off + MSS));
      this.segment(from, to, PSH | ACK, part, to.seq);
      from.seq += part.length;
    }
    this.segment(to, from, ACK, Buffer.alloc(0), from.seq);
  }

  private segment(from: Side, to: Side, flags: number, payload: Buffer, ack: number): void {
    const len = 14 + 20 + 20 + payload.length;
    const b = Buffer.alloc(16 + len);
    const sec = Math.floor(this.ts / 1e6);
    b.writeUInt32LE(sec, 0);
    b.writeUInt32LE(this.ts - sec * 1e6, 4);
    b.writeUInt32LE(len, 8);
    b.writeUInt32LE(len, 12);
    this.ts += 50;
    let o = 16;
    // Ethernet: dst, src, IPv4.
    b.set([2, 0, 0, 0, 0, to.ip[3]!, 2, 0, 0, 0, 0, from.ip[3]!, 0x08, 0x00], o);
    o += 14;
    b[o] = 0x45;
    b.writeUInt16BE(20 + 20 + payload.length, o + 2);
    b.writeUInt16BE(0x4000, o + 6); // DF
    b[o + 8] = 64;
    b[o + 9] = 6;
    b.set(from.ip, o + 12);
    b.set(to.ip, o + 16);
    o += 20;
    b.writeUInt16BE(from.port, o);
    b.writeUInt16BE(to.port, o + 2);
    b.writeUInt32BE(from.seq >>> 0, o + 4);
    b.writeUInt32BE(flags & ACK ? ack >>> 0 : 0, o + 8);
    b[o + 12] = 5 << 4;
    b[o + 13] = flags;
    b.writeUInt16BE(65535, o + 14);
    o += 20;
    payload.copy(b, o);
    this.packets++;
    this.push(b);
  }

  private push(b: Buffer): void {
    this.parts.push(b);
    this.pending += b.length;
    if (this.pending >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending === 0) return;
    const all = Buffer.concat(this.parts, this.pending);
    let off = 0;
    while (off < all.length) off += writeSync(this.fd, all, off);
    this.parts = [];
    this.pending = 0;
  }
}

interface Side {
  ip: number[];
  port: number;
  seq: number;
}

/** `GET path` with the given extra header lines, as HTTP/1.1 text. */
export function httpRequest(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body = '',
): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: api.example.test'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body !== '' || method === 'POST' || method === 'PUT')
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** An HTTP/1.1 response with a body (Content-Length framed). */
export function httpResponse(
  status: number,
  headers: Record<string, string> = {},
  body = '',
): string {
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Status'}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** One WebSocket frame (text by default); client frames are masked, as RFC 6455 requires. */
export function wsFrame(payload: string, fromClient: boolean, opcode = 1): Buffer {
  const data = Buffer.from(payload);
  const head: number[] = [0x80 | opcode];
  const mask = fromClient ? 0x80 : 0;
  if (data.length < 126) head.push(mask | data.length);
  else if (data.length < 65536) head.push(mask | 126, data.length >> 8, data.length & 0xff);
  else throw new Error('frame too large for this helper');
  if (!fromClient) return Buffer.concat([Buffer.from(head), data]);
  const key = [0x12, 0x34, 0x56, 0x78];
  const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from([...head, ...key]), masked]);
}

/**
 * `calls` HTTP/1.1 calls with small JSON bodies, 100 per keep-alive connection, as one capture at
 * `path` (for volume: replay, backpressure). Returns the number of calls written.
 */
export function writeHttpVolume(path: string, calls: number): number {
  const w = new SynthPcap(path);
  const perConn = 100;
  const body = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'synthetic' });
  let n = 0;
  for (let c = 0; n < calls; c++) {
    const exchanges: Exchange[] = [];
    for (let i = 0; i < perConn && n < calls; i++, n++) {
      exchanges.push({
        request: httpRequest('GET', `/api/items/${n}`),
        response: httpResponse(200, { 'Content-Type': 'application/json' }, body),
      });
    }
    w.conversation(
      { clientIp: `10.1.${(c >> 8) & 255}.${c & 255}`, clientPort: 10000 + (c % 50000) },
      exchanges,
    );
  }
  w.close();
  return n;
}
