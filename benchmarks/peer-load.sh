#!/usr/bin/env bash
# Millrace against its peers, side by side in one run: the demo server, a minimal Netty 4.2 HTTP
# server (epoll and NIO transports; benchmarks/src/.../peer/NettyPlaintextServer.java) and nginx,
# started one after another on the same port with 2 worker / event-loop threads each, loaded with
# wrk on /hello, a 64 KiB file and a 1 MiB file at 64 and 256 connections.
#
#   benchmarks/peer-load.sh            3 rounds; each cell: 3 s warm-up, then 10 s measured (~18 min)
#   benchmarks/peer-load.sh --quick    1 round; each cell: 1 s warm-up, then 3 s measured (~2 min)
#   options: --rounds N --warmup S --duration S --conns "64 256" --servers "millrace netty-epoll netty-nio nginx"
#            --paths "/hello /files/64k.bin /files/1m.bin" --out FILE (raw output; default a temp file, printed at the end)
#
# Rounds interleave the servers (round 1: millrace, netty-epoll, netty-nio, nginx; round 2: the
# same...), so slow drift of the machine lands on all of them alike. Every server is started fresh
# for each round. Prints, per cell, the median over rounds of req/s, p50 and p99 latency, the spread
# (min-max req/s), socket errors and non-2xx answers summed over rounds, and Millrace's req/s over
# each peer's (of the medians, and within each round). Installs wrk and nginx with apt-get when
# missing. Traffic goes to 127.0.0.1 only.
# Holds /tmp/millrace-build.lock for the whole run (build included) so nothing else competes for
# the two cores; every wrk run has a hard timeout and the trap stops whatever server is running.
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@") # for the re-run under the lock, after parsing

ROUNDS=3 WARMUP=3 DURATION=10
CONNS="64 256"
SERVERS="millrace netty-epoll netty-nio nginx"
PATHS="/hello /files/64k.bin /files/1m.bin"
PORT=${PORT:-18080}
THREADS=2
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) ROUNDS=1 WARMUP=1 DURATION=3; shift ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    --paths) PATHS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "peer-load.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

# Take the build lock only now, so that --help and bad options do not wait for it.
if [ -z "${PEER_LOAD_LOCKED:-}" ]; then
  exec env PEER_LOAD_LOCKED=1 flock /tmp/millrace-build.lock "$0" "${args[@]}"
fi
. scripts/env.sh
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "== building demo-server and benchmarks"
timeout 900 "${MVN[@]}" -q -DskipTests -pl demo-server,benchmarks -am package

work=$(mktemp -d /tmp/peer-load.XXXXXX)
chmod 755 "$work"
root="$work/www"
mkdir -p "$root" "$work/nginx/logs"
head -c 65536 /dev/urandom > "$root/64k.bin"
head -c 1048576 /dev/urandom > "$root/1m.bin"
chmod 755 "$root"; chmod 644 "$root"/*
[ -n "$OUT" ] || OUT="$work/raw.txt"
rows="$work/rows.tsv"
: > "$OUT"; : > "$rows"

server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  case "$OUT" in "$work"/*) cp "$OUT" "/tmp/peer-load-last-raw.txt" 2>/dev/null || true ;; esac
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$work/nginx/nginx.conf" <<EOF
worker_processes $THREADS;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 100000000;
  keepalive_timeout 65s;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 1s;
  open_file_cache_errors on;
  types { }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$PORT backlog=8192;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!\n"; }
    location /files/ { alias $root/; }
  }
}
EOF

start_server() {
  local name=$1 log="$work/$1.log"
  case "$name" in
    millrace)
      rm -rf "$work/data"
      java -XX:+ExitOnOutOfMemoryError -jar demo-server/target/demo-server.jar --port "$PORT" --workers "$THREADS" \
        --root "$root" --data-dir "$work/data" --max-connections 4096 >"$log" 2>&1 & ;;
    netty-epoll|netty-nio)
      java -XX:+ExitOnOutOfMemoryError -cp benchmarks/target/benchmarks.jar io.millrace.bench.peer.NettyPlaintextServer \
        --transport "${name#netty-}" --port "$PORT" --threads "$THREADS" --root "$root" >"$log" 2>&1 & ;;
    nginx)
      "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' >"$log" 2>&1 & ;;
  esac
  server_pid=$!
  for _ in $(seq 1 150); do
    if curl -fs -o /dev/null "http://127.0.0.1:$PORT/hello" && curl -fs -o /dev/null "http://127.0.0.1:$PORT/files/64k.bin"; then
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "peer-load.sh: $name did not answer on port $PORT; its log:" >&2
  cat "$log" >&2
  exit 1
}

wrk_run() { # conns seconds path
  timeout $(( $2 + 30 )) wrk -t2 -c"$1" -d"$2"s --timeout 5s --latency "http://127.0.0.1:$PORT$3"
}

cells=$(( $(wc -w <<<"$SERVERS") * $(wc -w <<<"$PATHS") * $(wc -w <<<"$CONNS") ))
echo "== $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cores  JDK: $(java -version 2>&1 | head -1)  $("$NGINX" -v 2>&1)  $(wrk -v 2>&1 | head -1)"
echo "== $ROUNDS round(s) x $cells cells, each ${WARMUP}s warm-up + ${DURATION}s measured (wrk -t2): about $(( ROUNDS * cells * (WARMUP + DURATION + 1) / 60 + 1 )) min"
for round in $(seq 1 "$ROUNDS"); do
  for server in $SERVERS; do
    start_server "$server"
    label=$(head -1 "$work/$server.log" 2>/dev/null || true); [ "$server" != nginx ] || label=$("$NGINX" -v 2>&1)
    echo "-- round $round: $server ($label)" | tee -a "$OUT"
    for path in $PATHS; do
      for c in $CONNS; do
        wrk_run "$c" "$WARMUP" "$path" >/dev/null
        out=$(wrk_run "$c" "$DURATION" "$path")
        { echo "---- round=$round server=$server path=$path conns=$c"; echo "$out"; } >> "$OUT"
        python3 - "$round" "$server" "$path" "$c" "$out" >> "$rows" <<'PY'
import re, sys
rnd, server, path, conns, out = sys.argv[1:6]
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    n, u = float(m.group(1)), m.group(2)
    return n * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
errors = sum(int(g) for g in m.groups()) if m else 0
m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
non2xx = int(m.group(1)) if m else 0
print("\t".join(map(str, [rnd, server, path, conns, rps, p50, p99, errors, non2xx])))
PY
        tail -1 "$rows" | awk -F'\t' '{ printf "   %-16s c=%-4s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  socket errors %s  non-2xx %s\n", $3, $4, $5, $6, $7, $8, $9 }'
      done
    done
    stop_server
  done
done

echo
echo "== medians over $ROUNDS round(s) (spread: min-max req/s); errors summed over rounds"
python3 - "$rows" "$SERVERS" <<'PY'
import statistics, sys
from collections import defaultdict
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
servers = sys.argv[2].split()
cells = defaultdict(list)
order = []
for r in rows:
    key = (r[2], int(r[3]))
    if key not in order:
        order.append(key)
    cells[key + (r[1],)].append((float(r[4]), float(r[5]), float(r[6]), int(r[7]), int(r[8])))
med = {}
print("| path | conns | server | req/s (median) | spread | p50 ms | p99 ms | socket errors | non-2xx |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for path, c in order:
    for s in servers:
        v = cells.get((path, c, s))
        if not v:
            continue
        rps = statistics.median(x[0] for x in v)
        med[(path, c, s)] = (rps, statistics.median(x[2] for x in v))
        print(f"| {path} | {c} | {s} | {rps:,.0f} | {min(x[0] for x in v):,.0f}-{max(x[0] for x in v):,.0f} | "
              f"{statistics.median(x[1] for x in v):.3f} | {statistics.median(x[2] for x in v):.3f} | "
              f"{sum(x[3] for x in v)} | {sum(x[4] for x in v)} |")
peers = [s for s in servers if s != "millrace"]
if "millrace" in servers and peers:
    print()
    print("== Millrace over each peer: req/s ratio of medians (p99 ratio: Millrace's p99 / the peer's, lower is better)")
    print("| path | conns | " + " | ".join(f"vs {p} req/s | vs {p} p99" for p in peers) + " |")
    print("| --- | ---: | " + " | ".join("---: | ---:" for _ in peers) + " |")
    for path, c in order:
        m = med.get((path, c, "millrace"))
        if not m:
            continue
        cols = []
        for p in peers:
            q = med.get((path, c, p))
            cols += [f"{m[0] / q[0]:.2f}x", f"{m[1] / q[1]:.2f}x"] if q else ["-", "-"]
        print(f"| {path} | {c} | " + " | ".join(cols) + " |")
    print()
    print("== Millrace over each peer within each round (req/s): median of the rounds' ratios (min-max)")
    print("| path | conns | " + " | ".join(f"vs {p}" for p in peers) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in peers) + " |")
    by_round = {(r[2], int(r[3]), r[1], r[0]): float(r[4]) for r in rows}
    rounds = sorted({r[0] for r in rows}, key=int)
    for path, c in order:
        cols = []
        for p in peers:
            ratios = sorted(by_round[(path, c, "millrace", n)] / by_round[(path, c, p, n)] for n in rounds
                            if (path, c, "millrace", n) in by_round and (path, c, p, n) in by_round)
            cols.append(f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})" if ratios else "-")
        print(f"| {path} | {c} | " + " | ".join(cols) + " |")
PY
echo
echo "== raw wrk output: $OUT$(case "$OUT" in "$work"/*) echo " (copied to /tmp/peer-load-last-raw.txt on exit)";; esac)"
