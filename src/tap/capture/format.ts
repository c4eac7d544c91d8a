import type { CaptureInfo, Packet } from './types.ts';

/**
 * Damage found while parsing a capture. Parsers throw it with the absolute byte offset of the bad
 * record; CaptureReader turns it into a KsError that also names the file and the packet count.
 */
export class CaptureDamage extends Error {
  /** `version`: a format version number this reader does not know (not read on a guess). */
  constructor(
    readonly kind: 'corrupt' | 'format' | 'version',
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One capture format's record parser. The reader hands it bytes starting at a record boundary;
 * the parser consumes complete records only, so it never sees a chunk boundary.
 */
export interface FormatParser {
  /** Bytes needed at a record start before `recordLength` can answer. */
  readonly headerBytes: number;
  /**
   * Total length of the record at `buf[off]` (at least `headerBytes` are available), validated.
   * `pos` is the absolute file offset of `buf[off]`. Throws CaptureDamage.
   */
  recordLength(buf: Buffer, off: number, pos: number): number;
  /**
   * Parses every complete record in `buf[off, end)`, pushing packets to `out`; returns the offset
   * of the first incomplete record (or `end`). `base` is the absolute file offset of `buf[0]`.
   */
  parse(buf: Buffer, off: number, end: number, base: number, out: Packet[]): number;
  info(): CaptureInfo | undefined;
}

/**
 * Largest captured length accepted for one packet (libpcap's maximum snaplen for Ethernet). A
 * larger record length is taken as a sign of corruption rather than a reason to buffer gigabytes.
 */
export const MAX_CAPLEN = 256 * 1024;

/** Largest pcapng block accepted (packet blocks are also bounded by MAX_CAPLEN). */
export const MAX_BLOCK = 32 * 1024 * 1024;
