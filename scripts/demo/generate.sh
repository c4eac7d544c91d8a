#!/usr/bin/env bash
# Regenerates demo/shop.pcap: real servers and clients inside a private network namespace
# (so the capture has ordinary ports and nothing else), captured with tcpdump. Needs root,
# tcpdump, dig (dnsutils) and iproute2.
set -euo pipefail
cd "$(dirname "$0")/../.."
NS=ksdemo$$
ip netns add "$NS"
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" node --import tsx scripts/demo/generate.ts demo/shop.pcap
echo "wrote demo/shop.pcap"
