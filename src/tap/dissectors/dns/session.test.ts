import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import type { DnsRecord } from './record.ts';
import { LimitCounters, defaultLimits } from '../../../util/limits.ts';
import type { Limits } from '../../../util/limits.ts';
import type { Emitted, SessionContext } from '../types.ts';
import { dnsDissector } from './index.ts';

const RD = dnsPacket.RECURSION_DESIRED;
const RA = dnsPacket.RECURSION_AVAILABLE;

const query = (id: number, name: string, type: 'A' | 'AAAA' | 'MX' = 'A'): Buffer =>
  dnsPacket.encode({ type: 'query', id, flags: RD, questions: [{ type, name }] });

const answer = (
  id: number,
  name: string,
  addrs: string[],
  rcode = 0,
  type: 'A' | 'MX' = 'A',
): Buffer =>
  dnsPacket.encode({
    type: 'response',
    id,
    flags: RD | RA | rcode,
    questions: [{ type, name }],
    answers: addrs.map((data): Answer => ({ type: 'A', name, ttl: 30, data })),
  });

const tcp = (...msgs: Buffer[]): Buffer =>
  Buffer.concat(msgs.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 0xff]), m]));

function harness(transport: 'udp' | 'tcp', limits: Partial<Limits> = {}) {
  const entries: Emitted[] = [];
  const violations: string[] = [];
  const ctx: SessionContext = {
    transport,
    flowId: 1,
    limits: { ...defaultLimits, ...limits },
    counters: new LimitCounters(),
    emit: (e) => entries.push(e),
    violation: (m) => violations.push(m),
    handoff: () => undefined,
  };
  const session = dnsDissector.createSession(ctx);
  const rec = (i: number): DnsRecord => {
    const r = entries[i]?.record;
    assert.equal(r?.kind, 'dns');
    return r as DnsRecord;
  };
  return { session, entries, violations, counters: ctx.counters, rec };
}

test('UDP: a query and its response make one entry with latency and sizes', () => {
  const h = harness('udp');
  const q = query(1, 'web.example.test');
  const r = answer(1, 'web.example.test', ['10.1.2.3', '10.1.2.4']);
  h.session.onData(0, q, 1_000_000);
  h.session.onData(1, r, 1_000_850);
  h.session.onEnd(2_000_000);
  assert.equal(h.entries.length, 1);
  const e = h.entries[0]!;
  assert.equal(e.ts, 1_000_000);
  assert.equal(e.elapsed, 850);
  assert.equal(e.requestSize, q.length);
  assert.equal(e.responseSize, r.length);
  assert.equal(e.error, undefined);
  const rec = h.rec(0);
  assert.equal(rec.transport, 'udp');
  assert.equal(rec.request?.ts, 1_000_000);
  assert.equal(rec.response?.ts, 1_000_850);
  assert.deepEqual(
    rec.response?.answers.map((a) => a.data),
    ['10.1.2.3', '10.1.2.4'],
  );
  assert.equal(rec.retransmissions, undefined);
});

test('pairing by ID and question: out-of-order responses, case-randomised names', () => {
  const h = harness('udp');
  h.session.onData(0, query(1, 'a.example.test'), 10);
  h.session.onData(0, query(2, 'b.example.test'), 20);
  h.session.onData(0, query(3, 'c.example.test', 'AAAA'), 30);
  // Same ID as query 1 but another question: not its answer.
  h.session.onData(1, answer(1, 'x.example.test', ['10.9.9.9']), 35);
  h.session.onData(1, answer(2, 'B.Example.TEST', ['10.0.0.2']), 40);
  h.session.onData(1, answer(1, 'a.example.test', ['10.0.0.1']), 50);
  h.session.onEnd(60);
  const seen = h.entries.map((e) => {
    const r = e.record as DnsRecord;
    return `${r.request?.questions[0]?.name ?? '-'}>${r.response?.answers[0]?.data ?? '-'}:${e.error?.code ?? 'ok'}`;
  });
  assert.deepEqual(seen, [
    '->10.9.9.9:ok', // a response without a query is emitted alone
    'b.example.test>10.0.0.2:ok',
    'a.example.test>10.0.0.1:ok',
    'c.example.test>-:KS_NO_RESPONSE',
  ]);
  assert.equal(h.entries[2]!.elapsed, 40);
});

test('retransmitted queries fold into one call; a repeated response stands alone', () => {
  const h = harness('udp');
  const q = query(7, 'slow.example.test');
  h.session.onData(0, q, 0);
  h.session.onData(0, q, 1_000_000);
  h.session.onData(0, q, 2_000_000);
  const r = answer(7, 'slow.example.test', ['10.0.0.7']);
  h.session.onData(1, r, 2_000_300);
  h.session.onData(1, r, 2_000_400);
  h.session.onData(0, q, 3_000_000); // asked again after the answer: a new call
  h.session.onEnd(9_000_000);
  assert.equal(h.entries.length, 3);
  assert.equal(h.rec(0).retransmissions, 2);
  assert.equal(h.entries[0]!.elapsed, 2_000_300, 'latency from the first transmission');
  assert.equal(h.rec(1).request, undefined);
  assert.ok(h.rec(1).response);
  assert.equal(h.entries[2]!.error?.code, 'KS_NO_RESPONSE');
  // Comparable with tshark: query packets = entries with a request + retransmissions.
  const queries = h.entries.reduce(
    (n, e) =>
      n +
      ((e.record as DnsRecord).request ? 1 + ((e.record as DnsRecord).retransmissions ?? 0) : 0),
    0,
  );
  assert.equal(queries, 4);
});

test('unanswered query: emitted at the end with KS_NO_RESPONSE and its retransmissions', () => {
  const h = harness('udp');
  const q = query(9, 'gone.example.test');
  h.session.onData(0, q, 5);
  h.session.onData(0, q, 6);
  assert.equal(h.entries.length, 0);
  h.session.onEnd(100);
  assert.equal(h.entries.length, 1);
  assert.deepEqual(h.entries[0]!.error, {
    code: 'KS_NO_RESPONSE',
    message: 'no response to the query (sent 2 times)',
  });
  assert.equal(h.entries[0]!.ts, 5);
  assert.equal(h.entries[0]!.elapsed, 0);
  assert.equal(h.entries[0]!.responseSize, 0);
});

test('NXDOMAIN and SERVFAIL keep their RCODE; a question-less FORMERR pairs by ID', () => {
  const h = harness('udp');
  h.session.onData(0, query(1, 'nope.example.test'), 0);
  h.session.onData(1, answer(1, 'nope.example.test', [], 3), 1);
  h.session.onData(0, query(2, 'broken.example.test'), 2);
  h.session.onData(1, answer(2, 'broken.example.test', [], 2), 3);
  h.session.onData(0, query(3, 'odd.example.test'), 4);
  h.session.onData(1, dnsPacket.encode({ type: 'response', id: 3, flags: 1 }), 5);
  h.session.onEnd(6);
  assert.deepEqual(
    h.entries.map(
      (_, i) =>
        `${h.rec(i).response?.rcode}/${h.rec(i).response?.rcodeNumber}/${h.rec(i).request?.id}`,
    ),
    ['NXDOMAIN/3/1', 'SERVFAIL/2/2', 'FORMERR/1/3'],
  );
});

test('malformed datagram: a violation and an entry carrying the error', () => {
  const h = harness('udp');
  h.session.onData(0, query(4, 'cut.example.test'), 0);
  const r = answer(4, 'cut.example.test', ['10.0.0.4']);
  h.session.onData(1, r.subarray(0, r.length - 3), 10);
  h.session.onData(1, Buffer.from([1, 2, 3]), 20);
  h.session.onEnd(30);
  assert.equal(h.violations.length, 2);
  assert.match(h.violations[0]!, /^dns: malformed DNS message: answer record 1/);
  assert.match(h.violations[1]!, /shorter than the 12-byte DNS header/);
  assert.equal(h.entries.length, 1, 'a 3-byte datagram has nothing to show');
  assert.equal(h.entries[0]!.error?.code, 'KS_DISSECT_MALFORMED');
  assert.equal(h.rec(0).request?.id, 4, 'the truncated response still pairs by its question');
  assert.equal(h.entries[0]!.responseSize, r.length - 3);
});

test('pending queries are bounded by maxPendingRequests', () => {
  const h = harness('udp', { maxPendingRequests: 2 });
  for (let id = 1; id <= 4; id++) h.session.onData(0, query(id, `q${id}.example.test`), id);
  assert.deepEqual(
    h.entries.map((e) => `${(e.record as DnsRecord).request?.id}:${e.error?.code}`),
    ['1:KS_LIMIT_PENDING', '2:KS_LIMIT_PENDING'],
  );
  assert.equal(h.counters.hits.get('maxPendingRequests'), 2);
  h.session.onEnd(10);
  assert.equal(h.entries.length, 4);
});

// ------------------------------------------------------------------ TCP

/** The entries of a TCP conversation, independent of timing: what the tests compare. */
function summary(entries: Emitted[]): string[] {
  return entries.map((e) => {
    const r = e.record as DnsRecord;
    return `${r.request?.id ?? '-'}:${r.request?.questions[0]?.name ?? '-'}>${r.response?.answers.map((a) => a.data).join(',') ?? '-'}:${e.requestSize}/${e.responseSize}:${e.error?.code ?? 'ok'}`;
  });
}

test('TCP: several messages in one segment, and one message across segments', () => {
  const h = harness('tcp');
  const qs = tcp(
    query(1, 'a.example.test'),
    query(2, 'b.example.test', 'MX'),
    query(3, 'c.example.test'),
  );
  h.session.onData(0, qs, 100);
  const rs = tcp(
    answer(2, 'b.example.test', [], 0, 'MX'),
    answer(1, 'a.example.test', ['10.0.0.1']),
    answer(3, 'c.example.test', ['10.0.0.3']),
  );
  // Response 1 straddles two segments; its first byte arrived at 205.
  h.session.onData(1, rs.subarray(0, 40), 200);
  h.session.onData(1, rs.subarray(40, 41), 205);
  h.session.onData(1, rs.subarray(41), 210);
  h.session.onEnd(300);
  assert.deepEqual(summary(h.entries), [
    '2:b.example.test>:32/32:ok',
    '1:a.example.test>10.0.0.1:32/62:ok',
    '3:c.example.test>10.0.0.3:32/62:ok',
  ]);
  assert.equal(h.rec(0).transport, 'tcp');
  assert.equal(
    h.entries[1]!.elapsed,
    200 - 100,
    'response timed at its first byte (segment at 200)',
  );
});

test('TCP framing: any split of both directions gives the same entries (property)', () => {
  const client = tcp(...Array.from({ length: 6 }, (_, i) => query(100 + i, `n${i}.example.test`)));
  const server = tcp(
    ...Array.from({ length: 6 }, (_, i) =>
      answer(105 - i, `n${5 - i}.example.test`, [`10.0.0.${5 - i}`]),
    ),
  );
  const run = (cuts: [number[], number[]]): string[] => {
    const h = harness('tcp');
    for (const [dir, bytes] of [
      [0, client],
      [1, server],
    ] as const) {
      const points = [...new Set(cuts[dir].map((c) => c % (bytes.length + 1)))].sort(
        (a, b) => a - b,
      );
      let at = 0;
      for (const p of [...points, bytes.length]) {
        // Copy each chunk: the session must not keep views of its input.
        const chunk = Buffer.from(bytes.subarray(at, p));
        h.session.onData(dir, chunk, dir * 1000);
        chunk.fill(0xee);
        at = p;
      }
    }
    h.session.onEnd(5000);
    assert.equal(h.violations.length, 0);
    return summary(h.entries);
  };
  const whole = run([[], []]);
  assert.equal(whole.length, 6);
  assert.ok(whole.every((s) => s.endsWith(':ok')));
  fc.assert(
    fc.property(
      fc.array(fc.nat(), { maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (a, b) => {
        assert.deepEqual(run([a, b]), whole);
      },
    ),
    { numRuns: 300 },
  );
  // Byte by byte.
  assert.deepEqual(
    run([
      Array.from({ length: client.length }, (_, i) => i),
      Array.from({ length: server.length }, (_, i) => i),
    ]),
    whole,
  );
});

test('TCP: a gap inside a message drops that message only; a gap over a prefix resynchronises', () => {
  const h = harness('tcp');
  const q1 = query(1, 'a.example.test');
  const q2 = query(2, 'b.example.test');
  const q3 = query(3, 'c.example.test');
  const stream = tcp(q1, q2);
  h.session.onData(0, stream.subarray(0, 10), 0);
  h.session.onGap(0, 10, 1); // inside q1
  h.session.onData(0, stream.subarray(20), 2); // rest of q1, then q2
  h.session.onGap(0, 5, 3); // over the next prefix: framing lost
  h.session.onData(0, Buffer.from('garbage that is not dns'), 4);
  h.session.onData(0, tcp(q3), 5); // a segment starting with a message: back in sync
  h.session.onData(
    1,
    tcp(answer(2, 'b.example.test', ['10.0.0.2']), answer(3, 'c.example.test', ['10.0.0.3'])),
    6,
  );
  h.session.onEnd(7);
  assert.deepEqual(summary(h.entries), [
    '2:b.example.test>10.0.0.2:32/62:ok',
    '3:c.example.test>10.0.0.3:32/62:ok',
  ]);
  assert.equal(h.violations.length, 0);
});

test('TCP: a message cut short by the end of the connection is an error value', () => {
  const h = harness('tcp');
  h.session.onData(0, tcp(query(1, 'a.example.test')), 0);
  const r = tcp(answer(1, 'a.example.test', ['10.0.0.1']));
  h.session.onData(1, r.subarray(0, r.length - 4), 1);
  h.session.onEnd(2);
  assert.equal(h.entries.length, 1);
  assert.equal(h.entries[0]!.error?.code, 'KS_DISSECT_MALFORMED');
  assert.equal(h.entries[0]!.error?.message, 'message cut short by the end of the connection');
  assert.equal(h.rec(0).response?.id, 1);
  assert.equal(h.violations.length, 1);
});

test('TCP: a message above maxPduBytes is skipped and counted', () => {
  const h = harness('tcp', { maxPduBytes: 40 });
  const big = answer(1, 'a.example.test', ['10.0.0.1', '10.0.0.2']);
  h.session.onData(0, tcp(query(1, 'a.example.test')), 0);
  const r = tcp(big, answer(2, 'b.example.test', []));
  h.session.onData(1, r.subarray(0, 30), 1);
  h.session.onData(1, r.subarray(30), 2);
  h.session.onEnd(3);
  assert.equal(h.counters.hits.get('maxPduBytes'), 1);
  assert.deepEqual(summary(h.entries), ['-:->:0/32:ok', '1:a.example.test>-:32/0:KS_NO_RESPONSE']);
});

// ------------------------------------------------------------------ detection glue

test('dissector detection: both directions, endpoints reversed when the client side answers', () => {
  const q = query(1, 'a.example.test');
  const r = answer(1, 'a.example.test', ['10.0.0.1']);
  const empty = Buffer.alloc(0);
  const udp = {
    transport: 'udp' as const,
    portHint: false,
    clientEnded: false,
    serverEnded: false,
  };
  assert.equal(dnsDissector.detect(q, empty, udp), 'match');
  assert.equal(dnsDissector.detect(q, r, udp), 'match');
  assert.equal(dnsDissector.detect(empty, r, udp), 'match');
  assert.equal(dnsDissector.detect(r, empty, udp), 'match-reversed');
  assert.equal(dnsDissector.detect(r, q, udp), 'match-reversed');
  assert.equal(dnsDissector.detect(empty, q, udp), 'match-reversed');
  assert.equal(dnsDissector.detect(q, Buffer.from('not dns at all, really'), udp), 'no');
  assert.equal(dnsDissector.detect(empty, empty, udp), 'need-more');
  const t = { transport: 'tcp' as const, portHint: true, clientEnded: false, serverEnded: false };
  const framed = tcp(q);
  assert.equal(dnsDissector.detect(framed.subarray(0, 5), empty, t), 'need-more');
  assert.equal(
    dnsDissector.detect(framed.subarray(0, 5), empty, { ...t, clientEnded: true }),
    'no',
  );
  assert.equal(dnsDissector.detect(framed, empty, t), 'match');
  assert.deepEqual(dnsDissector.transports, ['udp', 'tcp']);
  assert.deepEqual(dnsDissector.defaultPorts, [53]);
});

test('mDNS style: ID 0 everywhere and responses without questions are paired by what they answer', () => {
  const h = harness('udp');
  const q = (name: string, type: 'A' | 'AAAA' | 'PTR'): Buffer =>
    dnsPacket.encode({ type: 'query', id: 0, flags: 0, questions: [{ type, name }] });
  const r = (name: string, type: 'A' | 'AAAA', data: string): Buffer =>
    dnsPacket.encode({
      type: 'response',
      id: 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: [],
      answers: [{ type, name, ttl: 120, data }],
    });
  h.session.onData(0, q('printer.local', 'A'), 1_000_000);
  h.session.onData(0, q('nas.local', 'A'), 1_000_100);
  h.session.onData(0, q('nas.local', 'AAAA'), 1_000_200);
  // Answered out of order; the name decides, then the type.
  h.session.onData(1, r('NAS.local', 'AAAA', 'fe80::1'), 1_002_000);
  h.session.onData(1, r('nas.local', 'A', '192.0.2.7'), 1_003_000);
  h.session.onData(1, r('printer.local', 'A', '192.0.2.9'), 1_004_000);
  // The same query sent again while unanswered is a retransmission of it.
  h.session.onData(0, q('scanner.local', 'A'), 1_005_000);
  h.session.onData(0, q('scanner.local', 'A'), 2_005_000);
  h.session.onEnd(3_000_000);
  const calls = h.entries.map((_, i) => {
    const rec = h.rec(i);
    return [
      rec.request?.questions[0]?.name,
      rec.request?.questions[0]?.type,
      rec.response?.answers[0]?.data,
      rec.retransmissions,
    ];
  });
  assert.deepEqual(calls, [
    ['nas.local', 'AAAA', 'fe80::1', undefined],
    ['nas.local', 'A', '192.0.2.7', undefined],
    ['printer.local', 'A', '192.0.2.9', undefined],
    ['scanner.local', 'A', undefined, 1],
  ]);
  assert.deepEqual(h.violations, []);
});
