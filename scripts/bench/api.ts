/**
 * API latency benchmark: `kubeshark tap --pcap CAPTURE` (worker, in-process hub and front in one
 * process, the path the dashboard uses) replays a capture, then C keep-alive connections ask one
 * route at a time as fast as answers come (a closed loop, like autocannon) for S seconds each.
 *
 * Prints per route and round: requests/s, p50, p99 and max latency (ms), and the server's CPU
 * time per request (µs, from /proc: the figure least moved by other load on the machine); `*`
 * rows are the median round of each figure. With `--peer DIR` (another checkout of the project,
 * e.g. `git archive HEAD | tar -x -C DIR` plus a node_modules link) the same load runs against it
 * in the same invocation, alternating rounds, and the ratios of the medians are printed
 * (CONVENTIONS: benchmarks print figures and the ratio to a peer measured in the same run). The
 * servers and the load share this machine's cores.
 *
 * Usage: node --import tsx scripts/bench/api.ts [--capture FILE] [--seconds 5] [--conns 8]
 *          [--rounds 2] [--peer DIR]
 * Default capture: ../shared/corpus/http/pcapplusplus-http-packets-keepalive-chunked.pcap,
 * else demo/shop.pcap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(new URL('../..', import.meta.url).pathname);

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const CORPUS = resolve(
  root,
  '../shared/corpus/http/pcapplusplus-http-packets-keepalive-chunked.pcap',
);
const CAPTURE = resolve(arg('capture', existsSync(CORPUS) ? CORPUS : `${root}/demo/shop.pcap`));
const SECONDS = Number(arg('seconds', '5'));
const CONNS = Number(arg('conns', '8'));
const ROUNDS = Number(arg('rounds', '2'));
const PEER = process.argv.includes('--peer') ? resolve(arg('peer', '')) : undefined;

const ROUTES = [
  '/api/entries?limit=100',
  '/api/entries?limit=100&q=http%20%26%26%20status_code%20%3E%3D%20200',
  '/api/stats',
  '/api/health',
];

interface Server {
  proc: ChildProcess;
  url: string;
}

async function start(dir: string): Promise<Server> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      `${dir}/bin/kubeshark.ts`,
      'tap',
      '--pcap',
      CAPTURE,
      '--port',
      '0',
      '--no-browser',
      '-o',
      'jsonl',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  let url = '';
  for await (const line of createInterface({ input: proc.stderr! })) {
    const m = /dashboard at (http:\/\/\S+)/.exec(line);
    if (m) url = m[1]!;
    if (/replayed .*: (\d+) entries/.test(line)) {
      process.stdout.write(`  ${dir}: ${line.replace(/^kubeshark: /, '')}\n`);
      break;
    }
    if (/error|KS_ERR/i.test(line)) process.stderr.write(`${line}\n`);
  }
  if (!url) throw new Error(`${dir}: the server did not start`);
  proc.stderr!.resume();
  return { proc, url };
}

async function stop(s: Server): Promise<void> {
  if (s.proc.exitCode !== null) return;
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGINT');
  await exited;
}

function get(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
        else resolve(performance.now() - t0);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Server CPU µs per request. */
  cpu: number;
}

/** Clock ticks per second of /proc/PID/stat times (USER_HZ). */
const TICK = 100;
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime
}

async function load(url: string, seconds: number, pid: number): Promise<Result> {
  const c0 = cpuTicks(pid);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNS });
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNS }, async () => {
      while (performance.now() < end) lat.push(await get(agent, url));
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = ((cpuTicks(pid) - c0) / TICK / lat.length) * 1e6;
  agent.destroy();
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { rps: lat.length / secs, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1]!, cpu };
}

function row(name: string, r: Result): string {
  return (
    `${name.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ` +
    `${r.p99.toFixed(2).padStart(8)} ${r.max.toFixed(2).padStart(8)} ${r.cpu.toFixed(0).padStart(10)}`
  );
}

async function main(): Promise<void> {
  const trees: [string, string][] = [['this', root]];
  if (PEER) trees.push(['peer', PEER]);
  console.log(
    `API latency: tap --pcap ${CAPTURE}; ${CONNS} keep-alive connections, ${SECONDS} s per route ` +
      `and round, ${ROUNDS} round(s) (node ${process.version})`,
  );
  const servers = new Map<string, Server>();
  for (const [name, dir] of trees) servers.set(name, await start(dir));
  // Warm up every route on every server (JIT, store caches).
  for (const s of servers.values()) for (const r of ROUTES) await load(s.url + r, 1, s.proc.pid!);
  const results = new Map<string, Result[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of ROUTES) {
      // Alternate who goes first, so a busier moment of the machine hits both alike.
      const order = round % 2 === 0 ? trees : [...trees].reverse();
      for (const [name] of order) {
        const key = `${name} ${r}`;
        const s = servers.get(name)!;
        const res = await load(s.url + r, SECONDS, s.proc.pid!);
        results.set(key, [...(results.get(key) ?? []), res]);
      }
    }
  }
  for (const s of servers.values()) await stop(s);
  const median = (xs: number[]): number =>
    [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
  for (const r of ROUTES) {
    console.log(`\nGET ${r}`);
    console.log(
      `${'server'.padEnd(8)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ` +
        `${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'cpu µs/req'.padStart(10)}`,
    );
    // Per tree, the median round of each figure.
    const med: Result[] = [];
    for (const [name] of trees) {
      const rs = results.get(`${name} ${r}`)!;
      for (const x of rs) console.log(row(name, x));
      med.push({
        rps: median(rs.map((x) => x.rps)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
        max: median(rs.map((x) => x.max)),
        cpu: median(rs.map((x) => x.cpu)),
      });
    }
    for (const [i, [name]] of trees.entries()) console.log(row(`${name}*`, med[i]!));
    if (med.length === 2) {
      const [a, b] = med as [Result, Result];
      console.log(
        `this/peer (medians): req/s ×${(a.rps / b.rps).toFixed(2)}, p50 ×${(a.p50 / b.p50).toFixed(2)}, ` +
          `p99 ×${(a.p99 / b.p99).toFixed(2)}, cpu/req ×${(a.cpu / b.cpu).toFixed(2)}`,
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
