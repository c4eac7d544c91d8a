/**
 * Live-capture benchmark: HTTP load on loopback inside a network namespace, captured by a real
 * `kubeshark worker -i lo` (tcpdump → pipe → pipeline → store), at increasing request rates.
 *
 * Load: wrk (Debian's `wrk`) with keep-alive connections paced by a per-request delay (wrk's Lua
 * `delay()`), then one unpaced step. Server: Debian's nginx when installed (`SERVER=node` for
 * Node's http, scripts/bench/live-server.ts), answering a small JSON body. Per step
 * it prints the rate wrk achieved, the entries/s the worker stored, kernel drops (from tcpdump),
 * matched pairs vs requests, CPU of the worker and of tcpdump (cores) and the worker's RSS. The
 * load generator, the server, tcpdump and the worker share this machine's cores.
 *
 * Needs root (network namespace, capture). Usage:
 *   node --import tsx scripts/bench/live.ts [seconds=5] [steps=50x10,100x5,200x5,200x2,64x0]
 * where a step `CxD` is C connections each waiting D ms between requests (0: unpaced).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = new URL('../..', import.meta.url).pathname;
const SECONDS = Number(process.argv[2] ?? 5);
const STEPS = (process.argv[3] ?? '50x10,100x5,200x5,200x2,64x0').split(',').map((s) => {
  const [c, d] = s.split('x').map(Number);
  return { conns: c!, delay: d! };
});
/** The HTTP server under load: nginx (Debian) when installed, else Node's http. */
const SERVER =
  process.env.SERVER ?? (spawnSync('nginx', ['-v']).error === undefined ? 'nginx' : 'node');
/** What the nginx server answers (the same size as live-server.ts's body). */
const BODY = JSON.stringify({ ok: true, items: [1, 2, 3], note: 'kubeshark live bench' });
/** Clock ticks per second of /proc/PID/stat times (USER_HZ). */
const TICK = 100;

const ns = `ks-bench-${randomBytes(3).toString('hex')}`;
const inNs = (cmd: string[]): string[] => ['ip', 'netns', 'exec', ns, ...cmd];

function waitFor(
  p: ChildProcess,
  re: RegExp,
  stream: 'stdout' | 'stderr' = 'stdout',
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: p[stream]! });
    rl.on('line', (l) => {
      const m = re.exec(l);
      if (m) {
        rl.close();
        resolve(m);
      }
    });
    p.once('exit', (c) => reject(new Error(`process exited (${c}) before ${re}`)));
  });
}

function cpuTicks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}
function rssMiB(pid: number): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
}
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
/** tcpdump processes under the worker (directly or through `ip netns exec` wrappers). */
function tcpdumps(pid: number): number[] {
  const out: number[] = [];
  for (const c of childPids(pid)) {
    const comm = readFileSync(`/proc/${c}/comm`, 'utf8').trim();
    if (comm === 'tcpdump') out.push(c);
    else out.push(...tcpdumps(c));
  }
  return out;
}

interface Counters {
  receivedPackets: number;
  droppedPackets: number;
  matchedPairs: number;
  entries: number;
}

async function main(): Promise<void> {
  execFileSync('ip', ['netns', 'add', ns]);
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ks-live-bench-'));
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    let port: number;
    if (SERVER === 'nginx') {
      port = 8080; // the namespace is ours alone
      const conf = join(dir, 'nginx.conf');
      writeFileSync(
        conf,
        `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 10000000; keepalive_timeout 60s;
  client_body_temp_path ${dir}/b; proxy_temp_path ${dir}/p; fastcgi_temp_path ${dir}/f;
  uwsgi_temp_path ${dir}/u; scgi_temp_path ${dir}/s;
  server {
    listen 127.0.0.1:${port};
    location / { default_type application/json; return 200 '${BODY}'; }
  }
}
`,
      );
      const [c, ...a] = inNs(['nginx', '-c', conf]);
      procs.push(spawn(c!, a, { stdio: ['ignore', 'ignore', 'inherit'] }));
      await new Promise((r) => setTimeout(r, 500));
    } else {
      const [cmd0, ...args0] = inNs([
        process.execPath,
        '--import',
        'tsx',
        `${root}scripts/bench/live-server.ts`,
        '0',
      ]);
      const server = spawn(cmd0!, args0, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      procs.push(server);
      port = Number((await waitFor(server, /^port (\d+)/))[1]);
    }
    const [cmd1, ...args1] = inNs([
      process.execPath,
      '--import',
      'tsx',
      `${root}bin/kubeshark.ts`,
      'worker',
      '-i',
      'lo',
      '--bpf',
      `tcp port ${port}`,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--store',
      join(dir, 'store'),
      '--node',
      'bench',
    ]);
    const worker = spawn(cmd1!, args1, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(worker);
    const where = (await waitFor(worker, /listening on (http:\/\/\S+)/))[1]!;
    // The API listens inside the namespace: ask it from there.
    const api = async (): Promise<Counters> =>
      JSON.parse(
        execFileSync('ip', ['netns', 'exec', ns, 'curl', '-s', `${where}/api/health`], {
          encoding: 'utf8',
        }),
      ).capture as Counters;
    await new Promise((r) => setTimeout(r, 1500)); // tcpdump starting
    const lua = join(dir, 'pace.lua');
    writeFileSync(
      lua,
      'local d = tonumber(os.getenv("DELAY_MS") or "0")\nfunction delay() return d end\n',
    );

    console.log(
      `live capture benchmark: wrk → ${SERVER} on lo in netns ${ns}; worker -i lo; ${SECONDS} s per step (node ${process.version})`,
    );
    console.log(
      'conns×delay   req/s (wrk)   entries/s   pairs/requests   kernel drops   worker CPU   tcpdump CPU   worker RSS MiB',
    );
    let best = 0;
    for (const step of STEPS) {
      const before = await api();
      const wpid = worker.pid!;
      const dumps = tcpdumps(wpid);
      const w0 =
        cpuTicks(wpid) +
        childPids(wpid).reduce((a, c) => a + (dumps.includes(c) ? 0 : cpuTicks(c)), 0);
      const d0 = dumps.reduce((a, p) => a + cpuTicks(p), 0);
      const t0 = performance.now();
      const out = execFileSync(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'wrk',
          '-t',
          '2',
          '-c',
          String(step.conns),
          '-d',
          `${SECONDS}s`,
          '-s',
          lua,
          `http://127.0.0.1:${port}/api/items?bench=1`,
        ],
        { encoding: 'utf8', env: { ...process.env, DELAY_MS: String(step.delay) } },
      );
      // Let the worker drain what it has buffered (pipe, pipeline) before reading counters.
      let after = await api();
      for (let i = 0; i < 40; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const next = await api();
        if (next.entries === after.entries && next.receivedPackets === after.receivedPackets) break;
        after = next;
      }
      const secs = (performance.now() - t0) / 1000;
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
      const entries = after.entries - before.entries;
      const pairs = after.matchedPairs - before.matchedPairs;
      const drops = after.droppedPackets - before.droppedPackets;
      const w1 =
        cpuTicks(wpid) +
        childPids(wpid).reduce((a, c) => a + (dumps.includes(c) ? 0 : cpuTicks(c)), 0);
      const d1 = dumps.reduce((a, p) => a + cpuTicks(p), 0);
      if (drops === 0 && pairs >= requests * 0.99) best = Math.max(best, rps);
      console.log(
        `${`${step.conns}×${step.delay}ms`.padEnd(12)} ${rps.toFixed(0).padStart(12)} ${(entries / SECONDS).toFixed(0).padStart(11)} ` +
          `${`${pairs}/${requests}`.padStart(16)} ${String(drops).padStart(14)} ${((w1 - w0) / TICK / secs).toFixed(2).padStart(12)} ` +
          `${((d1 - d0) / TICK / secs).toFixed(2).padStart(13)} ${rssMiB(wpid).toFixed(0).padStart(16)}`,
      );
    }
    console.log(
      `highest rate with zero kernel drops and every pair stored: ${best.toFixed(0)} req/s`,
    );
  } finally {
    for (const p of procs.reverse()) {
      p.kill('SIGTERM');
      await new Promise((r) => (p.exitCode !== null ? r(0) : p.once('exit', r)));
    }
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
