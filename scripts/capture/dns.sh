#!/usr/bin/env bash
# DNS captures: dig against dnsmasq on 127.0.0.1:53, as a pod talks to its cluster DNS.
# Port 53 needs a namespace of our own: run through scripts/capture/in-netns.sh (all.sh does).
#   scripts/capture/in-netns.sh bash scripts/capture/dns.sh [udp|tcp]...
#
#   udp  dig: A, AAAA, MX, TXT, CNAME chain, SRV, PTR; NXDOMAIN, REFUSED, SERVFAIL (dnsmasq
#        forwards fail.test to an upstream that answers SERVFAIL); three queries from one dig.
#        glibc (getent ahosts, as most pods resolve): A and AAAA in parallel on one socket.
#        A server that never answers: dig asks twice, each time from a new port (two flows);
#        glibc asks A and AAAA twice on the same socket (retransmissions within one flow).
#   tcp  dig +tcp; dig +tcp +keepopen (several queries on one connection); a TXT answer too big
#        for UDP (truncated, TC set) that dig retries over TCP, where it spans several segments.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(cat /sys/class/net/lo/mtu)" = 1500 ] || { echo "run through scripts/capture/in-netns.sh" >&2; exit 2; }
out=src/tap/dissectors/dns/testdata
mkdir -p "$out"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "${tmp:-}"
}
trap cleanup EXIT

# 2 000 bytes of TXT (8 strings of 250): over dnsmasq's 1232-byte EDNS UDP limit.
big_txt=$(printf '"%0250d",' 1 2 3 4 5 6 7 8); big_txt=${big_txt%,}
dnsmasq --keep-in-foreground --port=53 --listen-address=127.0.0.1 --bind-interfaces \
  --no-resolv --no-hosts --user=root --pid-file= --log-facility=- --log-queries \
  --address=/example.test/10.1.2.3 \
  --host-record=web.example.test,10.1.2.4,fd00::4 \
  --cname=www.example.test,web.example.test \
  --mx-host=example.test,mail.example.test,10 \
  --txt-record=example.test,"v=spf1 -all" \
  --txt-record=big.example.test,"${big_txt//\"/}" \
  --srv-host=_http._tcp.example.test,web.example.test,8080,0,5 \
  --address=/nx.test/ \
  --server=/fail.test/127.0.0.3 \
  2>/dev/null &
pids+=($!)
exec {up}< <(node --import tsx scripts/capture/dns-upstreams.ts)
pids+=($!)
read -r -u "$up" ready && [ "$ready" = ready ]
for _ in $(seq 50); do dig +short +tries=1 +timeout=1 @127.0.0.1 web.example.test >/dev/null && break; sleep 0.1; done

# tcpdump on lo, stopped with SIGINT once the scenario is over (see lib.ts for the flags).
capture() {
  local name=$1; shift
  tcpdump -i lo -U --immediate-mode -B 32768 -Z root -w "$out/$name.pcap" 'port 53' 2>"$out/.tcpdump.log" &
  local td=$!
  until grep -q 'listening on' "$out/.tcpdump.log"; do sleep 0.05; done
  "$@"
  sleep 0.3
  kill -INT "$td"; wait "$td"
  grep -q '^0 packets dropped by kernel' "$out/.tcpdump.log" || { cat "$out/.tcpdump.log" >&2; exit 1; }
  rm -f "$out/.tcpdump.log"
  echo "$out/$name.pcap: $(stat -c %s "$out/$name.pcap") bytes"
}

q() { dig +tries=1 +timeout=2 @127.0.0.1 "$@" >/dev/null; }

# glibc's resolver with its own resolv.conf (a private mount namespace: the host's is untouched).
tmp=$(mktemp -d)
printf 'nameserver 127.0.0.1\n' >"$tmp/resolv.ok"
printf 'nameserver 127.0.0.2\noptions timeout:1 attempts:2\n' >"$tmp/resolv.lost"
glibc() { unshare --mount sh -c "mount --bind $tmp/resolv.$1 /etc/resolv.conf && getent ahosts $2" >/dev/null || true; }

udp_case() {
  q web.example.test A
  q web.example.test AAAA
  q example.test MX
  q example.test TXT
  q www.example.test A
  q _http._tcp.example.test SRV
  q -x 10.1.2.4
  q nx.test A
  q other.zone A
  q fail.test A
  q a.example.test b.example.test c.example.test
  glibc ok web.example.test
  dig +tries=2 +timeout=1 @127.0.0.2 lost.example.test A >/dev/null || true
  glibc lost lost.example.test
}

tcp_case() {
  q +tcp web.example.test A
  q +tcp +keepopen web.example.test AAAA example.test MX example.test TXT nx.test A
  q big.example.test TXT
}

cases=("$@"); [ ${#cases[@]} -gt 0 ] || cases=(udp tcp)
for c in "${cases[@]}"; do
  case $c in
    udp) capture udp udp_case ;;
    tcp) capture tcp tcp_case ;;
    *) echo "unknown case $c (udp, tcp)" >&2; exit 2 ;;
  esac
done
