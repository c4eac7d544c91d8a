// Traffic driver for generate.sh: real kernel sockets, run inside the fixture namespaces.
//   node traffic.mjs echo                      UDP echo server on :7 (v4+v6) and TCP echo on :7
//   node traffic.mjs send <host> <size> [tcp]  one UDP datagram of <size> bytes (waits for the
//                                              echo), or with `tcp` one TCP exchange
//   node traffic.mjs fire <host> <size>        one UDP datagram, no answer expected
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, host, size, proto] = process.argv.slice(2);
const PORT = 7007;

if (mode === 'echo') {
  for (const type of ['udp4', 'udp6']) {
    const s = dgram.createSocket(type === 'udp6' ? { type, ipv6Only: true } : { type });
    s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
    s.bind(PORT);
  }
  net.createServer((c) => c.pipe(c)).listen(PORT, '::');
} else if (mode === 'fire') {
  const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  s.send(Buffer.alloc(Number(size), 'kubeshark '), PORT, host, () => s.close());
} else if (mode === 'send') {
  const payload = Buffer.alloc(Number(size), 'kubeshark ');
  const done = setTimeout(() => process.exit(1), 3000);
  if (proto === 'tcp') {
    const c = net.connect(PORT, host, () => c.end(payload));
    let got = 0;
    c.on('data', (d) => (got += d.length));
    c.on('close', () => {
      clearTimeout(done);
      process.exit(got === payload.length ? 0 : 1);
    });
  } else {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    s.on('message', () => {
      clearTimeout(done);
      s.close();
    });
    s.send(payload, PORT, host);
  }
}
