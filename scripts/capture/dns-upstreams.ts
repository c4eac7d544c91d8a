/**
 * Two misbehaving DNS servers for scripts/capture/dns.sh, on port 53 of extra loopback addresses:
 * 127.0.0.2 never answers (queries time out and are retransmitted) and 127.0.0.3 answers every
 * query with SERVFAIL (dnsmasq forwards `fail.test` to it). Prints "ready" once both listen;
 * stops on SIGTERM.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import dnsPacket from 'dns-packet';

const blackhole = dgram.createSocket('udp4');
const servfail = dgram.createSocket('udp4');
servfail.on('message', (msg, peer) => {
  let query: dnsPacket.DecodedPacket;
  try {
    query = dnsPacket.decode(msg);
  } catch {
    return;
  }
  const reply = dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 2, // RCODE 2: SERVFAIL
    questions: query.questions,
  });
  servfail.send(reply, peer.port, peer.address);
});
blackhole.bind(53, '127.0.0.2');
servfail.bind(53, '127.0.0.3');
await Promise.all([once(blackhole, 'listening'), once(servfail, 'listening')]);
console.log('ready');
process.on('SIGTERM', () => {
  blackhole.close();
  servfail.close();
});
