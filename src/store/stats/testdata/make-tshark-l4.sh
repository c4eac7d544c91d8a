#!/usr/bin/env bash
# make-tshark-l4.sh -- the tshark side of l4.test.ts: per-direction packet and byte totals of
# every TCP and UDP conversation of a capture, plus tshark's own conversation tables.
#
# Usage: ./make-tshark-l4.sh CAPTURE NAME   (from this directory; writes NAME.*)
#   NAME.conv.txt   `tshark -q -z conv,tcp -z conv,udp` as printed (frames exact, bytes rounded)
#   NAME.dirs.tsv   one line per direction of a conversation (the first, i.e. outer, IP header
#                   and ports of each frame; ICMP errors quoting a TCP/UDP header are left out):
#     proto src sport dst dport   the direction
#     packets frame_bytes         as tshark counts them (frame bytes = Ethernet header + IP packet
#                                 + padding of frames shorter than 60 bytes)
#     ip_bytes                    IPv4 total length, or IPv6 payload length + 40
#     trailing_packets trailing_ip_bytes
#                                 TCP packets without payload and without SYN that arrive within
#                                 60 s after the tuple was closed (its second FIN, or an RST):
#                                 the final ACK of the close, late FIN retransmissions. tshark
#                                 counts them in the conversation; kubeshark's TCP assembler drops
#                                 them (CLOSED_TUPLE_LINGER_US) instead of opening a new connection.
# tshark runs with an empty configuration directory so personal preferences cannot change it.
set -euo pipefail
cap=$1 name=$2
CONF=$(mktemp -d)
trap 'rm -rf "$CONF"' EXIT
export WIRESHARK_CONFIG_DIR="$CONF"
tshark -v 2>/dev/null | head -1 > "$name.conv.txt"
tshark -r "$cap" -q -z conv,tcp -z conv,udp 2>/dev/null >> "$name.conv.txt"
{
  printf 'proto\tsrc\tsport\tdst\tdport\tpackets\tframe_bytes\tip_bytes\ttrailing_packets\ttrailing_ip_bytes\n'
  tshark -r "$cap" -Y 'tcp or udp' -T fields -E occurrence=f \
    -e frame.time_epoch -e frame.len -e frame.protocols \
    -e ip.src -e ip.dst -e ip.len -e ipv6.src -e ipv6.dst -e ipv6.plen \
    -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.fin -e tcp.flags.reset -e tcp.len \
    -e udp.srcport -e udp.dstport 2>/dev/null |
  awk -F'\t' '
    {
      # Outer transport first; ICMP errors quoting a TCP/UDP header are not TCP/UDP traffic.
      pr = ":" $3 ":"; t = index(pr, ":tcp:"); u = index(pr, ":udp:")
      first = (t > 0 && (u == 0 || t < u)) ? t : u
      ic = index(pr, ":icmp:"); ic6 = index(pr, ":icmpv6:")
      if ((ic > 0 && ic < first) || (ic6 > 0 && ic6 < first)) next
      if ($4 != "") { s = $4; d = $5; l = $6 } else { s = $7; d = $8; l = $9 + 40 }
      if (t == first) { p = "tcp"; sp = $10; dp = $11 } else { p = "udp"; sp = $16; dp = $17 }
      k = p "\t" s "\t" sp "\t" d "\t" dp
      n[k]++; fb[k] += $2; ib[k] += l
      if (p != "tcp") next
      # The tuple (both directions) and who sent this packet.
      if (s "|" sp < d "|" dp) { c = s "|" sp "|" d "|" dp; dir = "a" } else { c = d "|" dp "|" s "|" sp; dir = "b" }
      ts = $1 + 0; syn = ($12 == 1); fin = ($13 == 1); rst = ($14 == 1); len = $15 + 0
      if (closed[c] && ts - closedAt[c] <= 60) {
        if (!syn && len == 0) { tn[k]++; tb[k] += l; next }
      }
      if (closed[c]) { closed[c] = 0; fa[c] = 0; fbx[c] = 0 }
      if (rst) { closed[c] = 1; closedAt[c] = ts; next }
      if (fin) { if (dir == "a") fa[c] = 1; else fbx[c] = 1 }
      if (fa[c] && fbx[c]) { closed[c] = 1; closedAt[c] = ts }
    }
    END { for (k in n) printf "%s\t%d\t%d\t%d\t%d\t%d\n", k, n[k], fb[k], ib[k], tn[k], tb[k] }' |
  sort
} > "$name.dirs.tsv"
