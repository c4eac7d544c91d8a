/** The worker's raw packet road: a PacketSink gets every packet of a source, before dissection. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Packet } from '../src/tap/capture/types.ts';
import { createWorker, fileSource } from '../src/worker/index.ts';

const root = new URL('..', import.meta.url).pathname;

test('packetSink: every packet of the capture, in order, before its entries are stored', async () => {
  const seen: { ts: number; len: number; first: number }[] = [];
  let storedWhenFirstSeen = -1;
  const worker = await createWorker({
    packetSink: {
      packet(p: Packet) {
        if (seen.length === 0) storedWhenFirstSeen = worker.counters().entries;
        seen.push({ ts: p.ts, len: p.origLen, first: p.data[0]! });
      },
    },
  });
  try {
    await worker.addSource(fileSource(join(root, 'demo/shop.pcap')));
    const c = worker.counters();
    assert.equal(seen.length, c.receivedPackets);
    assert.equal(
      seen.reduce((n, p) => n + p.len, 0),
      c.processedBytes,
    );
    assert.ok(
      seen.every((p, i) => i === 0 || p.ts >= seen[i - 1]!.ts),
      'capture order',
    );
    assert.equal(storedWhenFirstSeen, 0, 'teed before anything was dissected');
    assert.ok(c.entries > 0);
  } finally {
    await worker.close();
  }
});
