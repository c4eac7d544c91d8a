/**
 * Call statistics of the filtered traffic (`/api/stats`): rate, error rate and p50/p95/p99
 * latency over time, and the busiest endpoints. Bucket width automatic (about 60 points over what
 * the store holds) or chosen; both are in the URL.
 */
import type { StatsResponse } from '../../../api/types.ts';
import { api } from '../lib/api.ts';
import { clause, type Catalogue } from '../lib/filters.ts';
import {
  BUCKETS,
  autoBucket,
  fmtBytes,
  fmtCount,
  fmtDuration,
  fmtPercent,
  fmtRate,
} from '../lib/format.ts';
import { useLoad } from '../lib/hooks.ts';
import { TOP_ENDPOINTS, VIEW_REFRESH_MS } from '../lib/limits.ts';
import { LineChart } from './Charts.tsx';

type GroupStats = StatsResponse['result']['total'];

interface Props {
  q: string;
  bucket: number;
  cat: Catalogue;
  onBucket: (sec: number) => void;
  onFilter: (clause: string) => void;
}

function Tile({ label, value, testid }: { label: string; value: string; testid: string }) {
  return (
    <div className="tile" data-testid={testid}>
      <div className="tile-v">{value}</div>
      <div className="tile-l">{label}</div>
    </div>
  );
}

export function StatsView({ q, bucket, cat, onBucket, onFilter }: Props) {
  const r = useLoad(
    async (signal) => {
      let bucketSec = bucket;
      if (bucketSec === 0) {
        const b = await api.boundaries(signal);
        const span = b.oldest !== null && b.newest !== null ? (b.newest - b.oldest) / 1e6 : 0;
        bucketSec = autoBucket(span);
      }
      return api.stats({ q, groupBy: 'endpoint', bucketSec }, signal);
    },
    [q, bucket],
    VIEW_REFRESH_MS,
  );
  const res = r.data?.result;
  const total: GroupStats | undefined = res?.total;
  const series = total?.series ?? [];
  const xs = series.map((b) => b.start);
  const lat = total?.latency;

  return (
    <section
      className="stats"
      aria-label="Statistics"
      onClick={(ev) => {
        const fv = (ev.target as HTMLElement).closest<HTMLElement>('.fv');
        if (fv?.dataset.clause !== undefined) onFilter(fv.dataset.clause);
      }}
    >
      <div className="toolbar">
        <label>
          bucket{' '}
          <select
            value={bucket}
            data-testid="bucket"
            onChange={(e) => onBucket(Number(e.target.value))}
          >
            <option value={0}>
              auto{res !== undefined && bucket === 0 ? ` (${res.bucketSec} s)` : ''}
            </option>
            {BUCKETS.map((b) => (
              <option key={b} value={b}>
                {b} s
              </option>
            ))}
          </select>
        </label>
        {r.loading && <span className="dim">loading…</span>}
        {r.data?.unavailable !== undefined && r.data.unavailable.length > 0 && (
          <span className="warn">partial: no answer from {r.data.unavailable.join(', ')}</span>
        )}
        <button className="btn" onClick={r.reload}>
          Refresh
        </button>
      </div>
      {r.error !== undefined && (
        <div className="banner error" data-testid="stats-error">
          {r.error.message}
        </div>
      )}
      {total !== undefined && (
        <>
          <div className="tiles">
            <Tile label="calls" value={fmtCount(total.calls)} testid="stat-calls" />
            <Tile label="rate" value={fmtRate(total.ratePerSec)} testid="stat-rate" />
            <Tile label="error rate" value={fmtPercent(total.errorRate)} testid="stat-errors" />
            <Tile label="p50" value={lat ? fmtDuration(lat.p50) : '—'} testid="stat-p50" />
            <Tile label="p95" value={lat ? fmtDuration(lat.p95) : '—'} testid="stat-p95" />
            <Tile label="p99" value={lat ? fmtDuration(lat.p99) : '—'} testid="stat-p99" />
          </div>
          <div className="charts">
            <LineChart
              title="Calls per second"
              testid="chart-rate"
              xs={xs}
              format={fmtRate}
              series={[
                { name: 'rate', color: 'var(--accent)', values: series.map((b) => b.ratePerSec) },
              ]}
            />
            <LineChart
              title="Error rate"
              testid="chart-errors"
              xs={xs}
              format={fmtPercent}
              series={[
                { name: 'errors', color: 'var(--bad)', values: series.map((b) => b.errorRate) },
              ]}
            />
            <LineChart
              title="Latency"
              testid="chart-latency"
              xs={xs}
              format={fmtDuration}
              series={[
                {
                  name: 'p50',
                  color: 'var(--ok)',
                  values: series.map((b) => b.latency?.p50 ?? null),
                },
                {
                  name: 'p95',
                  color: 'var(--warn)',
                  values: series.map((b) => b.latency?.p95 ?? null),
                },
                {
                  name: 'p99',
                  color: 'var(--bad)',
                  values: series.map((b) => b.latency?.p99 ?? null),
                },
              ]}
            />
          </div>
          <h3>Top endpoints</h3>
          <table className="grid endpoints" data-testid="top-endpoints">
            <thead>
              <tr>
                <th>protocol</th>
                <th>method</th>
                <th>path</th>
                <th className="n">calls</th>
                <th className="n">rate</th>
                <th className="n">errors</th>
                <th className="n">p50</th>
                <th className="n">p95</th>
                <th className="n">p99</th>
                <th className="n">bytes</th>
              </tr>
            </thead>
            <tbody>
              {(res?.groups ?? []).slice(0, TOP_ENDPOINTS).map((g) => {
                const protoClause =
                  g.labels.protocol !== undefined
                    ? clause(cat, 'protocol', g.labels.protocol)
                    : undefined;
                return (
                  <tr key={g.key} data-key={g.key}>
                    <td>
                      {protoClause !== undefined ? (
                        <span className="fv" data-clause={protoClause}>
                          {g.labels.protocol}
                        </span>
                      ) : (
                        g.labels.protocol
                      )}
                    </td>
                    <td>{g.labels.method}</td>
                    <td className="path">{g.labels.path}</td>
                    <td className="n" data-col="calls">
                      {fmtCount(g.calls)}
                    </td>
                    <td className="n">{fmtRate(g.ratePerSec)}</td>
                    <td className={`n${g.errorRate > 0 ? ' bad' : ''}`}>
                      {fmtPercent(g.errorRate)}
                    </td>
                    <td className="n">{g.latency ? fmtDuration(g.latency.p50) : ''}</td>
                    <td className="n">{g.latency ? fmtDuration(g.latency.p95) : ''}</td>
                    <td className="n">{g.latency ? fmtDuration(g.latency.p99) : ''}</td>
                    <td className="n">{fmtBytes(g.bytes.total)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {(res?.groups.length ?? 0) > TOP_ENDPOINTS && (
            <div className="dim">
              {(res?.groups.length ?? 0) - TOP_ENDPOINTS} more endpoints not shown
            </div>
          )}
        </>
      )}
    </section>
  );
}
