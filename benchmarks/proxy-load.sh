#!/usr/bin/env bash
# The proxy load comparison: wrk through the Millrace demo as a reverse proxy (1 worker) to two
# Millrace demo servers (1 worker each), against wrk through nginx (`worker_processes 1`, proxy_pass
# to an upstream block with `keepalive 32`) to the same two servers. Same machine, same run, same
# small response (GET /hello, 13 bytes), round robin on both. Each front is warmed up, then measured
# in alternating rounds (Millrace, nginx, Millrace, nginx, ...); the medians and their ratio are
# printed. The goal is Millrace >= 1.0x nginx's requests per second.
#
#   benchmarks/proxy-load.sh                   3 rounds of 10 s each, wrk -t1 -c32
#   ROUNDS=5 DURATION=20 CONNS=64 benchmarks/proxy-load.sh
#   PROFILE=1 benchmarks/proxy-load.sh         then one more Millrace round under JFR: hot methods
#
# Loopback only (127.0.0.1, ports 19100-19112). Installs wrk and nginx with apt-get if missing.
# Everything shares the machine's cores (the proxy, nginx, both servers and wrk): on a shared machine
# hold the build lock for the run: flock /tmp/millrace-build.lock benchmarks/proxy-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
CONNS=${CONNS:-32}
PROFILE=${PROFILE:-0}
b1=19101; b2=19102; mport=19100; nport=19110

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
. scripts/env.sh >/dev/null
[ -f demo-server/target/demo-server.jar ] || "${MVN[@]}" -q -DskipTests -pl demo-server -am package
# The JVM options ./run-demo uses, nothing tuned for this run.
java=("$JAVA_HOME/bin/java" -XX:+ExitOnOutOfMemoryError -jar "$repo/demo-server/target/demo-server.jar")

work=$(mktemp -d /tmp/proxy-load.XXXXXX)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$work/b1" "$work/b2" "$work/nginx"
"${java[@]}" --port "$b1" --workers 1 --data-dir "$work/b1" --root "$work" > "$work/b1.log" 2>&1 & pids+=($!)
"${java[@]}" --port "$b2" --workers 1 --data-dir "$work/b2" --root "$work" > "$work/b2.log" 2>&1 & pids+=($!)
millrace_flags=(--port "$mport" --workers 1 --balance round-robin
  --upstream "127.0.0.1:$b1" --upstream "127.0.0.1:$b2" --proxy-keepalive 32)
"${java[@]}" "${millrace_flags[@]}" > "$work/proxy.log" 2>&1 & pids+=($!)
proxy_pid=$!
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/client_body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream backends {
    server 127.0.0.1:$b1;
    server 127.0.0.1:$b2;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$nport;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' > "$work/nginx/stdout.log" 2>&1 & pids+=($!)

wait_http() {
  for _ in $(seq 1 200); do curl -fs --max-time 1 -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "proxy-load: $1 did not answer within 20 s" >&2; exit 1
}
for p in $b1 $b2 $mport $nport; do wait_http "http://127.0.0.1:$p/hello"; done
# Both fronts answer the same body from the same servers.
[ "$(curl -fs "http://127.0.0.1:$mport/hello")" = "$(curl -fs "http://127.0.0.1:$nport/hello")" ] ||
  { echo "proxy-load: the two fronts answer differently" >&2; exit 1; }

wrk_run() { # $1 = port, $2 = seconds; prints "req/s p50_ms p99_ms errors"
  wrk -t1 -c"$CONNS" -d"${2}s" --latency "http://127.0.0.1:$1/hello" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /Socket errors/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx/ { err += $5 }
    END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, err }'
}

echo "== $(date -u +%Y-%m-%dT%H:%MZ)  $(nproc) cores  JDK $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)  $(nginx -v 2>&1)  $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
echo "== backends: 2 demo servers, --workers 1 each; Millrace proxy: ${millrace_flags[*]}; nginx: worker_processes 1, keepalive 32"
echo "== wrk -t1 -c$CONNS --latency http://127.0.0.1:PORT/hello: warm-up ${WARMUP} s each, then $ROUNDS rounds of ${DURATION} s, alternating"
wrk_run "$b1" 3 >/dev/null; wrk_run "$b2" 3 >/dev/null
wrk_run "$mport" "$WARMUP" >/dev/null
wrk_run "$nport" "$WARMUP" >/dev/null

printf '%-6s %-9s %12s %9s %9s %7s\n' round front "req/s" "p50 ms" "p99 ms" errors
m=(); n=(); errors=0
for r in $(seq 1 "$ROUNDS"); do
  read -r rps p50 p99 err < <(wrk_run "$mport" "$DURATION"); m+=("$rps"); errors=$((errors + err))
  printf '%-6s %-9s %12s %9s %9s %7s\n' "$r" millrace "$rps" "$p50" "$p99" "$err"
  read -r rps p50 p99 err < <(wrk_run "$nport" "$DURATION"); n+=("$rps"); errors=$((errors + err))
  printf '%-6s %-9s %12s %9s %9s %7s\n' "$r" nginx "$rps" "$p50" "$p99" "$err"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mm=$(median "${m[@]}"); nm=$(median "${n[@]}")
ratio=$(awk -v a="$mm" -v b="$nm" 'BEGIN { printf "%.2f", a / b }')
echo "median req/s: millrace $mm, nginx $nm; ratio millrace/nginx ${ratio}x (goal >= 1.0x: $(awk -v r="$ratio" 'BEGIN { print (r >= 1.0) ? "met" : "missed" }')); errors: $errors"

if [ "$PROFILE" = 1 ]; then
  echo "== profile: one more Millrace round of ${DURATION} s under JFR (profile settings)"
  jcmd=$JAVA_HOME/bin/jcmd; jfr=$JAVA_HOME/bin/jfr
  "$jcmd" "$proxy_pid" JFR.start name=load settings=profile filename="$work/proxy.jfr" >/dev/null
  wrk_run "$mport" "$DURATION" | awk '{ print "req/s under JFR: " $1 }'
  "$jcmd" "$proxy_pid" JFR.stop name=load >/dev/null
  "$jfr" view --width 160 hot-methods "$work/proxy.jfr" | head -n 30
  "$jfr" view --width 160 cpu-load "$work/proxy.jfr" 2>/dev/null | tail -n 8 || true
fi
[ "$errors" -eq 0 ]
