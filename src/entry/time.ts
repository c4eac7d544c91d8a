/** µs since epoch → RFC 3339 UTC with microseconds, e.g. `2026-03-14T22:00:00.123456Z`. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const frac = String(Math.floor(us) - ms * 1000).padStart(3, '0');
  const iso = new Date(ms).toISOString(); // 2026-03-14T22:00:00.123Z
  return iso.slice(0, 23) + frac + 'Z';
}
