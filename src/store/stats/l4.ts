/**
 * L4 aggregation over `tcp_conn` / `udp_flow` records: per pod, namespace, node, service or IP
 * the connections and flows, packets and bytes each way, retransmissions and resets, and the top
 * talkers.
 *
 * Each record is attributed to both of its endpoints' groups, from that group's side: for the
 * client's group `sent` is the client→server direction, for the server's group it is
 * server→client (like tshark's per-endpoint Tx/Rx). A record whose two ends fall in one group
 * (traffic inside a namespace) counts once there, with both directions in `sent` and in
 * `received`. With `pairs: true` the groups are `client group -> server group` instead (one per
 * record; `sent` = client→server), which is what cross-namespace summaries need. `node`
 * grouping uses the capturing node, the same for both ends.
 *
 * Bytes are IP bytes (headers included, as `DirectionStats.bytes`), not frame bytes.
 */
import type {
  DirectionStats,
  Endpoint,
  Entry,
  TcpConnRecord,
  UdpFlowRecord,
} from '../../entry/model.ts';
import { KsError } from '../../util/errors.ts';
import { named, namespaceOf, nodeOf } from './groups.ts';

export type L4GroupBy = 'pod' | 'namespace' | 'node' | 'service' | 'ip';
export const L4_GROUP_BY: readonly L4GroupBy[] = ['pod', 'namespace', 'node', 'service', 'ip'];

export interface L4Options {
  by: L4GroupBy;
  /** Group by (client group, server group) pairs instead of by endpoint. */
  pairs?: boolean;
}

export interface DirectionTotals {
  packets: number;
  /** IP bytes, headers included. */
  bytes: number;
  payloadBytes: number;
}

export interface L4Group {
  key: string;
  /** TCP connections and UDP flows (records) touching the group. */
  connections: number;
  flows: number;
  /** From the group's side (see the module comment). */
  sent: DirectionTotals;
  received: DirectionTotals;
  retransmissions: number;
  /** Connections that ended with a RST. */
  resets: number;
  /** TCP handshake round trips (µs) of the connections that had one. */
  rtt: { samples: number; min: number; max: number; mean: number } | null;
  /** Records per detected L7 protocol (`http`, `dns`…). */
  l7: Record<string, number>;
}

export interface L4Totals {
  connections: number;
  flows: number;
  /** Client → server (initiator → responder), over every record once. */
  clientToServer: DirectionTotals;
  serverToClient: DirectionTotals;
  retransmissions: number;
  resets: number;
  /** Entries seen that were not L4 records. */
  ignored: number;
}

export interface SerializedL4 {
  format: 'kubeshark-l4';
  version: 1;
  by: L4GroupBy;
  pairs: boolean;
  totals: L4Totals;
  /** rtt carries its sum instead of its mean, so it merges exactly. */
  groups: (Omit<L4Group, 'rtt'> & {
    rtt: { samples: number; min: number; max: number; sum: number };
  })[];
}

function zeroDir(): DirectionTotals {
  return { packets: 0, bytes: 0, payloadBytes: 0 };
}
function addDir(into: DirectionTotals, d: DirectionTotals | DirectionStats): void {
  into.packets += d.packets;
  into.bytes += d.bytes;
  into.payloadBytes += d.payloadBytes;
}

interface Acc {
  key: string;
  connections: number;
  flows: number;
  sent: DirectionTotals;
  received: DirectionTotals;
  retransmissions: number;
  resets: number;
  rttN: number;
  rttSum: number;
  rttMin: number;
  rttMax: number;
  l7: Record<string, number>;
}

function newAcc(key: string): Acc {
  return {
    key,
    connections: 0,
    flows: 0,
    sent: zeroDir(),
    received: zeroDir(),
    retransmissions: 0,
    resets: 0,
    rttN: 0,
    rttSum: 0,
    rttMin: Infinity,
    rttMax: -Infinity,
    l7: {},
  };
}

/** The group key of one end of a record. */
export function l4KeyOf(ep: Endpoint, e: Entry, by: L4GroupBy): string {
  switch (by) {
    case 'ip':
      return ep.ip;
    case 'pod':
      return ep.pod ? named(ep.pod) : ep.ip;
    case 'service':
      return ep.service ? named(ep.service) : ep.pod ? named(ep.pod) : ep.ip;
    case 'namespace':
      return namespaceOf(ep);
    case 'node':
      return nodeOf(e);
  }
}

function cmpKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class L4Aggregation {
  readonly by: L4GroupBy;
  readonly pairs: boolean;
  private readonly groupsByKey = new Map<string, Acc>();
  private readonly t: L4Totals = {
    connections: 0,
    flows: 0,
    clientToServer: zeroDir(),
    serverToClient: zeroDir(),
    retransmissions: 0,
    resets: 0,
    ignored: 0,
  };

  constructor(opts: L4Options) {
    if (!L4_GROUP_BY.includes(opts.by))
      throw new KsError(
        'KS_ERR_USAGE',
        `L4 aggregation: unknown grouping "${String(opts.by)}" (${L4_GROUP_BY.join(', ')})`,
      );
    this.by = opts.by;
    this.pairs = opts.pairs ?? false;
  }

  private acc(key: string): Acc {
    let a = this.groupsByKey.get(key);
    if (a === undefined) this.groupsByKey.set(key, (a = newAcc(key)));
    return a;
  }

  /**
   * Counts record `r` for one group that sent `sent` and received `received`; `self`: both ends
   * are in the group, so it sent and received both directions.
   */
  private touch(
    a: Acc,
    r: TcpConnRecord | UdpFlowRecord,
    sent: DirectionStats,
    received: DirectionStats,
    self = false,
  ): void {
    const tcp = r.kind === 'tcp_conn';
    if (tcp) a.connections++;
    else a.flows++;
    addDir(a.sent, sent);
    addDir(a.received, received);
    if (self) {
      addDir(a.sent, received);
      addDir(a.received, sent);
    }
    a.retransmissions += tcp ? r.retransmissions : 0;
    a.resets += tcp && r.rst ? 1 : 0;
    const rtt = tcp ? r.handshakeRtt : undefined;
    if (rtt !== undefined) {
      a.rttN++;
      a.rttSum += rtt;
      if (rtt < a.rttMin) a.rttMin = rtt;
      if (rtt > a.rttMax) a.rttMax = rtt;
    }
    for (const p of r.l7Detected) a.l7[p] = (a.l7[p] ?? 0) + 1;
  }

  /** Counts one record; other entries are counted in `totals.ignored`. Returns whether counted. */
  add(e: Entry): boolean {
    const r = e.record;
    if (r.kind !== 'tcp_conn' && r.kind !== 'udp_flow') {
      this.t.ignored++;
      return false;
    }
    const tcp = r.kind === 'tcp_conn';
    const t = this.t;
    if (tcp) t.connections++;
    else t.flows++;
    addDir(t.clientToServer, r.client);
    addDir(t.serverToClient, r.server);
    t.retransmissions += tcp ? r.retransmissions : 0;
    t.resets += tcp && r.rst ? 1 : 0;

    const ks = l4KeyOf(e.src, e, this.by);
    const kd = l4KeyOf(e.dst, e, this.by);
    if (this.pairs) this.touch(this.acc(`${ks} -> ${kd}`), r, r.client, r.server);
    else if (ks === kd) this.touch(this.acc(ks), r, r.client, r.server, true);
    else {
      this.touch(this.acc(ks), r, r.client, r.server);
      this.touch(this.acc(kd), r, r.server, r.client);
    }
    return true;
  }

  totals(): L4Totals {
    return structuredClone(this.t);
  }

  /** Every group, by total bytes (sent + received) descending, then key. */
  groups(): L4Group[] {
    return this.sorted('bytes');
  }

  group(key: string): L4Group | undefined {
    const a = this.groupsByKey.get(key);
    return a === undefined ? undefined : view(a);
  }

  /** The n groups with the most traffic (sent + received), by bytes or packets; ties by key. */
  topTalkers(n: number, by: 'bytes' | 'packets' = 'bytes'): L4Group[] {
    return this.sorted(by).slice(0, Math.max(0, n));
  }

  private sorted(by: 'bytes' | 'packets'): L4Group[] {
    const v = (a: Acc): number => a.sent[by] + a.received[by];
    return [...this.groupsByKey.values()]
      .sort((a, b) => v(b) - v(a) || cmpKey(a.key, b.key))
      .map(view);
  }

  merge(other: L4Aggregation | SerializedL4): void {
    const o = other instanceof L4Aggregation ? other.toJSON() : other;
    if (o.format !== 'kubeshark-l4' || o.version !== 1)
      throw new KsError('KS_ERR_USAGE', 'L4 aggregation: not a serialised L4 aggregation');
    if (o.by !== this.by || o.pairs !== this.pairs)
      throw new KsError(
        'KS_ERR_USAGE',
        `L4 aggregation: cannot merge by ${o.by}${o.pairs ? ' pairs' : ''} into by ${this.by}${this.pairs ? ' pairs' : ''}`,
      );
    const t = this.t;
    t.connections += o.totals.connections;
    t.flows += o.totals.flows;
    addDir(t.clientToServer, o.totals.clientToServer);
    addDir(t.serverToClient, o.totals.serverToClient);
    t.retransmissions += o.totals.retransmissions;
    t.resets += o.totals.resets;
    t.ignored += o.totals.ignored;
    for (const g of o.groups) {
      const a = this.acc(g.key);
      a.connections += g.connections;
      a.flows += g.flows;
      addDir(a.sent, g.sent);
      addDir(a.received, g.received);
      a.retransmissions += g.retransmissions;
      a.resets += g.resets;
      if (g.rtt.samples > 0) {
        a.rttN += g.rtt.samples;
        a.rttSum += g.rtt.sum;
        a.rttMin = Math.min(a.rttMin, g.rtt.min);
        a.rttMax = Math.max(a.rttMax, g.rtt.max);
      }
      for (const [p, n] of Object.entries(g.l7)) a.l7[p] = (a.l7[p] ?? 0) + n;
    }
  }

  /** Portable form (groups sorted by key), for a hub merging nodes. */
  toJSON(): SerializedL4 {
    return {
      format: 'kubeshark-l4',
      version: 1,
      by: this.by,
      pairs: this.pairs,
      totals: this.totals(),
      groups: [...this.groupsByKey.values()]
        .sort((a, b) => cmpKey(a.key, b.key))
        .map((a) => {
          const { rtt: _rtt, ...rest } = view(a);
          return {
            ...rest,
            rtt: {
              samples: a.rttN,
              min: a.rttN > 0 ? a.rttMin : 0,
              max: a.rttN > 0 ? a.rttMax : 0,
              sum: a.rttSum,
            },
          };
        }),
    };
  }

  static fromJSON(j: SerializedL4): L4Aggregation {
    const agg = new L4Aggregation({ by: j.by, pairs: j.pairs });
    agg.merge(j);
    return agg;
  }
}

function view(a: Acc): L4Group {
  return {
    key: a.key,
    connections: a.connections,
    flows: a.flows,
    sent: { ...a.sent },
    received: { ...a.received },
    retransmissions: a.retransmissions,
    resets: a.resets,
    rtt:
      a.rttN === 0
        ? null
        : { samples: a.rttN, min: a.rttMin, max: a.rttMax, mean: a.rttSum / a.rttN },
    l7: { ...a.l7 },
  };
}

/** Aggregates the L4 records among `entries` (other entries are skipped and counted). */
export function aggregateL4(entries: Iterable<Entry>, opts: L4Options): L4Aggregation {
  const agg = new L4Aggregation(opts);
  for (const e of entries) agg.add(e);
  return agg;
}
