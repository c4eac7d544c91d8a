/**
 * Split-anywhere property for an upgraded WebSocket conversation (through the HTTP session) and
 * fuzzing of the frame session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { WebSocket } from 'ws';
import type { Direction } from '../../reassembly/types.ts';
import {
  outcome,
  replay,
  resplit,
  testContext,
  type Chunk,
} from '../../../../test/helpers/dissector-session.ts';
import { HttpSession } from '../http/session.ts';
import { createWsSession } from './session.ts';
import { recordWs, sendAll } from '../../../../test/helpers/ws-record.ts';

const text = JSON.stringify({
  quote: 'the quick brown fox',
  n: Array.from({ length: 50 }, (_, i) => i),
});

async function conversations(): Promise<Chunk[][]> {
  const script = (ws: WebSocket) =>
    sendAll(ws, 4, () => {
      ws.send(text);
      ws.send(`${text}/1`, { fin: false });
      ws.ping('ping');
      ws.send('/2', { fin: true });
      ws.send(Buffer.alloc(300, 1));
      ws.send(text);
    });
  return [
    await recordWs({ perMessageDeflate: false }, { perMessageDeflate: false }, script),
    await recordWs(
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { threshold: 0 } },
      script,
    ),
  ];
}

let cached: Chunk[][] | undefined;
const fixtures = async () => (cached ??= await conversations());

function run(chunks: readonly Chunk[]): string {
  const t = testContext();
  replay(new HttpSession(t.ctx), chunks);
  return outcome(t);
}

test('split anywhere: an upgraded WebSocket conversation gives the same entries in any chunking', async () => {
  for (const chunks of await fixtures()) {
    const expected = run(chunks);
    assert.ok(
      JSON.parse(expected).entries.filter(
        (e: { record: { kind: string } }) => e.record.kind === 'ws',
      ).length >= 10,
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 30 }),
        (sizes) => {
          assert.equal(run(resplit(chunks, sizes)), expected);
        },
      ),
      { numRuns: 100 },
    );
    assert.equal(run(resplit(chunks, [1])), expected, 'byte by byte');
  }
});

test('fuzz: random frames, bytes and gaps never throw (with and without permessage-deflate)', () => {
  const event = fc.oneof(
    fc.record({ dir: fc.constantFrom<Direction>(0, 1), bytes: fc.uint8Array({ maxLength: 100 }) }),
    fc.record({ dir: fc.constantFrom<Direction>(0, 1), gap: fc.integer({ min: 1, max: 1000 }) }),
  );
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.array(event, { maxLength: 30 }),
      (deflate, takeover, events) => {
        const t = testContext({ maxBodyBytes: 4096, maxPduBytes: 1 << 20 });
        const s = createWsSession(t.ctx, {
          deflate: deflate
            ? { clientNoContextTakeover: !takeover, serverNoContextTakeover: false }
            : undefined,
        });
        let ts = 0;
        for (const e of events) {
          if ('bytes' in e) s.onData(e.dir, Buffer.from(e.bytes), ts++);
          else s.onGap(e.dir, e.gap, ts++);
        }
        s.onEnd(ts);
        JSON.stringify(t.entries);
      },
    ),
    { numRuns: 500 },
  );
});

test('fuzz: mutated recorded conversations never throw', async () => {
  const all = await fixtures();
  fc.assert(
    fc.property(
      fc.nat(all.length - 1),
      fc.array(
        fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), cut: fc.boolean() }),
        { maxLength: 6 },
      ),
      (which, edits) => {
        const chunks = all[which]!.map((c) => ({ ...c, data: Buffer.from(c.data) }));
        for (const e of edits) {
          const c = chunks[e.at % chunks.length]!;
          if (c.data.length === 0) continue;
          const p = e.at % c.data.length;
          if (e.cut) c.data = c.data.subarray(0, p);
          else c.data[p] = e.byte;
        }
        const t = testContext();
        replay(new HttpSession(t.ctx), chunks);
        JSON.stringify(t.entries);
      },
    ),
    { numRuns: 300 },
  );
});
