/**
 * The service map of the filtered traffic: workloads as nodes, calls as edges (one per protocol
 * and direction) labelled with rate, error rate and p95 latency, from `/api/stats` grouped by
 * src → dst pair (`groupBy=service-edge|pod-edge|namespace-edge|node-edge`). Grouping by service, pod, namespace or node. Clicking an
 * edge opens the traffic list filtered to those calls.
 */
import { useMemo, useState } from 'react';
import { api } from '../lib/api.ts';
import { clause, endClause, type Catalogue } from '../lib/filters.ts';
import { fmtCount, fmtDuration, fmtPercent, fmtRate } from '../lib/format.ts';
import { buildGraph, edgePath, type MapEdge, type MapNode } from '../lib/graph.ts';
import { useLoad } from '../lib/hooks.ts';
import { VIEW_REFRESH_MS } from '../lib/limits.ts';
import { MAP_BY, type MapBy } from '../lib/url.ts';

interface Props {
  q: string;
  by: MapBy;
  cat: Catalogue;
  onBy: (by: MapBy) => void;
  /** Opens the traffic list with this clause added. */
  onDrill: (clause: string) => void;
}

const R = 26;

function edgeTitle(e: MapEdge): string {
  const p95 = e.p95 === null ? '—' : fmtDuration(e.p95);
  return `${e.protocol} ${e.from} → ${e.to}\n${fmtCount(e.calls)} calls, ${fmtRate(e.ratePerSec)}, ${fmtPercent(e.errorRate)} errors, p95 ${p95}\nclick: show these calls`;
}

function edgeClass(e: MapEdge): string {
  if (e.errorRate >= 0.05) return 'edge bad';
  if (e.errorRate > 0) return 'edge warn';
  return 'edge';
}

export function ServiceMap({ q, by, cat, onBy, onDrill }: Props) {
  const r = useLoad(
    (signal) => api.stats({ q, groupBy: `${by}-edge`, bucketSec: 0 }, signal),
    [q, by],
    VIEW_REFRESH_MS,
  );
  const graph = useMemo(() => buildGraph(r.data?.result.groups ?? []), [r.data]);
  const [focus, setFocus] = useState<string | undefined>();
  const pos = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);

  const drill = (e: MapEdge): void => {
    const parts = [
      clause(cat, 'protocol', e.protocol),
      endClause(cat, 'src', by, e.from),
      endClause(cat, 'dst', by, e.to),
    ];
    const c = parts.filter((p): p is string => p !== undefined).join(' && ');
    if (c !== '') onDrill(c);
  };
  const lit = (e: MapEdge): boolean => focus === undefined || e.from === focus || e.to === focus;

  return (
    <section className="map" aria-label="Service map">
      <div className="toolbar">
        <span>group by</span>
        {MAP_BY.map((b) => (
          <button
            key={b}
            className={b === by ? 'btn primary' : 'btn'}
            data-by={b}
            onClick={() => onBy(b)}
            aria-pressed={b === by}
          >
            {b}
          </button>
        ))}
        <span
          className="count"
          data-testid="map-counts"
          data-nodes={graph.nodes.length}
          data-edges={graph.edges.length}
        >
          {graph.nodes.length} workloads, {graph.edges.length} edges
        </span>
        {graph.omitted > 0 && <span className="warn">{graph.omitted} quieter edges not drawn</span>}
        {r.loading && <span className="dim">loading…</span>}
        <button className="btn" onClick={r.reload}>
          Refresh
        </button>
      </div>
      {r.error !== undefined && (
        <div className="banner error" data-testid="map-error">
          {r.error.message}
        </div>
      )}
      {!r.loading && r.error === undefined && graph.nodes.length === 0 && (
        <div className="empty">No calls match the filter.</div>
      )}
      {graph.nodes.length > 0 && (
        <div className="map-canvas">
          <svg
            width={graph.width}
            height={graph.height}
            viewBox={`0 0 ${graph.width} ${graph.height}`}
            data-testid="map-svg"
            onClick={(ev) => {
              if (ev.target === ev.currentTarget) setFocus(undefined);
            }}
          >
            <defs>
              <marker
                id="arrow"
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerWidth="7"
                markerHeight="7"
                orient="auto-start-reverse"
              >
                <path d="M 0 0 L 10 5 L 0 10 z" className="arrowhead" />
              </marker>
            </defs>
            {graph.edges.map((e) => {
              const p = edgePath(e, pos.get(e.from)!, pos.get(e.to)!, R + 2);
              return (
                <g
                  key={e.id}
                  className={`${edgeClass(e)}${lit(e) ? '' : ' faded'}`}
                  data-edge={e.id}
                  data-from={e.from}
                  data-to={e.to}
                  data-protocol={e.protocol}
                  data-calls={e.calls}
                  onClick={() => drill(e)}
                >
                  <title>{edgeTitle(e)}</title>
                  <path d={p.d} markerEnd="url(#arrow)" />
                  <path d={p.d} className="hit" />
                </g>
              );
            })}
            {/* Labels above every edge, so no edge's hit area covers another's label. */}
            {graph.edges.map((e) => {
              const p = edgePath(e, pos.get(e.from)!, pos.get(e.to)!, R + 2);
              return (
                <text
                  key={e.id}
                  x={p.lx}
                  y={p.ly}
                  textAnchor="middle"
                  className={`elabel${lit(e) ? '' : ' faded'}`}
                  data-label={e.id}
                  onClick={() => drill(e)}
                >
                  <title>{edgeTitle(e)}</title>
                  <tspan className={`proto p-${e.protocol}`}>{e.protocol}</tspan>
                  <tspan> {fmtRate(e.ratePerSec)}</tspan>
                  {e.errorRate > 0 && (
                    <tspan className="errpct"> {fmtPercent(e.errorRate)} err</tspan>
                  )}
                  {e.p95 !== null && <tspan> p95 {fmtDuration(e.p95)}</tspan>}
                </text>
              );
            })}
            {graph.nodes.map((n: MapNode) => (
              <g
                key={n.id}
                className={`mnode${focus === n.id ? ' focus' : ''}`}
                transform={`translate(${n.x} ${n.y})`}
                data-node={n.id}
                onClick={() => setFocus((f) => (f === n.id ? undefined : n.id))}
              >
                <title>{`${n.id}\n${fmtCount(n.callsOut)} calls out, ${fmtCount(n.callsIn)} in`}</title>
                <circle r={R} />
                <text y={R + 14} textAnchor="middle" className="nlabel">
                  {n.name}
                </text>
                {n.namespace !== undefined && (
                  <text y={R + 27} textAnchor="middle" className="nns">
                    {n.namespace}
                  </text>
                )}
                <text y={4} textAnchor="middle" className="ncount">
                  {fmtCount(n.callsIn + n.callsOut)}
                </text>
              </g>
            ))}
          </svg>
        </div>
      )}
    </section>
  );
}
