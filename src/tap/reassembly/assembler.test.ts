import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DecodedPacket } from '../decode/types.ts';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../decode/types.ts';
import { Conv, setup, type Setup } from '../../../test/helpers/reassembly-conversation.ts';

const S = TCP_SYN;
const A = TCP_ACK;
const SA = TCP_SYN | TCP_ACK;
const PA = TCP_PSH | TCP_ACK;
const FA = TCP_FIN | TCP_ACK;
const R = TCP_RST;

function feed(t: Setup, pkts: DecodedPacket[]): void {
  for (const p of pkts) t.asm.packet(p);
}

function handshake(cv: Conv): DecodedPacket[] {
  return [cv.c(0, S), cv.s(0, SA), cv.c(1, A)];
}

/** Runs packets through a fresh assembler, flushes, returns the only connection's record. */
function one(pkts: DecodedPacket[], t: Setup = setup()) {
  feed(t, pkts);
  t.asm.flushAll(99_000_000);
  assert.equal(t.rec.conns.length, 1, 'one connection');
  const c = t.rec.conns[0]!;
  assert.equal(c.closes.length, 1, 'closed exactly once');
  return { out: c.out, close: c.closes[0]!, conn: c, t };
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

test('in order: data both ways, FIN both ways, stats', () => {
  const cv = new Conv();
  const hs = handshake(cv);
  const req1 = cv.c(1, PA, 'GET / HTTP/1.1\r\n');
  const pkts = [
    ...hs,
    req1,
    cv.c(17, PA, '\r\n'),
    cv.s(1, PA, 'HTTP/1.1 200 OK\r\n', { ack: 19 }),
    cv.s(18, PA, '\r\n', { ack: 19 }),
    cv.c(19, A, '', { ack: 20 }),
    cv.s(20, FA, '', { ack: 19 }),
    cv.c(19, FA, '', { ack: 21 }),
  ];
  const t = setup();
  feed(t, pkts);
  // Closed on the second FIN, before any flush.
  const c = t.rec.conns[0]!;
  assert.equal(c.closes.length, 1);
  const { stats, reason } = c.closes[0]!;
  assert.equal(reason, 'fin');
  assert.deepEqual(c.out, ['GET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 200 OK\r\n\r\n']);
  assert.deepEqual(c.key, {
    clientIp: '10.0.0.1',
    clientPort: 40000,
    serverIp: '10.0.0.2',
    serverPort: 80,
  });
  assert.equal(c.synSeen, true);
  // In-order data is passed as the packet's own payload, not a copy.
  assert.equal(c.views[0], req1.payload);
  assert.deepEqual(stats.client, { packets: 6, bytes: 6 * 40 + 18, payloadBytes: 18 });
  assert.deepEqual(stats.server, { packets: 4, bytes: 4 * 40 + 19, payloadBytes: 19 });
  assert.equal(stats.synSeen, true);
  assert.equal(stats.established, true);
  assert.equal(stats.handshakeRtt, 2000);
  assert.equal(stats.finClient, true);
  assert.equal(stats.finServer, true);
  assert.equal(stats.rst, false);
  assert.equal(stats.retransmissions, 0);
  assert.equal(stats.gapBytes, 0);
  assert.equal(stats.firstTs, 1_000_000);
  assert.equal(stats.lastTs, pkts.at(-1)!.ts);
  // The final ACK after the close is absorbed: no new connection.
  t.asm.packet(cv.s(21, A, '', { ack: 20 }));
  assert.equal(t.rec.conns.length, 1);
  const s = t.asm.stats();
  assert.equal(s.ignoredPackets, 1);
  assert.equal(s.connectionsOpened, 1);
  assert.equal(s.connectionsClosed, 1);
  assert.equal(s.closedBy.fin, 1);
  assert.equal(s.bytesDelivered, 37);
});

test('out of order: 3 segments in all 6 orders give identical output', () => {
  for (const order of permutations([0, 1, 2])) {
    const cv = new Conv();
    const segs = [cv.c(1, PA, 'aaaa'), cv.c(5, PA, 'bbbb'), cv.c(9, PA, 'cccc')];
    const { out, close } = one([...handshake(cv), ...order.map((i) => segs[i]!)]);
    assert.deepEqual(out, ['aaaabbbbcccc', ''], `order ${order.join('')}`);
    const sorted = order.join('') === '012';
    assert.equal(close.stats.outOfOrder > 0, !sorted, `ooo count, order ${order.join('')}`);
    assert.equal(close.stats.gapBytes, 0);
    assert.equal(close.stats.retransmissions, 0);
  }
});

test('retransmissions: exact, partial overlap, superset overlap', () => {
  const cases: { name: string; segs: [number, string][]; want: string; retrans: number }[] = [
    {
      name: 'exact duplicate',
      segs: [
        [1, 'hello'],
        [1, 'hello'],
        [6, 'world'],
      ],
      want: 'helloworld',
      retrans: 1,
    },
    // Bytes 4-5 were delivered first and win; only the new part is delivered.
    {
      name: 'partial overlap of delivered data',
      segs: [
        [1, 'hello'],
        [4, 'LOxyz'],
      ],
      want: 'helloxyz',
      retrans: 1,
    },
    {
      name: 'superset of delivered data',
      segs: [
        [1, 'abc'],
        [1, 'ABCdef'],
      ],
      want: 'abcdef',
      retrans: 1,
    },
    // Held out-of-order bytes arrived first and win inside a later superset.
    {
      name: 'superset of held data',
      segs: [
        [6, 'xyz'],
        [1, 'HELLOXYZWXY'],
      ],
      want: 'HELLOxyzWXY',
      retrans: 0,
    },
    {
      name: 'overlaps two held segments',
      segs: [
        [3, 'cc'],
        [7, 'gg'],
        [1, 'ABCDEFGHIJ'],
      ],
      want: 'ABccEFggIJ',
      retrans: 0,
    },
    {
      name: 'duplicate of held data',
      segs: [
        [4, 'def'],
        [4, 'DEF'],
        [1, 'abc'],
      ],
      want: 'abcdef',
      retrans: 1,
    },
    {
      name: 'held overlap, partial',
      segs: [
        [4, 'def'],
        [6, 'FGH'],
        [1, 'abc'],
      ],
      want: 'abcdefGH',
      retrans: 0,
    },
  ];
  for (const k of cases) {
    const cv = new Conv();
    const { out, close } = one([...handshake(cv), ...k.segs.map(([rel, d]) => cv.c(rel, PA, d))]);
    assert.deepEqual(out, [k.want, ''], k.name);
    assert.equal(close.stats.retransmissions, k.retrans, `${k.name}: retransmissions`);
    assert.equal(close.stats.gapBytes, 0, k.name);
  }
});

test('gap: a segment never arrives, FIN → gap with the right size, data after it delivered', () => {
  const cv = new Conv();
  const t = setup();
  feed(t, [
    ...handshake(cv),
    cv.c(1, PA, 'aaa'),
    // [4, 7) 'bbb' is lost
    cv.c(7, PA, 'ccc'),
    cv.c(10, FA, ''),
  ]);
  const c = t.rec.conns[0]!;
  // The first FIN waits: a retransmission could still fill the hole.
  assert.equal(c.out[0], 'aaa');
  feed(t, [cv.s(1, FA, '', { ack: 11 })]);
  assert.deepEqual(c.out, ['aaa<gap 3>ccc', '']);
  assert.equal(c.closes[0]!.reason, 'fin');
  assert.equal(c.closes[0]!.stats.gapBytes, 3);
  assert.equal(t.asm.stats().gapBytes, 3);
  assert.equal(t.asm.stats().gaps, 1);
});

test('gap: the hole before a FIN is filled by a late retransmission', () => {
  const cv = new Conv();
  const { out, close } = one([
    ...handshake(cv),
    cv.c(1, PA, 'aaa'),
    cv.c(7, PA, 'ccc'),
    cv.c(10, FA, ''),
    cv.c(4, PA, 'bbb'),
    cv.s(1, FA, '', { ack: 11 }),
  ]);
  assert.deepEqual(out, ['aaabbbccc', '']);
  assert.equal(close.reason, 'fin');
  assert.equal(close.stats.gapBytes, 0);
});

test('gap: the peer acknowledged bytes never seen → gap at the next segment of that direction', () => {
  const cv = new Conv();
  const t = setup();
  feed(t, [
    ...handshake(cv),
    cv.c(1, PA, 'aaa'),
    // [4, 7) lost in the capture; the server got it.
    cv.s(1, A, '', { ack: 7 }),
  ]);
  const c = t.rec.conns[0]!;
  assert.equal(c.out[0], 'aaa', 'not before the next client segment');
  feed(t, [cv.c(7, PA, 'ccc')]);
  assert.equal(c.out[0], 'aaa<gap 3>ccc');

  // Tail loss, then the direction stays silent: reported on close.
  feed(t, [cv.s(1, A, '', { ack: 15 })]);
  t.asm.flushAll(99_000_000);
  assert.equal(c.out[0], 'aaa<gap 3>ccc<gap 5>');
  assert.equal(c.closes[0]!.stats.gapBytes, 8);
});

test('gap: an ACK beyond held data gaps each hole and delivers the held data', () => {
  const cv = new Conv();
  const { out } = one([
    ...handshake(cv),
    cv.c(1, PA, 'a'),
    cv.c(4, PA, 'dd'),
    cv.c(9, PA, 'ii'),
    cv.s(1, A, '', { ack: 13 }),
    cv.c(13, A, ''),
  ]);
  assert.deepEqual(out, ['a<gap 2>dd<gap 3>ii<gap 2>', '']);
});

test('gap: the ACK of a FIN we never saw does not count the FIN as a byte once FIN is seen', () => {
  const cv = new Conv();
  const { out, close } = one([
    ...handshake(cv),
    cv.c(1, PA, 'abc'),
    cv.c(7, FA, ''), // [4, 7) lost
    cv.s(1, A, '', { ack: 8 }),
    cv.c(8, A, ''),
  ]);
  assert.deepEqual(out, ['abc<gap 3>', '']);
  assert.equal(close.stats.gapBytes, 3);
});

test('nothing follows a FIN: later data and held data beyond it are dropped', () => {
  const cv = new Conv();
  const { out, close } = one([
    ...handshake(cv),
    cv.c(1, PA, 'abc'),
    cv.c(10, PA, 'xyz'), // held, then found to lie beyond the FIN
    cv.c(7, FA, ''), // [4, 7) lost
    cv.c(8, PA, 'zz'), // after the FIN
    cv.s(1, FA, '', { ack: 8 }),
  ]);
  assert.deepEqual(out, ['abc<gap 3>', '']);
  assert.equal(close.reason, 'fin');
  assert.equal(close.stats.gapBytes, 3);
});

test('gap by buffer limit: per direction', () => {
  const cv = new Conv();
  const t = setup({ maxBufferedBytesPerConnection: 5 });
  feed(t, [
    ...handshake(cv),
    cv.c(1, PA, 'aa'),
    // [3, 5) lost
    cv.c(5, PA, 'cccc'),
  ]);
  const c = t.rec.conns[0]!;
  assert.equal(c.out[0], 'aa');
  assert.equal(t.asm.stats().bufferedBytes, 4);
  feed(t, [cv.c(9, PA, 'dddd')]);
  assert.equal(c.out[0], 'aa<gap 2>ccccdddd');
  assert.equal(t.counters.hits.get('maxBufferedBytesPerConnection'), 1);
  const s = t.asm.stats();
  assert.equal(s.limitHits.maxBufferedBytesPerConnection, 1);
  assert.equal(s.bufferedBytes, 0);
  assert.equal(s.bufferedBytesPeak, 8);
  // The lost segment arriving late is now old data.
  feed(t, [cv.c(3, PA, 'bb')]);
  t.asm.flushAll(99_000_000);
  assert.equal(c.out[0], 'aa<gap 2>ccccdddd');
  assert.equal(c.closes[0]!.stats.retransmissions, 1);
});

test('gap by buffer limit: total over connections gives up the oldest hole first', () => {
  const t = setup({ maxBufferedBytesTotal: 6 });
  const a = new Conv('10.0.0.1', 40001);
  const b = new Conv('10.0.0.1', 40002);
  feed(t, [...handshake(a), ...handshake(b), a.c(5, PA, 'AAAA'), b.c(5, PA, 'BB')]);
  assert.equal(t.asm.stats().bufferedBytes, 6);
  feed(t, [b.c(8, PA, 'C')]); // 7 > 6: a's hole (the oldest) is given up
  const [ra, rb] = t.rec.conns;
  assert.equal(ra!.out[0], '<gap 4>AAAA');
  assert.equal(rb!.out[0], '');
  assert.equal(t.counters.hits.get('maxBufferedBytesTotal'), 1);
  assert.equal(t.asm.stats().bufferedBytes, 3);
});

test('mid-stream start: direction by isServerPort, by lower port, by first sender', () => {
  // Server port known: the first packet comes from the server.
  {
    const cv = new Conv('10.0.0.1', 40000, '10.0.0.2', 5432, 7_000_000, 123_456_789);
    const t = setup({}, [5432]);
    const { out, conn, close } = one(
      [cv.s(100, PA, 'server first'), cv.c(50, PA, 'client'), cv.s(112, PA, '!')],
      t,
    );
    assert.deepEqual(conn.key, {
      clientIp: '10.0.0.1',
      clientPort: 40000,
      serverIp: '10.0.0.2',
      serverPort: 5432,
    });
    assert.equal(conn.synSeen, false);
    assert.deepEqual(out, ['client', 'server first!']);
    assert.equal(close.stats.synSeen, false);
    assert.equal(close.stats.established, true, 'data flowed both ways');
    assert.equal(close.stats.handshakeRtt, undefined);
    assert.equal(close.reason, 'end_of_capture');
  }
  // No known port: the lower port is the server.
  {
    const cv = new Conv('10.0.0.1', 50000, '10.0.0.2', 8080);
    const { conn, out } = one([cv.s(10, PA, 'x'), cv.c(10, PA, 'y')]);
    assert.equal(conn.key.serverPort, 8080);
    assert.deepEqual(out, ['y', 'x']);
  }
  // A known port wins over the lower-port rule.
  {
    const cv = new Conv('10.0.0.1', 80, '10.0.0.2', 9000);
    const { conn } = one([cv.c(10, PA, 'x')], setup({}, [9000]));
    assert.equal(conn.key.serverPort, 9000);
  }
  // Equal ports: the first packet's sender is the client.
  {
    const cv = new Conv('10.0.0.9', 7000, '10.0.0.2', 7000);
    const { conn, out } = one([cv.s(10, PA, 'first'), cv.c(10, PA, 'second')]);
    assert.equal(conn.key.clientIp, '10.0.0.2');
    assert.deepEqual(out, ['first', 'second']);
  }
});

test('SYN/ACK seen first: its receiver is the client', () => {
  const cv = new Conv();
  const { out, conn, close } = one([
    cv.s(0, SA),
    cv.c(1, A),
    cv.c(1, PA, 'ping'),
    cv.s(1, PA, 'pong', { ack: 5 }),
  ]);
  assert.equal(conn.key.clientPort, 40000);
  assert.equal(conn.synSeen, true);
  assert.deepEqual(out, ['ping', 'pong']);
  assert.equal(close.stats.established, true);
  assert.equal(close.stats.handshakeRtt, undefined);
});

test('SYN/ACK captured before its SYN: one connection, client by the SYN', () => {
  const cv = new Conv();
  const { out, conn, close, t } = one([
    cv.s(0, SA, '', { ts: 1100 }),
    cv.c(0, S, '', { ts: 1000 }),
    cv.c(1, A, '', { ts: 1300 }),
    cv.c(1, PA, 'ping'),
    cv.s(1, PA, 'pong', { ack: 5 }),
  ]);
  assert.equal(t.asm.stats().connectionsOpened, 1);
  assert.equal(conn.key.clientPort, 40000);
  assert.deepEqual(out, ['ping', 'pong']);
  assert.equal(close.stats.handshakeRtt, 300);
  assert.equal(close.stats.retransmissions, 0);
});

test('sequence wrap-around: in order and out of order across 2^32', () => {
  const isn = 2 ** 32 - 10;
  for (const order of permutations([0, 1, 2])) {
    const cv = new Conv('10.0.0.1', 40000, '10.0.0.2', 80, isn, isn + 3);
    // Client bytes 1..24 cover seq 2^32-9 .. 2^32+14: the second segment crosses the wrap.
    const segs = [cv.c(1, PA, 'aaaaaaaa'), cv.c(9, PA, 'bbbbbbbb'), cv.c(17, PA, 'cccccccc')];
    const { out, close } = one([
      ...handshake(cv),
      ...order.map((i) => segs[i]!),
      cv.s(1, PA, 'server data crossing the wrap', { ack: 25 }),
      cv.c(25, FA, '', { ack: 30 }),
      cv.s(30, FA, '', { ack: 26 }),
    ]);
    assert.deepEqual(
      out,
      ['aaaaaaaabbbbbbbbcccccccc', 'server data crossing the wrap'],
      `order ${order}`,
    );
    assert.equal(close.reason, 'fin');
    assert.equal(close.stats.gapBytes, 0);
  }
});

test('RST mid-transfer: held data delivered after the gap, close once, late packets', () => {
  const cv = new Conv();
  const t = setup();
  feed(t, [...handshake(cv), cv.c(1, PA, 'aaa'), cv.c(7, PA, 'ccc'), cv.s(1, R)]);
  const c = t.rec.conns[0]!;
  assert.deepEqual(c.out, ['aaa<gap 3>ccc', '']);
  assert.equal(c.closes.length, 1);
  assert.equal(c.closes[0]!.reason, 'rst');
  assert.equal(c.closes[0]!.stats.rst, true);
  // A bare ACK or RST after the close does not create a connection…
  feed(t, [cv.c(10, A), cv.c(10, R)]);
  assert.equal(t.rec.conns.length, 1);
  // …data does: a new mid-stream connection.
  feed(t, [cv.c(10, PA, 'late')]);
  assert.equal(t.rec.conns.length, 2);
  assert.equal(t.rec.conns[1]!.synSeen, false);
  assert.equal(t.rec.conns[1]!.out[0], 'late');
});

test('port reuse: a new SYN after a close, and TIME_WAIT-like reuse with a new ISN', () => {
  // After a full close.
  {
    const t = setup();
    const a = new Conv();
    feed(t, [...handshake(a), a.c(1, PA, 'one'), a.c(4, FA), a.s(1, FA, '', { ack: 5 })]);
    const b = new Conv('10.0.0.1', 40000, '10.0.0.2', 80, 9_000_000, 77);
    feed(t, [...handshake(b), b.c(1, PA, 'two')]);
    t.asm.flushAll(99_000_000);
    assert.deepEqual(
      t.rec.conns.map((c) => [c.out[0], c.closes.map((x) => x.reason).join()]),
      [
        ['one', 'fin'],
        ['two', 'end_of_capture'],
      ],
    );
  }
  // Only one FIN seen, then a SYN with another ISN: the old one is closed first.
  {
    const t = setup();
    const a = new Conv();
    feed(t, [...handshake(a), a.c(1, PA, 'one'), a.c(4, FA)]);
    // A retransmitted SYN with the known ISN is not a new connection.
    feed(t, [a.c(0, S)]);
    assert.equal(t.rec.conns.length, 1);
    const b = new Conv('10.0.0.1', 40000, '10.0.0.2', 80, 9_000_000, 77);
    feed(t, [b.c(0, S)]);
    assert.equal(t.rec.conns.length, 2);
    assert.deepEqual(
      t.rec.conns[0]!.closes.map((x) => x.reason),
      ['fin'],
    );
    assert.equal(t.rec.conns[0]!.closes[0]!.stats.retransmissions, 1);
    assert.equal(t.rec.conns[1]!.closes.length, 0);
  }
  // A connection first seen mid-stream, then a SYN: new connection.
  {
    const t = setup();
    const a = new Conv();
    feed(t, [a.c(50, PA, 'old'), a.c(0, S)]);
    assert.equal(t.rec.conns.length, 2);
    assert.deepEqual(
      t.rec.conns[0]!.closes.map((x) => x.reason),
      ['idle'],
    );
  }
});

test('idle flush and end of capture', () => {
  const t = setup({ idleTimeoutSec: 10 });
  const a = new Conv('10.0.0.1', 40001);
  const b = new Conv('10.0.0.1', 40002);
  feed(t, [a.c(1, PA, 'a', { ts: 1_000_000 }), b.c(1, PA, 'b', { ts: 5_000_000 })]);
  t.asm.flushIdle(11_000_000); // a idle for exactly 10 s: kept
  assert.equal(t.rec.conns[0]!.closes.length, 0);
  t.asm.flushIdle(11_000_001);
  assert.deepEqual(
    t.rec.conns[0]!.closes.map((x) => [x.reason, x.ts]),
    [['idle', 11_000_001]],
  );
  assert.equal(t.rec.conns[1]!.closes.length, 0);
  t.asm.flushAll(12_000_000);
  assert.deepEqual(
    t.rec.conns[1]!.closes.map((x) => x.reason),
    ['end_of_capture'],
  );
  const s = t.asm.stats();
  assert.equal(s.connectionsActive, 0);
  assert.deepEqual(s.closedBy, { fin: 0, rst: 0, idle: 1, limit: 0, end_of_capture: 1 });
});

test('maxStreams: the least recently used connection is closed with reason limit', () => {
  const t = setup({ maxStreams: 2 });
  const convs = [40001, 40002, 40003].map((p) => new Conv('10.0.0.1', p));
  feed(t, [convs[0]!.c(1, PA, 'a'), convs[1]!.c(1, PA, 'b'), convs[0]!.c(2, PA, 'a')]);
  feed(t, [convs[2]!.c(1, PA, 'c')]); // evicts 40002, the least recently used
  assert.deepEqual(
    t.rec.conns.map((c) => c.closes.map((x) => x.reason).join()),
    ['', 'limit', ''],
  );
  assert.equal(t.counters.hits.get('maxStreams'), 1);
  assert.equal(t.asm.stats().limitHits.maxStreams, 1);
  assert.equal(t.asm.stats().connectionsActive, 2);
});

test('handshake RTT, duplicate ACKs, zero window, keep-alives', () => {
  const cv = new Conv();
  const { close, out } = one([
    cv.c(0, S, '', { ts: 0 }),
    cv.c(0, S, '', { ts: 1000 }), // retransmitted SYN: RTT counts from the last one
    cv.s(0, SA, '', { ts: 1100 }),
    cv.c(1, A, '', { ts: 1350 }),
    cv.c(1, PA, 'req'),
    cv.s(1, PA, 'resp1', { ack: 4 }),
    cv.s(6, PA, 'resp2', { ack: 4 }),
    cv.c(4, A, '', { ack: 6 }),
    cv.c(4, A, '', { ack: 6 }), // duplicate ACK
    cv.c(4, A, '', { ack: 6 }), // duplicate ACK
    cv.c(4, A, '', { ack: 6, win: 1000 }), // window update: not a duplicate
    cv.c(4, A, '', { ack: 11, win: 0 }), // zero window
    cv.c(4, A, '', { ack: 11, win: 0 }), // zero window again (not a duplicate ACK: window 0)
    cv.c(3, A, '', { ack: 11 }), // keep-alive, no byte
    cv.c(3, A, 'X', { ack: 11 }), // keep-alive with a garbage byte
    cv.c(4, PA, 'more', { ack: 11 }),
    cv.c(7, A, '', { ack: 11 }), // keep-alive the server has not acknowledged yet (seq = next - 1)
  ]);
  assert.deepEqual(out, ['reqmore', 'resp1resp2']);
  assert.equal(close.stats.handshakeRtt, 350);
  assert.equal(close.stats.duplicateAcks, 2);
  assert.equal(close.stats.zeroWindow, 2);
  assert.equal(close.stats.keepAlives, 3);
  assert.equal(close.stats.retransmissions, 1, 'the SYN');
  assert.equal(close.stats.established, true);
});

test('keep-alive as the first packet of a direction (mid-stream) never delivers its byte', () => {
  const cv = new Conv();
  const { out, close } = one(
    [
      cv.s(100, PA, 'data', { ack: 50 }),
      cv.c(49, A, '\u0000', { ack: 104 }),
      cv.c(50, PA, 'real', { ack: 104 }),
    ],
    setup({}, [80]),
  );
  assert.deepEqual(out, ['real', 'data']);
  assert.equal(close.stats.keepAlives, 1);
  assert.equal(close.stats.gapBytes, 0);
});

test('data on the SYN (TCP Fast Open) is delivered', () => {
  const cv = new Conv();
  const { out } = one([
    cv.c(0, S, 'tfo'),
    cv.s(0, SA, '', { ack: 4 }),
    cv.c(4, PA, '+more', { ack: 1 }),
  ]);
  assert.deepEqual(out, ['tfo+more', '']);
});

test('non-TCP packets are ignored', () => {
  const t = setup();
  const p = new Conv().c(1, PA, 'x');
  delete p.tcp;
  t.asm.packet({ ...p, transport: 'udp' });
  assert.equal(t.rec.conns.length, 0);
  assert.equal(t.asm.stats().ignoredPackets, 1);
});
