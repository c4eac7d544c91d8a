/**
 * Body helpers shared by dissectors: bounded decompression (Content-Encoding, permessage-deflate)
 * and the text-or-base64 rule for kept bytes. Never throw: failures are returned as values.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';
import type { Body, EntryError } from '../../../entry/model.ts';

/** `deflate` accepts zlib-wrapped (RFC 1950, as HTTP specifies) and raw streams (as some servers send). */
export type Coding = 'gzip' | 'deflate' | 'deflate-raw' | 'br';

export interface DecompressResult {
  output: Buffer;
  /** The output would have exceeded the cap: `output` is the largest decodable prefix within it. */
  capped: boolean;
  /** The input could not be decoded (corrupt); `output` is empty. */
  error?: string;
}

export interface DecompressOptions {
  /** The input is only a prefix of the stream (kept body cut short, capture gap): decode what is there. */
  partial?: boolean;
  /** Raw deflate only: preset window (permessage-deflate context takeover). */
  dictionary?: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * Decompresses `input` into at most `cap` bytes. A decompression bomb is cut at the cap: zlib's
 * sync API throws once `maxOutputLength` is exceeded and keeps nothing, so the largest input
 * prefix whose output fits is found by bisection (only when the cap is hit: ~log2(input) extra
 * passes of at most `cap` bytes each). For Brotli the kept prefix can be well below the cap, since
 * Brotli emits output per meta-block.
 */
export function decompressBounded(
  coding: Coding,
  input: Buffer,
  cap: number,
  opts: DecompressOptions = {},
): DecompressResult {
  if (cap <= 0) return { output: EMPTY, capped: input.length > 0 };
  try {
    return {
      output: inflate(coding, input, cap, opts.partial === true, opts.dictionary),
      capped: false,
    };
  } catch (err) {
    if (!isTooLarge(err)) return { output: EMPTY, capped: false, error: errorMessage(err) };
  }
  let lo = 0;
  let hi = input.length - 1;
  let best: Buffer = EMPTY;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    try {
      best = inflate(coding, input.subarray(0, mid), cap, true, opts.dictionary);
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return { output: best, capped: true };
}

function inflate(
  coding: Coding,
  input: Buffer,
  cap: number,
  partial: boolean,
  dictionary?: Buffer,
): Buffer {
  if (coding === 'br') {
    return zlib.brotliDecompressSync(input, {
      maxOutputLength: cap,
      finishFlush: partial
        ? zlib.constants.BROTLI_OPERATION_FLUSH
        : zlib.constants.BROTLI_OPERATION_FINISH,
    });
  }
  const o: zlib.ZlibOptions = { maxOutputLength: cap };
  if (partial) o.finishFlush = zlib.constants.Z_SYNC_FLUSH;
  if (dictionary !== undefined && dictionary.length > 0) o.dictionary = dictionary;
  if (coding === 'gzip') return zlib.gunzipSync(input, o);
  if (coding === 'deflate' && hasZlibHeader(input)) return zlib.inflateSync(input, o);
  return zlib.inflateRawSync(input, o);
}

/** RFC 1950 header: CM = 8 and the check bits make the first two bytes a multiple of 31. */
function hasZlibHeader(b: Buffer): boolean {
  const b0 = b[0];
  const b1 = b[1];
  return b0 !== undefined && b1 !== undefined && (b0 & 0x0f) === 8 && ((b0 << 8) | b1) % 31 === 0;
}

function isTooLarge(err: unknown): boolean {
  return (
    err instanceof RangeError && (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
  );
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Kept bytes as shown to users: UTF-8 text when the bytes are valid UTF-8 without control
 * characters (TAB, LF and CR allowed), else base64. When `cut` (the bytes are a prefix of a longer
 * payload) an incomplete trailing UTF-8 sequence is dropped from the text.
 */
export function textOrBase64(bytes: Buffer, cut: boolean): { text: string } | { base64: string } {
  const end = cut ? completeUtf8Prefix(bytes) : bytes.length;
  const view = end === bytes.length ? bytes : bytes.subarray(0, end);
  if (!hasControlBytes(view)) {
    // ASCII (the usual JSON or form body) decodes the same as latin1, which is a plain copy.
    if (isAscii(view)) return { text: view.toString('latin1') };
    if (isUtf8(view)) return { text: view.toString('utf8') };
  }
  return { base64: bytes.toString('base64') };
}

/** C0 controls other than TAB, LF, CR, and DEL. */
function isControl(c: number): boolean {
  return (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f;
}

/**
 * Any control byte? Bodies are scanned on the hot path, so four bytes at a time: a word is only
 * examined byte by byte when it holds a byte below 0x20 or equal to 0x7f (SWAR "has less" /
 * "has zero" tests).
 */
function hasControlBytes(b: Buffer): boolean {
  const n = b.length;
  let i = 0;
  const head = Math.min(n, (4 - (b.byteOffset & 3)) & 3);
  for (; i < head; i++) if (isControl(b[i]!)) return true;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const u32 = new Uint32Array(b.buffer, b.byteOffset + i, words);
    for (let w = 0; w < words; w++) {
      const x = u32[w]!;
      const y = x ^ 0x7f7f7f7f;
      if ((((x - 0x20202020) & ~x) | ((y - 0x01010101) & ~y)) & 0x80808080) {
        const p = i + w * 4;
        if (
          isControl(b[p]!) ||
          isControl(b[p + 1]!) ||
          isControl(b[p + 2]!) ||
          isControl(b[p + 3]!)
        )
          return true;
      }
    }
    i += words * 4;
  }
  for (; i < n; i++) if (isControl(b[i]!)) return true;
  return false;
}

/** Length of `b` without a trailing, incomplete UTF-8 sequence. */
function completeUtf8Prefix(b: Buffer): number {
  const end = b.length;
  for (let i = end - 1; i >= 0 && i >= end - 4; i--) {
    const c = b[i]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back for the lead
    if (c < 0xc0) return end; // ASCII: complete
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return end - i < need ? i : end;
  }
  return end;
}

/**
 * Completes `body` with what was kept of it: the decoded size (`wireSize` when `bytes` is still
 * the wire body `wire`), its text or base64, and whether it was cut.
 */
export function keptBody(
  body: Body,
  bytes: Buffer,
  wire: Buffer,
  wireSize: number,
  cut: boolean,
): Body {
  body.decodedSize = bytes === wire ? wireSize : bytes.length;
  if (bytes.length > 0) Object.assign(body, textOrBase64(bytes, cut));
  if (cut) body.truncated = true;
  return body;
}

/** One entry error for several problems: the first one's code, every message. */
export function foldErrors(errors: readonly EntryError[]): EntryError {
  return { code: errors[0]!.code, message: errors.map((x) => x.message).join('; ') };
}
