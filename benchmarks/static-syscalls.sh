#!/usr/bin/env bash
# System calls per request on the static-file path: starts a server serving a 64 KiB file, warms it
# up with wrk, then runs `strace -c -f` attached to the whole server (every thread) while wrk sends
# keep-alive requests for a fixed time, and divides each system call's count by the number of
# requests wrk completed. Prints strace's table and the per-request figures.
#
#   benchmarks/static-syscalls.sh                     the Millrace demo server, 1 connection, 5 s
#   benchmarks/static-syscalls.sh --server nginx      nginx, sendfile + open_file_cache, 1 worker
#   options: --conns N (default 1) --duration S (default 5) --size BYTES (default 65536) --path P
#            (default the file; /hello works too)
#
# Threads that are not on the request path (timers, the stats sampler, GC) are counted too: with
# one connection that makes the figure an upper bound, and it is what strace sees. strace slows
# every system call down, so requests/s under strace mean nothing; only the ratios do. Holds
# /tmp/millrace-build.lock for the whole run; loopback only; the trap stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@") # for the re-run under the lock, after parsing

SERVER=millrace CONNS=1 DURATION=5 SIZE=65536 REQ_PATH=/files/file.bin
PORT=${PORT:-18081}
while [ $# -gt 0 ]; do
  case "$1" in
    --server) SERVER=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --path) REQ_PATH=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "static-syscalls.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

# Take the build lock only now, so that --help and bad options do not wait for it.
if [ -z "${STATIC_SYSCALLS_LOCKED:-}" ]; then
  exec env STATIC_SYSCALLS_LOCKED=1 flock /tmp/millrace-build.lock "$0" "${args[@]}"
fi
. scripts/env.sh
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v strace >/dev/null 2>&1 || need+=(strace)
[ "$SERVER" != nginx ] || command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/static-syscalls.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/www" "$work/nginx/logs"
head -c "$SIZE" /dev/urandom > "$work/www/file.bin"
chmod 755 "$work/www"; chmod 644 "$work/www/file.bin"
server_pid="" strace_pid=""
cleanup() {
  [ -z "$strace_pid" ] || kill -INT "$strace_pid" 2>/dev/null || true
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$SERVER" in
  millrace)
    [ -f demo-server/target/demo-server.jar ] || timeout 900 "${MVN[@]}" -q -DskipTests -pl demo-server -am package
    java -jar demo-server/target/demo-server.jar --port "$PORT" --workers 1 --root "$work/www" \
      --data-dir "$work/data" >"$work/server.log" 2>&1 &
    server_pid=$! ;;
  nginx)
    cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nodelay on; keepalive_requests 100000000;
  open_file_cache max=1000 inactive=60s; open_file_cache_valid 1s; open_file_cache_errors on;
  types { } default_type application/octet-stream;
  server {
    listen 127.0.0.1:$PORT;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!\n"; }
    location /files/ { alias $work/www/; }
  }
}
EOF
    "$(command -v nginx || echo /usr/sbin/nginx)" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' \
      >"$work/server.log" 2>&1 &
    server_pid=$! ;;
  *) echo "static-syscalls.sh: --server is millrace or nginx" >&2; exit 2 ;;
esac
for _ in $(seq 1 150); do curl -fs -o /dev/null "http://127.0.0.1:$PORT$REQ_PATH" && break; sleep 0.1; done
curl -fs -o /dev/null "http://127.0.0.1:$PORT$REQ_PATH"

url="http://127.0.0.1:$PORT$REQ_PATH"
timeout 60 wrk -t1 -c"$CONNS" -d3s "$url" >/dev/null # warm-up: JIT, caches, connection set-up
# nginx: attach to the worker processes too (-f follows forks, not processes that already exist).
pids="$server_pid"
[ "$SERVER" != nginx ] || pids="$server_pid $(pgrep -P "$server_pid" | tr '\n' ' ')"
strace_args=()
for p in $pids; do strace_args+=(-p "$p"); done
strace -c -f -o "$work/strace.txt" "${strace_args[@]}" 2>/dev/null &
strace_pid=$!
sleep 1 # strace attaches to every thread
out=$(timeout $(( DURATION + 30 )) wrk -t1 -c"$CONNS" -d"$DURATION"s "$url")
kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true; strace_pid=""
requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in.*/\1/p' <<<"$out")
echo "== $(date -u +%Y-%m-%dT%H:%MZ) $SERVER: GET $REQ_PATH ($SIZE bytes), wrk -t1 -c$CONNS -d${DURATION}s under strace -c -f: $requests requests"
echo "$out" | grep -E "Socket errors|Non-2xx" || true
cat "$work/strace.txt"
echo
echo "== system calls per request (calls / $requests requests, calls >= 0.01 per request)"
awk -v n="$requests" '
  /^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" {
    calls = $4; errors = (NF == 6) ? $5 : 0; name = $NF
    failed = (errors > 0) ? sprintf("  (%.2f failed)", errors / n) : ""
    if (calls / n >= 0.01) printf "  %-20s %6.2f%s\n", name, calls / n, failed
    total += calls
  }
  END { printf "  %-20s %6.2f\n", "all", total / n }' "$work/strace.txt"
