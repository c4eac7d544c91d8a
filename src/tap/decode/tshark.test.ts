// Cross-check against tshark on real captures: for every packet, the addresses, ports and
// payload lengths agree with tshark's ip/ipv6/tcp/udp fields. tshark reassembles IP fragments
// too but still prints the addresses of every fragment; we decode a datagram once, on the
// fragment that completes it, so a frame we skip must be a fragment (or not IP at all).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { defaultLimits, LimitCounters } from '../../util/limits.ts';
import { openCapture } from '../capture/open.ts';
import { Decoder } from './decoder.ts';
import { corpus, needsSharedFor } from '../../../test/helpers/shared.ts';

const run = promisify(execFile);
const hasTshark = spawnSync('tshark', ['--version']).status === 0;
const testdata = fileURLToPath(new URL('testdata/', import.meta.url));

const files = [
  corpus('http/zeek-pipelined-requests.pcap'),
  corpus('dns/pcapplusplus-DnsPackets-udp.pcap'),
  corpus('mixed/pcapplusplus-many-protocols.pcap'), // 802.1Q, ICMP, IPv6, non-IP
  corpus('mixed/mercury-emix.pcap'), // IPv6 hop-by-hop, ICMPv6
  corpus('mixed/mercury-capture2.pcap'), // GRE, IGMP
  corpus('tls/pcapplusplus-tls2-many-handshakes.pcap'), // IPv6 TCP
  corpus('kafka/arkime-kafka.pcap'), // 802.1Q
  corpus('redis/zeek-redis-auth.pcap'), // BSD NULL
  corpus('grpc/packt-grpc-client-streaming.pcapng'), // BSD NULL in pcapng
  corpus('kafka/ndpi-kafka.pcapng'),
  `${testdata}frag.pcap`, // IPv4 and IPv6 fragments
  `${testdata}sll.pcap`,
  `${testdata}sll2.pcap`,
  `${testdata}rawip.pcap`,
];

const fields = [
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.len',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'vlan.id',
  'ip.flags.mf',
  'ip.frag_offset',
  'ipv6.fraghdr.offset',
  'ipv6.fraghdr.more',
  'icmp.type',
  'icmpv6.type',
];

for (const f of files) {
  const name = f.replace(/.*\/(corpus|src)\//, '');
  test(`decode agrees with tshark: ${name}`, needsSharedFor(f, { skip: !hasTshark }), async () => {
    const args = ['-r', f, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f'];
    const { stdout } = await run('tshark', [...args, ...fields.flatMap((e) => ['-e', e])], {
      maxBuffer: 64 * 1024 * 1024,
    });
    const rows = stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const v = line.split('|');
        return Object.fromEntries(fields.map((k, i) => [k, v[i] ?? '']));
      });
    const dec = new Decoder(defaultLimits, new LimitCounters());
    let i = 0;
    let compared = 0;
    for await (const batch of openCapture(f).packets()) {
      for (const p of batch) {
        const t = rows[i++] ?? {};
        const at = `${name} frame ${i}`;
        const d = dec.decode(p);
        const src = t['ip.src'] || t['ipv6.src'];
        if (d === undefined) {
          const fragment =
            t['ip.flags.mf'] === '1' ||
            (t['ip.frag_offset'] ?? '0') !== '0' ||
            t['ipv6.fraghdr.more'] === '1' ||
            (t['ipv6.fraghdr.offset'] || '0') !== '0';
          assert.ok(!src || fragment, `${at}: tshark decodes ${src}, we skipped it`);
          continue;
        }
        compared++;
        assert.equal(d.src, src, at);
        assert.equal(d.dst, t['ip.dst'] || t['ipv6.dst'], at);
        assert.equal(String(d.vlan?.[0] ?? ''), t['vlan.id'], at);
        if (d.transport === 'icmp' || d.transport === 'icmpv6') {
          // tshark also decodes the packet quoted in ICMP errors: compare the type only.
          assert.equal(String(d.icmp?.type), t['icmp.type'] || t['icmpv6.type'], at);
        } else if (d.transport === 'tcp') {
          assert.deepEqual(
            [d.srcPort, d.dstPort],
            [Number(t['tcp.srcport']), Number(t['tcp.dstport'])],
            at,
          );
          if (!d.truncated) assert.equal(d.payload.length, Number(t['tcp.len']), at);
        } else if (d.transport === 'udp') {
          assert.deepEqual(
            [d.srcPort, d.dstPort],
            [Number(t['udp.srcport']), Number(t['udp.dstport'])],
            at,
          );
          if (!d.truncated) assert.equal(d.payload.length + 8, Number(t['udp.length']), at);
        } else {
          assert.equal(t['tcp.srcport'] || t['udp.srcport'], '', at);
        }
      }
    }
    assert.equal(i, rows.length);
    assert.ok(compared > 0);
  });
}
