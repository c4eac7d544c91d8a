/**
 * The segment file format.
 *
 * A segment file starts with a 16-byte header (`KSSTORE` + format version byte, then 8 reserved
 * bytes) followed by frames:
 *
 *     u32le length of payload | u32le CRC-32 of (type byte + payload) | u8 type | payload
 *
 * - DICT  (type 1): uv string id, UTF-8 string. Ids count up from 0 within the segment; a frame
 *   is written before the first entry that refers to its string, in the same write.
 * - ENTRY (type 2): f64 id, f64 timestamp, u16 status, u8 flags, uv protocol string id, uv row
 *   length, summary row (codec.ts), then the heavy values as one JSON array (UTF-8, may be
 *   empty). An OPAQUE entry (one the schema does not describe) has an empty row and its whole
 *   JSON instead of the heavy array.
 *
 * A frame is never split across two writes' worth of data in a way recovery cannot see: a torn
 * write leaves a final frame that is short or fails its CRC, and recovery cuts the file there.
 */
import { crc32 } from 'node:zlib';

export const FILE_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 9;
const MAGIC = 'KSSTORE';
export const FORMAT_VERSION = 1;

export const FRAME_DICT = 1;
export const FRAME_ENTRY = 2;

/** ENTRY fixed part: id, timestamp, status, flags. */
export const ENTRY_FIXED_BYTES = 8 + 8 + 2 + 1;

/** Entry flags (index column and frame). */
export const FLAG_ERROR = 1;
export const FLAG_OPAQUE = 2;

/** Largest frame payload accepted on write and trusted on recovery. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function fileHeader(): Buffer {
  const b = Buffer.alloc(FILE_HEADER_BYTES);
  b.write(MAGIC, 0, 'latin1');
  b[7] = FORMAT_VERSION;
  return b;
}

export function checkFileHeader(b: Buffer): boolean {
  return (
    b.length >= FILE_HEADER_BYTES && b.toString('latin1', 0, 7) === MAGIC && b[7] === FORMAT_VERSION
  );
}

/** Fills in length and CRC of the frame whose header starts at `at` (payload already written). */
export function sealFrame(buf: Buffer, at: number, type: number, payloadLen: number): void {
  buf.writeUInt32LE(payloadLen, at);
  buf[at + 8] = type;
  buf.writeUInt32LE(crc32(buf.subarray(at + 8, at + FRAME_HEADER_BYTES + payloadLen)), at + 4);
}

export type FrameCheck =
  | { ok: true; type: number; len: number }
  /** Not enough bytes for the header or the declared payload. */
  | { ok: false; short: true; len: number }
  /** Length out of bounds or CRC mismatch. */
  | { ok: false; short: false; len: number };

/** Validates the frame at `at` within `buf[0, end)`. */
export function checkFrame(buf: Buffer, at: number, end: number): FrameCheck {
  if (end - at < FRAME_HEADER_BYTES) return { ok: false, short: true, len: 0 };
  const len = buf.readUInt32LE(at);
  if (len > MAX_FRAME_BYTES) return { ok: false, short: false, len };
  if (end - at - FRAME_HEADER_BYTES < len) return { ok: false, short: true, len };
  const crc = buf.readUInt32LE(at + 4);
  const type = buf[at + 8]!;
  if (crc32(buf.subarray(at + 8, at + FRAME_HEADER_BYTES + len)) !== crc) {
    return { ok: false, short: false, len };
  }
  if (type !== FRAME_DICT && type !== FRAME_ENTRY) return { ok: false, short: false, len };
  return { ok: true, type, len };
}
