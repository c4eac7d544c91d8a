/**
 * Hub fan-in benchmark: N simulated workers (real worker processes ingesting template entries
 * from demo/shop.pcap at a set rate) stream into one hub process (`kubeshark hub`); one client
 * subscribes to the hub's live stream (`/api/stream`, no filter) and counts what arrives.
 *
 * Prints per total rate: entries/s delivered by the hub, hub CPU (cores, from /proc), hub RSS,
 * drops reported to the client. Goal (issue 4): ≥ 40,000 entries/s with ≤ 1 core, zero drops.
 * The workers and the load share this machine's cores with the hub: the figures are for the hub
 * process alone.
 *
 * Usage: node --import tsx scripts/bench/hub.ts [workers=4] [seconds=5] [rates=10000,20000,40000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';

const root = new URL('../..', import.meta.url).pathname;
const args = process.argv.slice(2);
const N = Number(args[0] ?? 4);
const SECONDS = Number(args[1] ?? 5);
const RATES = (args[2] ?? '10000,20000,40000,60000').split(',').map(Number);
/** Clock ticks per second of /proc/PID/stat times (USER_HZ: 100 on Linux). */
const TICK = 100;

function lines(p: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
}

async function waitFor(it: AsyncIterator<string>, re: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error(`process ended before ${re}`);
    const m = re.exec(r.value);
    if (m) return m;
  }
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime
}
function rssMiB(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function main(): Promise<void> {
  const workers = Array.from({ length: N }, (_, i) =>
    spawn(process.execPath, ['--import', 'tsx', `${root}scripts/bench/hub-worker.ts`, `w${i}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: root,
    }),
  );
  const wl = workers.map(lines);
  const ports = await Promise.all(
    wl.map(async (it) => Number((await waitFor(it, /^port (\d+)/))[1])),
  );
  const hub = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      `${root}bin/kubeshark.ts`,
      'hub',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--worker',
      ...ports.map((p, i) => `w${i}=http://127.0.0.1:${p}`),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: root },
  );
  const hubUrl = (await waitFor(lines(hub), /listening on (http:\/\/\S+)/))[1]!;
  await new Promise((r) => setTimeout(r, 1500)); // the hub probes its workers

  let received = 0;
  let dropped = 0;
  const ws = new WebSocket(`${hubUrl.replace('http', 'ws')}/api/stream`);
  ws.on('message', (data) => {
    const s = data.toString();
    if (s.startsWith('{"type":"entry"')) received++;
    else {
      const m = JSON.parse(s) as { type: string; count?: number };
      if (m.type === 'dropped') dropped += m.count ?? 0;
    }
  });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  await new Promise((r) => setTimeout(r, 500));

  console.log(
    `hub fan-in: ${N} workers → hub → 1 stream client; ${SECONDS} s per rate (node ${process.version})`,
  );
  console.log('target/s   sent/s   delivered/s   hub CPU (cores)   hub RSS MiB (peak)   drops');
  for (const rate of RATES) {
    received = 0;
    dropped = 0;
    const c0 = cpuTicks(hub.pid!);
    const t0 = performance.now();
    workers.forEach((w) => w.stdin!.write(`rate ${rate / N} ${SECONDS}\n`));
    const sent = (
      await Promise.all(wl.map(async (it) => Number((await waitFor(it, /^done (\d+)/))[1])))
    ).reduce((a, b) => a + b, 0);
    // Let the last entries drain through the hub.
    const deadline = performance.now() + 3000;
    while (received + dropped < sent && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const secs = (performance.now() - t0) / 1000;
    const cores = (cpuTicks(hub.pid!) - c0) / TICK / secs;
    const m = rssMiB(hub.pid!);
    console.log(
      `${String(rate).padStart(8)} ${String(Math.round(sent / SECONDS)).padStart(8)} ` +
        `${String(Math.round(received / secs)).padStart(13)} ${cores.toFixed(2).padStart(17)} ` +
        `${`${m.rss.toFixed(0)} (${m.hwm.toFixed(0)})`.padStart(20)} ${String(dropped + Math.max(0, sent - received - dropped)).padStart(7)}`,
    );
  }
  ws.close();
  workers.forEach((w) => w.stdin!.write('quit\n'));
  hub.kill('SIGINT');
  await Promise.all(
    [...workers, hub].map(
      (p) => new Promise((r) => (p.exitCode !== null ? r(0) : p.once('exit', r))),
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
