/**
 * Store benchmark: fills an EntryStore in a temp dir with realistic entries, then times queries.
 *
 * Entries are synthesised from templates taken from real captures (demo/shop.pcap and the
 * WebSocket test capture, run through the pipeline): HTTP with varied routes, ids, query strings,
 * methods, status codes and latencies; DNS with varied names and NXDOMAINs; WebSocket messages;
 * TCP/UDP L4 records. Every entry is enriched with Kubernetes identity (300 pods in 20 namespaces,
 * labels); entries of one connection share their Endpoint objects, as the pipeline's do.
 *
 * Prints: ingest rate (time inside append + flush, synthesis excluded), size on disk, peak RSS,
 * index memory, reopen time, and per query the time to the first 100 matches (a `page`, full
 * entries read from disk) and to a full `count`.
 *
 * Usage: node --import tsx scripts/bench/query.ts [entries=1000000] [--keep DIR] [--plain]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint, Entry, TcpConnRecord, UdpFlowRecord } from '../../src/entry/model.ts';
import type { HttpRecord } from '../../src/tap/dissectors/http/record.ts';
import type { DnsRecord } from '../../src/tap/dissectors/dns/record.ts';
import type { WsRecord } from '../../src/tap/dissectors/ws/record.ts';
import { EntryStore, type StoreQuery } from '../../src/store/store.ts';
import { statsOf } from '../../src/store/aggregate.ts';
import { entriesFromCapture } from '../../src/tap/run.ts';
import { compileKfl, indexHints, selectionOf } from '../../src/query/index.ts';
import { buildCatalogue } from '../../src/tap/dissectors/registry.ts';

const root = new URL('../..', import.meta.url).pathname;
const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const keepIdx = process.argv.indexOf('--keep');
const keepDir = keepIdx > 0 ? process.argv[keepIdx + 1] : undefined;

// ------------------------------------------------------------------ templates and synthesis

function entriesOf(file: string): Promise<Entry[]> {
  return entriesFromCapture(file, { l4All: true });
}

let seed = 0x5eed;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;

const NAMESPACES = Array.from({ length: 20 }, (_, i) => {
  const base = ['default', 'payments', 'checkout', 'catalog', 'auth', 'kube-system', 'monitoring'];
  const more = ['orders', 'search', 'ingress'];
  const all = [...base, ...more];
  return all[i % all.length]! + (i >= all.length ? `-${i}` : '');
});
const APPS = [
  'frontend',
  'cart',
  'checkout',
  'payment',
  'catalog',
  'auth',
  'orders',
  'search',
  'recommend',
  'shipping',
  'email',
  'currency',
  'ad',
  'db-proxy',
  'redis-cache',
];
const PODS = Array.from({ length: 300 }, (_, i) => {
  const ns = NAMESPACES[i % NAMESPACES.length]!;
  const app = APPS[i % APPS.length]!;
  const h = ((i * 2654435761) >>> 0).toString(36).slice(0, 9);
  return {
    ip: `10.${(i >> 8) & 255}.${i & 255}.${((i * 7) % 250) + 2}`,
    pod: { name: `${app}-${h}-${((i * 40503) >>> 0).toString(36).slice(0, 5)}`, namespace: ns },
    service: { name: app, namespace: ns },
    labels: { app, 'pod-template-hash': (i * 977).toString(16) },
  };
});
const ROUTES = [
  '/api/products',
  '/api/products/{id}',
  '/api/cart',
  '/api/cart/{id}/items',
  '/api/orders',
  '/api/orders/{id}',
  '/api/users/{id}',
  '/api/users/{id}/profile',
  '/healthz',
  '/readyz',
  '/metrics',
  '/api/search',
  '/api/payments/{id}',
  '/api/auth/login',
  '/api/auth/token',
  '/static/app.js',
  '/static/style.css',
  '/api/recommendations',
  '/api/shipping/quote',
  '/api/currency/convert',
];
const STATUSES: [number, string, number][] = [
  [200, 'OK', 0.8],
  [201, 'Created', 0.04],
  [204, 'No Content', 0.03],
  [304, 'Not Modified', 0.03],
  [400, 'Bad Request', 0.02],
  [401, 'Unauthorized', 0.015],
  [404, 'Not Found', 0.04],
  [429, 'Too Many Requests', 0.005],
  [500, 'Internal Server Error', 0.01],
  [502, 'Bad Gateway', 0.005],
  [503, 'Service Unavailable', 0.005],
];
function pickStatus(): [number, string] {
  let r = rnd();
  for (const s of STATUSES) if ((r -= s[2]) <= 0) return [s[0], s[1]];
  return [200, 'OK'];
}
const DNS_NAMES = Array.from({ length: 200 }, (_, i) =>
  i % 4 === 0 ? `api${i}.example.com` : `${pick(APPS)}.${pick(NAMESPACES)}.svc.cluster.local`,
);
const AGENTS = ['curl/8.5.0', 'Go-http-client/1.1', 'python-requests/2.31', 'Mozilla/5.0 (X11)'];

function endpoint(p: (typeof PODS)[number], port: number): Endpoint {
  return {
    ip: p.ip,
    port,
    name: p.pod.name,
    namespace: p.pod.namespace,
    pod: { ...p.pod },
    service: { ...p.service },
    labels: { ...p.labels },
  };
}

interface Conn {
  src: Endpoint;
  dst: Endpoint;
  flow: number;
  left: number;
  index: number;
}

/** Returns a generator of entries; `ts0` µs is the first timestamp, ~500 entries/s. */
async function synthesiser(ts0: number): Promise<() => Entry> {
  const all = [
    ...(await entriesOf(join(root, 'demo/shop.pcap'))),
    ...(await entriesOf(join(root, 'src/tap/dissectors/ws/testdata/websocket.pcap'))),
  ];
  const tpl = (kind: string): string[] =>
    all.filter((e) => e.record.kind === kind).map((e) => JSON.stringify(e));
  const T: Record<string, string[]> = {
    http: tpl('http').filter((s) => !s.includes('websocket')),
    dns: tpl('dns'),
    ws: tpl('ws'),
    tcp: tpl('tcp_conn'),
    udp: tpl('udp_flow'),
  };
  let ts = ts0;
  let id = 0;
  let flow = 0;
  const conns: Record<string, Conn[]> = { http: [], ws: [] };
  const conn = (kind: 'http' | 'ws', port: number, maxLeft: number): Conn => {
    const pool = conns[kind]!;
    let c = pool.length >= 50 ? pick(pool) : undefined;
    if (c === undefined || c.left <= 0) {
      if (c !== undefined) pool.splice(pool.indexOf(c), 1);
      const cli = pick(PODS);
      const srv = pick(PODS);
      c = {
        src: endpoint(cli, 30000 + Math.floor(rnd() * 30000)),
        dst: endpoint(srv, port),
        flow: ++flow,
        left: 1 + Math.floor(rnd() * maxLeft),
        index: 0,
      };
      pool.push(c);
    }
    c.left--;
    return c;
  };
  return function next(): Entry {
    const r0 = rnd();
    const kind =
      r0 < 0.55 ? 'http' : r0 < 0.75 ? 'dns' : r0 < 0.82 ? 'ws' : r0 < 0.94 ? 'tcp' : 'udp';
    const e = JSON.parse(pick(T[kind]!)) as Entry;
    id++;
    ts += Math.floor(rnd() * 4000);
    const lat = Math.floor(Math.exp(rnd() * 10) * 20); // 20 µs … 440 ms, log-uniform
    e.id = id;
    e.elapsed_time = lat;
    e.timestamp = ts - lat;
    e.node_id = 'node-a';
    e.worker = 'worker-a';
    e.node = { name: 'node-a', ip: '10.0.0.1' };
    if (kind === 'http' || kind === 'ws') {
      const c = conn(kind, kind === 'http' ? 8080 : 80, kind === 'http' ? 8 : 40);
      e.src = c.src;
      e.dst = c.dst;
      e.flow_id = e.conn_id = c.flow;
      e.index = c.index++;
    } else {
      e.src = endpoint(pick(PODS), 30000 + Math.floor(rnd() * 30000));
      e.dst = endpoint(pick(PODS), e.dst.port);
      e.flow_id = ++flow;
      e.conn_id = e.transport === 'tcp' ? flow : 0;
      e.index = 0;
    }
    e.stream = `${e.transport}-${e.flow_id}`;
    const r = e.record;
    if (r.kind === 'http') {
      http(r, e, id, lat);
    } else if (r.kind === 'dns') {
      dns(r, e, lat);
    } else if (r.kind === 'ws') {
      ws(r, id);
    } else {
      l4(r, e, lat);
    }
    return e;
  };
}

function http(r: HttpRecord, e: Entry, id: number, lat: number): void {
  const route = pick(ROUTES).replace('{id}', String(Math.floor(rnd() * 100000)));
  const withQuery = rnd() < 0.3;
  const page = String(Math.floor(rnd() * 50));
  const sort = rnd() < 0.5 ? 'asc' : 'desc';
  const req = r.request!;
  req.method =
    route.startsWith('/api/orders') || route.includes('/cart')
      ? pick(['GET', 'POST', 'PUT', 'DELETE'])
      : 'GET';
  req.path = route;
  req.url = withQuery ? `${route}?page=${page}&sort=${sort}` : route;
  req.query = withQuery ? { page, sort } : {};
  req.headers['host'] = e.dst.service?.name ?? 'svc';
  req.headers['user-agent'] = pick(AGENTS);
  req.headers['x-request-id'] =
    `${(id * 2654435761).toString(16)}-${Math.floor(rnd() * 1e9).toString(16)}`;
  req.headersList = Object.entries(req.headers);
  req.ts = e.timestamp;
  const res = r.response;
  if (res) {
    const [code, text] = pickStatus();
    res.statusCode = code;
    res.statusText = text;
    res.ts = e.timestamp + lat;
    res.headers['date'] = new Date(res.ts / 1000).toUTCString();
    res.headersList = Object.entries(res.headers);
    if (res.body.text !== undefined) {
      res.body.text = res.body.text.replace(/\d+/g, () => String(Math.floor(rnd() * 1000)));
      res.body.decodedSize = Buffer.byteLength(res.body.text);
    }
  }
  e.requestSize = req.headersSize + req.body.size;
  e.responseSize = res ? res.headersSize + res.body.size : 0;
}

function dns(r: DnsRecord, e: Entry, lat: number): void {
  const name = pick(DNS_NAMES);
  const nx = rnd() < 0.08;
  for (const m of [r.request, r.response]) {
    if (!m) continue;
    m.id = Math.floor(rnd() * 65536);
    m.ts = e.timestamp;
    m.questions = m.questions.map((q) => ({ ...q, name }));
  }
  if (r.response) {
    r.response.ts = e.timestamp + lat;
    r.response.rcode = nx ? 'NXDOMAIN' : 'NOERROR';
    r.response.rcodeNumber = nx ? 3 : 0;
    r.response.answers = nx ? [] : [{ name, type: 'A', class: 'IN', ttl: 30, data: pick(PODS).ip }];
  }
}

function ws(r: WsRecord, id: number): void {
  const text = JSON.stringify({
    type: pick(['tick', 'order', 'chat', 'ping']),
    seq: id,
    v: Math.floor(rnd() * 1e6),
  });
  r.payload = { size: text.length, decodedSize: text.length, text };
  r.payloadLength = text.length;
}

function l4(r: TcpConnRecord | UdpFlowRecord, e: Entry, lat: number): void {
  r.client.packets = 1 + Math.floor(rnd() * 100);
  r.client.bytes = r.client.packets * 200;
  r.client.payloadBytes = r.client.bytes - r.client.packets * 52;
  r.server.packets = 1 + Math.floor(rnd() * 100);
  r.server.bytes = r.server.packets * 600;
  r.server.payloadBytes = r.server.bytes - r.server.packets * 52;
  r.lastTs = e.timestamp + lat;
  e.requestSize = r.client.payloadBytes;
  e.responseSize = r.server.payloadBytes;
}

// ------------------------------------------------------------------ queries

interface BenchQuery {
  name: string;
  /** The KFL expression this stands for. */
  kfl: string;
  /** Index hints a KFL compiler derives from the expression (necessary conditions). */
  hints?: Omit<StoreQuery, 'filter'>;
  /** Plain predicate standing in for the compiled KFL filter. */
  filter?: (e: Entry) => boolean;
  window?: 'last5m' | 'mid1m';
}

const h = (e: Entry): HttpRecord | undefined => (e.record.kind === 'http' ? e.record : undefined);

const QUERIES: BenchQuery[] = [
  { name: 'everything', kfl: '' },
  { name: 'http', kfl: 'http', hints: { protocols: ['http'] } },
  {
    name: '5xx (filter only)',
    kfl: 'http && status_code >= 500',
    filter: (e) => (h(e)?.response?.statusCode ?? 0) >= 500,
  },
  {
    name: '5xx (with index hints)',
    kfl: 'http && status_code >= 500',
    hints: { protocols: ['http'], status: { min: 500 } },
    filter: (e) => (h(e)?.response?.statusCode ?? 0) >= 500,
  },
  {
    name: 'dns NXDOMAIN',
    kfl: 'dns && status_code == 3',
    hints: { protocols: ['dns'] },
    filter: (e) => e.record.kind === 'dns' && e.record.response?.rcodeNumber === 3,
  },
  {
    name: 'namespace payments',
    kfl: 'src.namespace == "payments" || dst.namespace == "payments"',
    filter: (e) => e.src.namespace === 'payments' || e.dst.namespace === 'payments',
  },
  {
    name: 'POST /api/orders',
    kfl: 'http && method == "POST" && path.startsWith("/api/orders")',
    hints: { protocols: ['http'] },
    filter: (e) =>
      h(e)?.request?.method === 'POST' && h(e)!.request!.path.startsWith('/api/orders'),
  },
  {
    name: 'slow (> 300 ms)',
    kfl: 'elapsed_time > 300000',
    filter: (e) => e.elapsed_time > 300000,
  },
  {
    name: 'pod + 4xx',
    kfl: 'http && dst.pod.name.startsWith("checkout") && status_code >= 400 && status_code < 500',
    hints: { protocols: ['http'], status: { min: 400, max: 499 } },
    filter: (e) => e.dst.pod?.name.startsWith('checkout') === true,
  },
  {
    name: 'header (loads full)',
    kfl: 'http && request.headers["user-agent"].startsWith("curl")',
    hints: { protocols: ['http'] },
    filter: (e) => h(e)?.request?.headers['user-agent']?.startsWith('curl') === true,
  },
  { name: 'everything', kfl: '', window: 'last5m' },
  {
    name: '5xx (filter only)',
    kfl: 'http && status_code >= 500',
    filter: (e) => (h(e)?.response?.statusCode ?? 0) >= 500,
    window: 'last5m',
  },
  {
    name: 'namespace payments',
    kfl: 'src.namespace == "payments" || dst.namespace == "payments"',
    filter: (e) => e.src.namespace === 'payments' || e.dst.namespace === 'payments',
    window: 'mid1m',
  },
  {
    name: 'header (loads full)',
    kfl: 'http && request.headers["user-agent"].startsWith("curl")',
    hints: { protocols: ['http'] },
    filter: (e) => h(e)?.request?.headers['user-agent']?.startsWith('curl') === true,
    window: 'mid1m',
  },
];

/**
 * Where compiled KFL filters plug in: the query's KFL is compiled by src/query (`compileKfl`) and
 * its `matches` is the store filter. Queries that list `hints` use the index conditions that
 * src/query derives from the expression's top-level conjuncts (`indexHints`: `http &&
 * status_code >= 500` → protocols ['http'], status ≥ 500); the hand-written `hints` only say
 * which queries should get them and are checked against the derived ones. Queries without
 * `hints` run the filter alone (the cost without index). `--plain` times the plain predicates
 * with the hand-written hints instead (a baseline without CEL).
 */
const catalogue = buildCatalogue();
const usePlain = process.argv.includes('--plain');
function compileFilter(q: BenchQuery): Pick<StoreQuery, 'filter'> & BenchQuery['hints'] {
  if (usePlain || q.kfl === '') return { ...q.hints, filter: q.filter };
  const c = compileKfl(q.kfl, { catalogue });
  if (!q.hints) return { filter: (e) => c.matches(e) };
  const derived = indexHints(c);
  if (JSON.stringify(derived.protocols) !== JSON.stringify(q.hints.protocols)) {
    console.error(
      `note: ${q.name}: derived hints ${JSON.stringify(derived)} differ from ${JSON.stringify(q.hints)}`,
    );
  }
  // The store selection: index conditions, and the filter only where they don't decide alone.
  return selectionOf(c);
}

// ------------------------------------------------------------------ run

const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const mib = (b: number): string => `${fmt(b / 1024 / 1024, 1)} MiB`;
const rss = (): number => process.memoryUsage.rss();
// A full GC before reading "RSS holding N entries", so the figure is the store's, not the
// synthesiser's garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
let peakRss = 0;
const sample = (): void => {
  peakRss = Math.max(peakRss, rss());
};

async function main(): Promise<void> {
  const dir = keepDir ?? mkdtempSync(join(tmpdir(), 'ks-store-bench-'));
  const TS0 = 1_780_000_000_000_000;
  const next = await synthesiser(TS0);
  const store = await EntryStore.open(dir, { maxBytes: 8 * 1024 ** 3 });
  console.log(
    `store benchmark: ${fmt(N)} entries in ${dir} (node ${process.version}; load average ${loadavg()
      .map((x) => fmt(x, 1))
      .join(' ')})`,
  );

  let appendMs = 0;
  let appendCpuMs = 0;
  let synthMs = 0;
  let bytesJson = 0;
  const BATCH = 2000;
  const wall0 = performance.now();
  for (let done = 0; done < N;) {
    const n = Math.min(BATCH, N - done);
    let t = performance.now();
    const batch = Array.from({ length: n }, next);
    if (done < 20000) for (const e of batch) bytesJson += JSON.stringify(e).length;
    synthMs += performance.now() - t;
    t = performance.now();
    const c0 = process.cpuUsage();
    for (const e of batch) store.append(e);
    appendMs += performance.now() - t;
    appendCpuMs += process.cpuUsage(c0).user / 1000;
    done += n;
    // Let the writer run (as the capture pipeline does between packet batches).
    const wait = store.waitForRoom();
    t = performance.now();
    if (wait) await wait;
    else await new Promise((r) => setImmediate(r));
    appendMs += performance.now() - t;
    if (done % 100000 === 0) sample();
  }
  let t = performance.now();
  await store.flush();
  appendMs += performance.now() - t;
  const wallMs = performance.now() - wall0;
  sample();
  gc();
  const heldRss = rss();
  const st = store.stats();
  const disk = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  const avgJson = bytesJson / Math.min(N, 20000);
  console.log(
    `ingest: ${fmt(N / (appendMs / 1000))} entries/s in append+flush; ` +
      `CPU in append() ${fmt((appendCpuMs * 1000) / N, 1)} µs/entry = ${fmt(N / (appendCpuMs / 1000))} entries/s of one core ` +
      `(${fmt(appendMs / 1000, 2)} s; whole fill incl. synthesis ${fmt(wallMs / 1000, 1)} s, synthesis ${fmt(synthMs / 1000, 1)} s)`,
  );
  console.log(
    `size on disk: ${mib(disk)} = ${fmt(disk / N)} B/entry (entry JSON averages ${fmt(avgJson)} B; ` +
      `${fmt(st.segments)} segments); the default 500 MiB holds ≈ ${fmt((500 * 1024 * 1024 * N) / disk)} such entries`,
  );
  const mu = process.memoryUsage();
  console.log(
    `memory holding ${fmt(st.entries)} entries: index ${mib(st.indexBytes)} (${fmt(st.indexBytes / st.entries)} B/entry), ` +
      `RSS after GC ${mib(heldRss)} (heap ${mib(mu.heapUsed)} of ${mib(mu.heapTotal)}, external ${mib(mu.external)}, buffers ${mib(mu.arrayBuffers)}), peak so far ${mib(peakRss)}; ` +
      `opaque entries ${st.opaqueEntries}, dropped ${st.droppedEntries}`,
  );

  const windows = {
    last5m: { start: (st.newestTs ?? 0) - 300e6 },
    mid1m: {
      start: TS0 + ((st.newestTs ?? TS0) - TS0) / 2,
      end: TS0 + ((st.newestTs ?? TS0) - TS0) / 2 + 60e6,
    },
  };
  console.log('');
  console.log(
    `(filters: ${usePlain ? 'plain predicates' : 'KFL compiled by src/query'}; wall-clock ms, CPU ms ` +
      'of this process in parentheses; first 100 measured warm)',
  );
  console.log(
    `${'query'.padEnd(50)} ${'first 100'.padStart(19)} ${'count'.padStart(18)} ${'matches'.padStart(9)}`,
  );
  for (const q of QUERIES) {
    const sq: StoreQuery = { ...compileFilter(q), ...(q.window ? windows[q.window] : {}) };
    // Once untimed: a server answers warm (the first run of a new query shape costs 2–4× more
    // while V8 compiles its paths).
    await store.page({ ...sq, limit: 100 });
    t = performance.now();
    let c0 = process.cpuUsage();
    const page = await store.page({ ...sq, limit: 100 });
    const firstMs = performance.now() - t;
    const firstCpu = process.cpuUsage(c0).user / 1000;
    t = performance.now();
    c0 = process.cpuUsage();
    const count = await store.count(sq);
    const countMs = performance.now() - t;
    const countCpu = process.cpuUsage(c0).user / 1000;
    // The KFL filter and the plain predicate must agree (skipped for the slow header queries).
    if (!usePlain && q.filter && !q.name.startsWith('header')) {
      const plain = await store.count({
        ...q.hints,
        filter: q.filter,
        ...(q.window ? windows[q.window] : {}),
      });
      if (plain !== count) console.log(`  MISMATCH: plain predicate counts ${plain}`);
    }
    sample();
    const label = `${q.name}${q.window ? ` [${q.window}]` : ''}: ${q.kfl || '(all)'}`;
    console.log(
      `${label.slice(0, 50).padEnd(50)} ${`${fmt(firstMs, 1)} ms`.padStart(10)} ${`(${fmt(firstCpu, 1)})`.padStart(8)} ` +
        `${`${fmt(countMs)} ms`.padStart(9)} ${`(${fmt(countCpu)})`.padStart(8)} ${fmt(count).padStart(9)}` +
        (page.entries.length < Math.min(100, count) ? '  (short page!)' : ''),
    );
  }
  t = performance.now();
  const one = await store.get(Math.floor(N / 2));
  console.log(
    `\nget(id) of one entry: ${fmt(performance.now() - t, 2)} ms (${one ? 'found' : 'missing'})`,
  );

  // Statistics for a filter and window (MCP get_api_stats, the dashboard's stats view).
  console.log('');
  const statsCases: { kfl: string; groupBy: 'endpoint' | 'service'; window?: 'last5m' }[] = [
    { kfl: 'http', groupBy: 'endpoint' },
    { kfl: '', groupBy: 'service' },
    { kfl: 'http', groupBy: 'endpoint', window: 'last5m' },
    { kfl: 'src.namespace == "payments" || dst.namespace == "payments"', groupBy: 'service' },
  ];
  for (const c of statsCases) {
    const sel = c.kfl === '' ? {} : selectionOf(compileKfl(c.kfl, { catalogue }));
    t = performance.now();
    const acc = await statsOf(
      store,
      { ...sel, ...(c.window ? windows[c.window] : {}) },
      {
        groupBy: c.groupBy,
      },
    );
    const res = acc.result({ series: 'total' });
    const ms = performance.now() - t;
    console.log(
      `stats by ${c.groupBy}${c.window ? ` [${c.window}]` : ''} of ${c.kfl || '(all)'}: ` +
        `${fmt(ms)} ms (${fmt(res.total.calls)} calls, ${fmt(res.groups.length)} groups, p95 ` +
        `${fmt((res.total.latency?.p95 ?? 0) / 1000, 1)} ms)`,
    );
  }
  sample();

  await store.close();
  gc();
  t = performance.now();
  const again = await EntryStore.open(dir, { maxBytes: 8 * 1024 ** 3 });
  const reopenMs = performance.now() - t;
  gc();
  const reopenedRss = rss();
  sample();
  const again2 = again.stats();
  console.log(
    `reopen (recovery of ${fmt(again2.entries)} entries): ${fmt(reopenMs)} ms; ` +
      `RSS holding them after the restart (GC'd): ${mib(reopenedRss)}`,
  );
  await again.close();
  sample();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    `peak RSS: ${mib(Math.max(maxRss, peakRss))} (targets: ≤ 256 MiB; first 100 ≤ 50 ms; count ≤ 1 s; ingest ≥ 100,000/s)`,
  );
  console.log(
    `load average at the end: ${loadavg()
      .map((x) => fmt(x, 1))
      .join(' ')}`,
  );
  if (keepDir === undefined) rmSync(dir, { recursive: true, force: true });
}

await main();
