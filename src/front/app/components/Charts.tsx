/** Small hand-made SVG line charts (time on x): no chart library, a few hundred points at most. */
import { useState, type MouseEvent } from 'react';
import { fmtClock } from '../lib/format.ts';

export interface Series {
  name: string;
  /** CSS colour (a variable of styles.css). */
  color: string;
  /** One value per x; null where the bucket had none (a gap in the line). */
  values: (number | null)[];
}

interface Props {
  title: string;
  /** µs since the epoch, ascending. */
  xs: number[];
  series: Series[];
  format: (v: number) => string;
  testid?: string;
}

const W = 560;
const H = 150;
const L = 62;
const R = 12;
const T = 12;
const B = 24;

export function LineChart({ title, xs, series, format, testid }: Props) {
  const [hover, setHover] = useState<number | undefined>();
  const vals = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = Math.max(...vals, 0) || 1;
  const x0 = xs[0] ?? 0;
  const x1 = xs[xs.length - 1] ?? x0;
  const px = (x: number): number =>
    x1 === x0 ? L + (W - L - R) / 2 : L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number): number => T + (1 - v / max) * (H - T - B);

  const onMove = (ev: MouseEvent<SVGSVGElement>): void => {
    const box = ev.currentTarget.getBoundingClientRect();
    const mx = ((ev.clientX - box.left) / box.width) * W;
    let best = 0;
    for (let i = 1; i < xs.length; i++)
      if (Math.abs(px(xs[i]!) - mx) < Math.abs(px(xs[best]!) - mx)) best = i;
    setHover(xs.length > 0 ? best : undefined);
  };

  return (
    <figure className="chart" data-testid={testid}>
      <figcaption>
        {title}
        <span className="legend">
          {series.map((s) => (
            <span key={s.name} style={{ color: s.color }}>
              ● {s.name}
              {hover !== undefined && s.values[hover] !== null && s.values[hover] !== undefined
                ? ` ${format(s.values[hover])}`
                : ''}
            </span>
          ))}
        </span>
      </figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        preserveAspectRatio="none"
        onMouseMove={onMove}
        onMouseLeave={() => setHover(undefined)}
      >
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={L} x2={W - R} y1={py(max * f)} y2={py(max * f)} className="grid" />
            <text x={L - 6} y={py(max * f) + 4} textAnchor="end" className="axis">
              {format(max * f)}
            </text>
          </g>
        ))}
        {xs.length > 0 && (
          <>
            <text x={L} y={H - 6} className="axis">
              {fmtClock(x0).slice(0, 8)}
            </text>
            <text x={W - R} y={H - 6} textAnchor="end" className="axis">
              {fmtClock(x1).slice(0, 8)}
            </text>
          </>
        )}
        {series.map((s) => {
          const pts = s.values
            .map((v, i) => (v === null ? null : `${px(xs[i]!).toFixed(1)},${py(v).toFixed(1)}`))
            .filter((p): p is string => p !== null);
          return (
            <g key={s.name} data-series={s.name}>
              {pts.length > 1 && (
                <polyline points={pts.join(' ')} fill="none" stroke={s.color} strokeWidth={1.8} />
              )}
              {s.values.map((v, i) =>
                v === null || (pts.length > 1 && hover !== i) ? null : (
                  <circle key={i} cx={px(xs[i]!)} cy={py(v)} r={3} fill={s.color} />
                ),
              )}
            </g>
          );
        })}
        {hover !== undefined && xs[hover] !== undefined && (
          <line x1={px(xs[hover])} x2={px(xs[hover])} y1={T} y2={H - B} className="cursor" />
        )}
      </svg>
    </figure>
  );
}
