#!/usr/bin/env bash
# A small fleet on this one machine, built from network namespaces: N demo servers ("hosts"), each in
# a namespace of its own with its own address, behind three fronts in turn: the Millrace demo as a
# reverse proxy, nginx (proxy_pass to an upstream block with keepalive) and HAProxy. For each front it
# shows behaviour, not throughput (the machine has a couple of cores; every host shares them):
#
#   1. distribution: paced GETs of /hello through the front; each host's share, from the hosts' own
#      /metrics (millrace_stage_requests_total{stage="hello"}), against the configured weights;
#   2. a host cut off: `ip link set <its port> down` under paced GETs; the client counts every error
#      (wrk: connect, read, write, timeout, non-2xx); the front must retry elsewhere and eject it;
#   3. re-admission: the link comes back; the time until the host gets client requests again
#      (nginx: after fail_timeout, passively; Millrace and HAProxy: after `rise` good probes).
#
#   benchmarks/fleet.sh --quick            about 80 s: 3 hosts, short phases
#   benchmarks/fleet.sh                    about 3 minutes: longer phases
#   benchmarks/fleet.sh --hosts 5 --fronts millrace,nginx
#   benchmarks/fleet.sh --print-configs    print the three fronts' configurations and exit
#   benchmarks/fleet.sh --cleanup          remove what an interrupted run left (it should leave nothing)
#
# Needs root and `ip netns` (Linux); installs wrk, nginx and HAProxy with apt-get if missing (not with
# --no-install: a missing front is then skipped, a missing wrk skips the run). ./run-tests runs
# `--quick --no-install` when `ip netns` works here and wrk is installed, and says when it skips it.
# On a shared machine hold the build lock: flock /tmp/millrace-build.lock benchmarks/fleet.sh --quick
#
# What it creates, and removes on exit (normal, failure, Ctrl-C, or its own time limit): namespaces
# mrfleet-h1..hN, a bridge mrfleet0 with 10.77.0.1/24 in the root namespace, one veth pair per host
# (mrfh<i> on the bridge, eth0 at 10.77.0.1<i> in the host's namespace), and the processes it starts.
# Traffic goes only to those addresses; the fronts listen on 10.77.0.1. It refuses to start if any
# of these names or the 10.77.0.0/24 range is already in use. Exit status 0 when every front served
# every request of both phases without an error, spread them as weighted, and re-admitted the host.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

quick=0; install=1; hosts=3; fronts="millrace,nginx,haproxy"; cut=2; cleanup_only=0; print_configs=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    --hosts) hosts=$2; shift ;;
    --fronts) fronts=$2; shift ;;
    --cut) cut=$2; shift ;;
    --cleanup) cleanup_only=1 ;;
    --print-configs) print_configs=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fleet: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$hosts" =~ ^[0-9]+$ ]] && [ "$hosts" -ge 2 ] && [ "$hosts" -le 9 ] ||
  { echo "fleet: --hosts takes 2 to 9, got '$hosts'" >&2; exit 2; }
[[ "$cut" =~ ^[0-9]+$ ]] && [ "$cut" -ge 1 ] && [ "$cut" -le "$hosts" ] ||
  { echo "fleet: --cut takes a host number from 1 to $hosts, got '$cut'" >&2; exit 2; }

if [ "$quick" -eq 1 ]; then
  dist_s=5; before_s=3; down_s=6; after_s=7; limit_s=300
else
  dist_s=15; before_s=5; down_s=15; after_s=15; limit_s=900
fi
pace_ms=2          # wrk: each connection waits this long between requests
conns=8            # wrk connections
bridge=mrfleet0
net=10.77.0
front_ip=$net.1
host_port=8080
declare -A front_port=([millrace]=18200 [nginx]=18201 [haproxy]=18202)
haproxy_stats_port=18203
# Host 1 has weight 2, the others 1: the distribution phase shows weights, not just turns.
weight() { [ "$1" -eq 1 ] && echo 2 || echo 1; }
# Health and failure settings, the same on every front where it has them (docs/scale-out.md).
connect_timeout_ms=200; read_timeout_ms=1000; fail_timeout_ms=3000; probe_ms=500; rise=2; fall=2; tries=3

# ---- the fronts ----------------------------------------------------------------------------------
millrace_args() { # sets margs: the Millrace front's flags
  margs=(--address "$front_ip" --port "${front_port[millrace]}" --workers 1 --balance round-robin
    --health-path /files/health --probe-interval-ms "$probe_ms" --rise "$rise" --fall "$fall"
    --max-fails 1 --fail-timeout-ms "$fail_timeout_ms" --retries $((tries - 1)) --retry-on 502,503,504
    --proxy-connect-timeout-ms "$connect_timeout_ms" --proxy-read-timeout-ms "$read_timeout_ms")
  for i in $(seq 1 "$hosts"); do margs+=(--upstream "$net.1$i:$host_port,weight=$(weight "$i")"); done
}
nginx_conf() {
  echo "worker_processes 1;"
  echo "pid $work/nginx/nginx.pid;"
  echo "error_log $work/nginx/error.log warn;"
  echo "events { worker_connections 1024; }"
  echo "http {"
  echo "  access_log off;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $work/nginx/$t;"; done
  echo "  upstream fleet {"
  for i in $(seq 1 "$hosts"); do
    echo "    server $net.1$i:$host_port weight=$(weight "$i") max_fails=1 fail_timeout=$((fail_timeout_ms / 1000))s;"
  done
  echo "    keepalive 32;"
  echo "  }"
  echo "  server {"
  echo "    listen $front_ip:${front_port[nginx]};"
  echo "    location / {"
  echo "      proxy_pass http://fleet;"
  echo "      proxy_http_version 1.1;"
  echo "      proxy_set_header Connection \"\";"
  echo "      proxy_connect_timeout ${connect_timeout_ms}ms;"
  echo "      proxy_read_timeout ${read_timeout_ms}ms;"
  echo "      proxy_next_upstream error timeout http_502 http_503 http_504;"
  echo "      proxy_next_upstream_tries $tries;"
  echo "    }"
  echo "  }"
  echo "}"
}
haproxy_cfg() {
  echo "global"
  echo "  maxconn 2000"
  echo "  nbthread 1"
  echo "defaults"
  echo "  mode http"
  echo "  timeout connect ${connect_timeout_ms}ms"
  echo "  timeout server ${read_timeout_ms}ms"
  echo "  timeout client 30s"
  echo "  retries $((tries - 1))"
  echo "  option redispatch 1"
  echo "  retry-on conn-failure empty-response response-timeout 502 503 504"
  echo "frontend fleet_in"
  echo "  bind $front_ip:${front_port[haproxy]}"
  echo "  default_backend fleet"
  echo "frontend stats"
  echo "  bind $front_ip:$haproxy_stats_port"
  echo "  stats enable"
  echo "  stats uri /stats"
  echo "backend fleet"
  echo "  balance roundrobin"
  echo "  option httpchk"
  echo "  http-check send meth GET uri /files/health"
  echo "  default-server check inter ${probe_ms}ms rise $rise fall $fall observe layer4 error-limit 1 on-error mark-down"
  for i in $(seq 1 "$hosts"); do echo "  server h$i $net.1$i:$host_port weight $(weight "$i")"; done
}
start_millrace() {
  millrace_args
  "${java[@]}" "${margs[@]}" > "$work/millrace.log" 2>&1 &
  pids+=($!)
}
start_nginx() {
  mkdir -p "$work/nginx"
  nginx_conf > "$work/nginx/nginx.conf"
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' > "$work/nginx/stdout.log" 2>&1 &
  pids+=($!)
}
start_haproxy() {
  haproxy_cfg > "$work/haproxy.cfg"
  haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
  pids+=($!)
}
namespaces=(); pids=(); watchdog=""; work=""
remove_fleet() { # removes every namespace, link and process this script made (by name: ours only)
  set +e
  local p ns
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^mrfleet-h[0-9]+$'); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^mrfh[0-9]+$'); do
    ip link del "$l" 2>/dev/null
  done
  ip link del "$bridge" 2>/dev/null
  [ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
  [ -n "$work" ] && rm -rf "$work"
  return 0
}

if [ "$print_configs" -eq 1 ]; then
  work=/tmp/mrfleet.XXXXXX
  millrace_args
  echo "# Millrace front (the demo as a reverse proxy): java -jar demo-server/target/demo-server.jar \\"
  printf '#   %s %s \\\n' "${margs[@]}" | sed '$ s/ \\$//'   # every flag here takes one value
  echo "# nginx: $work/nginx/nginx.conf"; nginx_conf
  echo "# HAProxy: $work/haproxy.cfg"; haproxy_cfg
  work=""; exit 0
fi
if [ "$cleanup_only" -eq 1 ]; then remove_fleet; echo "fleet: removed mrfleet-* namespaces, mrfh* links and $bridge"; exit 0; fi

# ---- preflight -------------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || { echo "fleet: needs root (ip netns, veth pairs); run it as root or skip it" >&2; exit 2; }
command -v ip >/dev/null || { echo "fleet: needs iproute2 (ip)" >&2; exit 2; }
if ip netns list 2>/dev/null | grep -qE '^mrfleet-' || ip link show "$bridge" >/dev/null 2>&1 ||
   ip -o addr show 2>/dev/null | grep -q " $net\."; then
  echo "fleet: mrfleet-* namespaces, link $bridge or addresses in $net.0/24 exist already;" \
       "if an earlier run of this script left them, remove them with: $0 --cleanup" >&2
  exit 2
fi
if [ "$install" -eq 1 ]; then
  missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  [[ ",$fronts," == *,nginx,* ]] && ! command -v nginx >/dev/null && missing+=(nginx-light)
  [[ ",$fronts," == *,haproxy,* ]] && ! command -v haproxy >/dev/null && missing+=(haproxy)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing ${missing[*]} (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
command -v wrk >/dev/null || { echo "fleet: SKIPPED, no wrk (apt-get install wrk)"; exit 0; }
chosen=()
for f in ${fronts//,/ }; do
  case "$f" in
    millrace) chosen+=(millrace) ;;
    nginx|haproxy) if command -v "$f" >/dev/null; then chosen+=("$f"); else echo "fleet: front $f skipped, not installed"; fi ;;
    *) echo "fleet: unknown front '$f' (millrace, nginx, haproxy)" >&2; exit 2 ;;
  esac
done

. scripts/env.sh >/dev/null
[ -f demo-server/target/demo-server.jar ] || "${MVN[@]}" -q -DskipTests -pl demo-server -am package
java=("$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xms64m -Xmx256m -XX:+ExitOnOutOfMemoryError -jar "$repo/demo-server/target/demo-server.jar")

work=$(mktemp -d /tmp/mrfleet.XXXXXX)
trap remove_fleet EXIT
trap 'echo "fleet: interrupted"; exit 130' INT
trap 'echo "fleet: stopped (time limit of ${limit_s} s or SIGTERM)"; exit 143' TERM
# The watchdog's sleep goes with it when the run ends first.
( trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM; sleep "$limit_s" & sleeper=$!; wait "$sleeper"; kill -TERM $$ ) 2>/dev/null &
watchdog=$!

started=$(date +%s.%N)
now() { awk -v s="$started" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }'; }
say() { echo "[$(now) s] $*"; }

# ---- the network: a bridge in the root namespace, one namespace per host -------------------------
ip link add "$bridge" type bridge
ip addr add "$front_ip/24" dev "$bridge"
ip link set "$bridge" up
for i in $(seq 1 "$hosts"); do
  ns=mrfleet-h$i
  ip netns add "$ns"; namespaces+=("$ns")
  ip link add "mrfh$i" type veth peer name eth0 netns "$ns"
  ip link set "mrfh$i" master "$bridge"
  ip link set "mrfh$i" up
  ip -n "$ns" addr add "$net.1$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done

# ---- the hosts: one demo server each, one worker -----------------------------------------------------
mkdir -p "$work/www"; echo ok > "$work/www/health"
for i in $(seq 1 "$hosts"); do
  ip netns exec "mrfleet-h$i" "${java[@]}" --address "$net.1$i" --port "$host_port" --workers 1 \
    --root "$work/www" --data-dir "$work/host$i-data" > "$work/host$i.log" 2>&1 &
  pids+=($!)
done
wait_http() { # $1 = URL; up to 20 s
  for _ in $(seq 1 200); do curl -fs --max-time 1 -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "fleet: $1 did not answer within 20 s" >&2; return 1
}
for i in $(seq 1 "$hosts"); do wait_http "http://$net.1$i:$host_port/hello"; done
say "$hosts hosts up: $(for i in $(seq 1 "$hosts"); do printf '%s ' "h$i=$net.1$i:$host_port(weight $(weight "$i"))"; done)"

hello_count() { # $1 = host number; the host's /hello requests so far, asked from inside its
  # namespace, so that it answers while its link is down too
  { ip netns exec "mrfleet-h$1" curl -fs --max-time 2 "http://$net.1$1:$host_port/metrics" || true; } |
    awk '/^millrace_stage_requests_total\{stage="hello"\}/ { print $2; found = 1 } END { if (!found) print 0 }'
}
counts() { for i in $(seq 1 "$hosts"); do printf '%s ' "$(hello_count "$i")"; done; }

stop_front() { # $1 = pid
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
# The front's view of the cut host, for the timeline: millrace and haproxy say; nginx (open source)
# has no upstream status page.
front_state() { # $1 = front
  case "$1" in
    millrace) curl -fs --max-time 1 "http://$front_ip:${front_port[millrace]}/metrics" |
      awk -v u="$net.1$cut:$host_port" '/^millrace_upstream_state\{/ && index($0, "upstream=\"" u "\"") && $2 == 1 {
        match($0, /state="[a-z_]+"/); print substr($0, RSTART + 7, RLENGTH - 8) }' ;;
    haproxy) curl -fs --max-time 1 "http://$front_ip:$haproxy_stats_port/stats;csv" |
      awk -F, -v s="h$cut" '$1 == "fleet" && $2 == s { print $18 }' ;;
    *) echo "-" ;;
  esac
}
front_counters() { # $1 = front; what the front counted about the cut host (and its retries)
  case "$1" in
    millrace) say "  the proxy's /metrics for h$cut: $(curl -fs --max-time 2 "http://$front_ip:${front_port[millrace]}/metrics" |
      awk -v u="upstream=\"$net.1$cut:$host_port\"" '
        index($0, u) && /^millrace_upstream_(requests|failures|ejections)_total/ { sub(/\{.*\}/, ""); printf "%s %s, ", $1, $2 }
        /^millrace_proxy_(retries|errors)_total / { printf "%s %s, ", $1, $2 }' | sed 's/, $//')" ;;
    haproxy) say "  HAProxy's stats for h$cut: $(curl -fs --max-time 2 "http://$front_ip:$haproxy_stats_port/stats;csv" |
      awk -F, -v s="h$cut" '$1 == "# pxname" { for (i = 1; i <= NF; i++) col[$i] = i }
        $1 == "fleet" && $2 == s { printf "sessions %s, connect errors %s, response errors %s, retries %s, redispatches %s, failed checks %s, down transitions %s",
          $col["stot"], $col["econ"], $col["eresp"], $col["wretr"], $col["wredis"], $col["chkfail"], $col["chkdown"] }')" ;;
    nginx) say "  nginx's error log: $(grep -c 'upstream timed out' "$work/nginx/error.log" || true) upstream timeouts," \
        "$(grep -c 'temporarily disabled' "$work/nginx/error.log" || true) times 'upstream server temporarily disabled'" ;;
  esac
}
run_wrk() { # $1 = front, $2 = seconds; prints the FLEET line
  FLEET_PACE_MS=$pace_ms wrk -t1 -c"$conns" -d"${2}s" --timeout 5s -s benchmarks/fleet-client.lua \
    "http://$front_ip:${front_port[$1]}/hello" 2>&1 | grep '^FLEET' || echo "FLEET requests=0 wrk-failed=1"
}
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
errors_of() { local l=$1; echo $(( $(field "$l" connect) + $(field "$l" read) + $(field "$l" write) + $(field "$l" timeout) + $(field "$l" status) )); }

status=0
declare -A summary
for front in "${chosen[@]}"; do
  echo
  say "== front: $front on $front_ip:${front_port[$front]}"
  "start_$front"
  front_pid=${pids[-1]}
  wait_http "http://$front_ip:${front_port[$front]}/hello"
  # Let probes bring every host up and warm the connections (and the JIT) a little.
  sleep 1.5
  run_wrk "$front" 2 >/dev/null

  # 1. distribution
  before=($(counts))
  line=$(run_wrk "$front" "$dist_s")
  after=($(counts))
  total=0; for i in $(seq 1 "$hosts"); do total=$((total + after[i-1] - before[i-1])); done
  wsum=0; for i in $(seq 1 "$hosts"); do wsum=$((wsum + $(weight "$i"))); done
  shares=""; dist_ok=1
  for i in $(seq 1 "$hosts"); do
    got=$((after[i-1] - before[i-1]))
    shares+=$(awk -v g="$got" -v t="$total" -v w="$(weight "$i")" -v ws="$wsum" -v h="$i" \
      'BEGIN { printf "h%d %d (%.1f%%, weight share %.1f%%)  ", h, g, t ? 100 * g / t : 0, 100 * w / ws }')
    awk -v g="$got" -v t="$total" -v w="$(weight "$i")" -v ws="$wsum" 'BEGIN { exit !(t > 0 && (g / t - w / ws) ^ 2 <= 0.05 ^ 2) }' || dist_ok=0
  done
  dist_err=$(errors_of "$line")
  say "distribution, ${dist_s} s of paced GETs /hello: $line"
  say "  per host (from each host's /metrics): $shares"
  [ "$dist_ok" -eq 1 ] || { say "  FAIL: a share is more than 5 points off its weight"; status=1; }
  [ "$dist_err" -eq 0 ] || { say "  FAIL: $dist_err client-visible errors"; status=1; }

  # 2. cut host $cut off under load, 3. bring it back
  before=($(counts))
  wrk_out=$work/$front-cut.wrk
  run_wrk "$front" $((before_s + down_s + after_s)) > "$wrk_out" &
  wrk_pid=$!
  pids+=("$wrk_pid")
  sleep "$before_s"
  ip link set "mrfh$cut" down
  say "cut: ip link set mrfh$cut down (h$cut, $net.1$cut, unreachable: packets to it are dropped)"
  t_cut=$(date +%s.%N); last=""
  while awk -v c="$t_cut" -v n="$(date +%s.%N)" -v d="$down_s" 'BEGIN { exit !(n - c < d) }'; do
    s=$(front_state "$front" || true); [ "$s" != "$last" ] && say "  front's view of h$cut: ${s:-?}"; last=$s
    sleep 0.25
  done
  base=$(hello_count "$cut")
  ip link set "mrfh$cut" up
  t_up=$(date +%s.%N)
  say "back: ip link set mrfh$cut up (h$cut served $((base - before[cut-1])) requests of this phase, all before the cut)"
  readmit=""; last=""
  while awk -v c="$t_up" -v n="$(date +%s.%N)" -v d="$after_s" 'BEGIN { exit !(n - c < d - 0.5) }'; do
    s=$(front_state "$front" || true); [ "$s" != "$last" ] && say "  front's view of h$cut: ${s:-?}"; last=$s
    # More than a few requests: the first ones to arrive can be requests sent before the cut, which
    # TCP retransmits once the link is back (at most one per front connection that was waiting on h$cut).
    if [ -z "$readmit" ] && [ "$(hello_count "$cut")" -gt $((base + 3 * conns)) ]; then
      readmit=$(awk -v c="$t_up" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - c }')
      say "  h$cut serves client requests again (more than $((3 * conns)) since the link came back), ${readmit} s after it came back"
    fi
    sleep 0.2
  done
  wait "$wrk_pid" || true
  line=$(cat "$wrk_out")
  after=($(counts))
  cut_err=$(errors_of "$line")
  say "cut phase, $((before_s + down_s + after_s)) s of paced GETs: $line"
  per=""; for i in $(seq 1 "$hosts"); do per+="h$i $((after[i-1] - before[i-1]))  "; done
  say "  per host: $per"
  [ "$cut_err" -eq 0 ] || { say "  FAIL: $cut_err client-visible errors while h$cut was cut off"; status=1; }
  [ -n "$readmit" ] || { say "  FAIL: h$cut got no client request within $after_s s of coming back"; status=1; }
  front_counters "$front"
  summary[$front]="distribution errors $dist_err, shares ok $([ "$dist_ok" -eq 1 ] && echo yes || echo no); cut: $(field "$line" requests) requests, $cut_err errors, max latency $(field "$line" max_ms) ms; re-admitted after ${readmit:-never} s"
  stop_front "$front_pid"
done

echo
say "== summary (hosts $hosts, cut h$cut for $down_s s; connect timeout ${connect_timeout_ms} ms, read timeout ${read_timeout_ms} ms, $tries tries, fail timeout ${fail_timeout_ms} ms, probes every ${probe_ms} ms rise $rise fall $fall)"
for front in "${chosen[@]}"; do say "$front: ${summary[$front]}"; done
say "fleet: $([ "$status" -eq 0 ] && echo PASSED || echo FAILED)"
exit "$status"
