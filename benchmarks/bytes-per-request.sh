#!/usr/bin/env bash
# Bytes allocated per request by the running demo server, beside requests/s, measured two ways:
#
#   Epsilon          the server runs with the Epsilon collector (it never frees); heap used, read
#                    with `jcmd <pid> GC.heap_info` before and after the measured wrk run, grows by
#                    what the run allocated; divided by wrk's request count.
#   thread counters  the server runs with the default collector; /metrics carries the bytes each
#                    pipeline thread allocated (com.sun.management.ThreadMXBean); their growth
#                    between a scrape before and one after the run, less what one scrape allocates
#                    (measured), divided by the requests the server completed (less the scrape).
#
# Endpoints: GET /hello, GET /kv/k (after one PUT of a small value), PUT /kv/k (small body) and
# GET /files/64k.bin (a 64 KiB file in a temporary --root). Each gets a warm-up run, a pause, then
# the measured run, with wrk on loopback only. Run it alone on the machine: the load generator
# shares the cores with the server.
#
#   benchmarks/bytes-per-request.sh            5 s warm-up, 10 s measured per endpoint (about 2.5 min)
#   QUICK=1 benchmarks/bytes-per-request.sh    1 s warm-up, 2 s measured (about 45 s)
#   JFR=1 benchmarks/bytes-per-request.sh      also a third run with JFR: top allocation sites
#                                              (benchmarks/AllocSites.java reads the recordings)
#
# Settings (environment): WARMUP and DURATION (whole seconds), WRK_THREADS (2), WRK_CONNECTIONS
# (64), WORKERS (server workers, 2), ENDPOINTS (any of: hello kv-get kv-put file), EPSILON_HEAP
# (-Xmx of the Epsilon run, 4g), EPSILON_TLAB (its largest TLAB, 64k: the error of one heap
# reading is at most one partly used TLAB per allocating thread), SCRAPES (scrapes averaged for the
# scrape's own cost, 20), JAVA_OPTS (more JVM flags for every run), MODES (epsilon threads, plus
# jfr with JFR=1), JFR_TOP (sites listed, 12), KEEP=1 (keep the temporary folder: logs, .jfr).
#
# Needs a JDK 21+ (found like ./run-demo), wrk and curl. Builds the demo jar if it
# is missing (mvn package); rebuild it yourself after changing the code.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
  WARMUP=${WARMUP:-1}; DURATION=${DURATION:-2}; SCRAPES=${SCRAPES:-10}; PAUSE=0.5
else
  WARMUP=${WARMUP:-5}; DURATION=${DURATION:-10}; SCRAPES=${SCRAPES:-20}; PAUSE=1
fi
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WORKERS=${WORKERS:-2}
ENDPOINTS=${ENDPOINTS:-hello kv-get kv-put file}
EPSILON_HEAP=${EPSILON_HEAP:-4g}
EPSILON_TLAB=${EPSILON_TLAB:-64k}
JAVA_OPTS=${JAVA_OPTS:-}
JFR=${JFR:-0}
JFR_TOP=${JFR_TOP:-12}
if [ "$JFR" = 1 ]; then MODES=${MODES:-epsilon threads jfr}; else MODES=${MODES:-epsilon threads}; fi
JAR=demo-server/target/demo-server.jar
KV_VALUE='a value of modest size'

for tool in wrk curl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bytes-per-request: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
if [ ! -f "$JAR" ]; then
  echo "== building $JAR" >&2
  "${MVN[@]}" -q -DskipTests -pl demo-server -am package
fi

tmp=$(mktemp -d)
server=""
stop_server() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
  fi
}
cleanup() {
  stop_server
  if [ "${KEEP:-0}" = 1 ]; then echo "== kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/root"
head -c 65536 /dev/urandom > "$tmp/root/64k.bin"
cat > "$tmp/put.lua" <<EOF
wrk.method = "PUT"
wrk.body = "$KV_VALUE"
wrk.headers["Content-Type"] = "application/octet-stream"
EOF

port=""
base=""
# $1 = mode, then JVM flags. Starts the demo server on a free loopback port (--port 0).
start_server() {
  local mode=$1; shift
  local log="$tmp/server-$mode.log"
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
  "$JAVA_HOME/bin/java" -XX:+ExitOnOutOfMemoryError "$@" $JAVA_OPTS -jar "$JAR" --address 127.0.0.1 --port 0 \
    --workers "$WORKERS" --root "$tmp/root" --max-connections 1024 >"$log" 2>&1 &
  server=$!
  port=""
  for _ in $(seq 1 150); do
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$log")
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "bytes-per-request: the server ($mode) did not start; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  base="http://127.0.0.1:$port"
  curl -fsS --max-time 5 -X PUT --data-binary "$KV_VALUE" "$base/kv/k" >/dev/null
}

path_of() {
  case $1 in
    hello) echo /hello ;;
    kv-get | kv-put) echo /kv/k ;;
    file) echo /files/64k.bin ;;
    *) echo "bytes-per-request: unknown endpoint '$1' (hello kv-get kv-put file)" >&2; exit 2 ;;
  esac
}

for ep in $ENDPOINTS; do path_of "$ep" >/dev/null; done # an unknown name stops here, before any server

# $1 = endpoint, $2 = seconds, $3 = output file. wrk, bounded by timeout.
run_wrk() {
  local script=()
  [ "$1" = kv-put ] && script=(-s "$tmp/put.lua")
  timeout $(($2 + 30)) wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$2s" "${script[@]}" "$base$(path_of "$1")" >"$3"
}

# Prints "pipeline-threads-bytes jvm-bytes completed accepted" from one /metrics scrape.
scrape() {
  curl -fsS --max-time 10 "$base/metrics" | awk '
    /^millrace_thread_allocated_bytes_total\{/ { t += $NF }
    /^millrace_jvm_allocated_bytes_total / { j = $NF }
    /^millrace_worker_completed_total\{/ { c += $NF }
    /^millrace_connections_accepted_total / { a = $NF }
    END { printf "%.0f %.0f %.0f %.0f\n", t, j, c, a }'
}

# Heap used now, in bytes, under Epsilon: top minus bottom of its one space.
heap_used() {
  timeout 30 "$JAVA_HOME/bin/jcmd" "$server" GC.heap_info |
    sed -n 's/.*\[0x\([0-9a-f]*\), 0x\([0-9a-f]*\), 0x[0-9a-f]*).*/\1 \2/p' |
    { read -r bottom top; echo $((16#$top - 16#$bottom)); }
}

# What one scrape cycle allocates on the pipeline's threads: the counters read by consecutive
# scrapes are one whole scrape apart (its response, the next one's connection, parsing and
# rendering up to the read), which is what a before/after pair has inside its interval.
scrape_cost() {
  local a b
  for _ in $(seq 1 "$SCRAPES"); do scrape >/dev/null; done # warm the path
  read -r a _ _ _ < <(scrape)
  for _ in $(seq 1 "$SCRAPES"); do scrape >/dev/null; done
  read -r b _ _ _ < <(scrape)
  echo $(((b - a) / SCRAPES))
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.1f", a / b }'; }
field() { awk -v key="$1" '$1 == key { print $2; exit }' "$2"; }

declare -A RPS BPR_EPS BPR_THR BPR_EPS_THR
echo "== $(date -u +%Y-%m-%dT%H:%MZ)  $(git rev-parse --short HEAD 2>/dev/null || echo '?')  JDK $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)  $(nproc) cores"
echo "== server workers $WORKERS; wrk -t$WRK_THREADS -c$WRK_CONNECTIONS, ${WARMUP} s warm-up, ${DURATION} s measured per endpoint"

for mode in $MODES; do
  case $mode in
    epsilon) flags=(-XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC "-Xmx$EPSILON_HEAP" "-XX:EpsilonMaxTLABSize=$EPSILON_TLAB") ;;
    threads) flags=() ;;
    jfr) flags=(-XX:TLABSize=16k -XX:-ResizeTLAB) ;; # a sample per TLAB: small ones for resolution
    *) echo "bytes-per-request: unknown mode '$mode' (epsilon threads jfr)" >&2; exit 2 ;;
  esac
  start_server "$mode" "${flags[@]}"
  echo "== $mode: server pid $server on $base, JVM flags: ${flags[*]:-(defaults)} $JAVA_OPTS"
  for ep in $ENDPOINTS; do
    run_wrk "$ep" "$WARMUP" "$tmp/warmup-$mode-$ep.txt"
    sleep "$PAUSE" # the warm-up's connections close
    read -r t0 j0 c0 a0 < <(scrape)
    h0=0; [ "$mode" = epsilon ] && h0=$(heap_used)
    # The recording leaves the scrapes out: one allocates far more than a request.
    [ "$mode" = jfr ] && timeout 30 "$JAVA_HOME/bin/jcmd" "$server" JFR.start name="$ep" settings=profile \
      'jdk.ObjectAllocationSample#throttle=5000/s' >/dev/null
    run_wrk "$ep" "$DURATION" "$tmp/wrk-$mode-$ep.txt"
    [ "$mode" = jfr ] && timeout 60 "$JAVA_HOME/bin/jcmd" "$server" JFR.stop name="$ep" filename="$tmp/$ep.jfr" >/dev/null
    h1=0; [ "$mode" = epsilon ] && h1=$(heap_used)
    read -r t1 j1 c1 a1 < <(scrape)
    out="$tmp/wrk-$mode-$ep.txt"
    requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out")
    rps=$(field 'Requests/sec:' "$out")
    errors=$(grep -E 'Socket errors|Non-2xx' "$out" | tr -s ' ' | paste -sd ';' - || true)
    served=$((c1 - c0 - 1)) # the scrape before the run completes inside the interval
    echo "$mode $ep $rps $requests $served $((a1 - a0 - 1)) $((t1 - t0)) $((j1 - j0)) $((h1 - h0)) ${errors:-ok}" >>"$tmp/raw-$mode.txt"
  done
  cost=$(scrape_cost)
  echo "$cost" >"$tmp/scrape-$mode.txt"
  if [ "$mode" = epsilon ]; then
    used=$(heap_used)
    echo "== epsilon: heap used at the end $((used >> 20)) MiB of $EPSILON_HEAP"
  fi
  stop_server
  # Per endpoint: the raw counts, then bytes per request.
  while read -r _ ep rps requests served conns dt dj dh errors; do
    threads_bpr=$(div "$((dt - cost))" "$served")
    case $mode in
      epsilon) BPR_EPS[$ep]=$(div "$dh" "$requests"); BPR_EPS_THR[$ep]=$threads_bpr ;;
      threads) RPS[$ep]=$rps; BPR_THR[$ep]=$threads_bpr ;;
    esac
    printf '   %-7s %9s req/s  requests: wrk %s, server %s  connections %s  allocated: pipeline threads %s B, JVM %s B%s  %s\n' \
      "$ep" "$rps" "$requests" "$served" "$conns" "$dt" "$dj" "$([ "$mode" = epsilon ] && echo ", heap growth $dh B")" "$errors"
    printf '           B/request: pipeline threads %s, all JVM threads %s%s\n' "$threads_bpr" \
      "$(div "$((dj - cost))" "$served")" "$([ "$mode" = epsilon ] && echo ", Epsilon heap $(div "$dh" "$requests")")"
  done <"$tmp/raw-$mode.txt"
  echo "   one scrape cycle allocates $cost B on the pipeline's threads (mean of $SCRAPES); subtracted once above"
done

echo
echo "| endpoint | req/s | B/request (Epsilon) | B/request (thread counters) | B/request (thread counters, Epsilon run) |"
echo "| --- | ---: | ---: | ---: | ---: |"
for ep in $ENDPOINTS; do
  case $ep in
    hello) name='`GET /hello`' ;;
    kv-get) name='`GET /kv/k`' ;;
    kv-put) name='`PUT /kv/k` (22 B body)' ;;
    file) name='`GET /files/64k.bin`' ;;
  esac
  echo "| $name | ${RPS[$ep]:-n/a} | ${BPR_EPS[$ep]:-n/a} | ${BPR_THR[$ep]:-n/a} | ${BPR_EPS_THR[$ep]:-n/a} |"
done
echo "(req/s and thread counters: the default collector's run; Epsilon: heap growth in the Epsilon run / wrk's requests;"
echo " last column: the thread counters of that same Epsilon run, a check of the two methods on one process)"

if [[ " $MODES " == *" jfr "* ]]; then
  for ep in $ENDPOINTS; do
    echo
    echo "== top allocation sites, $ep (JFR jdk.ObjectAllocationSample, by sampled weight)"
    served=$(awk -v ep="$ep" '$2 == ep { print $5 }' "$tmp/raw-jfr.txt")
    timeout 120 "$JAVA_HOME/bin/java" benchmarks/AllocSites.java "$tmp/$ep.jfr" "$JFR_TOP" "$served"
  done
fi
