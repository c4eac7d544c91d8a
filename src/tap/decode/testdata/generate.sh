#!/usr/bin/env bash
# Regenerates the decode fixtures from real kernel traffic in two network namespaces joined by a
# veth pair (MTU 1280). Needs root, iproute2, tcpdump, python3 and node.
#   frag.pcap    Ethernet; UDP datagrams larger than the MTU, IPv4 and IPv6, echoed back (the
#                kernel fragments them: real fragment trains in both directions)
#   sll.pcap     Linux cooked v1 (tcpdump -i any -y LINUX_SLL): UDP over IPv4, TCP over IPv6
#   sll2.pcap    Linux cooked v2 (tcpdump -i any): the same
#   rawip.pcap   raw IP (LINKTYPE_RAW) from a tun device: UDP over IPv4 and IPv6, and a
#                datagram larger than the tun MTU (raw IPv4 and IPv6 fragments)
# VLAN tags are not generated here (this kernel has no 802.1Q devices); the corpus has 802.1Q
# captures and the tests build QinQ frames.
set -euo pipefail
cd "$(dirname "$0")"
A=ksfixA$$
B=ksfixB$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$A"
ip netns add "$B"
ip link add veth0 netns "$A" type veth peer name veth0 netns "$B"
for n in 1 2; do
  ns=$([ $n = 1 ] && echo "$A" || echo "$B")
  ip -n "$ns" link set lo up
  ip -n "$ns" link set veth0 mtu 1280 up
  ip -n "$ns" addr add "10.9.0.$n/24" dev veth0
  ip -n "$ns" addr add "fd00::$n/64" dev veth0 nodad
done
ip netns exec "$A" python3 tun.py tun0 60 & pids+=($!)
sleep 0.5
ip -n "$A" link set tun0 mtu 1280 up
ip -n "$A" addr add 10.44.0.1/24 dev tun0
ip -n "$A" addr add fd66::1/64 dev tun0 nodad

ip netns exec "$B" node traffic.mjs echo & pids+=($!)
sleep 1

# capture <ns> <file> <tcpdump args…> -- "<traffic.mjs args>"… (the traffic runs in A)
capture() {
  local ns=$1 file=$2
  shift 2
  local args=()
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  shift
  ip netns exec "$ns" tcpdump -U -s 0 -w "$file" "${args[@]}" 2>/dev/null & local tp=$!
  sleep 1
  for t in "$@"; do ip netns exec "$A" node traffic.mjs $t; done
  sleep 1
  kill "$tp"
  wait "$tp" || true
}

capture "$A" frag.pcap -i veth0 udp -- "send 10.9.0.2 3000" "send fd00::2 3000" "send 10.9.0.2 1800"
capture "$B" sll.pcap -i any -y LINUX_SLL 'port 7007' -- "send 10.9.0.2 40" "send fd00::2 40 tcp"
capture "$B" sll2.pcap -i any 'port 7007' -- "send 10.9.0.2 40" "send fd00::2 40 tcp"
capture "$A" rawip.pcap -i tun0 udp or ip6 -- "fire 10.44.0.2 64" "fire fd66::2 64" "fire 10.44.0.2 2000" "fire fd66::2 2000"
for f in frag sll sll2 rawip; do printf '%s: ' "$f.pcap"; tcpdump -r "$f.pcap" 2>/dev/null | wc -l; done
