/**
 * IP address formatting on the per-packet path. Traffic repeats a few addresses, so formatted
 * strings are cached: a hit costs one Map lookup, and equal addresses share one string, which
 * keeps downstream flow-table keys cheap. A cache that grows past its bound is simply cleared.
 */
const CACHE_MAX = 8192;
const v4Cache = new Map<number, string>();
const v6Cache = new Map<string, string>();

/** Dotted quad of the 4 bytes at `buf[off]` (caller checked the length). */
export function formatIPv4(buf: Buffer, off: number): string {
  // The address as one number (the caller checked the length; no re-validation per packet).
  const key =
    ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  let s = v4Cache.get(key);
  if (s === undefined) {
    s = `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
    if (v4Cache.size >= CACHE_MAX) v4Cache.clear();
    v4Cache.set(key, s);
  }
  return s;
}

/** RFC 5952 text of the 16 bytes at `buf[off]` (caller checked the length). */
export function formatIPv6(buf: Buffer, off: number): string {
  const key = buf.toString('latin1', off, off + 16);
  let s = v6Cache.get(key);
  if (s === undefined) {
    s = ipv6Text(buf, off);
    if (v6Cache.size >= CACHE_MAX) v6Cache.clear();
    v6Cache.set(key, s);
  }
  return s;
}

/**
 * RFC 5952: lowercase hex without leading zeros; the longest run of two or more zero groups
 * (the first one on a tie) becomes `::`; IPv4-mapped addresses end in a dotted quad.
 */
function ipv6Text(buf: Buffer, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(buf.readUInt16BE(off + 2 * i));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += (g[i] as number).toString(16);
  }
  return s;
}
