/**
 * Proxy mode's life cycle with a real forward: a TCP relay to a real hub (worker + hub over a
 * capture), started by the provider the way the kube port-forward is. The forward starts on the
 * first tool call (not before), is reused, is started again after it drops, and a failed start is
 * retried on the next call. Tools reach the hub through it (SDK client, in-memory transport).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createHub, type Hub } from '../hub/index.ts';
import { createWorker, fileSource, type Worker } from '../worker/index.ts';
import { defaultConfig } from '../config/load.ts';
import { proxyContext, type ForwardHandle } from './context.ts';
import { createMcpServer } from './server.ts';

const root = new URL('../..', import.meta.url).pathname;
let worker: Worker;
let hub: Hub;
let hubPort: number;

before(async () => {
  worker = await createWorker({
    config: defaultConfig(),
    sources: [fileSource(join(root, 'demo/shop.pcap'))],
  });
  await worker.replayed;
  hub = createHub({ workers: [{ name: 'w', worker }] });
  hubPort = await hub.listen(0, '127.0.0.1');
  await hub.ready;
});
after(async () => {
  await hub.close();
  await worker.close();
});

/** A TCP relay to the hub on a fresh port; `drop()` kills it and its connections. */
async function relay(): Promise<ForwardHandle & { drop(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    const up = connect(hubPort, '127.0.0.1');
    sockets.add(s).add(up);
    s.pipe(up).pipe(s);
    const end = () => {
      s.destroy();
      up.destroy();
    };
    s.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const drop = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    target: () => 'hub',
    close: async () => drop(),
    drop,
  };
}

test('proxy mode: lazy start, reuse, restart after a drop, retry after a failed start', async () => {
  const started: { ns: string; fwd: Awaited<ReturnType<typeof relay>> }[] = [];
  let failNext = false;
  const ctx = proxyContext(async (ns) => {
    if (failNext) {
      failNext = false;
      throw new Error('no ready front pod');
    }
    const fwd = await relay();
    started.push({ ns, fwd });
    return fwd;
  }, 'kubeshark-ns');
  const [ct, st] = InMemoryTransport.createLinkedPair();
  const server = createMcpServer(ctx);
  await server.connect(st);
  const client = new Client({ name: 't', version: '1' });
  await client.connect(ct);
  try {
    // Listing tools does not start anything.
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'list_api_calls'));
    assert.equal(ctx.starts(), 0);

    const first = await client.callTool({ name: 'list_api_calls', arguments: { limit: 2 } });
    assert.equal(first.isError, undefined);
    assert.equal((first.structuredContent as { total: number }).total, 20);
    await client.callTool({ name: 'get_api_stats', arguments: {} });
    assert.equal(ctx.starts(), 1, 'one forward for several calls');
    assert.equal(started[0]!.ns, 'kubeshark-ns');
    const status = await client.callTool({ name: 'check_kubeshark_status', arguments: {} });
    assert.match(
      (status.content as { text: string }[])[0]!.text,
      /at http:\/\/127\.0\.0\.1:\d+ \(port-forward to hub\)/,
    );

    // The forward drops: the next call starts a new one and succeeds.
    started[0]!.fwd.drop();
    const again = await client.callTool({ name: 'list_api_calls', arguments: { limit: 1 } });
    assert.equal(again.isError, undefined, JSON.stringify(again.content));
    assert.equal(ctx.starts(), 2);
    assert.notEqual(started[1]!.fwd.url, started[0]!.fwd.url);

    // Another release namespace gets its own forward.
    await client.callTool({
      name: 'check_kubeshark_status',
      arguments: { release_namespace: 'other' },
    });
    assert.deepEqual(
      started.map((s) => s.ns),
      ['kubeshark-ns', 'kubeshark-ns', 'other'],
    );

    // A failed start is a tool error, not cached: the call after it starts again.
    started[1]!.fwd.drop();
    failNext = true;
    const failed = await client.callTool({ name: 'list_api_calls', arguments: {} });
    assert.equal(failed.isError, true);
    assert.match((failed.content as { text: string }[])[0]!.text, /no ready front pod/);
    const healed = await client.callTool({ name: 'list_api_calls', arguments: { limit: 1 } });
    assert.equal(healed.isError, undefined);
    assert.equal(started.length, 4);
  } finally {
    await client.close();
    await server.close();
    await ctx.close();
  }
});
