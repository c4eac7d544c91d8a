import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry } from '../../entry/model.ts';
import { accumulateStats } from './accumulator.ts';
import { aggregateL4 } from './l4.ts';
import {
  fmtBytes,
  fmtCount,
  fmtMs,
  fmtPct,
  fmtRate,
  formatL4Table,
  formatStatsTable,
  shorten,
} from './table.ts';
import { T0, dns, http, pod, tcpConn, udpFlow, ws } from '../../../test/helpers/stats-entries.ts';

const S = 1_000_000;

/** One minute of a small API's traffic: products (some 4xx/5xx), orders (slow, 2 unanswered), DNS, WS. */
function traffic(): Entry[] {
  const es: Entry[] = [];
  for (let i = 0; i < 1200; i++) {
    const status = i % 50 === 0 ? 503 : i % 20 === 0 ? 404 : 200;
    es.push(
      http({
        path: `/api/products/${i}`,
        ts: T0 + i * 50_000,
        elapsed: 2000 + (i % 100) * 100,
        status,
        requestSize: 300,
        responseSize: 2000,
      }),
    );
  }
  for (let i = 0; i < 40; i++)
    es.push(
      http({
        method: 'POST',
        path: '/api/orders/507f1f77bcf86cd799439011/items/with/a/very/long/path/that/will/not/fit',
        ts: T0 + i * S,
        elapsed: 150_000 + i * 1000,
        status: i < 2 ? null : 201,
      }),
    );
  for (let i = 0; i < 300; i++)
    es.push(
      dns({
        name: 'catalogue.shop.svc.cluster.local',
        ts: T0 + i * 200_000,
        elapsed: 300 + i,
        rcode: i % 10 === 0 ? 3 : 0,
        requestSize: 50,
        responseSize: 90,
      }),
    );
  for (let i = 0; i < 5; i++) es.push(ws({ upgradePath: '/chat', ts: T0 + i * S }));
  return es;
}

test('statistics table at width 100', () => {
  const r = accumulateStats(traffic(), { groupBy: 'endpoint' }).result();
  const want = [
    '1545 calls, 4 groups by endpoint',
    'window 2026-01-01T00:00:00Z .. 2026-01-01T00:00:59Z (60.0 s)',
    'endpoint                           calls  rate/s  4xx%  5xx%  err%  p50 ms  p95 ms  p99 ms     bytes',
    'http GET /api/products/:id          1200    20.0   4.0   2.0   2.0    6.84    11.5    11.7  2.63 MiB',
    'dns A catalogue.…c.cluster.local     300    5.00   0.0   0.0  10.0   0.450   0.584   0.596  41.0 KiB',
    'http POST /api/o…at/will/not/fit      40    0.67   0.0   0.0   5.0   170.0   187.0   188.0  11.3 KiB',
    'ws /chat                               5    0.08   0.0   0.0   0.0       -       -       -  1.46 KiB',
    '----------------------------------------------------------------------------------------------------',
    'total                               1545    25.8   3.1   1.6   3.6    5.94    11.5   174.6  2.68 MiB',
    '',
  ].join('\n');
  const got = formatStatsTable(r, { width: 100 });
  assert.equal(got, want);
  for (const line of got.split('\n')) assert.ok(line.length <= 100, line);
  // Stable: the same input gives the same bytes, whatever the entry order.
  const shuffled = traffic().reverse();
  assert.equal(
    formatStatsTable(accumulateStats(shuffled, { groupBy: 'endpoint' }).result(), { width: 100 }),
    want,
  );
});

test('statistics table: narrow width, limit, no total, no calls', () => {
  const r = accumulateStats(traffic(), { groupBy: 'endpoint' }).result();
  assert.equal(
    formatStatsTable(r, { width: 60, limit: 2 }),
    [
      '1545 calls, 4 groups by endpoint',
      'window 2026-01-01T00:00:00Z .. 2026-01-01T00:00:59Z (60.0 s)',
      // The group column keeps 12 characters; the line grows past the width rather than lose it.
      'endpoint       calls  rate/s  4xx%  5xx%  err%  p50 ms  p95 ms  p99 ms     bytes',
      'http G…s/:id    1200    20.0   4.0   2.0   2.0    6.84    11.5    11.7  2.63 MiB',
      'dns A …local     300    5.00   0.0   0.0  10.0   0.450   0.584   0.596  41.0 KiB',
      '… 2 more groups',
      '--------------------------------------------------------------------------------',
      'total           1545    25.8   3.1   1.6   3.6    5.94    11.5   174.6  2.68 MiB',
      '',
    ].join('\n'),
  );
  const byProto = accumulateStats(traffic(), { groupBy: 'protocol' }).result();
  assert.equal(
    formatStatsTable(byProto, { width: 90, total: false }),
    [
      '1545 calls, 3 groups by protocol',
      'window 2026-01-01T00:00:00Z .. 2026-01-01T00:00:59Z (60.0 s)',
      'protocol                 calls  rate/s  4xx%  5xx%  err%  p50 ms  p95 ms  p99 ms     bytes',
      'http                      1240    20.7   3.9   1.9   2.1    7.12    11.7   174.6  2.64 MiB',
      'dns                        300    5.00   0.0   0.0  10.0   0.450   0.584   0.596  41.0 KiB',
      'ws                           5    0.08   0.0   0.0   0.0       -       -       -  1.46 KiB',
      '',
    ].join('\n'),
  );
  const empty = accumulateStats([], { groupBy: 'service' }).result();
  assert.equal(
    formatStatsTable(empty, { width: 90 }),
    [
      '0 calls, 0 groups by service',
      'service                  calls  rate/s  4xx%  5xx%  err%  p50 ms  p95 ms  p99 ms     bytes',
      '------------------------------------------------------------------------------------------',
      'total                        0       0     -     -     -       -       -       -       0 B',
      '',
    ].join('\n'),
  );
});

test('L4 table: top talkers at a fixed width', () => {
  const A = pod('10.2.0.1', 'front-7d9f8c6b5-x2x9z', 'shop', 'front');
  const B = pod('10.2.0.2', 'cart-1', 'shop', 'cart');
  const C = pod('10.3.0.1', 'db-0', 'data', 'db');
  const l4 = [
    tcpConn({ src: A, dst: B, client: [10, 1000], server: [8, 5_000_000], retransmissions: 3 }),
    tcpConn({ src: A, dst: C, client: [3, 300], server: [2, 200], rst: true }),
    udpFlow({ src: B, dst: { ip: '10.96.0.10', port: 53 }, client: [1, 60], server: [1, 100] }),
  ];
  assert.equal(
    formatL4Table(aggregateL4(l4, { by: 'pod' }), { width: 100 }),
    [
      '2 TCP connections, 1 UDP flow by pod, top talkers by bytes',
      'pod                           conns   flows  pkts out  bytes out   pkts in   bytes in retrans resets',
      'shop/front-7d9f8c6b5-x2x9z        2       0        13   1.27 KiB        10   4.77 MiB       3      1',
      'shop/cart-1                       1       1         9   4.77 MiB        11   1.07 KiB       3      0',
      'data/db-0                         1       0         2      200 B         3      300 B       0      1',
      '10.96.0.10                        0       1         1      100 B         1       60 B       0      0',
      '',
    ].join('\n'),
  );
  assert.equal(
    formatL4Table(aggregateL4(l4, { by: 'namespace', pairs: true }), {
      width: 90,
      by: 'packets',
      limit: 1,
    }),
    [
      '2 TCP connections, 1 UDP flow by namespace pairs, top talkers by packets',
      'namespace           conns   flows  pkts out  bytes out   pkts in   bytes in retrans resets',
      'shop -> shop            1       0        10     1000 B         8   4.77 MiB       3      0',
      '… 2 more groups',
      '',
    ].join('\n'),
  );
});

test('cell formats', () => {
  assert.deepEqual(
    [0, 512, 1023, 1024, 1536, 10 * 1024, 1023 * 1024, 5e6, 3 * 1024 ** 3, 2 ** 60].map(fmtBytes),
    [
      '0 B',
      '512 B',
      '1023 B',
      '1.00 KiB',
      '1.50 KiB',
      '10.0 KiB',
      '1023 KiB',
      '4.77 MiB',
      '3.00 GiB',
      '1024 PiB',
    ],
  );
  assert.deepEqual(
    [undefined, 0, 123, 4567, 45_678, 999_949, 1_500_000, 12_345_678_901].map(fmtMs),
    ['-', '0.000', '0.123', '4.57', '45.7', '999.9', '1500', '12.3M'],
  );
  assert.deepEqual([0, 0.123, 5, 12.34, 999.9, 12_345, 1e9].map(fmtRate), [
    '0',
    '0.12',
    '5.00',
    '12.3',
    '999.9',
    '12345',
    '1.0G',
  ]);
  assert.deepEqual(
    [fmtPct(0, 0), fmtPct(0, 5), fmtPct(1 / 3, 3), fmtPct(1, 1)],
    ['-', '0.0', '33.3', '100.0'],
  );
  assert.deepEqual(
    [fmtCount(1234), fmtCount(123_456_789), fmtCount(12_345_678, 7)],
    ['1234', '123M', '12.3M'],
  );
  assert.equal(shorten('abcdefghij', 10), 'abcdefghij');
  assert.equal(shorten('abcdefghij', 7), 'abc…hij');
  assert.equal(shorten('abcdefghij', 6), 'abc…ij');
  assert.equal(shorten('abcdefghij', 1), 'a');
});
