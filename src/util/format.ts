/**
 * Sizes and durations for people: `1.2 MiB`, `850µs`, `1.23 s`. One scaler writes both; each
 * view's style is a named format below (the unit steps, the digits in each, what stands between
 * number and unit), so every place that writes a size or a duration names its style and the styles
 * sit side by side. Pure and free of Node APIs: the dashboard bundle imports it too.
 */

/**
 * How a value is written in its unit: a number of decimals (`toFixed`), `'round'` (to a whole,
 * `Math.round`), `'raw'` (as given) or `{ precision }` significant digits (`toPrecision`).
 */
export type Digits = number | 'round' | 'raw' | { readonly precision: number };

/** One unit of a scale. */
export interface ScaleStep {
  readonly unit: string;
  /** Base units (bytes, µs) in one of this unit. */
  readonly per: number;
  readonly digits: Digits;
  /** Used for values below this (base units); a value no step takes goes to the last one. */
  readonly below: number;
}

/** A style: its steps, smallest first, and the text between number and unit. */
export interface ScaleFormat {
  readonly steps: readonly ScaleStep[];
  readonly sep: string;
}

function digitsText(v: number, d: Digits): string {
  if (d === 'raw') return String(v);
  if (d === 'round') return String(Math.round(v));
  if (typeof d === 'number') return v.toFixed(d);
  return v.toPrecision(d.precision);
}

function scaled(n: number, f: ScaleFormat): string {
  const steps = f.steps;
  let s = steps[steps.length - 1]!;
  for (const step of steps) {
    if (n < step.below) {
      s = step;
      break;
    }
  }
  return `${digitsText(n / s.per, s.digits)}${f.sep}${s.unit}`;
}

// ---- Byte counts ----------------------------------------------------------------------------

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
type ByteUnit = (typeof BYTE_UNITS)[number];

/**
 * Bytes below 1024 as given (`512 B`), then binary units up to `top`, the largest (any larger
 * value is written in it). `tiers` says how a value `v` in a unit is written: [v below this,
 * digits]…, the last up to 1024.
 */
function binary(
  top: ByteUnit,
  tiers: (unit: ByteUnit) => readonly (readonly [below: number, digits: Digits])[],
): ScaleFormat {
  const steps: ScaleStep[] = [{ unit: 'B', per: 1, digits: 'raw', below: 1024 }];
  for (const [i, unit] of BYTE_UNITS.slice(0, BYTE_UNITS.indexOf(top) + 1).entries()) {
    const per = 1024 ** (i + 1);
    for (const [below, digits] of tiers(unit))
      steps.push({ unit, per, digits, below: below * per });
  }
  return { steps, sep: ' ' };
}

/** `141 B`, `1.2 KiB`, `3.4 MiB` … `TiB`: one decimal (dashboard, `dissect`'s summary). */
export const BYTES: ScaleFormat = binary('TiB', () => [[1024, 1]]);
/** `512 B`, `1.5 KiB`, `3.2 MiB`, `2.00 GiB` (GiB the largest, with two decimals): MCP answers. */
export const BYTES_UP_TO_GIB: ScaleFormat = binary('GiB', (u) => [[1024, u === 'GiB' ? 2 : 1]]);
/** `512 B`, `1.50 KiB`, `12.3 MiB`, `123 GiB` … `PiB`: three digits (stats tables). */
export const BYTES_3_DIGITS: ScaleFormat = binary('PiB', () => [
  [10, 2],
  [100, 1],
  [1024, 0],
]);

/** A byte count in `format` (default {@link BYTES}). */
export function formatBytes(n: number, format: ScaleFormat = BYTES): string {
  return scaled(n, format);
}

// ---- Durations (µs) ---------------------------------------------------------------------------

/** Steps of one duration unit: `unit(digits, below)`. */
const unitStep =
  (unit: string, per: number) =>
  (digits: Digits, below = Infinity): ScaleStep => ({ unit, per, digits, below });
const us = unitStep('µs', 1);
const ms = unitStep('ms', 1000);
const sec = unitStep('s', 1e6);
const msNumber = unitStep('', 1000);

/**
 * `850µs`, `12.3ms`, `250ms`, `1.20s`, `10.0m`: at most 6 characters (the live table). A unit
 * gives way to the next one where rounding would write 1000 of it.
 */
export const DURATION_COMPACT: ScaleFormat = {
  sep: '',
  steps: [
    us('round', 999.5),
    ms(1, 99_950),
    ms('round', 999_500),
    sec(2, 6e7),
    unitStep('m', 6e7)(1),
  ],
};
/** `681 µs`, `2.88 ms`, `1.23 s`, `2.5 min`: three significant digits (dashboard). */
export const DURATION_3_DIGITS: ScaleFormat = {
  sep: ' ',
  steps: [
    us('round', 1000),
    ms({ precision: 3 }, 1e6),
    sec({ precision: 3 }, 60e6),
    unitStep('min', 60e6)(1),
  ],
};
/** `850µs`, `12.3ms`, `1.20s`: µs as given (`dissect`'s ELAPSED column). */
export const DURATION_SHORT: ScaleFormat = {
  sep: '',
  steps: [us('raw', 1000), ms(1, 1e6), sec(2)],
};
/** `850 µs`, `1.23 ms`, `12.3 ms`, `2.50 s` (MCP answers). */
export const DURATION_TEXT: ScaleFormat = {
  sep: ' ',
  steps: [us('round', 1000), ms(2, 10_000), ms(1, 1e6), sec(2)],
};
/**
 * Milliseconds without a unit, below 1000 ms: `0.123`, `4.57`, `45.7` (stats tables, whose
 * column titles say `ms`; from 1000 ms on they write a compact count).
 */
export const DURATION_MS_NUMBER: ScaleFormat = {
  sep: '',
  steps: [msNumber(3, 1000), msNumber(2, 10_000), msNumber(1)],
};

/** A duration of `us` microseconds in `format`. */
export function formatDuration(us: number, format: ScaleFormat): string {
  return scaled(us, format);
}
