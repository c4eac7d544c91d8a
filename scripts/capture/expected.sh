#!/usr/bin/env bash
# Writes scripts/capture/EXPECTED.md: what tshark counts in each generated capture, for golden
# tests. Definitions follow ../shared/corpus/make-oracle.sh: messages are counted by field
# occurrence (several PDUs in one frame count one by one), with default preferences.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v tshark >/dev/null || { echo "tshark not found" >&2; exit 1; }
conf=$(mktemp -d); trap 'rm -rf "$conf"' EXIT
export WIRESHARK_CONFIG_DIR=$conf

# What each capture exercises (by file name).
declare -A about=(
  [http/keepalive]='5 JSON GET/POST/DELETE calls on one kept-alive connection (Set-Cookie, Cookie, query string, 404)'
  [http/pipelined]='3 requests in one segment (GET, GET with query, POST JSON with Connection: close); 3 responses in order'
  [http/chunked]='chunked responses (streamed lines; one with trailers x-checksum, x-row-count) and a chunked POST body'
  [http/gzip-br]='Content-Encoding gzip and br with Content-Length, and a gzip stream sent chunked'
  [http/large-body]='POST with a 100 000-byte body, 200 with a 50 000-byte body, both over many segments'
  [http/continue-100]='Expect: 100-continue accepted (100, then body, then 201) and refused (417; body never sent, so tshark never completes that PUT)'
  [http/curl]='curl on one connection: GET (ETag), HEAD, conditional GET → 304, POST → 204, GET'
  [http/unanswered]='GET /ok answered, GET /hang never (server resets); 2nd connection: GET /slow, client gives up and closes'
  [http/odd-request-lines]='request lines servers still answer: "GET / HTTP/1.", "GET /HTTP/1.1", "OPTIONS HTTP/1.1", runs of spaces, tabs, lower-case and unknown methods (Node answers 200 or 400); HTTP/0.9 "GET /legacy.html" answered with a bare body and close'
  [http/bomb]='gzip response inflating to 10 MiB (decompression bomb), then a normal GET on the same connection'
  [ws/websocket]='Upgrade, server text first, text, binary, a text message in 3 fragments, ping/pong, close 4000 "bye" both ways'
  [ws/websocket-deflate]='permessage-deflate both ways (context takeover), repeated JSON, binary, a compressed message in 2 fragments, close'
  [dns/udp]='dig: A, AAAA, MX, TXT, CNAME chain, SRV, PTR, NXDOMAIN, REFUSED, SERVFAIL via a forwarder (dnsmasq → upstream, both on :53), 3 queries from one dig; glibc getent: A+AAAA on one socket; a dead server: dig asks twice from 2 ports, glibc asks A+AAAA twice on 1 socket (retransmissions), no responses'
  [dns/tcp]='dig +tcp; dig +tcp +keepopen (5 queries, one connection); 2 000-byte TXT: UDP answer truncated (TC), retried over TCP, answer spans 2 segments'
)

row() {
  local f=$1 key=${1#src/tap/dissectors/}; key=${key%.pcap}; key=${key/\/testdata/}
  tshark -n -r "$f" -T fields -E separator=/t -E occurrence=a -E aggregator='|' \
    -e frame.protocols -e tcp.stream -e udp.stream -e http.request.method -e http.response.code \
    -e websocket.opcode -e dns.flags.response 2>/dev/null |
  awk -F'\t' -v key="$key" -v about="${about[$key]:-}" -v bytes="$(stat -c %s "$f")" '
    function each(s, arr,   a, k, i) { k = (s == "" ? 0 : split(s, a, "|")); for (i = 1; i <= k; i++) arr[a[i]]++; return k }
    function before(a, b) { return (a ~ /^[0-9]+$/ && b ~ /^[0-9]+$/) ? a + 0 < b + 0 : a "" < b "" }
    # "name count" pairs in key order, names mapped through `names`.
    function list(arr, names,   k, n, i, j, t, keys, out) {
      n = 0; for (k in arr) keys[++n] = k
      for (i = 2; i <= n; i++) for (j = i; j > 1 && before(keys[j], keys[j - 1]); j--) { t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t }
      out = ""; for (i = 1; i <= n; i++) out = out (out == "" ? "" : ", ") ((keys[i] in names) ? names[keys[i]] : keys[i]) " " arr[keys[i]]
      return out
    }
    BEGIN { op[0] = "continuation"; op[1] = "text"; op[2] = "binary"; op[8] = "close"; op[9] = "ping"; op[10] = "pong" }
    {
      pk++
      if ($2 != "") tcp[$2] = 1
      if ($3 != "" && $1 ~ /:dns/) udp[$3] = 1
      req += each($4, meth); resp += each($5, code); ws += each($6, opc)
      if ($1 ~ /:dns/) {
        k = split($7, d, "|")
        for (i = 1; i <= k; i++) {
          isr = (d[i] == "1" || d[i] == "True")
          if ($1 ~ /:tcp:/) { if (isr) tr++; else tq++ } else { if (isr) ur++; else uq++ }
        }
      }
    }
    END {
      for (x in tcp) ntcp++; for (x in udp) nudp++
      http = req + resp ? sprintf("%d / %d (%s; %s)", req, resp, list(meth), list(code)) : "–"
      wsf = ws ? sprintf("%d (%s)", ws, list(opc, op)) : "–"
      dns = uq + ur + tq + tr ? sprintf("%d / %d (UDP %d/%d, TCP %d/%d)", uq + tq, ur + tr, uq, ur, tq, tr) : "–"
      printf "| `%s` | %s | %d | %d | %d | %s | %s | %s | %s |\n", key, bytes, pk, ntcp, nudp, http, wsf, dns, about
    }'
}

{
  echo '# Generated captures: what tshark counts'
  echo
  echo "Regenerate the captures with \`scripts/capture/all.sh\` (which rewrites this file). Counts by"
  echo "$(tshark --version 2>/dev/null | head -1 | sed 's/ (Git.*//'), default preferences. HTTP/WS run on port 8080 and DNS on 53,"
  echo 'so tshark needs no decode-as rule. HTTP req/resp count `http.request.method` / `http.response.code`'
  echo 'occurrences (a 100 Continue is a response); WS counts `websocket.opcode` occurrences (frames, not'
  echo 'messages); DNS counts `dns.flags.response` 0/1 per message. UDP flows: those carrying DNS.'
  echo 'Captures are deterministic in structure, not bytes (ports, IDs, times change on every run).'
  echo
  echo '| capture | bytes | packets | TCP conns | UDP flows | HTTP req / resp | WebSocket frames | DNS queries / responses | behaviour |'
  echo '|---|---:|---:|---:|---:|---|---|---|---|'
  for f in src/tap/dissectors/{http,ws,dns}/testdata/*.pcap; do row "$f"; done
  cat <<'NOTES'

## Notes for golden tests

- `http/continue-100`: tshark's 3 responses are 100, 201 and 417; its 1 request is the accepted
  PUT. The refused PUT announces a Content-Length whose body is never sent, so tshark never
  completes it; a dissector that emits it (headers only, answered by the 417) is right.
- `http/unanswered`: `/hang` ends with the server's RST, `/slow` with the client's FIN; neither
  has a response.
- `dns/udp`: entries are calls, so 20 DNS entries: 16 answered, 4 unanswered (KS_NO_RESPONSE).
  dig's retry comes from a new port (another flow, another entry); glibc's retries share the
  socket, so its A and AAAA entries carry `retransmissions: 1`. Entries with a request plus
  retransmissions = 22 = tshark's queries; entries with a response = 16.
- `dns/tcp`: 7 DNS entries, all answered (the truncated UDP answer, TC set, is one of them).
NOTES
} > scripts/capture/EXPECTED.md
echo "wrote scripts/capture/EXPECTED.md"
