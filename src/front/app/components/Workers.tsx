/**
 * Worker health: each worker up or down with its capture counters (packets, drops, entries and
 * entries per second between two polls, limits hit). A hub answers `/api/workers`; a lone worker
 * (`tap --pcap`, tests) answers only `/api/health`, which then describes the one worker.
 */
import { useRef } from 'react';
import type { CaptureCounters, Health, WorkerState } from '../../../api/types.ts';
import { api, ApiError } from '../lib/api.ts';
import { fmtBytes, fmtCount, fmtIso } from '../lib/format.ts';
import { useLoad } from '../lib/hooks.ts';
import { HEALTH_POLL_MS } from '../lib/limits.ts';

/** Workers as the hub lists them, or the one worker answering `/api/health`. */
async function loadWorkers(
  signal: AbortSignal,
): Promise<{ health: Health; workers: WorkerState[] }> {
  const health = await api.health(signal);
  if (health.role === 'worker') {
    return {
      health,
      workers: [
        {
          name: health.node ?? 'worker',
          url: location.origin,
          up: health.ok,
          node: health.node,
          version: health.version,
          capture: health.capture,
          lastSeen: Date.now() * 1000,
          error: health.problems?.join('; '),
        },
      ],
    };
  }
  try {
    const w = await api.workers(signal);
    return { health, workers: Array.isArray(w) ? w : w.workers };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404)
      return { health, workers: health.workers ?? [] };
    throw err;
  }
}

export function HealthBadge({ onClick }: { onClick: () => void }) {
  const r = useLoad((signal) => api.health(signal), [], HEALTH_POLL_MS);
  const h = r.data;
  const down = h?.workers?.filter((w) => !w.up).length ?? 0;
  const state =
    r.error !== undefined
      ? 'down'
      : h === undefined
        ? 'unknown'
        : h.ok && down === 0
          ? 'ok'
          : 'degraded';
  const text =
    state === 'down'
      ? 'hub unreachable'
      : h === undefined
        ? '…'
        : h.role === 'hub'
          ? `${(h.workers?.length ?? 0) - down}/${h.workers?.length ?? 0} workers up`
          : `worker ${h.node ?? ''} ${h.ok ? 'up' : 'degraded'}`;
  return (
    <button
      className={`health h-${state}`}
      data-testid="health"
      data-state={state}
      onClick={onClick}
      title={h?.problems?.join('\n')}
    >
      <span className="dot" /> {text}
    </button>
  );
}

interface Rate {
  at: number;
  entries: number;
  perSec?: number;
}

export function WorkersView() {
  const r = useLoad(loadWorkers, [], HEALTH_POLL_MS);
  const rates = useRef(new Map<string, Rate>());
  const workers = r.data?.workers ?? [];
  // Entries per second between this poll and the previous one of the same worker.
  const now = Date.now();
  for (const w of workers) {
    const c = w.capture;
    if (c === undefined) continue;
    const prev = rates.current.get(w.name);
    if (prev === undefined || prev.entries !== c.entries || now - prev.at > HEALTH_POLL_MS * 3) {
      const perSec =
        prev !== undefined && now > prev.at
          ? ((c.entries - prev.entries) * 1000) / (now - prev.at)
          : prev?.perSec;
      rates.current.set(w.name, {
        at: now,
        entries: c.entries,
        perSec: perSec !== undefined && perSec >= 0 ? perSec : undefined,
      });
    }
  }
  const limits = (c: CaptureCounters | undefined): string =>
    Object.entries(c?.limitsHit ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');

  return (
    <section className="workers" aria-label="Workers">
      <div className="toolbar">
        <span>
          {r.data?.health.role === 'hub' ? 'hub' : 'worker'} {r.data?.health.version}
        </span>
        {r.data?.health.problems !== undefined && r.data.health.problems.length > 0 && (
          <span className="warn">{r.data.health.problems.join('; ')}</span>
        )}
      </div>
      {r.error !== undefined && (
        <div className="banner error" data-testid="workers-error">
          {r.error.message}
        </div>
      )}
      <table className="grid" data-testid="workers">
        <thead>
          <tr>
            <th>worker</th>
            <th>node</th>
            <th>state</th>
            <th className="n">packets</th>
            <th className="n">dropped (kernel / if)</th>
            <th className="n">bytes</th>
            <th className="n">entries</th>
            <th className="n">entries/s</th>
            <th className="n">tcp streams</th>
            <th className="n">store / stream drops</th>
            <th>limits hit</th>
            <th>sources</th>
          </tr>
        </thead>
        <tbody>
          {workers.map((w) => {
            const c = w.capture;
            const rate = rates.current.get(w.name)?.perSec;
            return (
              <tr key={w.name} data-worker={w.name} data-up={w.up} className={w.up ? '' : 'down'}>
                <td>{w.name}</td>
                <td>{w.node ?? ''}</td>
                <td
                  title={
                    w.error ?? (w.lastSeen !== undefined ? `last seen ${fmtIso(w.lastSeen)}` : '')
                  }
                >
                  <span className={`pill ${w.up ? 'up' : 'down'}`}>{w.up ? 'up' : 'down'}</span>
                  {!w.up && w.error !== undefined && <span className="dim"> {w.error}</span>}
                </td>
                <td className="n" data-col="packets">
                  {c ? fmtCount(c.receivedPackets) : ''}
                </td>
                <td className={`n${c && c.droppedPackets + c.ifDroppedPackets > 0 ? ' bad' : ''}`}>
                  {c ? `${fmtCount(c.droppedPackets)} / ${fmtCount(c.ifDroppedPackets)}` : ''}
                </td>
                <td className="n">{c ? fmtBytes(c.processedBytes) : ''}</td>
                <td className="n" data-col="entries">
                  {c ? fmtCount(c.entries) : ''}
                </td>
                <td className="n">{rate !== undefined ? rate.toFixed(1) : ''}</td>
                <td className="n">{c ? fmtCount(c.liveTcpStreams) : ''}</td>
                <td className="n">
                  {c ? `${fmtCount(c.storeDropped)} / ${fmtCount(c.streamDropped)}` : ''}
                </td>
                <td>{limits(c)}</td>
                <td className="dim">{c?.sources.join(', ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
