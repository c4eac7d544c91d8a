// Cross-check against tshark on real captures: same packet count, same timestamp for every
// packet (tshark prints frame.time_epoch with 9 digits; we keep µs, rounded down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { openCapture } from './open.ts';
import { corpus, needsSharedFor } from '../../../test/helpers/shared.ts';

const run = promisify(execFile);
const testdata = fileURLToPath(new URL('testdata/', import.meta.url));
const hasTshark = spawnSync('tshark', ['--version']).status === 0;

const files = [
  corpus('http/zeek-pipelined-requests.pcap'),
  corpus('dns/pcapplusplus-DnsPackets-udp.pcap'),
  corpus('mixed/mercury-emix.pcap'),
  corpus('mixed/pcapplusplus-example-mixed.pcap'),
  corpus('redis/zeek-redis-auth.pcap'), // BSD NULL
  corpus('grpc/packt-grpc-bidi-streaming.pcapng'), // pcapng, NULL
  corpus('mysql/ndpi-mysql.pcapng'), // pcapng, ns
  corpus('kafka/ndpi-kafka.pcapng'), // pcapng, two interfaces (µs and ns)
  `${testdata}lo-ns.pcap`,
  `${testdata}any.pcap`,
  `${testdata}two-ifaces.pcapng`,
];

/** µs since the epoch from tshark's "seconds.nanoseconds", rounded down, without float error. */
function micros(epoch: string): number {
  const [sec = '', frac = ''] = epoch.split('.');
  return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

for (const f of files) {
  test(
    `packet count and timestamps agree with tshark: ${f.replace(/.*\/(corpus|src)\//, '')}`,
    needsSharedFor(f, { skip: !hasTshark }),
    async () => {
      const { stdout } = await run('tshark', ['-r', f, '-T', 'fields', '-e', 'frame.time_epoch'], {
        maxBuffer: 64 * 1024 * 1024,
      });
      const want = stdout.trimEnd().split('\n').map(micros);
      const got: number[] = [];
      for await (const batch of openCapture(f).packets()) for (const p of batch) got.push(p.ts);
      assert.equal(got.length, want.length);
      assert.equal(got[0], want[0]);
      assert.equal(got.at(-1), want.at(-1));
      assert.deepEqual(got, want);
    },
  );
}
