/**
 * Shared machinery of the capture generators: run tcpdump on loopback around a scenario that
 * drives real servers and clients, and write the capture next to the dissector that uses it
 * (`src/tap/dissectors/<proto>/testdata/<case>.pcap`).
 *
 * Generators run inside a network namespace prepared by `in-netns.sh` (loopback with a 1500-byte
 * MTU and no segmentation offload, so tcpdump sees wire-sized segments, and fixed well-known
 * ports cannot collide with the host). `all.sh` does that for every generator.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export const ROOT = new URL('../../', import.meta.url).pathname;
/** Captures must stay small: they are committed and replayed by tests. */
const MAX_CAPTURE_BYTES = 200 * 1024;
/** After the scenario: let the last segments (FIN/ACK) reach tcpdump before stopping it. */
const SETTLE_MS = 300;

export function requireCaptureNamespace(): void {
  const mtu = readFileSync('/sys/class/net/lo/mtu', 'utf8').trim();
  if (mtu !== '1500') {
    console.error(
      `loopback MTU is ${mtu}: run generators through scripts/capture/in-netns.sh (or scripts/capture/all.sh)`,
    );
    process.exit(2);
  }
}

export function testdataPath(proto: string, name: string): string {
  return `${ROOT}src/tap/dissectors/${proto}/testdata/${name}.pcap`;
}

interface Tcpdump {
  stop(): Promise<void>;
}

/**
 * Starts tcpdump on `lo` and resolves once it is listening. Immediate mode and a large kernel
 * buffer: without them, bursts on loopback are dropped or left in the ring when tcpdump stops.
 */
async function startTcpdump(out: string, filter: string): Promise<Tcpdump> {
  mkdirSync(dirname(out), { recursive: true });
  const child = spawn(
    'tcpdump',
    ['-i', 'lo', '-U', '--immediate-mode', '-B', '32768', '-Z', 'root', '-w', out, filter],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${stderr}`)), 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`tcpdump exited (${code}): ${stderr}`)));
  });
  return {
    async stop() {
      child.kill('SIGINT');
      const code = await exited;
      if (code !== 0) throw new Error(`tcpdump exited with ${code}: ${stderr}`);
      const dropped = /(\d+) packets dropped by kernel/.exec(stderr);
      if (dropped && dropped[1] !== '0') throw new Error(`tcpdump dropped packets: ${stderr}`);
    },
  };
}

/** Captures `scenario` (port-filtered) into `src/tap/dissectors/<proto>/testdata/<name>.pcap`. */
export async function capture(
  proto: string,
  name: string,
  filter: string,
  scenario: () => Promise<void>,
): Promise<void> {
  await captureFile(testdataPath(proto, name), filter, scenario);
}

/** Captures `scenario` (port-filtered) into the capture file `out` (any path). */
export async function captureFile(
  out: string,
  filter: string,
  scenario: () => Promise<void>,
): Promise<void> {
  const dump = await startTcpdump(out, filter);
  try {
    await scenario();
    await sleep(SETTLE_MS);
  } finally {
    await dump.stop();
  }
  const size = statSync(out).size;
  console.log(`${relative(ROOT, out)}: ${size} bytes`);
  if (size > MAX_CAPTURE_BYTES)
    throw new Error(`${out} is ${size} bytes (limit ${MAX_CAPTURE_BYTES})`);
}

/** Runs the named cases of `cases` (all when no name is given on the command line). */
export async function runCases(cases: Record<string, () => Promise<void>>): Promise<void> {
  requireCaptureNamespace();
  const names = process.argv.slice(2);
  for (const n of names)
    if (!(n in cases))
      throw new Error(`unknown case ${n}; cases: ${Object.keys(cases).join(', ')}`);
  for (const n of names.length ? names : Object.keys(cases)) await cases[n]!();
}
