// Public API of the capture layer: packet sources over capture files, stdin and byte streams.
export { openCapture, captureFromStream } from './source.ts';
export { CaptureReader } from './reader.ts';
export type { CaptureInfo, Packet, PacketSource } from './types.ts';
