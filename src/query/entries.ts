/** Entries of a capture file through the real pipeline (see src/tap/run.ts). */
export { entriesFromCapture, type CollectOptions as EntriesOptions } from '../tap/run.ts';
