/**
 * Micro-benchmark of the HTTP session alone (no capture, no reassembly): request/response pairs
 * per second. A program, not a test:
 *
 *   node --import tsx scripts/bench/http-session.ts [pairs]
 */
import { defaultLimits, LimitCounters } from '../../src/util/limits.ts';
import type { Direction } from '../../src/tap/reassembly/types.ts';
import type { SessionContext } from '../../src/tap/dissectors/types.ts';
import { HttpSession } from '../../src/tap/dissectors/http/session.ts';

const defaultPairs = Number(process.argv[2] ?? 200_000);

const json = (n: number): string => {
  const items: { id: number; name: string; price: number; tags: string[] }[] = [];
  let s = '';
  for (let i = 0; (s = JSON.stringify({ items })).length < n; i++) {
    items.push({ id: i, name: `product-${i}`, price: i * 1.5, tags: ['a', 'b'] });
  }
  return s.slice(0, n - 1) + '}';
};
const body = json(1024);

const request = Buffer.from(
  'POST /api/v1/orders?customer=42&expand=items HTTP/1.1\r\n' +
    'Host: orders.shop.svc.cluster.local:8080\r\n' +
    'User-Agent: Go-http-client/1.1\r\n' +
    'Accept: application/json\r\n' +
    'Content-Type: application/json\r\n' +
    'Cookie: session=abc123; theme=dark\r\n' +
    'X-Request-Id: 7f1c1d0e-3b5a-4c6e-9d2f-8a7b6c5d4e3f\r\n' +
    `Content-Length: ${body.length}\r\n\r\n${body}`,
);
const response = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    'Date: Sat, 21 Nov 2026 12:00:00 GMT\r\n' +
    'Server: envoy\r\n' +
    'X-Envoy-Upstream-Service-Time: 3\r\n' +
    `Content-Length: ${body.length}\r\n\r\n${body}`,
);
const getRequest = Buffer.from(
  'GET /healthz HTTP/1.1\r\nHost: svc:8080\r\nUser-Agent: kube-probe/1.30\r\nAccept: */*\r\n\r\n',
);
const getResponse = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
);

/** Splits a message into TCP-segment-sized views (as reassembly delivers a large message). */
function segments(buf: Buffer, mss: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += mss) out.push(buf.subarray(i, i + mss));
  return out;
}

function run(name: string, req: Buffer[], res: Buffer[], pairs = defaultPairs): void {
  let emitted = 0;
  const ctx: SessionContext = {
    transport: 'tcp',
    flowId: 1,
    limits: defaultLimits,
    counters: new LimitCounters(),
    emit: () => {
      emitted++;
    },
    violation: (m) => {
      throw new Error(m);
    },
    handoff: () => undefined,
  };
  const feed = (s: HttpSession, dir: Direction, parts: Buffer[], ts: number) => {
    for (const p of parts) s.onData(dir, p, ts);
  };
  // Connections of 100 pairs each (keep-alive), as on a busy service.
  const once = (n: number) => {
    let s = new HttpSession(ctx);
    for (let i = 0; i < n; i++) {
      if (i % 100 === 0) {
        s.onEnd(i);
        s = new HttpSession(ctx);
      }
      feed(s, 0, req, i * 10);
      feed(s, 1, res, i * 10 + 5);
    }
    s.onEnd(n * 10);
  };
  once(Math.min(20_000, Math.ceil(pairs / 10))); // warm-up
  emitted = 0;
  const t0 = process.hrtime.bigint();
  once(pairs);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  if (emitted !== pairs) throw new Error(`${name}: emitted ${emitted} of ${pairs}`);
  const mb =
    ((req.reduce((n, b) => n + b.length, 0) + res.reduce((n, b) => n + b.length, 0)) * pairs) /
    sec /
    1e6;
  console.log(
    `${name.padEnd(44)} ${Math.round(pairs / sec)
      .toLocaleString('en-US')
      .padStart(10)} pairs/s  ${mb.toFixed(0).padStart(5)} MB/s`,
  );
}

console.log(
  `HTTP session, ${defaultPairs.toLocaleString('en-US')} pairs per case (node ${process.version})`,
);
run('POST + 1 KB JSON each way, one chunk each', [request], [response]);
run(
  'POST + 1 KB JSON each way, 536-byte segments',
  segments(request, 536),
  segments(response, 536),
);
run('GET /healthz, tiny response', [getRequest], [getResponse]);
const big = Buffer.alloc(256 * 1024, 0x61);
run(
  'POST 256 KB body, 1448-byte segments',
  segments(
    Buffer.concat([
      Buffer.from(`PUT /upload HTTP/1.1\r\nContent-Length: ${big.length}\r\n\r\n`),
      big,
    ]),
    1448,
  ),
  [getResponse],
  Math.max(100, Math.round(defaultPairs / 100)),
);
