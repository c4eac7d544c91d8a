/** "Did you mean" for unknown KFL names. */

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev2: number[] = [];
  let prev: number[] = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, prev2[j - 2]! + 1);
      }
      cur.push(v);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n]!;
}

export interface Candidate {
  /** The name as the user might have meant to write it. */
  name: string;
  /** What to suggest (a KFL1 name suggests its KFL2 translation). */
  suggest: string;
}

/**
 * Names longer than this get no "did you mean": no field name is near them, and the search costs
 * their length times every candidate's (a 10,000-character name took 250 ms).
 */
export const MAX_SUGGESTED_NAME = 256;

/**
 * The closest candidate: by edit distance (at most a third of the name's length, at least 1),
 * else one that contains the name or is contained in it (names of 4+ characters).
 */
export function closest(name: string, candidates: readonly Candidate[]): string | undefined {
  if (name.length > MAX_SUGGESTED_NAME) return undefined;
  const lower = name.toLowerCase();
  // `src.pod` → `src.pod.name`: a name that stops short of a dotted field.
  const longer = candidates
    .filter((c) => c.name.toLowerCase().startsWith(lower + '.'))
    .sort((x, y) => x.name.length - y.name.length);
  if (longer[0]) return longer[0].suggest;
  const limit = Math.max(1, Math.floor(lower.length / 3));
  let best: { d: number; c: Candidate } | undefined;
  for (const c of candidates) {
    // The distance is at least the difference in length: skip those that cannot be near.
    if (Math.abs(c.name.length - lower.length) > limit) continue;
    const d = editDistance(lower, c.name.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { d, c };
  }
  if (best) return best.c.suggest;
  if (lower.length < 4) return undefined;
  const contains = candidates
    .filter((c) => {
      const cl = c.name.toLowerCase();
      return cl.includes(lower) || (cl.length >= 4 && lower.includes(cl));
    })
    .sort((x, y) => Math.abs(x.name.length - name.length) - Math.abs(y.name.length - name.length));
  return contains[0]?.suggest;
}

/**
 * KFL field families of protocols (../shared/KFL.md) whose dissector this build may lack. Used
 * only to explain why such a name is unknown; declared names always come from the catalogue.
 */
const PROTOCOL_FAMILIES: readonly [prefix: string, protocol: string][] = [
  ['grpc', 'gRPC'],
  ['redis', 'Redis'],
  ['kafka', 'Kafka'],
  ['amqp', 'AMQP'],
  ['ldap', 'LDAP'],
  ['radius', 'RADIUS'],
  ['diameter', 'Diameter'],
  ['mongodb', 'MongoDB'],
  ['mysql', 'MySQL'],
  ['postgresql', 'PostgreSQL'],
  ['gql', 'GraphQL'],
  ['gqlv1', 'GraphQL'],
  ['gqlv2', 'GraphQL'],
  ['icmp', 'ICMP'],
  ['sctp', 'SCTP'],
];

/**
 * Why a KFL.md name is not declared: "Redis fields are part of KFL, but this build has no Redis
 * dissector", or undefined when `name` belongs to no known family.
 */
export function missingFamilyReason(name: string): string | undefined {
  if (name === 'tls' || name.startsWith('tls_')) {
    return '`tls` fields describe TLS traffic decrypted by eBPF capture, which this build does not have';
  }
  for (const [prefix, proto] of PROTOCOL_FAMILIES) {
    if (name === prefix || name.startsWith(prefix + '_')) {
      return `${proto} fields are part of KFL, but this build has no ${proto} dissector`;
    }
  }
  return undefined;
}
