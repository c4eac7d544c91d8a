import { createReadStream, existsSync, statSync } from 'node:fs';
import { KsError } from '../../util/errors.ts';
import { CaptureReader } from './reader.ts';
import type { CaptureInfo, Packet, PacketSource } from './types.ts';

/** Read size for capture files: large reads mean fewer, larger packet batches. */
const FILE_CHUNK = 1024 * 1024;

type ByteStream = AsyncIterable<Buffer | Uint8Array>;

/**
 * A PacketSource over a byte stream of pcap or pcapng data. `packets()` yields one batch per
 * chunk read. Iterate it once: a second iteration opens the input again (files re-read, a
 * consumed stream yields nothing and ends as an empty capture).
 */
class StreamPacketSource implements PacketSource {
  private reader: CaptureReader | undefined;

  constructor(
    readonly name: string,
    private readonly open: () => ByteStream,
    /** The path shown in file errors. */
    private readonly path: string,
  ) {}

  info(): CaptureInfo | undefined {
    return this.reader?.info();
  }

  async *packets(): AsyncGenerator<Packet[]> {
    const reader = new CaptureReader(this.name);
    this.reader = reader;
    try {
      for await (const chunk of this.open()) {
        const buf = Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        const batch: Packet[] = [];
        try {
          reader.push(buf, batch);
        } catch (e) {
          if (batch.length > 0) yield batch;
          throw e;
        }
        if (batch.length > 0) yield batch;
      }
    } catch (e) {
      throw this.inputError(e);
    }
    reader.end();
  }

  /** Maps stream errors (ENOENT, EACCES, EISDIR…) to program-level errors. */
  private inputError(e: unknown): KsError {
    if (e instanceof KsError) return e;
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') {
      return new KsError('KS_ERR_FILE_NOT_FOUND', `${this.path}: no such file`, { cause: e });
    }
    const reason = e instanceof Error ? e.message : String(e);
    return new KsError('KS_ERR_FILE_READ', `cannot read ${this.path}: ${reason}`, { cause: e });
  }
}

/** Fails early, with the error a user reads, when `path` is missing or a directory. */
export function checkCaptureFile(path: string): void {
  if (!existsSync(path)) {
    throw new KsError('KS_ERR_FILE_NOT_FOUND', `capture file not found: ${path}`);
  }
  if (statSync(path).isDirectory()) {
    throw new KsError('KS_ERR_FILE_READ', `${path} is a directory, not a capture file`);
  }
}

/** Opens a pcap/pcapng capture file; `-` reads standard input. The file is opened lazily. */
export function openCapture(path: string): PacketSource {
  if (path === '-') return captureFromStream('stdin', process.stdin);
  return new StreamPacketSource(
    path,
    () => createReadStream(path, { highWaterMark: FILE_CHUNK }),
    path,
  );
}

/** A PacketSource over any byte stream (a Readable, a child process's stdout, a socket…). */
export function captureFromStream(name: string, input: ByteStream): PacketSource {
  return new StreamPacketSource(name, () => input, name);
}
