import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { assessDnsMessage, assessDnsTcp, dnsTcpPduLength, parseDnsMessage } from './parse.ts';

const RD = dnsPacket.RECURSION_DESIRED;

function response(answers: Answer[], extra: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 4242,
    flags: RD | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', name: 'svc.example.test' }],
    answers,
    ...extra,
  });
}

test('parses header, question and presentation-form record data', () => {
  const buf = response(
    [
      { type: 'CNAME', name: 'svc.example.test', ttl: 30, data: 'web.example.test' },
      { type: 'A', name: 'web.example.test', ttl: 60, data: '10.1.2.3' },
      { type: 'AAAA', name: 'web.example.test', ttl: 60, data: 'fd00::1' },
      {
        type: 'MX',
        name: 'example.test',
        ttl: 60,
        data: { preference: 10, exchange: 'mail.example.test' },
      },
      { type: 'TXT', name: 'example.test', ttl: 60, data: ['v=spf1 ', 'include:x -all'] },
      {
        type: 'SRV',
        name: '_http._tcp.example.test',
        ttl: 5,
        data: { priority: 1, weight: 2, port: 8080, target: 'web.example.test' },
      },
      { type: 'PTR', name: '3.2.1.10.in-addr.arpa', ttl: 5, data: 'web.example.test' },
      {
        type: 'CAA',
        name: 'example.test',
        ttl: 5,
        data: { flags: 0, tag: 'issue', value: 'ca.example' },
      },
    ],
    {
      authorities: [
        {
          type: 'SOA',
          name: 'example.test',
          ttl: 300,
          data: {
            mname: 'ns1.example.test',
            rname: 'hostmaster.example.test',
            serial: 7,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum: 60,
          },
        },
      ],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          flags: dnsPacket.DNSSEC_OK,
          options: [{ code: 10, data: Buffer.alloc(8) }],
        } as unknown as Answer,
      ],
    },
  );
  const r = parseDnsMessage(buf);
  assert.ok(r.ok);
  const m = r.message;
  assert.equal(m.id, 4242);
  assert.equal(m.opcode, 'QUERY');
  assert.equal(m.flags, 0x8000 | RD | dnsPacket.RECURSION_AVAILABLE);
  assert.equal(m.rcode, 'NOERROR');
  assert.equal(m.length, buf.length);
  assert.equal(r.consumed, buf.length);
  assert.deepEqual(m.questions, [{ name: 'svc.example.test', type: 'A', class: 'IN' }]);
  assert.deepEqual(
    m.answers.map((a) => `${a.type} ${a.data}`),
    [
      'CNAME web.example.test',
      'A 10.1.2.3',
      'AAAA fd00::1',
      'MX 10 mail.example.test',
      'TXT v=spf1 include:x -all',
      'SRV 1 2 8080 web.example.test',
      'PTR web.example.test',
      'CAA 0 issue "ca.example"',
    ],
  );
  assert.deepEqual(m.answers[1], {
    name: 'web.example.test',
    type: 'A',
    class: 'IN',
    ttl: 60,
    data: '10.1.2.3',
  });
  assert.equal(
    m.authorities[0]?.data,
    'ns1.example.test hostmaster.example.test 7 3600 600 86400 60',
  );
  assert.deepEqual(m.additionals[0], {
    name: '.',
    type: 'OPT',
    class: '',
    ttl: 0,
    data: 'version=0 udp=1232 do=true options=[COOKIE]',
  });
});

test('unknown types use the RFC 3597 generic form; HTTPS and SVCB are named', () => {
  const raw = Buffer.from('0001000003683200', 'hex');
  const buf = response([
    { type: 'UNKNOWN_65', name: 'svc.example.test', ttl: 5, data: raw } as unknown as Answer,
  ]);
  const r = parseDnsMessage(buf);
  assert.ok(r.ok);
  assert.deepEqual(r.message.answers[0], {
    name: 'svc.example.test',
    type: 'HTTPS',
    class: 'IN',
    ttl: 5,
    data: '\\# 8 0001000003683200',
  });
});

test('a record whose RDLENGTH disagrees with its type keeps the framing and shows raw data', () => {
  const buf = response([
    { type: 'A', name: 'a.example.test', ttl: 1, data: '10.0.0.1' },
    { type: 'A', name: 'b.example.test', ttl: 1, data: '10.0.0.2' },
  ]);
  // The first A record claims 5 bytes of data: rewrite it as 5 bytes, shifting the rest.
  const firstRdlen = buf.indexOf(Buffer.from([0, 4, 10, 0, 0, 1]));
  const bad = Buffer.concat([
    buf.subarray(0, firstRdlen),
    Buffer.from([0, 5, 10, 0, 0, 1, 0xff]),
    buf.subarray(firstRdlen + 6),
  ]);
  const r = parseDnsMessage(bad);
  assert.ok(r.ok);
  assert.deepEqual(
    r.message.answers.map((a) => a.data),
    ['\\# 5 0A000001FF', '10.0.0.2'],
  );
});

test('EDNS extended RCODE combines with the header RCODE', () => {
  const buf = response([], {
    flags: RD | 0,
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 512, extendedRcode: 1 } as Answer],
  });
  const r = parseDnsMessage(buf);
  assert.ok(r.ok);
  assert.equal(r.message.rcodeNumber, 16);
  assert.equal(r.message.rcode, 'BADVERS');
});

test('NXDOMAIN / SERVFAIL / unknown opcode names', () => {
  for (const [rcode, name] of [
    [3, 'NXDOMAIN'],
    [2, 'SERVFAIL'],
    [5, 'REFUSED'],
    [15, 'RCODE15'],
  ] as const) {
    const r = parseDnsMessage(response([], { flags: RD | rcode }));
    assert.ok(r.ok);
    assert.equal(r.message.rcodeNumber, rcode);
    assert.equal(r.message.rcode, name);
  }
  const q = dnsPacket.encode({
    type: 'query',
    id: 1,
    flags: 7 << 11,
    questions: [{ type: 'A', name: 'x.test' }],
  });
  const r = parseDnsMessage(q);
  assert.ok(r.ok);
  assert.equal(r.message.opcode, 'OPCODE7');
});

test('truncated message: error value with the header and what was read', () => {
  const buf = response([{ type: 'A', name: 'web.example.test', ttl: 60, data: '10.1.2.3' }]);
  const r = parseDnsMessage(buf.subarray(0, buf.length - 2));
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.match(r.error, /answer record 1/);
  assert.equal(r.message?.id, 4242);
  assert.deepEqual(r.message?.questions, [{ name: 'svc.example.test', type: 'A', class: 'IN' }]);
  assert.deepEqual(r.message?.answers, []);

  const short = parseDnsMessage(buf.subarray(0, 7));
  assert.ok(!short.ok);
  assert.equal(short.message, undefined);
  assert.match(short.error, /shorter than the 12-byte DNS header/);
});

test('never throws: random bytes and mutated messages', () => {
  const base = response([
    { type: 'A', name: 'web.example.test', ttl: 60, data: '10.1.2.3' },
    { type: 'TXT', name: 'web.example.test', ttl: 60, data: 'hello' },
  ]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      parseDnsMessage(Buffer.from(bytes));
      assessDnsMessage(Buffer.from(bytes), bytes.length, true);
      assessDnsMessage(Buffer.from(bytes), bytes.length, false);
      assessDnsTcp(Buffer.from(bytes), false);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
        maxLength: 6,
      }),
      (edits) => {
        const b = Buffer.from(base);
        for (const [at, v] of edits) b[at] = v;
        const r = parseDnsMessage(b);
        for (const a of r.message?.answers ?? []) assert.equal(typeof a.data, 'string');
      },
    ),
    { numRuns: 2000 },
  );
});

// ------------------------------------------------------------------ detection

const query = (id = 0x1234, name = 'api.default.svc.cluster.local', flags = RD): Buffer =>
  dnsPacket.encode({ type: 'query', id, flags, questions: [{ type: 'A', name }] });

test('detection: queries and responses with and without the port hint', () => {
  const q = query();
  assert.equal(assessDnsMessage(q, q.length, true), 'query');
  assert.equal(assessDnsMessage(q, q.length, false), 'query');
  const r = response([{ type: 'A', name: 'svc.example.test', ttl: 1, data: '10.0.0.1' }]);
  assert.equal(assessDnsMessage(r, r.length, true), 'response');
  // Trailing bytes: tolerated with a hint only.
  const padded = Buffer.concat([q, Buffer.alloc(3)]);
  assert.equal(assessDnsMessage(padded, padded.length, false), 'query');
  assert.equal(assessDnsMessage(padded, padded.length, true), 'no');
  // A header alone (zero questions) parses: DNS only with a hint.
  const bare = Buffer.from('abcd01000000000000000000', 'hex');
  assert.equal(assessDnsMessage(bare, bare.length, false), 'query');
  assert.equal(assessDnsMessage(bare, bare.length, true), 'no');
});

test('detection without a hint refuses mDNS, LLMNR, NetBIOS-style single labels and non-DNS UDP', () => {
  const no = (b: Buffer, why: string): void =>
    assert.equal(assessDnsMessage(b, b.length, true), 'no', why);
  no(query(0, 'printer.local', 0), 'mDNS query: ID 0, RD clear');
  no(
    dnsPacket.encode({
      type: 'response',
      id: 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      answers: [{ type: 'A', name: 'host.local', data: '10.0.0.9' }],
    }),
    'mDNS announcement',
  );
  no(query(0xa706, 'wpad', 0), 'LLMNR single-label query');
  no(query(0xa706, '1.122.168.192.in-addr.arpa', 0), 'LLMNR reverse query (RD clear)');
  no(query(0x1234, 'wpad'), 'single-label name');
  // QUIC v1 Initial (long header, version 1, 8-byte DCID…).
  no(Buffer.concat([Buffer.from('c30000000108', 'hex'), Buffer.alloc(1200, 0x5a)]), 'QUIC initial');
  // NTP v4 client request and a server reply.
  const ntp = Buffer.alloc(48);
  ntp[0] = 0x23;
  no(ntp, 'NTP client');
  const ntpReply = Buffer.from(
    '240203e80000001a000003c4c0a80001e9a1b2c3d4e5f60700000000000000000000000000000000000000000000000000',
    'hex',
  );
  no(ntpReply, 'NTP server');
  no(
    Buffer.from("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"),
    'syslog',
  );
  no(Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n'), 'SSDP');
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 12, maxLength: 600 }), (bytes) => {
      assert.equal(assessDnsMessage(Buffer.from(bytes), bytes.length, true), 'no');
    }),
    { numRuns: 5000 },
  );
});

test('detection over TCP checks the length prefix and waits for the first question', () => {
  const q = query();
  const framed = Buffer.concat([Buffer.from([0, q.length]), q]);
  assert.equal(dnsTcpPduLength(framed, 0), framed.length);
  assert.equal(dnsTcpPduLength(framed, framed.length - 1), undefined);
  assert.equal(assessDnsTcp(framed, true), 'query');
  assert.equal(assessDnsTcp(framed.subarray(0, 1), true), 'need-more');
  assert.equal(assessDnsTcp(framed.subarray(0, 10), true), 'need-more');
  assert.equal(assessDnsTcp(framed.subarray(0, 20), true), 'need-more');
  assert.equal(assessDnsTcp(framed.subarray(0, 20), false), 'need-more');
  assert.equal(assessDnsTcp(framed.subarray(0, framed.length - 2), true), 'need-more');
  // The first question is there, the rest (an OPT record) not yet: enough to tell.
  const edns = dnsPacket.encode({
    type: 'query',
    id: 9,
    flags: RD,
    questions: [{ type: 'A', name: 'example.test' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as Answer],
  });
  const partial = Buffer.concat([Buffer.from([0, edns.length]), edns]).subarray(0, edns.length - 5);
  assert.equal(assessDnsTcp(partial, true), 'query');
  assert.equal(assessDnsTcp(partial, false), 'query');
  // Two messages in a row; then one followed by a bogus prefix.
  assert.equal(assessDnsTcp(Buffer.concat([framed, framed]), true), 'query');
  assert.equal(assessDnsTcp(Buffer.concat([framed, Buffer.from([0, 3, 1, 2, 3])]), true), 'no');
  // A prefix that does not match the message (UDP-style payload on TCP).
  assert.equal(assessDnsTcp(q, true), 'no');
  assert.equal(assessDnsTcp(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), false), 'no');
});
