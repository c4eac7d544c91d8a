/* global setInterval */
// Demo workloads for the end-to-end cluster test: run as pods of the simulated cluster
// (`node demo.mjs server|dns|client`), each bound to its own pod IP (POD_IP).
//   server: HTTP on :8080 — GET /api/items/<n> → JSON, GET /api/fail/<n> → 503
//   dns:    a DNS server on UDP :53 answering A queries with the address in DNS_ANSWER
//   client: every INTERVAL_MS, an HTTP call to http://$SERVER_HOST:8080 and a DNS query to
//           $DNS_HOST:53 for demo-server.demo.svc.cluster.local
import { createServer, request } from 'node:http';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import dnsPacket from 'dns-packet';

const role = process.argv[2];
const podIp = process.env.POD_IP ?? '127.0.0.1';

if (role === 'server') {
  createServer((req, res) => {
    const fail = req.url.startsWith('/api/fail');
    const body = JSON.stringify(fail ? { error: 'unavailable' } : { item: req.url, pod: podIp });
    res.writeHead(fail ? 503 : 200, { 'content-type': 'application/json' });
    res.end(body);
  }).listen(8080, podIp, () => console.log(`demo server on ${podIp}:8080`));
} else if (role === 'dns') {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    let q;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const answers = (q.questions ?? [])
      .filter((x) => x.type === 'A')
      .map((x) => ({ type: 'A', name: x.name, ttl: 30, data: process.env.DNS_ANSWER ?? podIp }));
    const res = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers,
    });
    sock.send(res, rinfo.port, rinfo.address);
  });
  sock.bind(53, podIp, () => console.log(`demo dns on ${podIp}:53`));
} else if (role === 'client') {
  const interval = Number(process.env.INTERVAL_MS ?? 200);
  // Names resolve through the pod's /etc/hosts (the simulated cluster DNS).
  const server = (await lookup(process.env.SERVER_HOST ?? 'demo-server')).address;
  const dnsHost = (await lookup(process.env.DNS_HOST ?? 'demo-dns')).address;
  const sock = createSocket('udp4');
  sock.bind(0, podIp);
  sock.on('message', () => {});
  let n = 0;
  setInterval(() => {
    n += 1;
    const path = n % 5 === 0 ? `/api/fail/${n}` : `/api/items/${n}`;
    const req = request({ host: server, port: 8080, path, localAddress: podIp, agent: false });
    req.on('response', (res) => res.resume());
    req.on('error', (e) => console.error(`http: ${e.message}`));
    req.end();
    const q = dnsPacket.encode({
      type: 'query',
      id: n % 65536,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'demo-server.demo.svc.cluster.local' }],
    });
    sock.send(q, 53, dnsHost);
  }, interval);
  console.log(`demo client ${podIp} → ${server}, dns ${dnsHost}`);
} else {
  console.error('usage: demo.mjs server|dns|client');
  process.exit(2);
}
