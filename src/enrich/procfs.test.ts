import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  TCP_STATES,
  containerIdFromCgroup,
  decodeHexIPv4,
  decodeHexIPv6,
  normalizeIp,
  parseFibTrieLocal,
  parseIfInet6,
  parseSocketTable,
  processName,
} from './procfs.ts';

const fixture = (p: string): string =>
  readFileSync(new URL(`./testdata/proc/${p}`, import.meta.url), 'utf8');

test('hex IPv4 is a little-endian word', () => {
  assert.equal(decodeHexIPv4('0100007F'), '127.0.0.1');
  assert.equal(decodeHexIPv4('020200C0'), '192.0.2.2');
  assert.equal(decodeHexIPv4('00000000'), '0.0.0.0');
  assert.equal(decodeHexIPv4('FFFFFFFF'), '255.255.255.255');
  assert.equal(decodeHexIPv4('0100007'), undefined);
  assert.equal(decodeHexIPv4('0100007G'), undefined);
});

test('hex IPv6 is four little-endian words; mapped IPv4 becomes a dotted quad', () => {
  assert.equal(decodeHexIPv6('00000000000000000000000001000000'), '::1');
  assert.equal(decodeHexIPv6('00000000000000000000000000000000'), '::');
  assert.equal(decodeHexIPv6('B80D0120000000000000000005000000'), '2001:db8::5');
  assert.equal(decodeHexIPv6('0000000000000000FFFF00000100007F'), '127.0.0.1');
  // fe80::d8f6:b8ff:fe3a:4a1c, words in host order
  assert.equal(decodeHexIPv6('000080FE00000000FFB8F6D81C4A3AFE'), 'fe80::d8f6:b8ff:fe3a:4a1c');
  assert.equal(decodeHexIPv6('0000'), undefined);
});

test('normalizeIp: any IPv6 spelling → RFC 5952, mapped → IPv4, junk → undefined', () => {
  assert.equal(normalizeIp('10.1.2.3'), '10.1.2.3');
  assert.equal(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0005'), '2001:db8::5');
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeIp('fe80::1%eth0'), 'fe80::1');
  assert.equal(normalizeIp('1:0:0:2:0:0:0:3'), '1:0:0:2::3');
  assert.equal(normalizeIp('::'), '::');
  assert.equal(normalizeIp('not-an-ip'), undefined);
  assert.equal(normalizeIp('1::2::3'), undefined);
  assert.equal(normalizeIp('1:2:3'), undefined);
});

test('socket tables: addresses, ports, states and inodes of every row', () => {
  const tcp = parseSocketTable(fixture('net/tcp'), 'tcp', false);
  assert.equal(tcp.length, 5);
  assert.deepEqual(tcp[1], {
    transport: 'tcp',
    localIp: '192.0.2.2',
    localPort: 80,
    remoteIp: '192.0.2.9',
    remotePort: 40000,
    state: 0x01,
    inode: 1002,
  });
  assert.equal(TCP_STATES[tcp[0]!.state], 'LISTEN');
  assert.equal(TCP_STATES[tcp[3]!.state], 'TIME_WAIT');
  assert.equal(tcp[3]!.inode, 0);

  const tcp6 = parseSocketTable(fixture('net/tcp6'), 'tcp', true);
  assert.deepEqual(
    tcp6.map((r) => [r.localIp, r.localPort, r.remoteIp, r.remotePort, r.inode]),
    [
      ['127.0.0.1', 51000, '127.0.0.1', 6443, 1003],
      ['::1', 9090, '::', 0, 1005],
      ['2001:db8::5', 443, '::', 0, 1006],
    ],
  );
  const udp = parseSocketTable(fixture('net/udp'), 'udp', false);
  assert.deepEqual(
    udp.map((r) => [r.transport, r.localIp, r.localPort, r.remoteIp, r.remotePort, r.state]),
    [
      ['udp', '0.0.0.0', 53, '0.0.0.0', 0, 7],
      ['udp', '192.0.2.2', 42001, '8.8.8.8', 53, 1],
    ],
  );
  assert.equal(parseSocketTable(fixture('net/udp6'), 'udp', true)[0]!.localIp, '::');
  // Header only, garbage, and a truncated line yield nothing.
  assert.deepEqual(parseSocketTable('  sl  local_address\n   0: zz:1 yy:2\n', 'tcp', false), []);
});

test('local addresses: fib_trie /32 host LOCAL leaves and if_inet6', () => {
  assert.deepEqual(parseFibTrieLocal(fixture('net/fib_trie')).sort(), ['127.0.0.1', '192.0.2.2']);
  assert.deepEqual(parseFibTrieLocal(fixture('200/net/fib_trie')).sort(), [
    '127.0.0.1',
    '172.17.0.5',
  ]);
  assert.deepEqual(parseIfInet6(fixture('net/if_inet6')), [
    '::1',
    '2001:db8::5',
    'fe80::d8f6:b8ff:fe3a:4a1c',
  ]);
});

test('process name: comm, or argv[0] when comm was cut at 15 characters', () => {
  assert.equal(processName('nginx\n', 'nginx: master process\0'), 'nginx');
  assert.equal(processName(fixture('101/comm'), fixture('101/cmdline')), 'kube-controller-manager');
  // Cut comm whose argv[0] is something else (renamed thread, interpreter): comm stays.
  assert.equal(processName('abcdefghijklmno\n', '/usr/bin/python3\0x.py\0'), 'abcdefghijklmno');
  assert.equal(processName('kworker/0:1-eve\n', ''), 'kworker/0:1-eve');
});

test('container id from cgroup paths of docker, containerd, cri-o, podman, kubepods', () => {
  const id = 'a'.repeat(32) + '0123456789abcdef'.repeat(2);
  const cases: [string, string | undefined][] = [
    [`0::/system.slice/docker-${id}.scope\n`, id],
    [`12:memory:/docker/${id}\n`, id],
    [`0::/system.slice/cri-containerd-${id}.scope\n`, id],
    [`0::/kubepods.slice/kubepods-burstable.slice/crio-${id}.scope\n`, id],
    [`0::/machine.slice/libpod-${id}.scope/container\n`, id],
    [`0::/kubepods/besteffort/pod1c3c5f8e-1111-2222-3333-444455556666/${id}\n`, id],
    [`0::/machine.slice/libpod-conmon-${id}.scope\n`, undefined],
    ['0::/user.slice/user-0.slice/session-1.scope\n', undefined],
    [`0::/docker-${id}0.scope\n`, undefined], // 65 hex digits: not an id
    ['0::/\n', undefined],
  ];
  for (const [text, want] of cases) assert.equal(containerIdFromCgroup(text), want, text);
  assert.equal(
    containerIdFromCgroup(fixture('200/cgroup')),
    'aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999',
  );
});
