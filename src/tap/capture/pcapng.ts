import { CaptureDamage, MAX_BLOCK, MAX_CAPLEN, type FormatParser } from './format.ts';
import type { CaptureInfo, Packet } from './types.ts';

/** Block type of the Section Header Block; a palindrome, so it reads the same in both orders. */
export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const BLOCK_PACKET_OBSOLETE = 2;
const BLOCK_IDB = 1;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;

const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

/** Converts a 64-bit timestamp given as two 32-bit halves to µs since the epoch. */
type TsToMicros = (high: number, low: number) => number;

interface Iface {
  linkType: number;
  snaplen: number;
  toMicros: TsToMicros;
}

const TWO32 = 4294967296;

/**
 * Builds the timestamp converter for an interface. `tsresol` is the if_tsresol byte (MSB clear:
 * units of 10^-n s, MSB set: 2^-n s); `offsetSec` is if_tsoffset. The common resolutions are
 * computed exactly in doubles: with 2^32 = q·d + r, floor((hi·2^32 + lo) / d) =
 * hi·q + floor((hi·r + lo) / d), and every term stays below 2^53. Rare ones fall back to BigInt.
 */
export function tsConverter(tsresol: number, offsetSec: number): TsToMicros {
  const offsetUs = offsetSec * 1_000_000;
  const exp = tsresol & 0x7f;
  if ((tsresol & 0x80) === 0 && exp <= 6) {
    const mul = 10 ** (6 - exp);
    return (hi, lo) => (hi * TWO32 + lo) * mul + offsetUs;
  }
  if ((tsresol & 0x80) === 0 && exp <= 12) {
    const d = 10 ** (exp - 6);
    const q = Math.floor(TWO32 / d);
    const r = TWO32 % d;
    return (hi, lo) => hi * q + Math.floor((hi * r + lo) / d) + offsetUs;
  }
  // Units per second: 10^exp or 2^exp. µs = floor(units · 10^6 / unitsPerSecond).
  const perSecond = (tsresol & 0x80) === 0 ? 10n ** BigInt(exp) : 1n << BigInt(exp);
  return (hi, lo) =>
    Number((((BigInt(hi) << 32n) | BigInt(lo)) * 1_000_000n) / perSecond) + offsetUs;
}

const DEFAULT_TS = tsConverter(6, 0);

/**
 * pcapng: a sequence of blocks (type, total length, body, total length again). A Section Header
 * Block sets the byte order and starts a new list of interfaces; Interface Description Blocks
 * give each interface its link type, snaplen and timestamp resolution; Enhanced, Simple and the
 * obsolete Packet Blocks carry packets. Other blocks are skipped by their length.
 */
export class PcapngParser implements FormatParser {
  readonly headerBytes = 12;
  private le = true;
  private ifaces: Iface[] = [];
  private first: CaptureInfo | undefined;
  /** Simple Packet Blocks carry no timestamp: they take the previous packet's. */
  private lastTs = 0;

  info(): CaptureInfo | undefined {
    return this.first;
  }

  private u32(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  }

  private u16(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
  }

  recordLength(buf: Buffer, off: number, pos: number): number {
    if (buf.readUInt32LE(off) === PCAPNG_SHB) {
      // The section's byte order is only known from the magic after the length field.
      const bom = buf.readUInt32LE(off + 8);
      if (bom === BYTE_ORDER_MAGIC) this.le = true;
      else if (bom === 0x4d3c2b1a) this.le = false;
      else {
        throw new CaptureDamage(
          pos === 0 ? 'format' : 'corrupt',
          pos,
          `section header with bad byte-order magic 0x${bom.toString(16).padStart(8, '0')}`,
        );
      }
    }
    const len = this.u32(buf, off + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
      throw new CaptureDamage('corrupt', pos, `invalid block length ${len}`);
    }
    return len;
  }

  parse(buf: Buffer, off: number, end: number, base: number, out: Packet[]): number {
    while (end - off >= 12) {
      const len = this.recordLength(buf, off, base + off);
      if (end - off < len) break;
      if (this.u32(buf, off + len - 4) !== len) {
        throw new CaptureDamage(
          'corrupt',
          base + off,
          `block length ${len} does not match its trailing length ${this.u32(buf, off + len - 4)}`,
        );
      }
      this.block(buf, off, len, base + off, out);
      off += len;
    }
    return off;
  }

  private block(buf: Buffer, off: number, len: number, pos: number, out: Packet[]): void {
    const type = this.u32(buf, off);
    switch (type) {
      case BLOCK_EPB:
      case BLOCK_PACKET_OBSOLETE: {
        if (len < 32) throw new CaptureDamage('corrupt', pos, `packet block too short (${len})`);
        const ifIndex = type === BLOCK_EPB ? this.u32(buf, off + 8) : this.u16(buf, off + 8);
        const iface = this.iface(ifIndex, pos);
        const caplen = this.u32(buf, off + 20);
        if (caplen > len - 32 || caplen > MAX_CAPLEN) {
          throw new CaptureDamage('corrupt', pos, `captured length ${caplen} exceeds its block`);
        }
        const ts = iface.toMicros(this.u32(buf, off + 12), this.u32(buf, off + 16));
        this.lastTs = ts;
        out.push({
          ts,
          linkType: iface.linkType,
          data: buf.subarray(off + 28, off + 28 + caplen),
          origLen: this.u32(buf, off + 24),
          ifIndex,
        });
        return;
      }
      case BLOCK_SPB: {
        if (len < 16) throw new CaptureDamage('corrupt', pos, `simple packet block too short`);
        const iface = this.iface(0, pos);
        const origLen = this.u32(buf, off + 8);
        let caplen = Math.min(origLen, len - 16);
        if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
        out.push({
          ts: this.lastTs,
          linkType: iface.linkType,
          data: buf.subarray(off + 12, off + 12 + caplen),
          origLen,
          ifIndex: 0,
        });
        return;
      }
      case BLOCK_IDB:
        this.readIdb(buf, off, len, pos);
        return;
      case PCAPNG_SHB: {
        if (len < 28) throw new CaptureDamage('corrupt', pos, `section header too short (${len})`);
        const major = this.u16(buf, off + 12);
        if (major !== 1) {
          throw new CaptureDamage(
            'version',
            pos,
            `pcapng format version ${major}.${this.u16(buf, off + 14)}, not one this reader knows (1.x)`,
          );
        }
        this.ifaces = [];
        return;
      }
      default:
        return; // NRB, ISB, DSB, custom and unknown blocks: skipped by length.
    }
  }

  private iface(ifIndex: number, pos: number): Iface {
    const iface = this.ifaces[ifIndex];
    if (iface === undefined) {
      throw new CaptureDamage('corrupt', pos, `packet for undeclared interface ${ifIndex}`);
    }
    return iface;
  }

  private readIdb(buf: Buffer, off: number, len: number, pos: number): void {
    if (len < 20) throw new CaptureDamage('corrupt', pos, `interface block too short (${len})`);
    const linkType = this.u16(buf, off + 8);
    const snaplen = this.u32(buf, off + 12);
    let tsresol = 6;
    let offsetSec = 0;
    // Options: code (2), length (2), value padded to 4 bytes; they end before the trailing length.
    const end = off + len - 4;
    let o = off + 16;
    while (o + 4 <= end) {
      const code = this.u16(buf, o);
      const optLen = this.u16(buf, o + 2);
      if (code === OPT_ENDOFOPT || o + 4 + optLen > end) break;
      if (code === OPT_IF_TSRESOL && optLen >= 1) tsresol = buf.readUInt8(o + 4);
      else if (code === OPT_IF_TSOFFSET && optLen >= 8) {
        offsetSec = Number(this.le ? buf.readBigInt64LE(o + 4) : buf.readBigInt64BE(o + 4));
      }
      o += 4 + ((optLen + 3) & ~3);
    }
    const toMicros =
      tsresol === 6 && offsetSec === 0 ? DEFAULT_TS : tsConverter(tsresol, offsetSec);
    this.ifaces.push({ linkType, snaplen, toMicros });
    this.first ??= { format: 'pcapng', linkType, snaplen, nanosecond: tsresol === 9 };
  }
}
