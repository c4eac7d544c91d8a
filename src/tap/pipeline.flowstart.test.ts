/** Pipeline onFlowStart: told each connection's and flow's endpoints once, at its first packet. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Endpoint } from '../entry/model.ts';
import { defaultLimits } from '../util/limits.ts';
import { openCapture } from './capture/open.ts';
import { dissectors } from './dissectors/registry.ts';
import { Pipeline } from './pipeline.ts';
import { pump } from './run.ts';

const demo = join(new URL('../..', import.meta.url).pathname, 'demo/shop.pcap');

test('onFlowStart: once per TCP connection and UDP flow, before any of its entries', async () => {
  const starts: string[] = [];
  const events: string[] = [];
  const key = (t: string, a: Endpoint, b: Endpoint) => `${t} ${a.ip}:${a.port} ${b.ip}:${b.port}`;
  const p = new Pipeline(
    {
      dissectors,
      portMapping: {},
      limits: defaultLimits,
      node: { name: 'n', ip: '' },
      worker: 'n',
      captureSource: 'pcap_file',
      l4All: true,
      onFlowStart: (t, a, b) => {
        starts.push(key(t, a, b));
        events.push(`start ${key(t, a, b)}`);
      },
    },
    (e) => events.push(`entry ${key(e.transport, e.src, e.dst)}`),
  );
  await pump(openCapture(demo), p);
  p.end();
  const s = p.summary();
  assert.equal(starts.length, s.tcpConnections + s.udpFlows);
  assert.equal(new Set(starts).size, starts.length, 'each flow once');
  assert.ok(starts.some((k) => k.startsWith('tcp ')) && starts.some((k) => k.startsWith('udp ')));
  // Every entry's flow was announced before it (as client → server, or reversed).
  for (const [i, ev] of events.entries()) {
    if (!ev.startsWith('entry ')) continue;
    const [t, a, b] = ev.slice(6).split(' ');
    const before = events.slice(0, i);
    assert.ok(
      before.includes(`start ${t} ${a} ${b}`) || before.includes(`start ${t} ${b} ${a}`),
      `${ev} before its flow started`,
    );
  }
});
