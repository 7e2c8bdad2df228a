#!/usr/bin/env bash
# Loads the demo server with wrk on /hello, a 64 KiB file (sendfile) and /kv, then checks that every
# pooled buffer went back once the load stopped. Installs wrk with apt-get if it is missing.
#
#   benchmarks/load-test.sh              10 s per endpoint, wrk -t2 -c64
#   DURATION=60s benchmarks/load-test.sh
#
# Loopback only: the server listens on 127.0.0.1. Finds a JDK 21+ like the README commands.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
DURATION=${DURATION:-10s}
PORT=${PORT:-18080}
WORKERS=${WORKERS:-2}

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk (apt-get)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi
[ -f demo-server/target/demo-server.jar ] || "${MVN[@]}" -q -DskipTests -pl demo-server -am package

root=$(mktemp -d)
head -c 65536 /dev/urandom > "$root/64k.bin"
log=$(mktemp)
java -jar demo-server/target/demo-server.jar --port "$PORT" --workers "$WORKERS" --root "$root" --data-dir "$root/data" --max-connections 1024 >"$log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/hello" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs -X PUT --data-binary 'a value of modest size' "http://127.0.0.1:$PORT/kv/bench" >/dev/null

echo "== $(date -u +%Y-%m-%dT%H:%MZ)  JDK $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)  $(nproc) cores  server workers $WORKERS"
errors=0
for path in /hello /files/64k.bin /kv/bench; do
  echo "== wrk -t2 -c64 -d$DURATION --latency http://127.0.0.1:$PORT$path"
  out=$(wrk -t2 -c64 -d"$DURATION" --latency "http://127.0.0.1:$PORT$path")
  echo "$out" | grep -E "Requests/sec|Transfer/sec|^\s+(50|75|90|99)%|Socket errors|Non-2xx|requests in"
  if echo "$out" | grep -q "Socket errors"; then errors=1; else echo "    socket errors: none"; fi
done

sleep 3 # let idle turns sweep and drain cross-thread returns
live=$(curl -fs "http://127.0.0.1:$PORT/metrics" | awk '/^millrace_pool_live\{pool="chunks"/ { s += $2 } END { print s + 0 }')
echo "== pooled chunks still in use after the load: $live"
kill -TERM "$server"; wait "$server"; status=$?
echo "== server exit status after SIGTERM: $status"
[ "$errors" -eq 0 ] && [ "$live" -eq 0 ] && [ "$status" -eq 0 ]
