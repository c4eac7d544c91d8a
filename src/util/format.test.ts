/** The one byte and duration formatter, in every style a view uses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BYTES,
  BYTES_3_DIGITS,
  BYTES_UP_TO_GIB,
  DURATION_3_DIGITS,
  DURATION_COMPACT,
  DURATION_MS_NUMBER,
  DURATION_SHORT,
  DURATION_TEXT,
  formatBytes,
  formatDuration,
  type ScaleFormat,
} from './format.ts';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;
const PiB = 1024 ** 5;

/** `format` over `values`, the texts joined by `|`. */
const texts = (write: (n: number) => string, values: number[]): string =>
  values.map(write).join('|');
const bytesIn = (f: ScaleFormat, ns: number[]): string => texts((n) => formatBytes(n, f), ns);
const durationsIn = (f: ScaleFormat, us: number[]): string =>
  texts((u) => formatDuration(u, f), us);

test('BYTES (the default): one decimal, up to TiB', () => {
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(
    bytesIn(BYTES, [0, 141, 1023, 1.5, KiB, 1228.8, MiB - 1, 3.4 * MiB, GiB, 2 * TiB, 2048 * TiB]),
    '0 B|141 B|1023 B|1.5 B|1.0 KiB|1.2 KiB|1024.0 KiB|3.4 MiB|1.0 GiB|2.0 TiB|2048.0 TiB',
  );
});

test('BYTES_UP_TO_GIB: one decimal to MiB, two in GiB, the largest unit', () => {
  assert.equal(
    bytesIn(BYTES_UP_TO_GIB, [512, 1536, 3.2 * MiB, GiB - 1, 2 * GiB, 3 * TiB]),
    '512 B|1.5 KiB|3.2 MiB|1024.0 MiB|2.00 GiB|3072.00 GiB',
  );
});

test('BYTES_3_DIGITS: two decimals below 10, one below 100, none above, up to PiB', () => {
  assert.equal(
    bytesIn(BYTES_3_DIGITS, [0, 1023, KiB, 1536, 10 * KiB, 99.9 * KiB, 1023 * KiB, 5e6, 123 * GiB]),
    '0 B|1023 B|1.00 KiB|1.50 KiB|10.0 KiB|99.9 KiB|1023 KiB|4.77 MiB|123 GiB',
  );
  assert.equal(bytesIn(BYTES_3_DIGITS, [3 * PiB, 2 ** 60]), '3.00 PiB|1024 PiB');
});

test('durations in each style', () => {
  // At most 6 characters; a unit gives way before rounding would write 1000 of it.
  assert.equal(
    durationsIn(DURATION_COMPACT, [0, 850, 999.4, 999.5, 1500, 12_345, 99_949, 99_950, 250_000]),
    '0µs|850µs|999µs|1.0ms|1.5ms|12.3ms|99.9ms|100ms|250ms',
  );
  assert.equal(
    durationsIn(DURATION_COMPACT, [999_499, 999_500, 2_500_000, 6e7, 6e8]),
    '999ms|1.00s|2.50s|1.0m|10.0m',
  );
  // Three significant digits, then minutes.
  assert.equal(
    durationsIn(DURATION_3_DIGITS, [681, 999.4, 2883, 45_678, 1_234_000, 59_990_000, 90e6]),
    '681 µs|999 µs|2.88 ms|45.7 ms|1.23 s|60.0 s|1.5 min',
  );
  // µs as given, one decimal in ms, two in s.
  assert.equal(
    durationsIn(DURATION_SHORT, [0, 850, 12.5, 1000, 12_345, 999_999, 2.5e6]),
    '0µs|850µs|12.5µs|1.0ms|12.3ms|1000.0ms|2.50s',
  );
  // Two decimals below 10 ms, one up to 1 s, two in s.
  assert.equal(
    durationsIn(DURATION_TEXT, [850, 999.6, 1234, 9999, 12_345, 2.5e6, 3.6e9]),
    '850 µs|1000 µs|1.23 ms|10.00 ms|12.3 ms|2.50 s|3600.00 s',
  );
  // Milliseconds without a unit.
  assert.equal(
    durationsIn(DURATION_MS_NUMBER, [0, 123, 4567, 45_678, 999_949]),
    '0.000|0.123|4.57|45.7|999.9',
  );
});

test('values no step takes (NaN) go to the last step; negatives to the first', () => {
  assert.equal(formatDuration(NaN, DURATION_TEXT), 'NaN s');
  assert.equal(formatDuration(-3, DURATION_SHORT), '-3µs');
  assert.equal(formatBytes(-5), '-5 B');
});
