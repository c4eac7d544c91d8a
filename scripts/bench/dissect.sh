#!/usr/bin/env bash
# Benchmark: `kubeshark dissect` vs tshark on the same large HTTP/1.1 capture, in one run.
# Builds (or reuses) .bench/http-50k.pcap: ≥ 50,000 request/response pairs from a real Node
# http server and client on loopback (keep-alive and fresh connections, ~1 KB JSON bodies),
# captured with tcpdump. Prints pairs/second for both, the ratio, and our peak RSS.
# Usage: scripts/bench/dissect.sh [pairs]   (needs root for tcpdump when the capture is built)
set -euo pipefail
cd "$(dirname "$0")/../.."
PAIRS=${1:-50000}
OUT=.bench/http-${PAIRS}.pcap
PORT=18080
mkdir -p .bench

if [ ! -s "$OUT" ]; then
  echo "building $OUT ($PAIRS pairs)…" >&2
  tcpdump --immediate-mode -i lo -s 0 -B 262144 -U -w "$OUT.tmp" "tcp port $PORT" 2> .bench/tcpdump.log &
  TCPDUMP=$!
  for _ in $(seq 50); do grep -q "listening on" .bench/tcpdump.log && break; sleep 0.1; done
  node --import tsx scripts/bench/gen-http.ts "$PORT" "$PAIRS" >&2
  sleep 1
  kill -INT "$TCPDUMP"; wait "$TCPDUMP" || true
  grep -E "dropped" .bench/tcpdump.log >&2 || true
  mv "$OUT.tmp" "$OUT"
fi

[ -x dist/kubeshark ] || npm run build >&2
SIZE=$(stat -c %s "$OUT")
echo "capture: $OUT ($((SIZE / 1024 / 1024)) MiB, $(capinfos -c -M "$OUT" | awk '/Number of packets/ {print $NF}') packets)"

# Ours: entries to /dev/null, GNU time for wall time and peak RSS; one process, then two.
ours() { # $1: workers → "seconds rss_kb pairs"
  /usr/bin/time -f "%e %M" -o .bench/ours.time \
    dist/kubeshark dissect -q --workers "$1" -o jsonl "$OUT" > .bench/ours.jsonl
  echo "$(cut -d' ' -f1 .bench/ours.time) $(cut -d' ' -f2 .bench/ours.time) $(grep -c '"http":true' .bench/ours.jsonl || true)"
}
read -r OURS_S OURS_RSS_KB OURS_PAIRS <<< "$(ours 1)"
read -r OURS2_S OURS2_RSS_KB OURS2_PAIRS <<< "$(ours 2)"

/usr/bin/time -f "%e %M" -o .bench/tshark.time \
  tshark -r "$OUT" -Y http -T fields -e http.request.method -e http.response.code > .bench/tshark.txt 2>/dev/null
TSHARK_S=$(cut -d' ' -f1 .bench/tshark.time)
TSHARK_RSS_KB=$(cut -d' ' -f2 .bench/tshark.time)
TSHARK_RESP=$(awk -F'\t' '$2 != ""' .bench/tshark.txt | wc -l)

awk -v p="$OURS_PAIRS" -v s="$OURS_S" -v rss="$OURS_RSS_KB" \
    -v p2="$OURS2_PAIRS" -v s2="$OURS2_S" -v rss2="$OURS2_RSS_KB" \
    -v tp="$TSHARK_RESP" -v ts="$TSHARK_S" -v trss="$TSHARK_RSS_KB" 'BEGIN {
  if (s < 0.01) s = 0.01; if (s2 < 0.01) s2 = 0.01; if (ts < 0.01) ts = 0.01;
  t = tp / ts;
  printf "tshark:                  %6d pairs in %5.2fs = %7.0f pairs/s, peak RSS %4.0f MB\n", tp, ts, t, trss / 1024;
  printf "kubeshark (1 process):   %6d pairs in %5.2fs = %7.0f pairs/s, peak RSS %4.0f MB, %.1fx tshark\n", p, s, p / s, rss / 1024, (p / s) / t;
  printf "kubeshark (--workers 2): %6d pairs in %5.2fs = %7.0f pairs/s, peak RSS %4.0f MB per process, %.1fx tshark\n", p2, s2, p2 / s2, rss2 / 1024, (p2 / s2) / t;
  printf "target: >= 20x tshark\n";
}'
