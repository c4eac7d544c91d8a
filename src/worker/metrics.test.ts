import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { CaptureCounters } from '../api/types.ts';
import { METRIC_NAMES, createMetricsRegistry, serveMetrics } from './metrics.ts';
import type { MetricsServer } from './metrics.ts';

function counters(over: Partial<CaptureCounters> = {}): CaptureCounters {
  return {
    sources: ['lo'],
    receivedPackets: 0,
    droppedPackets: 0,
    ifDroppedPackets: 0,
    processedBytes: 0,
    liveTcpStreams: 0,
    matchedPairs: 0,
    entries: 0,
    limitsHit: {},
    storeDropped: 0,
    streamDropped: 0,
    ...over,
  };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format: samples, and `# TYPE` lines. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.equal(hits.length, 1, `${name} ${JSON.stringify(labels)}: ${hits.length} samples`);
  return hits[0]!.value;
}

const servers: MetricsServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

test('serveMetrics: GET /metrics reads the getter at each scrape', async () => {
  let now = counters({
    receivedPackets: 1500,
    droppedPackets: 3,
    ifDroppedPackets: 1,
    processedBytes: 987654,
    liveTcpStreams: 12,
    matchedPairs: 40,
    entries: 55,
    limitsHit: { maxBodyBytes: 2, maxStreams: 7 },
    storeDropped: 4,
    streamDropped: 9,
  });
  let reads = 0;
  const srv = await serveMetrics(
    0,
    '127.0.0.1',
    () => {
      reads++;
      return now;
    },
    { labels: { node: 'node-a' } },
  );
  servers.push(srv);
  assert.ok(srv.port > 0);
  const url = `http://127.0.0.1:${srv.port}/metrics`;

  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const { samples, types } = parse(await res.text());
  assert.equal(reads, 1, 'one scrape reads the counters once');
  const expect: [string, number][] = [
    [METRIC_NAMES.receivedPackets, 1500],
    [METRIC_NAMES.droppedPackets, 3],
    [METRIC_NAMES.ifDroppedPackets, 1],
    [METRIC_NAMES.processedBytes, 987654],
    [METRIC_NAMES.liveTcpStreams, 12],
    [METRIC_NAMES.matchedPairs, 40],
    [METRIC_NAMES.entries, 55],
    [METRIC_NAMES.storeDropped, 4],
    [METRIC_NAMES.streamDropped, 9],
  ];
  for (const [name, v] of expect) {
    assert.equal(value(samples, name, { node: 'node-a' }), v, name);
    assert.equal(types.get(name), name.endsWith('_total') ? 'counter' : 'gauge', name);
  }
  assert.equal(value(samples, METRIC_NAMES.limitsHit, { limit: 'maxBodyBytes' }), 2);
  assert.equal(value(samples, METRIC_NAMES.limitsHit, { limit: 'maxStreams' }), 7);
  assert.equal(value(samples, METRIC_NAMES.sources, { source: 'lo' }), 1);
  assert.equal(value(samples, 'kubeshark_received_packets_total'), 1500);
  assert.equal(value(samples, 'kubeshark_live_tcp_streams'), 12);

  // The next scrape sees new values; a limit no longer reported disappears; the source changes.
  now = counters({
    sources: ['eth0', 'eth1'],
    receivedPackets: 2000,
    liveTcpStreams: 3,
    limitsHit: { maxBodyBytes: 5 },
  });
  const again = parse(await (await fetch(url)).text()).samples;
  assert.equal(reads, 2);
  assert.equal(value(again, METRIC_NAMES.receivedPackets), 2000);
  assert.equal(value(again, METRIC_NAMES.liveTcpStreams), 3);
  assert.equal(value(again, METRIC_NAMES.limitsHit, { limit: 'maxBodyBytes' }), 5);
  assert.equal(
    again.filter((s) => s.name === METRIC_NAMES.limitsHit).length,
    1,
    'only the limits reported now',
  );
  assert.deepEqual(
    again
      .filter((s) => s.name === METRIC_NAMES.sources)
      .map((s) => s.labels['source'])
      .sort(),
    ['eth0', 'eth1'],
  );
});

test('serveMetrics: other paths are 404, other methods 405', async () => {
  const srv = await serveMetrics(0, '127.0.0.1', () => counters());
  servers.push(srv);
  const base = `http://127.0.0.1:${srv.port}`;
  const nf = await fetch(`${base}/`);
  assert.equal(nf.status, 404);
  assert.match(await nf.text(), /metrics are at \/metrics/);
  assert.equal((await fetch(`${base}/metricsx`)).status, 404);
  const post = await fetch(`${base}/metrics`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  assert.equal((await fetch(`${base}/metrics?x=1`)).status, 200);
});

test('serveMetrics: a getter that throws is a 500 with the reason, then recovers', async () => {
  let fail = true;
  const srv = await serveMetrics(0, '127.0.0.1', () => {
    if (fail) throw new Error('worker is gone');
    return counters({ entries: 1 });
  });
  servers.push(srv);
  const url = `http://127.0.0.1:${srv.port}/metrics`;
  const bad = await fetch(url);
  assert.equal(bad.status, 500);
  assert.match(await bad.text(), /worker is gone/);
  fail = false;
  await new Promise((r) => setImmediate(r));
  const ok = await fetch(url);
  assert.equal(ok.status, 200);
  assert.equal(value(parse(await ok.text()).samples, METRIC_NAMES.entries), 1);
});

test('createMetricsRegistry: registries are independent, values are sanitised', async () => {
  const a = createMetricsRegistry(() => counters({ entries: 5, droppedPackets: Number.NaN }));
  const b = createMetricsRegistry(() => counters({ entries: 8, processedBytes: -4 }));
  const sa = parse(await a.metrics()).samples;
  const sb = parse(await b.metrics()).samples;
  assert.equal(value(sa, METRIC_NAMES.entries), 5);
  assert.equal(value(sb, METRIC_NAMES.entries), 8);
  assert.equal(value(sa, METRIC_NAMES.droppedPackets), 0);
  assert.equal(value(sb, METRIC_NAMES.processedBytes), 0);
});

test('serveMetrics: a port in use is an error', async () => {
  const srv = await serveMetrics(0, '127.0.0.1', () => counters());
  servers.push(srv);
  await assert.rejects(
    serveMetrics(srv.port, '127.0.0.1', () => counters()),
    /cannot listen on 127.0.0.1:\d+: the port is in use/,
  );
});

test('createMetricsRegistry: the ingest stages, per stage and outcome', async () => {
  const stage = (name: string, over: object = {}) => ({
    name,
    in: 0,
    passed: 0,
    dropped: 0,
    errors: 0,
    onError: 'keep' as const,
    timeUs: 0,
    ...over,
  });
  const r = createMetricsRegistry(() =>
    counters({
      ingest: [
        stage('target', { in: 10, passed: 6, dropped: 2, errors: 1, held: 1, timeUs: 2_500_000 }),
        stage('redact', { in: 7, passed: 5, errors: 2, onError: 'drop' }),
        stage('store', { in: 5, passed: 5 }),
      ],
    }),
  );
  const { samples, types } = parse(await r.metrics());
  const entries = METRIC_NAMES.ingestStageEntries;
  assert.equal(types.get(entries), 'counter');
  assert.equal(value(samples, entries, { stage: 'target', outcome: 'passed' }), 6);
  assert.equal(value(samples, entries, { stage: 'target', outcome: 'dropped' }), 2);
  assert.equal(value(samples, entries, { stage: 'target', outcome: 'error' }), 1);
  assert.equal(value(samples, entries, { stage: 'redact', outcome: 'error' }), 2);
  assert.equal(value(samples, entries, { stage: 'store', outcome: 'passed' }), 5);
  assert.equal(types.get(METRIC_NAMES.ingestStageHeld), 'gauge');
  assert.equal(value(samples, METRIC_NAMES.ingestStageHeld, { stage: 'target' }), 1);
  assert.equal(
    samples.filter((s) => s.name === METRIC_NAMES.ingestStageHeld).length,
    1,
    'held only for stages that hold',
  );
  assert.equal(types.get(METRIC_NAMES.ingestStageSeconds), 'counter');
  assert.equal(value(samples, METRIC_NAMES.ingestStageSeconds, { stage: 'target' }), 2.5);
  // Without stages (a hub's sum, an older worker): no ingest series.
  const none = parse(await createMetricsRegistry(() => counters()).metrics()).samples;
  assert.ok(!none.some((s) => s.name.startsWith('kubeshark_ingest_')));
});
