#!/usr/bin/env bash
# Regenerates every capture under src/tap/dissectors/{http,ws,dns}/testdata and
# src/redact/testdata — each generator in a network namespace of its own (see in-netns.sh) — and
# scripts/capture/EXPECTED.md.
# Needs root, tcpdump, tshark, dnsmasq, dig and curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, tcpdump, port 53)" >&2; exit 1; }
for tool in tcpdump tshark dnsmasq dig curl ip; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
scripts/capture/in-netns.sh node --import tsx scripts/capture/http.ts
scripts/capture/in-netns.sh node --import tsx scripts/capture/ws.ts
scripts/capture/in-netns.sh bash scripts/capture/dns.sh
scripts/capture/in-netns.sh node --import tsx src/tap/dissectors/http/testdata/odd-request-lines.ts
scripts/capture/in-netns.sh node --import tsx src/redact/testdata/secrets.ts
bash scripts/capture/expected.sh
