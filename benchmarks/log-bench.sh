#!/usr/bin/env bash
# The durable log's benchmarks, beside this machine's measured disk limits, all in one run:
#   1. the disk: a 4 KiB write + fdatasync loop (sync latency) and dd with conv=fdatasync (bandwidth);
#   2. durable appends/s through the library API (no HTTP), 100-byte records, at 1, 16 and 256
#      appenders: group commit with the force on the worker / on the sync thread, a force per record,
#      and no force at all (each with the latency of another request on the log's worker);
#   3. 64 KiB records written sequentially with one force at the end, against dd;
#   4. reads: ranges sent by sendfile against the same ranges read into the heap and written;
#   5. POST /log over HTTP (wrk + a Lua script), both force modes.
#
#   benchmarks/log-bench.sh            about 3 minutes
#   QUICK=1 benchmarks/log-bench.sh    1 s per append case, no wrk (a smoke run)
#   DIR=/some/disk benchmarks/log-bench.sh   measure another file system (default: a temp dir under benchmarks/target)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
QUICK=${QUICK:-0}
SECS=3; [ "$QUICK" = 1 ] && SECS=1
PORT=${PORT:-18090}
[ -f benchmarks/target/benchmarks.jar ] && [ -f demo-server/target/demo-server.jar ] \
  || "${MVN[@]}" -q -DskipTests -pl benchmarks,demo-server -am package
DIR=${DIR:-$(pwd)/benchmarks/target/log-bench}
mkdir -p "$DIR"
trap 'rm -rf "$DIR"/append-* "$DIR"/seq-* "$DIR"/reads-* "$DIR"/dd.bin "$DIR"/http-data' EXIT
CP=(java --add-exports java.base/jdk.internal.misc=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar)
echo "== $(date -u +%Y-%m-%dT%H:%MZ)  JDK $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)  $(nproc) cores  dir $DIR ($(df -h "$DIR" | awk 'NR==2 {print $1}'))"

echo "== 1. the disk"
"${CP[@]}" io.millrace.bench.log.SyncLoop 4096 $([ "$QUICK" = 1 ] && echo 500 || echo 3000) "$DIR"
dd_mib=$([ "$QUICK" = 1 ] && echo 64 || echo 512)
echo "dd bs=64k count=$((dd_mib * 16)) conv=fdatasync: $(dd if=/dev/zero of="$DIR/dd.bin" bs=64k count=$((dd_mib * 16)) conv=fdatasync 2>&1 | tail -1)"
rm -f "$DIR/dd.bin"

echo "== 2. durable appends/s through the library (100-byte records, one partition log, 2 workers)"
for appenders in 1 16 256; do
  for mode in group-worker group-sync per-record none; do
    "${CP[@]}" io.millrace.bench.log.LogAppendHarness "$mode" "$appenders" 100 "$SECS" "$DIR"
  done
done

echo "== 3. sequential 64 KiB records, one force at the end (compare with dd above)"
"${CP[@]}" io.millrace.bench.log.SequentialAppend 65536 "$dd_mib" 16 "$DIR"
"${CP[@]}" io.millrace.bench.log.LogAppendHarness group-worker 16 65536 "$SECS" "$DIR"

echo "== 4. reads to a loopback socket: sendfile vs heap copy (4 KiB records, 1 MiB ranges)"
"${CP[@]}" io.millrace.bench.log.RangeReadHarness 4096 $([ "$QUICK" = 1 ] && echo 64 || echo 512) 1048576 3 "$DIR"

[ "$QUICK" = 1 ] && exit 0
echo "== 5. POST /log over HTTP: wrk -t2 -c256 -d10s, 100-byte bodies (benchmarks/post-log.lua)"
command -v wrk >/dev/null 2>&1 || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"; $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null; }
for force in worker sync-thread; do
  rm -rf "$DIR/http-data"
  java -jar demo-server/target/demo-server.jar --port "$PORT" --workers 2 --data-dir "$DIR/http-data" \
    --log-force "$force" --max-connections 1024 >"$DIR/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/hello" >/dev/null 2>&1 && break; sleep 0.1; done
  wrk -t2 -c256 -d3s -s benchmarks/post-log.lua "http://127.0.0.1:$PORT/log/bench" >/dev/null
  echo "-- --log-force $force"
  wrk -t2 -c256 -d10s --latency -s benchmarks/post-log.lua "http://127.0.0.1:$PORT/log/bench" \
    | grep -E "Requests/sec|^\s+(50|99)%|Socket errors|Non-2xx|requests in"
  kill "$server"; wait "$server" 2>/dev/null || true
done
