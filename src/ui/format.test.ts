import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GAP,
  MIN_WIDTH,
  cell,
  columnWidths,
  compactNumber,
  fit,
  formatLatency,
  formatTime,
  routeText,
  statusClass,
  statusText,
} from './format.ts';
import { T0, row } from '../../test/helpers/ui-rows.ts';
import type { EntrySummary } from '../api/types.ts';
import { dnsView } from '../tap/dissectors/dns/view.ts';
import { httpView } from '../tap/dissectors/http/view.ts';

test('columnWidths fill the width exactly, from the minimum up', () => {
  for (let w = MIN_WIDTH; w <= 240; w++) {
    const c = columnWidths(w);
    const sum = c.time + c.proto + c.route + c.summary + c.status + c.latency + 5 * GAP;
    assert.equal(sum, w, `width ${w}`);
    assert.ok(c.route >= 3 && c.summary >= 3, `width ${w}: ${JSON.stringify(c)}`);
  }
  assert.equal(
    columnWidths(10).time + columnWidths(10).summary,
    columnWidths(MIN_WIDTH).time + columnWidths(MIN_WIDTH).summary,
  );
});

test('fit and cell cut with … and pad to the exact width', () => {
  assert.equal(fit('abcdef', 4), 'abc…');
  assert.equal(fit('abc', 4), 'abc');
  assert.equal(fit('abc', 0), '');
  assert.equal(cell('ab', 4), 'ab  ');
  assert.equal(cell('ab', 4, true), '  ab');
  assert.equal(cell('→→→→→', 3), '→→…');
});

test('formatTime is UTC with milliseconds (seconds in the compact layout)', () => {
  assert.equal(formatTime(T0 + 1_234_567), '22:00:01.234');
  assert.equal(formatTime(T0 + 1_234_567, true), '22:00:01');
  assert.equal(formatTime(Number.NaN), '00:00:00.000');
  assert.equal(formatTime(1e30), '--:--:--.---');
});

test('formatLatency picks a unit and stays within 6 characters', () => {
  assert.equal(formatLatency(undefined), '');
  assert.equal(formatLatency(850), '850µs');
  assert.equal(formatLatency(1500), '1.5ms');
  assert.equal(formatLatency(12_345), '12.3ms');
  assert.equal(formatLatency(250_000), '250ms');
  assert.equal(formatLatency(2_500_000), '2.50s');
  assert.equal(formatLatency(600_000_000), '10.0m');
  fc.assert(
    fc.property(fc.double({ min: 0, max: 3.6e9, noNaN: true }), (us) => {
      assert.ok(formatLatency(us).length <= 6, `${us} → ${formatLatency(us)}`);
    }),
  );
});

test('routeText fits any width and keeps what matters', () => {
  const src = { ip: '10.0.0.1', port: 40001 };
  const dst = { ip: '10.0.0.2', port: 8080 };
  assert.equal(routeText(src, dst, 40), '10.0.0.1:40001 → 10.0.0.2:8080');
  assert.equal(routeText(src, dst, 24), '10.0.0.1 → 10.0.0.2:8080', 'client port goes first');
  assert.equal(
    routeText({ ...src, name: 'web' }, { ...dst, name: 'orders-service-v2' }, 16),
    'web → orders-se…',
    'a short side is kept whole',
  );
  assert.equal(
    routeText({ ip: 'fd00::1', port: 1 }, { ip: 'fd00::2', port: 2 }, 30),
    '[fd00::1]:1 → [fd00::2]:2',
  );
  const label = fc.record({
    ip: fc.string({ minLength: 1, maxLength: 40 }),
    port: fc.integer({ min: 0, max: 65535 }),
    name: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(label, label, fc.integer({ min: 1, max: 80 }), (a, b, w) => {
      assert.ok(Array.from(routeText(a, b, w)).length <= w);
    }),
  );
});

test("statusClass takes the dissector's class of the status; statusText falls back to the error", () => {
  // The summaries carry the class their dissector gave (src/tap/records.test.ts checks those).
  const http = (status: number) =>
    row(1, { status, statusClass: httpView.statusClass(status) as EntrySummary['statusClass'] });
  assert.equal(statusClass(http(204)), 'ok');
  assert.equal(statusClass(http(301)), 'redirect');
  assert.equal(statusClass(http(404)), 'client');
  assert.equal(statusClass(http(503)), 'server');
  const dns = (status: number) =>
    row(1, {
      protocol: 'dns',
      status,
      statusClass: dnsView.statusClass(status) as EntrySummary['statusClass'],
    });
  assert.equal(statusClass(dns(0)), 'ok');
  assert.equal(statusClass(dns(3)), 'client');
  assert.equal(statusClass(dns(2)), 'server');
  const noResponse = row(1, {
    status: undefined,
    statusText: '',
    error: { code: 'KS_ERR_NO_RESPONSE', message: 'no response' },
  });
  assert.equal(statusClass(noResponse), 'error');
  assert.equal(statusText(noResponse), 'NO_RESPONSE');
  assert.equal(statusClass(row(1, { protocol: 'tcp', status: undefined })), 'none');
});

test('compactNumber', () => {
  assert.equal(compactNumber(0), '0');
  assert.equal(compactNumber(2.345), '2.3');
  assert.equal(compactNumber(12.5), '13');
  assert.equal(compactNumber(1234), '1.2k');
  assert.equal(compactNumber(45_678), '46k');
  assert.equal(compactNumber(3_400_000), '3.4M');
});
