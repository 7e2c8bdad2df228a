#!/usr/bin/env bash
# Looks at the demo server's /stats page in a real browser, under load, and saves a screenshot.
#
#   scripts/stats-screenshot.sh                   writes docs/stats-page.png
#   OUT=/tmp/stats.png LOAD_SECONDS=60 scripts/stats-screenshot.sh
#
# Installs Debian's chromium with apt-get if it is missing (needs root or sudo), builds the demo jar
# if it is missing or older than the sources, starts the server on 127.0.0.1 with 2 workers, puts
# load on /hello, /kv, /tally (POST, under a lock-grid cell) and /slow (wrk if present, else a
# bounded curl loop), and after SHOT_AFTER seconds of load takes a headless screenshot of /stats
# (1280 x 2000) while the load goes on. The page's HTML goes to $HTML (demo-server/target/).
# Loopback only. About a minute, most of it the load; not part of ./run-tests (it needs apt).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
OUT=${OUT:-docs/stats-page.png}
HTML=${HTML:-demo-server/target/stats-page.html}
PORT=${PORT:-18090}
LOAD_SECONDS=${LOAD_SECONDS:-45}
SHOT_AFTER=${SHOT_AFTER:-40}
[ "$SHOT_AFTER" -lt "$LOAD_SECONDS" ] || { echo "SHOT_AFTER must be below LOAD_SECONDS" >&2; exit 2; }

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "== installing chromium (apt-get)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi

jar=demo-server/target/demo-server.jar
if [ ! -f "$jar" ] || [ -n "$(find demo-server/src/main framework/src/main -newer "$jar" -type f -print -quit)" ]; then
  echo "== building $jar"
  "${MVN[@]}" -q -DskipTests -pl demo-server -am package 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
fi

work=$(mktemp -d)
head -c 16384 /dev/urandom > "$work/16k.bin"
java -XX:+ExitOnOutOfMemoryError -jar "$jar" --port "$PORT" --workers 2 --root "$work" >"$work/server.log" 2>&1 &
server=$!
loaders=()
cleanup()
{
  for p in "${loaders[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -fs "$base/hello" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$base/hello" >/dev/null || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
curl -fs -X PUT --data-binary 'a value of modest size' "$base/kv/bench" >/dev/null

echo "== load for ${LOAD_SECONDS}s on $base (screenshot after ${SHOT_AFTER}s)"
if command -v wrk >/dev/null 2>&1; then
  # POSTs to 16 tally names: requests of both workers meet in the grid's cells.
  cat > "$work/tally.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/tally/name-" .. (counter % 16), nil, "")
end
LUA
  wrk -t1 -c16 -d"${LOAD_SECONDS}s" "$base/hello" >/dev/null 2>&1 & loaders+=($!)
  wrk -t1 -c8 -d"${LOAD_SECONDS}s" "$base/kv/bench" >/dev/null 2>&1 & loaders+=($!)
  wrk -t1 -c16 -d"${LOAD_SECONDS}s" -s "$work/tally.lua" "$base" >/dev/null 2>&1 & loaders+=($!)
  wrk -t1 -c2 -d"${LOAD_SECONDS}s" "$base/slow?ms=5" >/dev/null 2>&1 & loaders+=($!)
else
  echo "   (no wrk: a bounded curl loop instead)"
  end=$(( $(date +%s) + LOAD_SECONDS ))
  for lane in 1 2 3 4; do
    (
      i=0
      while [ "$(date +%s)" -lt "$end" ] && [ "$i" -lt 200000 ]; do
        curl -fs "$base/hello" "$base/kv/bench" "$base/slow?ms=5" >/dev/null || true
        curl -fs -X POST "$base/tally/name-$(( i % 16 ))" >/dev/null || true
        i=$(( i + 1 ))
      done
    ) & loaders+=($!)
  done
fi

sleep "$SHOT_AFTER"
mkdir -p "$(dirname "$HTML")"
curl -fs "$base/stats" > "$HTML"
mkdir -p "$(dirname "$OUT")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1280,2000 --screenshot="$(pwd)/$OUT" "$base/stats" >"$work/chromium.log" 2>&1 ||
  { echo "chromium failed:" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }
[ -s "$OUT" ] || { echo "chromium wrote no screenshot; its log:" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }
echo "== wrote $OUT ($(stat -c %s "$OUT") bytes); the page's HTML: $HTML"
for p in "${loaders[@]}"; do wait "$p" 2>/dev/null || true; done
loaders=()
kill -TERM "$server"; status=0; wait "$server" || status=$?
echo "== server exit status after SIGTERM: $status"
[ "$status" -eq 0 ]
