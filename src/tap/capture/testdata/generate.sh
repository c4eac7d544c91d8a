#!/usr/bin/env bash
# Regenerates the capture-reader fixtures from real loopback traffic in a network namespace.
# Needs root, iproute2, tcpdump, mergecap and node (traffic driver: ../../decode/testdata).
#   lo-ns.pcap          Ethernet, nanosecond pcap (tcpdump --time-stamp-precision=nano -i lo)
#   any.pcap            Linux cooked v2, microsecond pcap (tcpdump -i any)
#   two-ifaces.pcapng   mergecap of the two: two interfaces with different link types and
#                       timestamp resolutions, packets interleaved in time order
# Big-endian files, Simple Packet Blocks, unknown blocks and odd resolutions are written by the
# tests themselves (test/helpers/capture-files.ts), because no tool on Linux produces them.
set -euo pipefail
cd "$(dirname "$0")"
traffic=../../decode/testdata/traffic.mjs
NS=kscap$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" node "$traffic" echo & pids+=($!)
ip netns exec "$NS" tcpdump -U -i lo --time-stamp-precision=nano -w lo-ns.pcap port 7007 2>/dev/null & pids+=($!)
ip netns exec "$NS" tcpdump -U -i any -w any.pcap port 7007 2>/dev/null & pids+=($!)
sleep 1
ip netns exec "$NS" node "$traffic" send 127.0.0.1 100
ip netns exec "$NS" node "$traffic" send ::1 200 tcp
ip netns exec "$NS" node "$traffic" send 127.0.0.1 300
sleep 1
kill "${pids[1]}" "${pids[2]}"
wait "${pids[1]}" "${pids[2]}" || true
mergecap -F pcapng -w two-ifaces.pcapng lo-ns.pcap any.pcap
capinfos -t -E -T -c -F lo-ns.pcap any.pcap two-ifaces.pcapng
