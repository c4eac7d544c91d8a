/** Rows and helpers for the UI tests (not bundled: only *.test.tsx import this). */
import type { EntrySummary } from '../../src/api/types.ts';

/** 2026-03-14T22:00:00.000Z in µs. */
export const T0 = Date.UTC(2026, 2, 14, 22, 0, 0) * 1000;

export function row(i: number, over: Partial<EntrySummary> = {}): EntrySummary {
  return {
    id: i,
    node: 'local',
    worker: 'local',
    ts: T0 + i * 1_234_567,
    protocol: 'http',
    src: { ip: '10.0.0.1', port: 40000 + i },
    dst: { ip: '10.0.0.2', port: 8080 },
    summary: `GET /api/orders/${i}`,
    method: 'GET',
    path: `/api/orders/${i}`,
    status: 200,
    statusClass: 'ok',
    statusText: '200',
    elapsed: 1500 + i,
    requestSize: 100,
    responseSize: 200,
    ...over,
  };
}

/** Drops ANSI escapes: assertions are about text. */
export function plain(s: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (s ?? '').replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

/** Frame lines, with an empty frame reported as a failure by the callers' assertions. */
export function lines(frame: string | undefined): string[] {
  const p = plain(frame);
  return p === '' ? [] : p.split('\n');
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
