import { KsError } from '../../util/errors.ts';
import { CaptureDamage, type FormatParser } from './format.ts';
import { PCAP_MAGIC, PcapParser } from './pcap.ts';
import { PCAPNG_SHB, PcapngParser } from './pcapng.ts';
import type { CaptureInfo, Packet } from './types.ts';

const MAGIC_BYTES = 4;
const KNOWN_MAGICS = [...Object.values(PCAP_MAGIC), PCAPNG_SHB];

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/**
 * Incremental capture reader: feed it chunks of a pcap or pcapng byte stream, split anywhere,
 * and it emits the packets of every complete record. The format is detected from the magic.
 *
 * Records inside a chunk are parsed in place (packet data are views of the chunk). Only a record
 * that straddles two chunks is copied, into a fresh buffer of its exact size, so packets already
 * emitted are never overwritten.
 */
export class CaptureReader {
  private parser: FormatParser | undefined;
  /** The incomplete record at the end of the previous chunk: `carry[0, carryLen)`. */
  private carry: Buffer | undefined;
  private carryLen = 0;
  /** Length of the carried record once its header was seen (0 while unknown). */
  private carryNeed = 0;
  /** Absolute offset of the first byte not yet consumed. */
  private pos = 0;
  private count = 0;
  private total = 0;

  constructor(readonly name: string) {}

  info(): CaptureInfo | undefined {
    return this.parser?.info();
  }

  /**
   * Parses `chunk`, appending complete packets to `out`. On damage it throws a KsError after
   * appending every packet before the damage: the caller should still deliver `out`.
   */
  push(chunk: Buffer, out: Packet[]): void {
    const before = out.length;
    try {
      this.total += chunk.length;
      let used = 0;
      if (this.carryLen > 0 || this.parser === undefined) {
        used = this.completeCarry(chunk, out);
      }
      if (used < chunk.length) this.parseChunk(chunk, used, out);
    } catch (e) {
      this.count += out.length - before;
      throw this.toKsError(e);
    }
    this.count += out.length - before;
  }

  /** The input ended: throws if it was empty, not a capture, or ended inside a record. */
  end(): void {
    if (this.total === 0) throw new KsError('KS_ERR_CAPTURE_EMPTY', `${this.name} is empty`);
    if (this.parser === undefined) {
      const head = this.carry?.subarray(0, this.carryLen) ?? Buffer.alloc(0);
      const isPrefix = KNOWN_MAGICS.some((m) => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(m);
        return b.subarray(0, head.length).equals(head);
      });
      if (!isPrefix) {
        throw new KsError(
          'KS_ERR_CAPTURE_FORMAT',
          `${this.name} is not a pcap or pcapng capture (magic 0x${head.toString('hex')}, only ${this.total} bytes)`,
        );
      }
    }
    if (this.carryLen > 0) {
      const what =
        this.pos === 0
          ? 'inside the file header'
          : this.carryNeed > 0
            ? `inside a record (${this.carryLen} of ${this.carryNeed} bytes)`
            : `inside a record header (${this.carryLen} bytes)`;
      throw new KsError(
        'KS_ERR_CAPTURE_TRUNCATED',
        `${this.name} is truncated at byte ${this.pos}: it ends ${what} after ${this.count} packets`,
      );
    }
  }

  /** Bytes the carry must hold before the next decision can be made. */
  private needed(): number {
    if (this.parser === undefined) return MAGIC_BYTES;
    return this.carryNeed > 0 ? this.carryNeed : this.parser.headerBytes;
  }

  /**
   * Moves bytes from the start of `chunk` into the carry until it holds one complete record (then
   * parses it) or the chunk is exhausted. Returns how many chunk bytes were used.
   */
  private completeCarry(chunk: Buffer, out: Packet[]): number {
    let used = 0;
    for (;;) {
      const need = this.needed();
      const take = Math.min(need - this.carryLen, chunk.length - used);
      if (take > 0) {
        if (this.carry === undefined || this.carry.length < need) {
          const grown = Buffer.allocUnsafe(need);
          this.carry?.copy(grown, 0, 0, this.carryLen);
          this.carry = grown;
        }
        chunk.copy(this.carry, this.carryLen, used, used + take);
        this.carryLen += take;
        used += take;
      }
      if (this.carryLen < need) return used;
      const carry = this.carry as Buffer;
      if (this.parser === undefined) {
        this.parser = this.detect(carry.readUInt32BE(0));
        continue;
      }
      const len = this.parser.recordLength(carry, 0, this.pos);
      if (len > this.carryLen) {
        this.carryNeed = len;
        continue;
      }
      this.parser.parse(carry, 0, len, this.pos, out);
      this.pos += len;
      this.carry = undefined;
      this.carryLen = 0;
      this.carryNeed = 0;
      return used;
    }
  }

  /** Parses the records of `chunk[from…]` in place and carries the incomplete tail. */
  private parseChunk(chunk: Buffer, from: number, out: Packet[]): void {
    const parser = this.parser as FormatParser;
    const base = this.pos - from;
    const off = parser.parse(chunk, from, chunk.length, base, out);
    this.pos = base + off;
    const rem = chunk.length - off;
    if (rem === 0) return;
    this.carryNeed = rem >= parser.headerBytes ? parser.recordLength(chunk, off, this.pos) : 0;
    this.carry = Buffer.allocUnsafe(Math.max(this.carryNeed, parser.headerBytes, rem));
    chunk.copy(this.carry, 0, off);
    this.carryLen = rem;
  }

  private detect(magic: number): FormatParser {
    if (magic === PCAPNG_SHB) return new PcapngParser();
    if ((Object.values(PCAP_MAGIC) as number[]).includes(magic)) return new PcapParser(magic);
    throw new KsError(
      'KS_ERR_CAPTURE_FORMAT',
      `${this.name} is not a pcap or pcapng capture (magic ${hex32(magic)})`,
    );
  }

  private toKsError(e: unknown): KsError {
    if (e instanceof KsError) return e;
    if (e instanceof CaptureDamage && e.kind === 'version') {
      return new KsError(
        'KS_ERR_CAPTURE_FORMAT',
        `${this.name}: unsupported ${e.message}${e.offset > 0 ? ` (at byte ${e.offset}, after ${this.count} packets)` : ''}`,
      );
    }
    if (e instanceof CaptureDamage && e.kind === 'format') {
      return new KsError(
        'KS_ERR_CAPTURE_FORMAT',
        `${this.name} is not a pcap or pcapng capture (${e.message})`,
      );
    }
    if (e instanceof CaptureDamage) {
      return new KsError(
        'KS_ERR_CAPTURE_CORRUPT',
        `${this.name} is corrupt at byte ${e.offset}: ${e.message} (after ${this.count} packets)`,
      );
    }
    return new KsError('KS_ERR_INTERNAL', `reading ${this.name}: ${String(e)}`, { cause: e });
  }
}
