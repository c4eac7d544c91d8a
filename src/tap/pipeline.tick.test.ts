/** Pipeline.tick: the wall-clock idle sweep of live capture (deterministic, no capture). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry } from '../entry/model.ts';
import { defaultLimits } from '../util/limits.ts';
import { ether, ipv4, pkt, tcp } from '../../test/helpers/decode-headers.ts';
import { dissectors } from './dissectors/registry.ts';
import { Pipeline } from './pipeline.ts';

const T0 = 1_700_000_000_000_000;
const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;

function setup(): { p: Pipeline; out: Entry[] } {
  const out: Entry[] = [];
  const p = new Pipeline(
    {
      dissectors,
      portMapping: {},
      limits: { ...defaultLimits, idleTimeoutSec: 2 },
      node: { name: 'n', ip: '10.0.0.1' },
      worker: 'n',
      captureSource: 'af_packet',
      l4All: false,
    },
    (e) => out.push(e),
  );
  return { p, out };
}

function seg(ts: number, fromClient: boolean, flags: number, seq: number, ack: number, data = '') {
  const [src, sp, dst, dp] = fromClient
    ? ['10.0.0.5', 40000, '10.0.0.6', 8080]
    : ['10.0.0.6', 8080, '10.0.0.5', 40000];
  const payload = Buffer.from(data);
  return pkt(
    1,
    ether(0x0800, ipv4({ src, dst, proto: 6, payload: tcp(sp, dp, { seq, ack, flags, payload }) })),
    ts,
  );
}

/** Handshake and one request that is never answered; the last packet is at T0 + 3 ms. */
function unanswered(p: Pipeline): void {
  const req = 'GET /idle HTTP/1.1\r\nHost: x\r\n\r\n';
  p.packet(seg(T0, true, SYN, 100, 0));
  p.packet(seg(T0 + 1000, false, SYN | ACK, 500, 101));
  p.packet(seg(T0 + 2000, true, ACK, 101, 501));
  p.packet(seg(T0 + 3000, true, PSH_ACK, 101, 501, req));
}

test('tick: quiet connections are flushed by wall time once the idle timeout passes', () => {
  const { p, out } = setup();
  unanswered(p);
  assert.equal(p.liveTcpStreams(), 1);
  // The wall clock is far ahead of the capture clock (a replay, or clock skew): only the
  // time elapsed since packets were last seen counts.
  const wall = T0 + 3600e6;
  p.tick(wall);
  p.tick(wall + 1e6);
  assert.equal(out.length, 0, 'idle 1 s < 2 s');
  assert.equal(p.liveTcpStreams(), 1);
  p.tick(wall + 2.5e6);
  assert.equal(out.length, 1);
  assert.equal(p.liveTcpStreams(), 0);
  const e = out[0]!;
  assert.equal(e.record.kind === 'http' && e.record.request?.path, '/idle');
  assert.equal(e.error?.code, 'KS_NO_RESPONSE');
});

test('tick: while packets keep arriving (a backlog), capture time is the packets’ time', () => {
  const { p, out } = setup();
  unanswered(p);
  // Another connection's packets keep coming between ticks, with old timestamps (the consumer
  // lags 10 minutes behind the wall clock): the quiet connection is not idle in capture time.
  const wall = T0 + 600e6;
  for (let i = 0; i < 20; i++) {
    const ts = T0 + 4000 + i * 100_000;
    p.packet(
      pkt(
        1,
        ether(
          0x0800,
          ipv4({
            src: '10.0.0.7',
            dst: '10.0.0.8',
            proto: 6,
            payload: tcp(41000, 9999, { seq: 1 + i, flags: ACK }),
          }),
        ),
        ts,
      ),
    );
    p.tick(wall + i * 1e6);
  }
  assert.equal(out.length, 0);
  assert.equal(p.liveTcpStreams(), 2);
});

test('tick: a wall clock behind the packets, or stepping back, is handled', () => {
  const { p, out } = setup();
  unanswered(p);
  const wall = T0 - 10e6;
  p.tick(wall);
  p.tick(wall - 60e6); // the clock was stepped back: no sweep before capture time
  p.tick(wall + 1e6);
  assert.equal(out.length, 0);
  assert.equal(p.liveTcpStreams(), 1);
  p.tick(wall + 2.5e6);
  assert.equal(out.length, 1);
});
