/**
 * The DNS dissector (UDP and TCP). Detection is by content in both directions; port 53 is a hint
 * that relaxes it to "any message that parses" (see parse.ts `assessDnsMessage`).
 *
 * mDNS (5353) and LLMNR (5355) are not DNS here, as in tshark (which dissects them as `mdns` and
 * `llmnr`, so they are not in its `dns` counts, the oracle's): their ports are not hints, and
 * without a hint detection takes only stub-resolver traffic, which they are not: it refuses RD
 * clear (mDNS and LLMNR queries, and their answers which copy the bit), ID 0 (mDNS) and
 * single-label names (LLMNR, NetBIOS). Mapping 5353/5355 to `dns` in `tap.portMapping` dissects
 * them as DNS. Detection cannot see ports, so this is decided by content alone.
 */
import type { Assessment } from './parse.ts';
import type { DetectContext, Detection, Dissector } from '../types.ts';
import { assessDnsMessage, assessDnsTcp } from './parse.ts';
import { dnsFields } from './fields.ts';
import { DnsSession } from './session.ts';
import { dnsView } from './view.ts';

export { dnsStatusCode } from './fields.ts';

type Side = Assessment | 'empty';

function assess(bytes: Buffer, ctx: DetectContext, ended: boolean): Side {
  if (bytes.length === 0) return 'empty';
  const strict = !ctx.portHint;
  const v =
    ctx.transport === 'udp'
      ? assessDnsMessage(bytes, bytes.length, strict)
      : assessDnsTcp(bytes, strict);
  return v === 'need-more' && ended ? 'no' : v;
}

/**
 * `client`/`server`: first datagram (UDP) or first bytes (TCP) of each side. Queries come from
 * the client: a response from the client side (or a query from the server side, with nothing
 * contradicting it) means the endpoints were guessed the wrong way round.
 */
export function detectDns(client: Buffer, server: Buffer, ctx: DetectContext): Detection {
  const c = assess(client, ctx, ctx.clientEnded);
  const s = assess(server, ctx, ctx.serverEnded);
  if (c === 'no' || s === 'no') return 'no';
  const cKnown = c === 'query' || c === 'response';
  const sKnown = s === 'query' || s === 'response';
  if (!cKnown && !sKnown) return 'need-more';
  const reversed = (c === 'response' && s !== 'response') || (!cKnown && s === 'query');
  return reversed ? 'match-reversed' : 'match';
}

export const dnsDissector: Dissector = {
  id: 'dns',
  transports: ['udp', 'tcp'],
  defaultPorts: [53],
  fields: dnsFields,
  detect: detectDns,
  createSession: (ctx) => new DnsSession(ctx),
  view: dnsView,
  enabledByDefault: true,
};
