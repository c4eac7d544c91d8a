/**
 * Live capture end to end in a network namespace of our own: a node:http server and curl run in
 * it, tcpdump captures in it (through the `ip netns exec` command prefix), and the packets go
 * through the real Pipeline. Needs root (ip netns, capture), as the capture itself does.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import type { Entry } from '../../entry/model.ts';
import type { HttpRecord } from '../dissectors/http/record.ts';
import { KsError } from '../../util/errors.ts';
import type { Limits } from '../../util/limits.ts';
import { defaultLimits } from '../../util/limits.ts';
import { dissectors } from '../dissectors/registry.ts';
import { Pipeline } from '../pipeline.ts';
import { pump } from '../run.ts';
import { buildBpf } from './bpf.ts';
import { STOP_GRACE_MS, openLiveCapture } from './live.ts';
import type { LiveCapture, LiveCaptureOptions } from './live.ts';

const run = promisify(execFile);
const ns = `ks-live-${randomBytes(4).toString('hex')}`;
const inNs = ['ip', 'netns', 'exec', ns];
const tcpdumpInNs = [...inNs, 'tcpdump'];
const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
/** The veth end that carries the UDP test traffic, and an address routed out of it. */
const VETH = 'ks-a';
const VETH_PEER_IP = '10.99.0.2';

let server: ChildProcess | undefined;
let port = 0;
/** A second server whose port the capture filter excludes (the tool's own traffic). */
let excludedPort = 0;

async function sh(...cmd: string[]): Promise<string> {
  return (await run(cmd[0]!, cmd.slice(1))).stdout;
}

before(async () => {
  await sh('ip', 'netns', 'add', ns);
  await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  await sh('ip', '-n', ns, 'link', 'add', VETH, 'type', 'veth', 'peer', 'name', 'ks-b');
  await sh('ip', '-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', VETH);
  await sh('ip', '-n', ns, 'link', 'set', VETH, 'up');
  await sh('ip', '-n', ns, 'link', 'set', 'ks-b', 'up');
  // No ARP: datagrams to the peer address leave through the veth at once.
  await sh(
    'ip',
    '-n',
    ns,
    'neigh',
    'add',
    VETH_PEER_IP,
    'lladdr',
    '02:00:00:00:00:02',
    'dev',
    VETH,
  );
  // A veth pair left down, for the "device is not up" error.
  await sh('ip', '-n', ns, 'link', 'add', 'ks-down', 'type', 'veth', 'peer', 'name', 'ks-down-p');
  const script = `
    const http = require('node:http');
    const handler = (req, res) => {
      if (req.url === '/hang') return; // never answered
      const m = /^\\/status\\/(\\d+)$/.exec(req.url);
      let n = 0;
      req.on('data', (c) => (n += c.length));
      req.on('end', () => {
        res.writeHead(m ? Number(m[1]) : 200, { 'content-type': 'text/plain' });
        res.end(req.method + ' ' + req.url + ' ' + n);
      });
    };
    const a = http.createServer(handler).listen(0, '127.0.0.1', () => {
      const b = http.createServer(handler).listen(0, '127.0.0.1', () => {
        console.log(JSON.stringify({ a: a.address().port, b: b.address().port }));
      });
    });`;
  server = spawn(inNs[0]!, [...inNs.slice(1), process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    server!.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    server!.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  ({ a: port, b: excludedPort } = JSON.parse(line) as { a: number; b: number });
});

after(async () => {
  server?.kill('SIGKILL');
  await run('ip', ['netns', 'del', ns]).catch(() => undefined);
});

/** Pids inside the namespace other than the HTTP server: capture processes left behind. */
async function strayPids(): Promise<string[]> {
  const pids = (await sh('ip', 'netns', 'pids', ns)).split('\n').filter(Boolean);
  return pids.filter((p) => p !== String(server!.pid));
}

function capture(o: LiveCaptureOptions = {}): LiveCapture {
  return openLiveCapture({ tcpdump: tcpdumpInNs, statsIntervalMs: 200, ...o });
}

function newPipeline(limits: Partial<Limits> = {}): { pipeline: Pipeline; entries: Entry[] } {
  const entries: Entry[] = [];
  const pipeline = new Pipeline(
    {
      dissectors,
      portMapping: {},
      limits: { ...defaultLimits, ...limits },
      node: { name: 'node-1', ip: '10.0.0.1' },
      worker: 'node-1',
      captureSource: 'af_packet',
      l4All: false,
    },
    (e) => entries.push(e),
  );
  return { pipeline, entries };
}

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** curl inside the namespace; answers the status code. */
async function curl(args: string[]): Promise<string> {
  return sh(...inNs, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}\\n', ...args);
}

function http(entries: Entry[]): { method: string; path: string; status?: number }[] {
  return entries
    .filter((e) => e.record.kind === 'http')
    .sort((a, b) => a.timestamp - b.timestamp)
    .map((e) => {
      const r = e.record as HttpRecord;
      return { method: r.request!.method, path: r.request!.path, status: r.response?.statusCode };
    });
}

async function expectError(
  cap: LiveCapture,
  code: KsError['code'],
  message: RegExp,
): Promise<KsError> {
  const check = (e: unknown): boolean => {
    assert.ok(e instanceof KsError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  };
  await assert.rejects(cap.ready(), check);
  let caught: unknown;
  try {
    for await (const _ of cap.packets()) assert.fail('no packets expected');
  } catch (e) {
    caught = e;
  }
  check(caught);
  await cap.close();
  assert.deepEqual(await strayPids(), [], 'no capture process left');
  return caught as KsError;
}

test('live: HTTP over lo through tcpdump and the pipeline; targeted filter; counters', async () => {
  const bpf = buildBpf({ targets: [{ ip: '127.0.0.1' }], excludePorts: [excludedPort] });
  const cap = capture({ interfaces: ['lo'], bpf });
  assert.equal(cap.bpf, bpf);
  const { pipeline, entries } = newPipeline();
  const pumped = pump(cap, pipeline);
  try {
    await cap.ready();
    const base = `http://127.0.0.1:${port}`;
    const codes = [
      await curl([`${base}/a`]),
      await curl(['-X', 'POST', '-d', 'x=1&y=2', `${base}/b`]),
      await curl([`${base}/status/404`]),
      await curl(['-X', 'PUT', '-d', 'hello', `${base}/status/503`]),
      // Two requests on one kept-alive connection.
      await curl([`${base}/c1`, '-o', '/dev/null', `${base}/c2?q=1`]),
      await curl([`http://127.0.0.1:${excludedPort}/excluded`]),
    ];
    assert.deepEqual(codes, ['200\n', '200\n', '404\n', '503\n', '200\n200\n', '200\n']);
    await waitFor('6 HTTP entries', () => http(entries).length >= 6);
    assert.equal(cap.info()?.linkType, 1, 'lo is Ethernet');
    // The SIGUSR1 poll reports counters while capturing.
    await waitFor('polled counters', () => cap.stats().captured >= cap.stats().delivered);
  } finally {
    await cap.close();
    await pumped;
    pipeline.end();
  }

  assert.deepEqual(http(entries), [
    { method: 'GET', path: '/a', status: 200 },
    { method: 'POST', path: '/b', status: 200 },
    { method: 'GET', path: '/status/404', status: 404 },
    { method: 'PUT', path: '/status/503', status: 503 },
    { method: 'GET', path: '/c1', status: 200 },
    { method: 'GET', path: '/c2', status: 200 },
  ]);
  assert.ok(
    entries.every((e) => e.dst.port !== excludedPort && e.src.port !== excludedPort),
    'the excluded port is not captured',
  );
  assert.equal(pipeline.matchedPairs, 6);
  const st = cap.stats();
  assert.ok(st.delivered >= 30, `${st.delivered} packets`);
  assert.equal(st.delivered, pipeline.stats.packets, 'every delivered packet was processed');
  assert.equal(st.captured, st.delivered, 'final counters: tcpdump wrote what we read');
  assert.ok(st.received >= st.delivered, `received ${st.received} ≥ seen ${st.delivered}`);
  assert.equal(st.dropped, 0);
  assert.equal(st.ifDropped, 0);
  assert.deepEqual(cap.warnings(), []);
  assert.equal(pipeline.liveTcpStreams(), 0);
  assert.deepEqual(await strayPids(), []);
});

test('live: tick() emits an unanswered request after the idle timeout, with no packets', async () => {
  const cap = capture({ interfaces: ['lo'], bpf: `tcp port ${port}` });
  const { pipeline, entries } = newPipeline({ idleTimeoutSec: 1 });
  const pumped = pump(cap, pipeline);
  await cap.ready();
  const hang = spawn(
    inNs[0]!,
    [
      ...inNs.slice(1),
      'curl',
      '-s',
      '--no-keepalive',
      '--max-time',
      '30',
      `http://127.0.0.1:${port}/hang`,
    ],
    { stdio: 'ignore' },
  );
  try {
    // Handshake, request, its ACK: then the connection is silent.
    await waitFor(
      'the request',
      () => pipeline.stats.packets >= 5 && pipeline.liveTcpStreams() === 1,
    );
    const lastPacket = pipeline.lastTs;
    const seen = cap.stats().delivered;
    assert.equal(entries.length, 0);
    let emittedAt = 0;
    const timer = setInterval(() => {
      pipeline.tick(Date.now() * 1000);
      if (entries.length > 0 && emittedAt === 0) emittedAt = Date.now() * 1000;
    }, 100);
    try {
      await waitFor('the idle flush', () => emittedAt > 0, 8000);
    } finally {
      clearInterval(timer);
    }
    assert.equal(cap.stats().delivered, seen, 'no packet arrived meanwhile');
    assert.ok(
      emittedAt - lastPacket >= 1e6,
      `flushed ${emittedAt - lastPacket} µs after the last packet`,
    );
    assert.equal(entries.length, 1);
    const e = entries[0]!;
    const r = e.record as HttpRecord;
    assert.equal(r.kind, 'http');
    assert.equal(r.request?.method, 'GET');
    assert.equal(r.request?.path, '/hang');
    assert.equal(r.response, undefined);
    assert.equal(e.error?.code, 'KS_NO_RESPONSE');
    assert.equal(pipeline.liveTcpStreams(), 0);
    assert.equal(pipeline.matchedPairs, 0);
  } finally {
    hang.kill('SIGKILL');
    await cap.close();
    await pumped;
    pipeline.end();
  }
});

test('live: several interfaces merged into one source (lo + a veth)', async () => {
  const cap = capture({ interfaces: ['lo', VETH] });
  const { pipeline, entries } = newPipeline();
  const perIf = [0, 0];
  const reading = (async () => {
    for await (const batch of cap.packets()) {
      for (const p of batch) {
        perIf[p.ifIndex]!++;
        pipeline.packet(p);
      }
    }
  })();
  try {
    await cap.ready();
    assert.equal(await curl([`http://127.0.0.1:${port}/merged`]), '200\n');
    const query = dnsPacket.encode({
      type: 'query',
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'merged.example' }],
    });
    const send = `const s = require('node:dgram').createSocket('udp4');
      s.send(Buffer.from('${query.toString('hex')}', 'hex'), 53, '${VETH_PEER_IP}', () => s.close());`;
    await sh(...inNs, process.execPath, '-e', send);
    await waitFor('packets on both interfaces', () => perIf[0]! >= 10 && perIf[1]! >= 1);
  } finally {
    await cap.close();
    await reading;
    pipeline.end();
  }
  assert.deepEqual(http(entries), [{ method: 'GET', path: '/merged', status: 200 }]);
  const dns = entries.filter((e) => e.record.kind === 'dns');
  assert.equal(dns.length, 1);
  assert.equal(dns[0]!.dst.ip, VETH_PEER_IP);
  assert.equal(
    dns[0]!.record.kind === 'dns' && dns[0]!.record.request?.questions[0]?.name,
    'merged.example',
  );
  const st = cap.stats();
  assert.equal(st.delivered, perIf[0]! + perIf[1]!);
  assert.equal(st.captured, st.delivered);
  assert.equal(st.dropped, 0);
});

test('live: the default interface is `any` (Linux cooked v2 frames decode the same)', async () => {
  const cap = capture({ bpf: `tcp port ${port}` });
  assert.deepEqual(cap.interfaces, ['any']);
  const { pipeline, entries } = newPipeline();
  const pumped = pump(cap, pipeline);
  try {
    await cap.ready();
    assert.equal(await curl([`http://127.0.0.1:${port}/status/201`]), '201\n');
    await waitFor('the entry', () => http(entries).length >= 1);
    assert.equal(cap.info()?.linkType, 276, 'LINKTYPE_LINUX_SLL2');
  } finally {
    await cap.close();
    await pumped;
    pipeline.end();
  }
  assert.deepEqual(http(entries), [{ method: 'GET', path: '/status/201', status: 201 }]);
  assert.equal(cap.stats().dropped, 0);
});

test('live: privilege separation: tcpdump gives up root once the device is open', async () => {
  const userOf = async (cap: LiveCapture): Promise<string> => {
    await cap.ready();
    const pids = await strayPids();
    assert.equal(pids.length, 1);
    return (await sh('ps', '-o', 'user=', '-p', pids[0]!)).trim();
  };
  // Debian's tcpdump drops to its own user by default; `dropUser` chooses another.
  for (const [o, user] of [
    [{}, 'tcpdump'],
    [{ dropUser: 'nobody' }, 'nobody'],
  ] as const) {
    const cap = capture({ interfaces: ['lo'], ...o });
    try {
      assert.equal(await userOf(cap), user);
    } finally {
      await cap.close();
    }
  }
  await expectError(
    capture({ interfaces: ['lo'], dropUser: 'ks-no-such-user' }),
    'KS_ERR_CAPTURE_FAILED',
    /tcpdump on lo failed \(exit code 1\): Couldn't find user 'ks-no-such-user'/,
  );
});

test('live: tcpdump dying mid-capture is KS_ERR_CAPTURE_FAILED', async () => {
  const cap = capture({ interfaces: ['lo'] });
  const reading = (async () => {
    for await (const _ of cap.packets()) {
      // nothing
    }
  })();
  reading.catch(() => undefined);
  try {
    await cap.ready();
    const pids = await strayPids();
    assert.equal(pids.length, 1, `one capture process: ${pids.join(' ')}`);
    process.kill(Number(pids[0]), 'SIGKILL');
    await assert.rejects(reading, (e: unknown) => {
      assert.ok(e instanceof KsError);
      assert.equal(e.code, 'KS_ERR_CAPTURE_FAILED');
      assert.match(e.message, /tcpdump on lo stopped \(signal SIGKILL\)/);
      return true;
    });
  } finally {
    await cap.close();
  }
});

test('live: leaving the loop stops tcpdump at once, even with a full pipe', async () => {
  const cap = capture({ interfaces: ['lo'], bpf: `tcp port ${port}` });
  const it = cap.packets()[Symbol.asyncIterator]();
  const first = it.next();
  await cap.ready();
  assert.equal(await curl([`http://127.0.0.1:${port}/first`]), '200\n');
  assert.ok(((await first).value?.length ?? 0) > 0);
  // Nobody reads now: 8 MB of loopback traffic fills the pipe and blocks tcpdump's writes.
  await sh(
    ...inNs,
    'sh',
    '-c',
    `head -c 8000000 /dev/zero | curl -s -o /dev/null --data-binary @- http://127.0.0.1:${port}/big`,
  );
  const t0 = Date.now();
  const r = await it.return!(undefined);
  assert.equal(r.done, true);
  const ms = Date.now() - t0;
  assert.ok(ms < STOP_GRACE_MS, `stopped in ${ms} ms`);
  assert.deepEqual(await strayPids(), []);
  await cap.close();
});

test('live: tcpdump dies with its worker, even when the worker is killed with SIGKILL', async () => {
  // A worker that only captures; its filter matches nothing, so no write to the dead pipe
  // (SIGPIPE) can be what stops tcpdump: only the watcher can.
  const live = new URL('./live.ts', import.meta.url).pathname;
  const script = `
    import { openLiveCapture } from ${JSON.stringify(live)};
    const cap = openLiveCapture({ tcpdump: ${JSON.stringify(tcpdumpInNs)}, interfaces: ['lo'], bpf: 'tcp port 1' });
    await cap.ready();
    console.log('ready');
    setInterval(() => undefined, 1000);`;
  const worker = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.on('data', (c: Buffer) => {
        if (c.toString().includes('ready')) resolve();
      });
      worker.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
    });
    assert.equal((await strayPids()).length, 1, 'tcpdump runs');
    worker.kill('SIGKILL');
    const deadline = Date.now() + STOP_GRACE_MS;
    while ((await strayPids()).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await strayPids(), [], 'tcpdump outlived its worker');
  } finally {
    worker.kill('SIGKILL');
  }
});

test('live: close() before the capture started ends packets() quietly', async () => {
  const cap = capture({ interfaces: ['lo'], bpf: 'tcp' });
  const reading = (async () => {
    let n = 0;
    for await (const b of cap.packets()) n += b.length;
    return n;
  })();
  await cap.close();
  assert.equal(await reading, 0);
  await assert.rejects(cap.ready(), /closed before it started/);
  assert.deepEqual(await strayPids(), []);
  await assert.rejects(async () => {
    for await (const _ of cap.packets()) assert.fail('read once');
  }, /read once/);
});

test('live errors: a wrapper that fails is not mistaken for a bad filter', async () => {
  const e = await expectError(
    capture({ tcpdump: ['ip', 'netns', 'exec', `${ns}-missing`, 'tcpdump'], bpf: 'tcp' }),
    'KS_ERR_CAPTURE_FAILED',
    /cannot run ip netns exec .*-missing tcpdump: Cannot open network namespace/,
  );
  assert.doesNotMatch(e.message, /filter/);
});

test('live errors: tcpdump not installed', async () => {
  const e = await expectError(
    capture({ tcpdump: '/nonexistent/tcpdump' }),
    'KS_ERR_CAPTURE_TOOL',
    /^tcpdump not found: install it \(apt-get install tcpdump\)/,
  );
  assert.match(e.message, /ENOENT/);
  // Behind a wrapper that execs it (ip netns exec): the wrapper's complaint is recognised.
  await expectError(
    capture({ tcpdump: [...inNs, '/nonexistent/tcpdump'], interfaces: ['lo'] }),
    'KS_ERR_CAPTURE_TOOL',
    /apt-get install tcpdump/,
  );
});

test('live errors: no capture privilege names the capabilities', async () => {
  const e = await expectError(
    capture({ tcpdump: [...inNs, ...asNobody, 'tcpdump'], interfaces: ['lo'] }),
    'KS_ERR_CAPTURE_PRIVILEGE',
    /CAP_NET_RAW and CAP_NET_ADMIN/,
  );
  assert.match(e.message, /no permission to capture on lo/);
  assert.match(e.message, /Operation not permitted/);
  // The filter is checked first, and without privilege: a bad filter is still a filter error.
  await expectError(
    capture({ tcpdump: [...inNs, ...asNobody, 'tcpdump'], interfaces: ['lo'], bpf: 'tcp prot 80' }),
    'KS_ERR_CAPTURE_FILTER',
    /syntax error/,
  );
});

test('live errors: unknown or down interface', async () => {
  await expectError(
    capture({ interfaces: ['ks-nosuch0'] }),
    'KS_ERR_CAPTURE_INTERFACE',
    /interface "ks-nosuch0": .*No such device/,
  );
  await expectError(
    capture({ interfaces: ['ks-down'] }),
    'KS_ERR_CAPTURE_INTERFACE',
    /ks-down.*not up/,
  );
  // One bad interface of several: the good one's tcpdump is stopped too (expectError checks).
  await expectError(
    capture({ interfaces: ['lo', 'ks-nosuch1'] }),
    'KS_ERR_CAPTURE_INTERFACE',
    /ks-nosuch1/,
  );
});

test('live errors: bad capture filters', async () => {
  await expectError(
    capture({ interfaces: ['lo'], bpf: 'tcp and hots 1.2.3.4' }),
    'KS_ERR_CAPTURE_FILTER',
    /invalid capture filter "tcp and hots 1.2.3.4": syntax error/,
  );
  await expectError(
    capture({ interfaces: ['lo'], bpf: 'port 99999' }),
    'KS_ERR_CAPTURE_FILTER',
    /illegal port number 99999/,
  );
  // Valid for Ethernet (the check), not for the `any` device's cooked frames: caught at start.
  await expectError(
    capture({ bpf: 'ether host 02:00:00:00:00:01' }),
    'KS_ERR_CAPTURE_FILTER',
    /capture filter rejected on any: .*ethernet addresses supported only on/,
  );
});

test('live: options are validated', () => {
  const usage = (e: unknown) => e instanceof KsError && e.code === 'KS_ERR_USAGE';
  assert.throws(() => openLiveCapture({ interfaces: ['lo', 'lo'] }), usage);
  assert.throws(() => openLiveCapture({ tcpdump: [] }), usage);
  assert.throws(() => openLiveCapture({ snaplen: 0 }), usage);
  assert.throws(() => openLiveCapture({ bufferSizeKiB: 1.5 }), usage);
});
