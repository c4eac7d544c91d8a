import { CaptureDamage, MAX_CAPLEN, type FormatParser } from './format.ts';
import type { CaptureInfo, Packet } from './types.ts';

/** First four bytes of a classic pcap file, read big-endian. */
export const PCAP_MAGIC = {
  usBE: 0xa1b2c3d4,
  usLE: 0xd4c3b2a1,
  nsBE: 0xa1b23c4d,
  nsLE: 0x4d3cb2a1,
} as const;

const FILE_HEADER = 24;
const RECORD_HEADER = 16;
/**
 * The versions read, as libpcap reads them: 2.0 to 2.4 (every writer since 1998 writes 2.4).
 * Another number is a format this reader does not know: an error, never a guess.
 */
const VERSION_MAJOR = 2;
const VERSION_MINOR_MAX = 4;

/**
 * Classic libpcap format: a 24-byte file header, then records of a 16-byte header (seconds,
 * µs or ns fraction, captured length, original length) followed by the captured bytes.
 */
export class PcapParser implements FormatParser {
  headerBytes = FILE_HEADER;
  private readonly le: boolean;
  private readonly nano: boolean;
  private header: CaptureInfo | undefined;
  private linkType = 0;
  private maxCaplen = MAX_CAPLEN;

  constructor(magic: number) {
    this.le = magic === PCAP_MAGIC.usLE || magic === PCAP_MAGIC.nsLE;
    this.nano = magic === PCAP_MAGIC.nsBE || magic === PCAP_MAGIC.nsLE;
  }

  info(): CaptureInfo | undefined {
    return this.header;
  }

  recordLength(buf: Buffer, off: number, pos: number): number {
    if (this.header === undefined) return FILE_HEADER;
    return RECORD_HEADER + this.caplen(buf, off, pos);
  }

  private caplen(buf: Buffer, off: number, pos: number): number {
    const caplen = u32(buf, off + 8, this.le);
    if (caplen > this.maxCaplen) {
      throw new CaptureDamage(
        'corrupt',
        pos,
        `record length ${caplen} exceeds the maximum of ${this.maxCaplen}`,
      );
    }
    return caplen;
  }

  parse(buf: Buffer, off: number, end: number, base: number, out: Packet[]): number {
    if (this.header === undefined) {
      if (end - off < FILE_HEADER) return off;
      this.readFileHeader(buf, off);
      off += FILE_HEADER;
    }
    const le = this.le;
    const nano = this.nano;
    const linkType = this.linkType;
    while (end - off >= RECORD_HEADER) {
      const caplen = this.caplen(buf, off, base + off);
      const next = off + RECORD_HEADER + caplen;
      if (next > end) break;
      const sec = u32(buf, off, le);
      const frac = u32(buf, off + 4, le);
      out.push({
        ts: sec * 1_000_000 + (nano ? Math.floor(frac / 1000) : frac),
        linkType,
        data: buf.subarray(off + RECORD_HEADER, next),
        origLen: u32(buf, off + 12, le),
        ifIndex: 0,
      });
      off = next;
    }
    return off;
  }

  private readFileHeader(buf: Buffer, off: number): void {
    const major = this.le ? buf.readUInt16LE(off + 4) : buf.readUInt16BE(off + 4);
    const minor = this.le ? buf.readUInt16LE(off + 6) : buf.readUInt16BE(off + 6);
    if (major !== VERSION_MAJOR || minor > VERSION_MINOR_MAX) {
      throw new CaptureDamage(
        'version',
        0,
        `pcap format version ${major}.${minor}, not one this reader knows (${VERSION_MAJOR}.0 to ${VERSION_MAJOR}.${VERSION_MINOR_MAX})`,
      );
    }
    const snaplen = this.le ? buf.readUInt32LE(off + 16) : buf.readUInt32BE(off + 16);
    // The upper 16 bits of the link type field carry FCS information, not the link type.
    this.linkType = (this.le ? buf.readUInt32LE(off + 20) : buf.readUInt32BE(off + 20)) & 0xffff;
    // A record longer than twice the snaplen cannot come from an honest writer.
    if (snaplen > 0 && snaplen * 2 < MAX_CAPLEN) this.maxCaplen = snaplen * 2;
    this.headerBytes = RECORD_HEADER;
    this.header = { format: 'pcap', linkType: this.linkType, snaplen, nanosecond: this.nano };
  }
}

/**
 * A uint32 in the file's byte order at an offset whose bounds the caller checked (Buffer's read
 * methods would validate it again, four times per record).
 */
function u32(b: Buffer, o: number, le: boolean): number {
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
