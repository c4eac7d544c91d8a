import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { KsError } from '../../util/errors.ts';
import { ether, ipv4, ipv6, tcp, udp } from '../../../test/helpers/decode-headers.ts';
import { buildBpf, IPV6_HOST_WEIGHT, MAX_BPF_HOST_WEIGHT } from './bpf.ts';
import type { BpfOptions } from './bpf.ts';
import { captureFromStream } from './open.ts';
import { pcapFile } from '../../../test/helpers/capture-files.ts';

const run = promisify(execFile);

/** Compiles a filter with `tcpdump -d` (no device: Ethernet); returns the instruction count. */
async function compile(filter: string, asNobody = false): Promise<number> {
  const cmd = asNobody
    ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'tcpdump']
    : ['tcpdump'];
  const { stdout } = await run(cmd[0]!, [...cmd.slice(1), '-d', filter], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.split('\n').filter((l) => /^\(\d+\)/.test(l)).length;
}

test('buildBpf: tap.bpfOverride wins; blank means unset', () => {
  const targets = [{ ip: '10.0.0.5' }];
  assert.equal(
    buildBpf({ override: '  tcp port 80 ', targets, excludePorts: [8898] }),
    'tcp port 80',
  );
  assert.equal(buildBpf({ override: '   ', targets }), 'ip host 10.0.0.5');
});

test('buildBpf: nothing to select is an empty filter (capture everything)', () => {
  assert.equal(buildBpf({}), '');
  assert.equal(buildBpf({ targets: [], excludePorts: [] }), '');
});

test('buildBpf: the tool’s own ports are excluded, sorted and once each', () => {
  assert.equal(buildBpf({ excludePorts: [8899, 8898, 8899] }), 'not (port 8898 or port 8899)');
});

test('buildBpf: targets grouped by port set, IPv4 and IPv6', () => {
  const f = buildBpf({
    targets: [
      { ip: '10.0.0.6', ports: [443, 80] },
      { ip: '10.0.0.5' },
      { ip: 'FD00::5%eth0', ports: [8080] },
      { ip: '10.0.0.7', ports: [80, 443] },
      { ip: '10.0.0.5', ports: [22] }, // already wanted whole
      { ip: '10.0.0.8', ports: [8080] },
      { ip: '10.0.0.8', ports: [9090] }, // ports of one address merge
    ],
    excludePorts: [8898],
  });
  assert.equal(
    f,
    '(ip host 10.0.0.5 or ((ip host 10.0.0.6 or ip host 10.0.0.7) and (port 80 or port 443)) or ' +
      '(ip6 host fd00::5 and port 8080) or (ip host 10.0.0.8 and (port 8080 or port 9090))) ' +
      'and not (port 8898)',
  );
});

test('buildBpf: bad addresses and ports are KS_ERR_CAPTURE_FILTER', () => {
  const bad: BpfOptions[] = [
    { targets: [{ ip: '10.0.0.300' }] },
    { targets: [{ ip: 'pod-a' }] },
    { targets: [{ ip: '10.0.0.1', ports: [0] }] },
    { targets: [{ ip: '10.0.0.1', ports: [70000] }] },
    { excludePorts: [1.5] },
  ];
  for (const o of bad) {
    assert.throws(
      () => buildBpf(o),
      (e: unknown) => e instanceof KsError && e.code === 'KS_ERR_CAPTURE_FILTER',
      JSON.stringify(o),
    );
  }
});

test('buildBpf: past the host budget only the exclusion is kept', async () => {
  const v4 = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ ip: `10.${i >> 8}.${i & 255}.1` }));
  const atBudget = buildBpf({ targets: v4(MAX_BPF_HOST_WEIGHT), excludePorts: [8898] });
  assert.match(atBudget, /^\(ip host/);
  // The budget keeps the program well under the kernel's 4096 instructions.
  const n = await compile(atBudget);
  assert.ok(n < 4096, `${n} instructions`);
  const v6 = Array.from({ length: MAX_BPF_HOST_WEIGHT / IPV6_HOST_WEIGHT }, (_, i) => ({
    ip: `fd00::${(i + 1).toString(16)}`,
  }));
  const v6n = await compile(buildBpf({ targets: v6, excludePorts: [8898] }));
  assert.ok(v6n < 4096, `IPv6: ${v6n} instructions`);
  assert.equal(
    buildBpf({ targets: v4(MAX_BPF_HOST_WEIGHT + 1), excludePorts: [8898] }),
    'not (port 8898)',
  );
  assert.equal(buildBpf({ targets: [...v6, { ip: '10.0.0.1' }] }), '');
});

test('buildBpf: every built filter compiles with tcpdump -d, without privileges', async () => {
  const cases: BpfOptions[] = [
    { excludePorts: [8898] },
    { targets: [{ ip: '127.0.0.1' }] },
    { targets: [{ ip: '::1' }], excludePorts: [8898, 8899] },
    {
      targets: [
        { ip: '10.1.2.3', ports: [80] },
        { ip: 'fe80::1%lo', ports: [53, 5353] },
      ],
    },
    { targets: [{ ip: '::ffff:10.0.0.1' }, { ip: '2001:db8::1', ports: [443] }] },
  ];
  for (const o of cases) {
    const f = buildBpf(o);
    assert.ok((await compile(f)) > 0, f);
  }
  // As nobody (no capabilities at all): compiling needs no privilege.
  assert.ok((await compile(buildBpf(cases[3]!), true)) > 0);
  await assert.rejects(compile('ip host 10.0.0.1 and port'), /syntax error/);
});

/** A packet for the filter test: its TCP/UDP is numbered by `seq` so survivors can be named. */
function frame(i: number, src: string, sport: number, dst: string, dport: number, proto = 6) {
  const l4 =
    proto === 6
      ? tcp(sport, dport, { seq: i, payload: Buffer.from('x') })
      : udp(sport, dport, Buffer.from([i]));
  const v6 = src.includes(':');
  const ip = v6
    ? ipv6({ src, dst, nh: proto, payload: l4 })
    : ipv4({ src, dst, proto, payload: l4 });
  return ether(v6 ? 0x86dd : 0x0800, ip);
}

test('buildBpf: tcpdump applying the filter keeps exactly the targeted traffic', async () => {
  const packets: [string, number, string, number, number?][] = [
    ['10.0.0.5', 40000, '10.0.0.9', 5432], // 0 target, any port
    ['10.0.0.9', 40001, '10.0.0.5', 8898], // 1 target, but the tool's own port
    ['10.0.0.7', 40002, '10.0.0.8', 80], // 2 not a target
    ['10.0.0.6', 80, '10.0.0.1', 50000], // 3 target port (as source)
    ['10.0.0.1', 50001, '10.0.0.6', 22], // 4 target address, other port
    ['fd00::9', 50002, 'fd00::5', 8080], // 5 IPv6 target port
    ['fd00::5', 22, 'fd00::9', 50003], // 6 IPv6 target, other port
    ['fd00::7', 50004, 'fd00::8', 8080], // 7 not a target
    ['10.0.0.5', 53, '10.0.0.9', 40005, 17], // 8 UDP from a target
  ];
  const pcap = pcapFile(
    {},
    packets.map(([s, sp, d, dp, proto], i) => ({
      sec: 1_700_000_000 + i,
      frac: 0,
      data: frame(i, s, sp, d, dp, proto),
    })),
  );
  const seqOf = (data: Buffer): number => {
    const v6 = data.readUInt16BE(12) === 0x86dd;
    const l4 = 14 + (v6 ? 40 : 20);
    const proto = v6 ? data[14 + 6]! : data[14 + 9]!;
    return proto === 6 ? data.readUInt32BE(l4 + 4) : data[l4 + 8]!;
  };
  const kept = async (filter: string): Promise<number[]> => {
    const child = spawn('tcpdump', ['-r', '-', '-w', '-', ...(filter ? [filter] : [])], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    child.stdin.end(pcap);
    const out: number[] = [];
    for await (const batch of captureFromStream('filtered', child.stdout).packets()) {
      for (const p of batch) out.push(seqOf(p.data));
    }
    return out;
  };
  const targeted = buildBpf({
    targets: [
      { ip: '10.0.0.5' },
      { ip: 'fd00::5', ports: [8080] },
      { ip: '10.0.0.6', ports: [80] },
    ],
    excludePorts: [8898],
  });
  assert.deepEqual(await kept(targeted), [0, 3, 5, 8]);
  assert.deepEqual(await kept(buildBpf({ excludePorts: [8898] })), [0, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(await kept(buildBpf({})), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
});
