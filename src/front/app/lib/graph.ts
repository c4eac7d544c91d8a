/**
 * The service map's model: workloads as nodes, calls as edges (one per protocol and direction)
 * from call statistics grouped by src → dst pair, and a deterministic layered layout (sources on
 * the left, callees to the right) small enough to compute on every refresh without a library.
 */
import type { StatsResponse } from '../../../api/types.ts';
import { MAX_MAP_EDGES } from './limits.ts';

type GroupStats = StatsResponse['result']['groups'][number];

export interface MapEdge {
  id: string;
  from: string;
  to: string;
  protocol: string;
  calls: number;
  ratePerSec: number;
  errorRate: number;
  /** µs; null without latency samples. */
  p95: number | null;
  /** Among the edges between the same two nodes (any direction): its index and their count. */
  lane: number;
  lanes: number;
}

export interface MapNode {
  id: string;
  /** Namespace part of `namespace/name` keys, when there is one. */
  namespace?: string;
  name: string;
  callsIn: number;
  callsOut: number;
  layer: number;
  x: number;
  y: number;
}

export interface ServiceGraph {
  nodes: MapNode[];
  edges: MapEdge[];
  /** Edges left out beyond MAX_MAP_EDGES (the least busy). */
  omitted: number;
  width: number;
  height: number;
}

export const LAYER_GAP = 380;
/** Where along an edge (0 = caller, 1 = callee) its label goes. */
export const LABEL_AT = 0.6;
export const ROW_GAP = 110;
export const MARGIN = 90;

/** `http 127.0.0.1 -> 127.0.0.1:80` → its parts; labels win when the API sends them. */
export function edgeOf(g: GroupStats): { protocol: string; src: string; dst: string } | undefined {
  const l = g.labels as Record<string, unknown>;
  if (typeof l.src === 'string' && typeof l.dst === 'string')
    return {
      protocol: typeof l.protocol === 'string' ? l.protocol : '',
      src: l.src,
      dst: l.dst,
    };
  const m = /^(\S+) (.+) -> (.+)$/.exec(g.key);
  if (m === null) return undefined;
  return { protocol: m[1]!, src: m[2]!, dst: m[3]! };
}

function splitName(id: string): { namespace?: string; name: string } {
  const i = id.indexOf('/');
  return i > 0 ? { namespace: id.slice(0, i), name: id.slice(i + 1) } : { name: id };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function buildGraph(groups: readonly GroupStats[], maxEdges = MAX_MAP_EDGES): ServiceGraph {
  const parsed = groups
    .map((g) => ({ g, e: edgeOf(g) }))
    .filter(
      (x): x is { g: GroupStats; e: NonNullable<ReturnType<typeof edgeOf>> } => x.e !== undefined,
    )
    .sort((a, b) => b.g.calls - a.g.calls || cmp(a.g.key, b.g.key));
  const kept = parsed.slice(0, maxEdges);
  const nodes = new Map<string, MapNode>();
  const node = (id: string): MapNode => {
    let n = nodes.get(id);
    if (n === undefined) {
      n = { id, ...splitName(id), callsIn: 0, callsOut: 0, layer: 0, x: 0, y: 0 };
      nodes.set(id, n);
    }
    return n;
  };
  const edges: MapEdge[] = kept.map(({ g, e }) => {
    node(e.src).callsOut += g.calls;
    node(e.dst).callsIn += g.calls;
    return {
      id: g.key,
      from: e.src,
      to: e.dst,
      protocol: e.protocol,
      calls: g.calls,
      ratePerSec: g.ratePerSec,
      errorRate: g.errorRate,
      p95: g.latency?.p95 ?? null,
      lane: 0,
      lanes: 1,
    };
  });
  // Lanes: edges between one pair of nodes fan out instead of overlapping.
  const pairs = new Map<string, MapEdge[]>();
  for (const e of edges) {
    const k = e.from < e.to ? `${e.from}\n${e.to}` : `${e.to}\n${e.from}`;
    const list = pairs.get(k) ?? [];
    list.push(e);
    pairs.set(k, list);
  }
  for (const list of pairs.values()) {
    list.sort((a, b) => cmp(a.id, b.id));
    list.forEach((e, i) => {
      e.lane = i;
      e.lanes = list.length;
    });
  }
  layout([...nodes.values()], edges);
  const all = [...nodes.values()].sort((a, b) => a.layer - b.layer || a.y - b.y);
  const width = Math.max(...all.map((n) => n.x), 0) + MARGIN + 120;
  const height = Math.max(...all.map((n) => n.y), 0) + MARGIN;
  return { nodes: all, edges, omitted: parsed.length - kept.length, width, height };
}

/**
 * Layers by longest path from the callers (cycles broken where the walk meets them), then rows
 * ordered by the mean row of each node's callers; deterministic for equal input.
 */
function layout(nodes: MapNode[], edges: readonly MapEdge[]): void {
  const out = new Map<string, string[]>();
  const indeg = new Map<string, number>();
  for (const n of nodes) {
    out.set(n.id, []);
    indeg.set(n.id, 0);
  }
  for (const e of edges) {
    if (e.from === e.to) continue;
    const list = out.get(e.from)!;
    if (!list.includes(e.to)) {
      list.push(e.to);
      indeg.set(e.to, (indeg.get(e.to) ?? 0) + 1);
    }
  }
  for (const list of out.values()) list.sort(cmp);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, layer: number): void => {
    const n = byId.get(id)!;
    if (state.get(id) === 'visiting') return; // a cycle: this edge points back
    if (state.get(id) === 'done' && n.layer >= layer) return;
    n.layer = Math.max(n.layer, layer);
    state.set(id, 'visiting');
    for (const next of out.get(id)!) visit(next, n.layer + 1);
    state.set(id, 'done');
  };
  const ids = nodes.map((n) => n.id).sort(cmp);
  for (const id of ids) if (indeg.get(id) === 0) visit(id, 0);
  // Cycles without an entry point: start from the node that calls most more than it is called.
  const net = (id: string): number => byId.get(id)!.callsOut - byId.get(id)!.callsIn;
  for (;;) {
    const rest = ids.filter((id) => !state.has(id));
    if (rest.length === 0) break;
    rest.sort((a, b) => net(b) - net(a) || cmp(a, b));
    visit(rest[0]!, 0);
  }
  const layers = new Map<number, MapNode[]>();
  for (const n of nodes) {
    const l = layers.get(n.layer) ?? [];
    l.push(n);
    layers.set(n.layer, l);
  }
  const row = new Map<string, number>();
  const preds = new Map<string, string[]>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const l = preds.get(e.to) ?? [];
    l.push(e.from);
    preds.set(e.to, l);
  }
  for (const layer of [...layers.keys()].sort((a, b) => a - b)) {
    const list = layers.get(layer)!;
    const score = (n: MapNode): number => {
      const ps = (preds.get(n.id) ?? []).filter((p) => row.has(p));
      return ps.length === 0 ? Infinity : ps.reduce((s, p) => s + row.get(p)!, 0) / ps.length;
    };
    const scored = list.map((n) => ({ n, s: score(n) }));
    scored.sort((a, b) => (a.s === b.s ? cmp(a.n.id, b.n.id) : a.s < b.s ? -1 : 1));
    scored.forEach(({ n }, i) => {
      row.set(n.id, i);
      n.x = MARGIN + layer * LAYER_GAP;
      n.y = MARGIN + i * ROW_GAP;
    });
  }
}

/**
 * The SVG path of an edge: a straight line for a single edge, curves for parallel lanes, a
 * loop above the node for a self-edge. Returns the path and where its label goes.
 */
export function edgePath(
  e: MapEdge,
  from: { x: number; y: number },
  to: { x: number; y: number },
  radius: number,
): { d: string; lx: number; ly: number } {
  if (e.from === e.to) {
    const r = 26 + e.lane * 16;
    const x = from.x;
    const y = from.y - radius;
    return {
      d: `M ${x - 12} ${y} C ${x - r * 1.6} ${y - r * 2.2}, ${x + r * 1.6} ${y - r * 2.2}, ${x + 12} ${y}`,
      lx: x,
      ly: y - r * 1.7,
    };
  }
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const sx = from.x + ux * radius;
  const sy = from.y + uy * radius;
  const tx = to.x - ux * radius;
  const ty = to.y - uy * radius;
  // Lanes spread symmetrically around the straight line; direction-independent normal.
  const sign = e.from < e.to ? 1 : -1;
  const offset = (e.lane - (e.lanes - 1) / 2) * 46 * sign;
  const mx = (sx + tx) / 2 - uy * offset;
  const my = (sy + ty) / 2 + ux * offset;
  // The control point that puts the curve's middle at (mx, my).
  const cx = mx * 2 - (sx + tx) / 2;
  const cy = my * 2 - (sy + ty) / 2;
  // Labels sit past the middle, toward the callee: edges fanning out of one caller spread
  // apart there.
  const t = LABEL_AT;
  const lx = (1 - t) * (1 - t) * sx + 2 * (1 - t) * t * cx + t * t * tx;
  const ly = (1 - t) * (1 - t) * sy + 2 * (1 - t) * t * cy + t * t * ty;
  const d =
    offset === 0 ? `M ${sx} ${sy} L ${tx} ${ty}` : `M ${sx} ${sy} Q ${cx} ${cy} ${tx} ${ty}`;
  return { d, lx, ly: ly - 4 };
}
