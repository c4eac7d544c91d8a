/**
 * Test helpers: byte-exact pcap and pcapng writers (every variant the readers accept, including
 * ones no Linux tool writes: big-endian files, Simple Packet Blocks, odd timestamp resolutions),
 * and a driver that runs a CaptureReader over chunks. Used by the capture and decode tests.
 */
import type { KsError } from '../../src/util/errors.ts';
import { PCAP_MAGIC } from '../../src/tap/capture/pcap.ts';
import { CaptureReader } from '../../src/tap/capture/reader.ts';
import type { Packet } from '../../src/tap/capture/types.ts';

export interface PcapOptions {
  le?: boolean;
  nano?: boolean;
  linkType?: number;
  snaplen?: number;
}

export interface PcapRecord {
  sec: number;
  /** µs, or ns when the file is nanosecond. */
  frac: number;
  data: Buffer;
  origLen?: number;
}

/** A classic pcap file. */
export function pcapFile(opts: PcapOptions, records: PcapRecord[]): Buffer {
  const le = opts.le ?? true;
  const magic = opts.nano ? PCAP_MAGIC.nsBE : PCAP_MAGIC.usBE;
  const u32 = (b: Buffer, v: number, o: number) =>
    le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o);
  const u16 = (b: Buffer, v: number, o: number) =>
    le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o);
  const head = Buffer.alloc(24);
  u32(head, magic, 0);
  u16(head, 2, 4);
  u16(head, 4, 6);
  u32(head, opts.snaplen ?? 262144, 16);
  u32(head, opts.linkType ?? 1, 20);
  const parts: Buffer[] = [head];
  for (const r of records) {
    const h = Buffer.alloc(16);
    u32(h, r.sec, 0);
    u32(h, r.frac, 4);
    u32(h, r.data.length, 8);
    u32(h, r.origLen ?? r.data.length, 12);
    parts.push(h, r.data);
  }
  return Buffer.concat(parts);
}

export interface IdbOptions {
  snaplen?: number;
  /** if_tsresol byte (6 = µs, 9 = ns, 0x80 | n = 2^-n). */
  tsresol?: number;
  /** if_tsoffset, seconds. */
  tsoffset?: number;
}

/** Builds a pcapng file block by block; `ends` records where each block ends. */
export class PcapngWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;
  /** End offset of every block written, with whether it carried a packet. */
  readonly ends: Array<{ end: number; packet: boolean }> = [];
  private le = true;

  /** A Section Header Block; starts a new section in the given byte order. */
  shb(le = true): this {
    this.le = le;
    const body = Buffer.alloc(16);
    this.u32(body, 0x1a2b3c4d, 0);
    this.u16(body, 1, 4);
    this.u16(body, 0, 6);
    body.fill(0xff, 8, 16); // section length: unknown
    return this.block(0x0a0d0d0a, body);
  }

  idb(linkType: number, o: IdbOptions = {}): this {
    const opts: Buffer[] = [];
    if (o.tsresol !== undefined) opts.push(this.option(9, Buffer.from([o.tsresol])));
    if (o.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.le) v.writeBigInt64LE(BigInt(o.tsoffset));
      else v.writeBigInt64BE(BigInt(o.tsoffset));
      opts.push(this.option(14, v));
    }
    opts.push(this.option(2, Buffer.from('eth0'))); // if_name, ignored
    if (opts.length > 0) opts.push(Buffer.alloc(4)); // opt_endofopt
    const fixed = Buffer.alloc(8);
    this.u16(fixed, linkType, 0);
    this.u32(fixed, o.snaplen ?? 262144, 4);
    return this.block(1, Buffer.concat([fixed, ...opts]));
  }

  /** Enhanced Packet Block; `ts` in the interface's units. */
  epb(ifIndex: number, ts: bigint, data: Buffer, origLen = data.length): this {
    return this.packetBlock(6, ifIndex, ts, data, origLen);
  }

  /** The obsolete Packet Block (type 2): a 16-bit interface id and a drops counter. */
  obsoletePacket(ifIndex: number, ts: bigint, data: Buffer): this {
    return this.packetBlock(2, ifIndex, ts, data, data.length);
  }

  /** Simple Packet Block: interface 0, no timestamp. */
  spb(data: Buffer, origLen = data.length): this {
    const h = Buffer.alloc(4);
    this.u32(h, origLen, 0);
    return this.block(3, Buffer.concat([h, data]), true);
  }

  /** Any block, e.g. an unknown type that readers must skip. */
  block(type: number, body: Buffer, packet = false): this {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const len = padded.length + 12;
    const head = Buffer.alloc(8);
    this.u32(head, type, 0);
    this.u32(head, len, 4);
    const tail = Buffer.alloc(4);
    this.u32(tail, len, 0);
    this.parts.push(head, padded, tail);
    this.size += len;
    this.ends.push({ end: this.size, packet });
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }

  private packetBlock(
    type: number,
    ifIndex: number,
    ts: bigint,
    data: Buffer,
    origLen: number,
  ): this {
    const h = Buffer.alloc(20);
    if (type === 2) this.u16(h, ifIndex, 0);
    else this.u32(h, ifIndex, 0);
    this.u32(h, Number(ts >> 32n), 4);
    this.u32(h, Number(ts & 0xffffffffn), 8);
    this.u32(h, data.length, 12);
    this.u32(h, origLen, 16);
    const comment = this.option(1, Buffer.from('a comment'));
    return this.block(
      type,
      Buffer.concat([h, data, Buffer.alloc((4 - (data.length % 4)) % 4), comment, Buffer.alloc(4)]),
      true,
    );
  }

  private option(code: number, value: Buffer): Buffer {
    const h = Buffer.alloc(4);
    this.u16(h, code, 0);
    this.u16(h, value.length, 2);
    return Buffer.concat([h, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  }

  private u32(b: Buffer, v: number, o: number): void {
    if (this.le) b.writeUInt32LE(v, o);
    else b.writeUInt32BE(v, o);
  }

  private u16(b: Buffer, v: number, o: number): void {
    if (this.le) b.writeUInt16LE(v, o);
    else b.writeUInt16BE(v, o);
  }
}

export interface ReadResult {
  packets: Packet[];
  error?: KsError;
}

/**
 * Reads `bytes` with a CaptureReader, fed in chunks that end at `cuts` (sorted offsets), and
 * returns every packet (data copied) and the error, if any.
 */
export function readChunks(bytes: Buffer, cuts: number[] = [], name = 'test.pcap'): ReadResult {
  const reader = new CaptureReader(name);
  const packets: Packet[] = [];
  let from = 0;
  try {
    for (const to of [...cuts, bytes.length]) {
      if (to <= from && to !== bytes.length) continue;
      // A fresh copy per chunk: the reader must not depend on chunks staying adjacent in memory.
      reader.push(Buffer.from(bytes.subarray(from, to)), packets);
      from = to;
    }
    reader.end();
  } catch (e) {
    return { packets: packets.map(copyPacket), error: e as KsError };
  }
  return { packets: packets.map(copyPacket) };
}

/** Reads `bytes` in chunks of `size` bytes. */
export function readInChunksOf(bytes: Buffer, size: number): ReadResult {
  const cuts: number[] = [];
  for (let o = size; o < bytes.length; o += size) cuts.push(o);
  return readChunks(bytes, cuts);
}

function copyPacket(p: Packet): Packet {
  return { ...p, data: Buffer.from(p.data) };
}
