/**
 * The worker's capability set is the least that live capture needs: tcpdump, started as root
 * with only WORKER_CAPABILITIES in its bounding set (as the DaemonSet's securityContext does:
 * drop ALL, add these), captures on loopback; without SETUID/SETGID it fails; without KILL the
 * worker cannot stop it once it runs as its own user. Needs root, tcpdump and setpriv; skipped
 * otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WORKER_CAPABILITIES } from './manifests.ts';

const CAN_RUN =
  process.getuid?.() === 0 &&
  spawnSync('tcpdump', ['--version']).status === 0 &&
  spawnSync('setpriv', ['--version']).status === 0;
/** How long one capture attempt may take before it is killed. */
const CAPTURE_TIMEOUT_MS = 10_000;

/** Runs tcpdump on lo with the given capability bounding set while a TCP exchange happens. */
async function captureWith(caps: readonly string[]): Promise<{
  code: number | null;
  bytes: number;
  stderr: string;
}> {
  const bounding = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  const child = spawn(
    'setpriv',
    [
      '--inh-caps=-all',
      `--bounding-set=${bounding}`,
      '--',
      'tcpdump',
      '-i',
      'lo',
      '-n',
      '-U',
      '-c',
      '1',
      '-w',
      '-',
      'tcp',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let bytes = 0;
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (bytes += b.length));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const timer = setTimeout(() => child.kill('SIGKILL'), CAPTURE_TIMEOUT_MS);
  // Wait until tcpdump listens (or died), then make traffic until it exits.
  const server = createServer((s) => {
    s.resume();
    s.end('pong');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    await new Promise<void>((r) => {
      const c = connect(port, '127.0.0.1', () => c.end('ping'));
      c.resume(); // read the reply so the socket can close
      c.on('close', () => r());
      c.on('error', () => r());
    });
    await new Promise((r) => setTimeout(r, 100));
  }
  clearTimeout(timer);
  await new Promise((r) => server.close(r));
  return { code: await exited, bytes, stderr };
}

test('tcpdump captures with exactly the worker capabilities', { skip: !CAN_RUN }, async () => {
  const r = await captureWith(WORKER_CAPABILITIES);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.bytes > 24, `pcap header and a packet, got ${r.bytes} bytes`);
});

test('without SETUID/SETGID tcpdump cannot drop to its user', { skip: !CAN_RUN }, async () => {
  const r = await captureWith(['NET_RAW', 'NET_ADMIN']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Couldn't change to/);
});

/** A shell standing for the worker (this bounding set) starts tcpdump, then SIGINTs it. */
function stopWith(caps: readonly string[]): { stdout: string; stderr: string } {
  const bounding = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  const script =
    'tcpdump -i lo -n -U -w - >/dev/null 2>/dev/null & pid=$!; echo "pid=$pid"; sleep 1; ' +
    'if kill -INT $pid; then wait $pid; echo "stopped=$?"; else echo refused; fi';
  const r = spawnSync(
    'setpriv',
    ['--inh-caps=-all', `--bounding-set=${bounding}`, '--', 'sh', '-c', script],
    { encoding: 'utf8', timeout: CAPTURE_TIMEOUT_MS },
  );
  // A tcpdump the shell could not stop: this (fully privileged) test process does.
  const pid = Number(/pid=(\d+)/.exec(r.stdout)?.[1]);
  if (pid && /refused/.test(r.stdout)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

test(
  'the worker capabilities can stop tcpdump; without KILL they cannot',
  { skip: !CAN_RUN },
  () => {
    assert.match(stopWith(WORKER_CAPABILITIES).stdout, /stopped=0/);
    const without = stopWith(WORKER_CAPABILITIES.filter((c) => c !== 'KILL'));
    assert.match(without.stdout, /refused/);
    assert.match(without.stderr, /not permitted/);
  },
);

test('without NET_RAW tcpdump cannot open the interface', { skip: !CAN_RUN }, async () => {
  const r = await captureWith(WORKER_CAPABILITIES.filter((c) => c !== 'NET_RAW'));
  assert.notEqual(r.code, 0);
});
