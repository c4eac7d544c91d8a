#!/usr/bin/env bash
# Runs a command in a fresh network namespace whose loopback behaves like a 1500-byte-MTU link
# without segmentation offload, so tcpdump sees wire-sized segments as on a pod's interface, and
# fixed well-known ports (53, 8080) cannot collide with anything on the host. Needs root.
#   scripts/capture/in-netns.sh node --import tsx scripts/capture/http.ts keepalive
set -euo pipefail
ns="kscap-$$"
ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip -n "$ns" link set lo mtu 1500 gso_max_size 1500 gso_max_segs 1 up
ip netns exec "$ns" "$@"
