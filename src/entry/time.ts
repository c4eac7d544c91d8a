/** Largest |ms| a JS Date holds (±100,000,000 days). */
const MAX_MS = 8.64e15;

let cachedSec = NaN;
let cachedPrefix = '';

/**
 * µs since epoch → RFC 3339 UTC with microseconds, e.g. `2026-03-14T22:00:00.123456Z`.
 * Hot (every printed entry): the date-time prefix is cached per second. A timestamp outside
 * what a date can hold (a corrupt capture) is clamped to the nearest representable instant
 * rather than throwing.
 */
export function isoMicros(us: number): string {
  if (!Number.isFinite(us)) us = 0;
  if (us > MAX_MS * 1000) us = MAX_MS * 1000;
  else if (us < -MAX_MS * 1000) us = -MAX_MS * 1000;
  const sec = Math.floor(us / 1e6);
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedPrefix = new Date(sec * 1000).toISOString().slice(0, -5); // drop ".000Z"
  }
  const frac = Math.floor(us - sec * 1e6);
  return cachedPrefix + '.' + String(frac).padStart(6, '0') + 'Z';
}
